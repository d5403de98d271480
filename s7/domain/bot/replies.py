"""What the bot's replies look like (pure: products and phrases in, a `Reply` out).

The words come from `data/phrases.json` so a store can change the tone without touching code;
this module only decides which phrase, with which numbers, and shapes WhatsApp options
(≤ 3, titles that fit without cutting a word, all different).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from s7.domain.bot.understand import gender_of
from s7.domain.catalog import SearchHit
from s7.domain.text_es import fold, plain

PHRASES_FILE = Path(__file__).resolve().parents[1] / "data" / "phrases.json"
MAX_OPTIONS = 3  # the user's rule: never more than three choices at once
BUTTON_TITLE_MAX = 20
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
FEW_UNITS = 5  # below this the customer is told how many are left: it helps them decide
# Words a shortened title must not end on.
_DANGLING = frozenset({"con", "de", "del", "para", "y", "e", "o", "sin", "en", "a", "al", "la", "el", "los", "las"})
_SIZE_KEYS = ("talles", "talle", "sizes", "size", "numeros", "numero", "medidas", "medida")


@dataclass(frozen=True)
class Reply:
    text: str
    options: list[dict[str, str]] = field(default_factory=list)
    as_list: bool = False
    image_url: str | None = None  # a product's photo: the reply goes out as a card (s7.domain.bot.cards)


@lru_cache(maxsize=4)
def load_phrases(path: Path = PHRASES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def say(key: str, **fields: Any) -> str:
    return str(load_phrases()[key]).format(**fields)


def agreement(hit: SearchHit) -> dict[str, str]:
    """{lo}/{sale} for a product: "las zapatillas… ¿te las reservo?", "los auriculares salen"."""
    gender, plural = gender_of(hit.name, hit.category)
    pronoun = ("la" if gender == "f" else "lo") + ("s" if plural else "")
    sale = "salen" if plural else "sale"
    return {"lo": pronoun, "sale": sale, "Sale": sale.capitalize()}


def button(action: str) -> dict[str, str]:
    """An action button, e.g. button("buy") → {"id": "a:buy", "title": "Lo quiero"}."""
    return {"id": f"a:{action}", "title": load_phrases()["buttons"][action]}


# ---- numbers ------------------------------------------------------------------------------------
def money(amount: Decimal | float | int, currency: str = "ARS") -> str:
    """Argentine style: "$ 189.999", "$ 189.999,50"; dollars as "US$ 1.200"."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    whole, cents = divmod(abs(value), 1)
    text = f"{int(whole):,}".replace(",", ".")
    if cents:
        text += "," + f"{cents:.2f}"[2:]
    symbol = "$" if currency == "ARS" else "US$" if currency == "USD" else currency
    return f"{'-' if value < 0 else ''}{symbol} {text}"


def installment_amount(price: Decimal, count: int) -> Decimal:
    # Rounded up to the peso: quoting a cuota a few cents short would be a small lie.
    return (Decimal(price) / count).quantize(Decimal("1"), rounding=ROUND_CEILING)


def sizes_of(attributes: dict[str, Any]) -> list[str]:
    for key, value in (attributes or {}).items():
        if plain(str(key)) in _SIZE_KEYS:
            if isinstance(value, list):
                return [str(v).strip() for v in value if str(v).strip()]
            return [s.strip() for s in str(value).replace(";", ",").split(",") if s.strip()]
    return []


def sizes_text(sizes: Sequence[str]) -> str:
    """ "38 al 44" for a full run of numbers, else the list: "S, M, L"."""
    if len(sizes) > 3 and all(s.isdigit() for s in sizes):
        numbers = [int(s) for s in sizes]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return say("sizes_range", first=numbers[0], last=numbers[-1])
    return ", ".join(sizes)


def has_size(hit: SearchHit, size: str) -> bool:
    return any(plain(s) == plain(size) for s in sizes_of(hit.attributes))


