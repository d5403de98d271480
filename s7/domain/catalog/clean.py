"""Reading a catalog file and cleaning scraped rows (pure: bytes in, clean dicts out).

Scraped catalogs arrive as JSON or as a spreadsheet saved to CSV, with prices in local
format, numbers as text, HTML in descriptions and stray whitespace everywhere. Everything
here either returns a clean value or names the problem in Spanish for the admin's report.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from s7.domain.text_es import plain

# fmt: off
FIELDS = (
    "sku", "name", "brand", "category", "price", "currency", "stock", "popularity",
    "installments", "description", "attributes", "image_url", "url",
)
REQUIRED = ("sku", "name", "price")
# Spreadsheets exported by Spanish-speaking stores often keep Spanish headers.
ALIASES = {
    "codigo": "sku", "cod": "sku", "nombre": "name", "titulo": "name", "title": "name", "producto": "name",
    "marca": "brand", "categoria": "category", "rubro": "category", "precio": "price", "moneda": "currency",
    "existencias": "stock", "cantidad": "stock", "popularidad": "popularity", "ventas": "popularity",
    "cuotas": "installments", "descripcion": "description", "atributos": "attributes",
    "imagen": "image_url", "image": "image_url", "foto": "image_url", "link": "url", "enlace": "url",
}
# What a reason calls a field when the file has no column for it, if its headers are Spanish.
SPANISH_LABELS = {
    "sku": "código", "name": "nombre", "brand": "marca", "category": "categoría", "price": "precio",
    "currency": "moneda", "stock": "stock", "popularity": "popularidad", "installments": "cuotas",
    "description": "descripción", "attributes": "atributos", "image_url": "imagen", "url": "enlace",
}
# fmt: on
MAX_LENGTHS = {"sku": 120, "name": 300, "brand": 120, "category": 120, "image_url": 1000, "url": 1000}
MAX_PRICE = Decimal("999999999999.99")  # Numeric(14, 2)

_TAG = re.compile(r"<[^>]*>")
# Inline tags sit inside words and sentences ("de <i>aire</i>."): removed without a space.
_INLINE_TAG = re.compile(r"</?(b|i|u|em|strong|span|a|small|sup|sub|font|mark)\b[^>]*>", re.IGNORECASE)
_BLOCK_TAG = re.compile(r"<\s*(br|/p|/div|/li|/h\d|/tr)\b[^>]*>", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"))
# What may surround a price: currency marks and spaces. Anything else (letters, markup) means the
# cell is not a price, rather than a number hiding in junk ("x<img …1>" must not become 1.00).
_MONEY_NOISE = re.compile(r"(?i)u\$s|us\$|\b(?:ars|usd|pesos?|d[oó]lares?)\b|[$\s\u00a0]")
_INTEGER = re.compile(r"[-+]?\d[\d.]*")
_NO_STOCK = ("sin stock", "agotado", "no hay", "sin existencias", "no", "out of stock")
_NO_INSTALLMENTS = ("sin cuotas", "sin", "no", "contado", "un pago", "1 pago")
_DOLLAR_MARKS = ("u$s", "us$", "usd", "u$d", "dolar")


class CatalogError(Exception):
    """The file is not a catalog at all (nothing was changed). The message is for the admin."""


class RowError(Exception):
    """One row cannot be imported; `reason` says why, in Spanish."""

    def __init__(self, reason: str, sku: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sku = sku


# ---- reading the file ---------------------------------------------------------------------------
def read_records(data: bytes, filename: str) -> list[tuple[int, Any]]:
    """The raw rows of a JSON or CSV catalog as (row number, record). Raises CatalogError."""
    text = _decode(data)
    if not text.strip():
        raise CatalogError("El archivo está vacío.")
    name = filename.lower()
    looks_json = text.lstrip()[:1] in ("{", "[")
    if name.endswith(".json") or (looks_json and not name.endswith((".csv", ".txt"))):
        records = _json_records(text)
    else:
        records = _csv_records(text)
    if not records:
        raise CatalogError("El archivo no tiene productos.")
    if not any(isinstance(r, dict) and {canonical_key(k) for k in r} & set(REQUIRED) for _, r in records):
        raise CatalogError("No parece un catálogo: ninguna fila tiene sku, name o price.")
    return records


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise CatalogError("No es un archivo de texto (JSON o CSV).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows still saves CSV as cp1252; every byte decodes there, so this is the fallback.
        return data.decode("cp1252", errors="replace")


def _json_records(text: str) -> list[tuple[int, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"JSON inválido (línea {exc.lineno}, columna {exc.colno}): {exc.msg}.") from None
    if isinstance(document, dict):
        products = document.get("products", document.get("productos"))
        if products is None:
            raise CatalogError('El JSON no tiene la lista "products".')
    else:
        products = document
    if not isinstance(products, list):
        raise CatalogError('"products" tiene que ser una lista de productos.')
    return [(number, record) for number, record in enumerate(products, start=1)]


def _csv_records(text: str) -> list[tuple[int, Any]]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # Excel in Spanish saves with ";". Only the delimiter is guessed (from the header): the
    # sniffer's guesses about quoting break JSON cells like "{""color"": ""negro""}".
    delimiter = max(",;\t|", key=first_line.count)

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    dialect = Dialect
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CatalogError(f"CSV ilegible: {exc}") from None
    columns = [canonical_key(h) for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CatalogError(
            f"Al CSV le faltan columnas obligatorias: {', '.join(missing)} "
            f"({'; '.join(f'{SPANISH_LABELS[c]} o {c}' for c in missing)})."
        )
    labels = [h.strip() for h in header]
    records: list[tuple[int, Any]] = []
    line = reader.line_num
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            # An empty cell means "not given", the same as a missing key in JSON.
            # Keys are the file's own headers, so a reason can name the column as the file does.
            record = {
                label: cell
                for col, label, cell in zip(columns, labels, cells, strict=False)
                if col and cell.strip() != ""
            }
            records.append((start, record))
    except csv.Error as exc:
        raise CatalogError(f"CSV ilegible cerca de la línea {reader.line_num}: {exc}.") from None
    return records


@lru_cache(maxsize=1024)  # every row repeats the same few keys
def canonical_key(key: Any) -> str:
    """ "Image URL" → image_url, "Precio" → price; unknown columns come back as they are."""
    name = plain(str(key)).replace(" ", "_")
    return ALIASES.get(name, name)


# ---- cleaning one row ---------------------------------------------------------------------------
def column_labels(records: Iterable[tuple[int, Any]]) -> dict[str, str]:
    """field → how this file names its column ("Precio", " SKU " → "SKU"), the first name seen.
    A field with no column is named in the file's language: Spanish when any header is an
    alias (precio, nombre...), the field's own name otherwise."""
    labels: dict[str, str] = {}
    spanish = False
    for _, raw in records:
        if not isinstance(raw, dict):
            continue
        for key in raw:
            field = canonical_key(key)
            if field in FIELDS and field not in labels:
                labels[field] = " ".join(str(key).split())
                spanish = spanish or plain(str(key)).replace(" ", "_") in ALIASES
    for field in FIELDS:
        labels.setdefault(field, SPANISH_LABELS[field] if spanish else field)
    return labels