def _installments_part(hit: SearchHit) -> str:
    if not hit.installments:
        return ""
    amount = money(installment_amount(hit.price, hit.installments), hit.currency)
    return say("detail_installments", n=hit.installments, amount=amount)


def _stock_sentence(hit: SearchHit) -> str:
    if hit.stock == 1:
        return say("stock_one")
    if hit.stock < FEW_UNITS:
        return say("stock_few", stock=hit.stock)
    return say("stock_plenty")


# ---- option titles ------------------------------------------------------------------------------
def short_titles(products: Sequence[SearchHit], limit: int) -> list[str]:
    """Titles of at most `limit` characters, cut at word boundaries, all different."""
    wordings = [_wordings(p) for p in products]
    # One list reads better when every title has the same shape: all full names, or none.
    full_fits = all(len(" ".join(w[0])) <= limit for w in wordings)
    titles = [" ".join(w[0]) if full_fits else _best_title(*w, limit) for w in wordings]
    groups: dict[str, list[int]] = {}
    for i, title in enumerate(titles):
        groups.setdefault(title.casefold(), []).append(i)
    for members in groups.values():
        if len(members) > 1:
            shared = set.intersection(*({w.casefold() for w in wordings[i][1]} for i in members))
            for i in members:
                titles[i] = _keep_distinct(wordings[i][1], shared, limit)
    seen: set[str] = set()
    for i, title in enumerate(titles):
        number = 2
        while title.casefold() in seen:  # identical names: number them rather than lie
            suffix = f" {number}"
            title = _fit_words(titles[i].split(), limit - len(suffix)) + suffix
            number += 1
        titles[i] = title
        seen.add(title.casefold())
    return titles


def _wordings(hit: SearchHit) -> tuple[list[str], list[str], list[str], int]:
    """(full name, without a leading category word, also without the brand, brand word count)."""
    full = hit.name.split()
    # "Celular" of category "Celulares": the customer already knows what they asked for.
    core = _drop_leading(full, fold(hit.category or "")[:1])
    brand = fold(hit.brand or "")
    bare = _drop_leading(core, brand)
    return full, core, bare, len(brand) if bare is not core else 0


def _best_title(full: list[str], core: list[str], bare: list[str], brand_words: int, limit: int) -> str:
    if len(" ".join(core)) <= limit:
        return " ".join(core)
    cut = _fit_words(core, limit)
    if len(cut.split()) >= brand_words + 2:  # "Nike Air Max 90": brand plus a model says enough
        return cut
    return " ".join(bare) if len(" ".join(bare)) <= limit else _fit_words(bare, limit)


def _drop_leading(words: list[str], phrase: list[str]) -> list[str]:
    """`words` without a leading `phrase` (folded comparison); the same list when absent."""
    size = len(phrase)
    if (
        size
        and len(words) > size
        and [w for word in words[:size] for w in fold(word)] == phrase
        and plain(words[size]) not in _DANGLING  # "Mochila para Notebook" must keep "Mochila"
    ):
        return words[size:]
    return words


def _fit_words(words: Sequence[str], limit: int) -> str:
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > limit:
            break
        kept.append(word)
    while len(kept) > 1 and plain(kept[-1]) in _DANGLING:
        kept.pop()  # "Buzo Nike con" reads broken; "Buzo Nike" does not
    if kept:
        return " ".join(kept)
    # A single word longer than the limit: abbreviate visibly with a dot.
    return words[0][: limit - 1] + "." if words else ""


def _keep_distinct(words: Sequence[str], shared: set[str], limit: int) -> str:
    """Keep the words that tell this product apart, then as many others as fit, in order."""
    required = [w for w in words if w.casefold() not in shared]
    budget = limit - len(" ".join(required))
    keep = set()
    for index, word in enumerate(words):
        if word.casefold() in shared and len(word) + 1 <= budget:
            keep.add(index)
            budget -= len(word) + 1
    chosen = [w for i, w in enumerate(words) if i in keep or w.casefold() not in shared]
    return _fit_words(chosen, limit)


def product_rows(hits: Sequence[SearchHit]) -> list[dict[str, str]]:
    """List rows for products: a short title and price · installments · stock as description."""
    titles = short_titles(hits, ROW_TITLE_MAX)
    rows = []
    for hit, title in zip(hits, titles, strict=True):
        parts = [money(hit.price, hit.currency)]
        if hit.installments:
            parts.append(say("row_installments", n=hit.installments))
        if hit.stock <= 0:
            parts.append(say("row_out_of_stock"))
        elif hit.stock == 1:
            parts.append(say("row_stock_one"))
        elif hit.stock < FEW_UNITS:
            parts.append(say("row_stock_few", stock=hit.stock))
        rows.append({"id": f"p:{hit.sku}", "title": title, "description": " · ".join(parts)[:ROW_DESCRIPTION_MAX]})
    return rows


# ---- replies ------------------------------------------------------------------------------------
def results(hits: Sequence[SearchHit], intro: str) -> Reply:
    """In-stock products to choose from (the caller never passes out-of-stock ones)."""
    return Reply(intro, product_rows(hits[:MAX_OPTIONS]), as_list=True)


def detail(hit: SearchHit) -> Reply:
    if not hit.in_stock:
        return Reply(say("out_of_stock", name=hit.name), [button("alternatives"), button("human")])
    sizes = sizes_of(hit.attributes)
    text = say(
        "detail",
        **agreement(hit),
        name=hit.name,
        price=money(hit.price, hit.currency),
        installments=_installments_part(hit),
        stock=_stock_sentence(hit),
        sizes=say("detail_sizes", sizes=sizes_text(sizes)) if sizes else "",
    )
    return Reply(text, [button("buy"), button("more"), button("human")], image_url=hit.image_url)


def out_of_stock(hit: SearchHit, alternatives: Sequence[SearchHit]) -> Reply:
    if alternatives:
        return results(alternatives, say("out_of_stock_alternatives", name=hit.name))
    return Reply(say("out_of_stock_no_alternatives", name=hit.name), [button("human")])


def price(hit: SearchHit) -> Reply:
    text = say(
        "price",
        **agreement(hit),
        name=hit.name,
        price=money(hit.price, hit.currency),
        installments=_installments_part(hit),
    )
    return Reply(text, _after_answer(hit))


def installments(hit: SearchHit) -> Reply:
    price_text = money(hit.price, hit.currency)
    if not hit.installments:
        return Reply(say("installments_no", **agreement(hit), name=hit.name, price=price_text), _after_answer(hit))
    amount = money(installment_amount(hit.price, hit.installments), hit.currency)
    text = say("installments_yes", name=hit.name, n=hit.installments, amount=amount, price=price_text)
    return Reply(text, _after_answer(hit))


def stock(hit: SearchHit) -> Reply:
    if not hit.in_stock:
        return detail(hit)
    return Reply(say("stock_yes", name=hit.name, stock=_stock_sentence(hit)), _after_answer(hit))


def sizes(hit: SearchHit, asked: str | None) -> Reply:
    available = sizes_of(hit.attributes)
    if not available:
        return Reply(say("sizes_unknown", name=hit.name), [button("human")])
    listed = sizes_text(available)
    if asked is None:
        return Reply(say("sizes_list", name=hit.name, sizes=listed), _after_answer(hit))
    if has_size(hit, asked):
        text = say(
            "size_yes",
            **agreement(hit),
            name=hit.name,
            size=asked,
            price=money(hit.price, hit.currency),
            installments=_installments_part(hit),
        )
        return Reply(text, _after_answer(hit))
    return Reply(say("size_no", name=hit.name, size=asked, sizes=listed), [button("more"), button("human")])


def _after_answer(hit: SearchHit) -> list[dict[str, str]]:
    return [button("buy"), button("more"), button("human")] if hit.in_stock else [button("alternatives")]


def plain_text(key: str, *actions: str, **fields: Any) -> Reply:
    return Reply(say(key, **fields), [button(a) for a in actions])