def clean_record(raw: Any, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A raw row → the product fields it gives, cleaned. Keys not given stay absent (an update
    keeps their current value). Raises RowError listing every problem in the row, each column
    named as `labels` says (the file's own headers, see `column_labels`)."""
    labels = labels or {}
    if not isinstance(raw, dict):
        raise RowError("la fila no es un producto (se esperaba un objeto con sku, name y price)")
    record: dict[str, Any] = {}
    for key, value in raw.items():
        field = canonical_key(key)
        if field in FIELDS:
            record[field] = value
    problems: list[str] = []
    values: dict[str, Any] = {}
    sku: str | None = None
    try:
        sku = clean_sku(record.get("sku"))
        values["sku"] = sku
    except RowError as exc:
        problems.append(exc.reason.replace("sku", labels.get("sku", "sku"), 1))
    failed: set[str] = set()
    for field, cleaner in _CLEANERS.items():
        if field not in record:
            continue
        try:
            values[field] = cleaner(record[field])
        except RowError as exc:
            problems.append(f"{labels.get(field, field)}: {exc.reason}")
            failed.add(field)
    for field in ("name", "price"):
        if values.get(field) is None and field not in failed:
            problems.append(f"falta {labels.get(field, field)}")
    if "currency" not in values and isinstance(record.get("price"), str):
        values["currency"] = currency_from_price(record["price"])
    if problems:
        raise RowError("; ".join(problems), sku)
    if values.get("stock") is None and "stock" in values:
        values["stock"] = 0
    return values


def clean_sku(value: Any) -> str:
    if value is None or isinstance(value, bool):
        raise RowError("falta sku")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn numeric SKUs into 12345.0
    if not isinstance(value, str | int):
        raise RowError("sku inválido")
    sku = " ".join(strip_html(str(value)).split())
    if not sku:
        raise RowError("falta sku")
    if len(sku) > MAX_LENGTHS["sku"]:
        raise RowError(f"sku demasiado largo (máximo {MAX_LENGTHS['sku']} caracteres)")
    return sku


def strip_html(text: str) -> str:
    """Tags out, entities decoded; block tags become line breaks so paragraphs survive."""
    if "<" in text:
        text = _SCRIPT.sub(" ", text)
        text = _BLOCK_TAG.sub("\n", text)
        text = _INLINE_TAG.sub("", text)
        text = _TAG.sub(" ", text)
    return html.unescape(text).translate(_INVISIBLE)


def clean_line(value: Any, field: str = "") -> str | None:
    """A one-line text: no HTML, single spaces; long values cut at a word, never mid-word."""
    if value is None:
        return None
    if isinstance(value, dict | list | bool):
        raise RowError("tiene que ser texto")
    text = " ".join(strip_html(str(value)).split())
    limit = MAX_LENGTHS.get(field)
    if limit and len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.-") + "…"
    return text or None


def clean_description(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list | bool):
        raise RowError("tiene que ser texto")
    lines = (" ".join(line.split()) for line in strip_html(str(value)).splitlines())
    text = "\n".join(line for line in lines if line)
    return text or None


def parse_money(value: Any) -> Decimal:
    """189999, 189999.5, "189999.50", "$ 189.999,50", "ARS 189.999", "1,234,567.89" → Decimal."""
    if value is None:
        raise RowError("vacío")
    if isinstance(value, bool):
        raise RowError("no es un número")
    if isinstance(value, int | float):
        amount = Decimal(str(value))
    elif isinstance(value, str):
        amount = _parse_money_text(value)
    else:
        raise RowError("no es un número")
    if not amount.is_finite():
        raise RowError("no es un número")
    amount = amount.quantize(Decimal("0.01"))
    if amount <= 0:
        raise RowError("tiene que ser mayor que cero")
    if amount > MAX_PRICE:
        raise RowError("demasiado grande")
    return amount


def _parse_money_text(text: str) -> Decimal:
    digits = _MONEY_NOISE.sub("", text.strip())
    if not re.fullmatch(r"-?[\d.,]*\d[\d.,]*", digits or ""):
        raise RowError(f"{text.strip()!r} no es un precio")
    if "." in digits and "," in digits:
        # Whichever separator comes last is the decimal one: "189.999,50" and "189,999.50".
        decimal_sep = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        digits = digits.replace(thousands, "").replace(decimal_sep, ".")
    else:
        sep = "," if "," in digits else "." if "." in digits else ""
        if sep:
            # Groups of exactly three digits are thousands ("189.999", "1.234.567"); anything else
            # ("12,50", "189999.5") is a decimal part. Argentine prices make this unambiguous.
            if re.fullmatch(rf"-?\d{{1,3}}(\{sep}\d{{3}})+", digits):
                digits = digits.replace(sep, "")
            elif digits.count(sep) == 1:
                digits = digits.replace(sep, ".")
            else:
                raise RowError(f"{text.strip()!r} no es un precio")
    try:
        return Decimal(digits)
    except InvalidOperation:
        raise RowError(f"{text.strip()!r} no es un precio") from None


def currency_from_price(text: str) -> str:
    lowered = text.lower()
    return "USD" if any(mark in lowered for mark in _DOLLAR_MARKS) else "ARS"


def clean_currency(value: Any) -> str:
    if value is None:
        return "ARS"
    text = str(value).strip().lower()
    if text in ("", "$", "ars", "ar$", "pesos", "peso"):
        return "ARS"
    if any(mark in text for mark in _DOLLAR_MARKS):
        return "USD"
    if re.fullmatch(r"[a-z]{3}", text):
        return text.upper()
    raise RowError(f"{value!r} no es una moneda (ARS, USD...)")


def _integer(value: Any, *, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowError("no es un número")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise RowError(f"{value} no es un número entero")
        return int(value)
    if not isinstance(value, str):
        raise RowError("no es un número")
    text = value.strip()
    match = _INTEGER.search(text)
    if not match:
        raise RowError(f"{text!r} no es {what}")
    number = match.group().lstrip("+")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", number):
        number = number.replace(".", "")  # "1.200" unidades
    elif "." in number:
        whole, _, fraction = number.partition(".")
        if fraction.strip("0"):
            raise RowError(f"{text!r} no es un número entero")
        number = whole
    return int(number)


def clean_stock(value: Any) -> int:
    if isinstance(value, str) and plain(value) in _NO_STOCK:
        return 0
    stock = _integer(value, what="una cantidad")
    # Scrapers write -1 for "on request"; for selling that is simply none on hand.
    return max(stock or 0, 0)


def clean_popularity(value: Any) -> int:
    # A rating like 4.6 or "87,6" still orders products: round it rather than reject the row.
    if isinstance(value, str) and re.fullmatch(r"\s*\d+[.,]\d+\s*", value):
        value = float(value.replace(",", "."))
    if isinstance(value, float):
        return max(round(value), 0)
    return max(_integer(value, what="un número") or 0, 0)


def clean_installments(value: Any) -> int | None:
    if isinstance(value, str) and (not value.strip() or plain(value) in _NO_INSTALLMENTS):
        return None
    count = _integer(value, what="una cantidad de cuotas")
    if count is None or count <= 1:
        return None  # one payment is not installments
    if count > 72:
        raise RowError(f"{count} cuotas no es creíble")
    return count


def clean_attributes(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RowError('no es JSON válido (ejemplo: {"color": "negro"})') from None
    if not isinstance(value, dict):
        raise RowError('tiene que ser un objeto (ejemplo: {"color": "negro"})')
    return {" ".join(str(k).split()): _clean_attribute_value(v) for k, v in value.items()}


def _clean_attribute_value(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(strip_html(value).split())
    if isinstance(value, list):
        return [_clean_attribute_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean_attribute_value(v) for k, v in value.items()}
    return value


def clean_url(value: Any) -> str | None:
    """A link or None: a broken link is not worth losing the product over."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if url.startswith("//"):
        url = "https:" + url
    if not re.fullmatch(r"https?://\S+", url) or len(url) > MAX_LENGTHS["url"]:
        return None
    return url


_CLEANERS = {
    "name": lambda v: clean_line(v, "name"),
    "brand": lambda v: clean_line(v, "brand"),
    "category": lambda v: clean_line(v, "category"),
    "price": parse_money,
    "currency": clean_currency,
    "stock": clean_stock,
    "popularity": clean_popularity,
    "installments": clean_installments,
    "description": clean_description,
    "attributes": clean_attributes,
    "image_url": clean_url,
    "url": clean_url,
}
