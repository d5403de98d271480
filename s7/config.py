"""Settings: every environment name from DESIGN.md, read and validated once.

A bad value stops the process with one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path(".s7") / "sector7.db"
# Graph API v27.0 (2026-11-04) is current; v26.0 (2026-07-29) also. Keep it a setting.
DEFAULT_GRAPH_VERSION = "v27.0"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Spanish day names (and their usual abbreviations) read as the same days; accents optional.
_DAY_NAMES = {
    **{day: index for index, day in enumerate(_DAYS)},
    **{
        name: index
        for index, names in enumerate(
            (
                ("lun", "lunes", "lu"),
                ("mar", "martes", "ma"),
                ("mie", "mié", "miercoles", "miércoles", "mi"),
                ("jue", "jueves", "ju"),
                ("vie", "viernes", "vi"),
                ("sab", "sáb", "sabado", "sábado", "sa"),
                ("dom", "domingo", "do"),
            )
        )
        for name in names
    },
    **{
        name: index
        for index, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
}
_DAY = r"[a-záéíóú]+"
_TIME = r"\d{1,2}(?::\d{2})?"
_HOURS_ITEM = re.compile(
    rf"^(?P<first>{_DAY})(?:\s*(?:-|\ba\b)\s*(?P<last>{_DAY}))?\.?\s+(?:de\s+)?(?P<start>{_TIME})\s*(?:-|a)\s*(?P<end>{_TIME})(?:\s*h(?:s)?)?$"
)
_HOURS_EXAMPLE = "lun-vie 9:00-18:00, sáb 10-14"
# The shape of an e-mail address: something@domain.tld (demo `.local` addresses included).
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


def parse_business_hours(spec: str) -> dict[int, list[tuple[int, int]]]:
    """`mon-fri 09:00-19:00, sat 10:00-14:00` or `lun-vie 9:00-18:00, sáb 10-14` →
    {weekday: [(start_minute, end_minute)]}. Items are separated by commas or semicolons."""
    result: dict[int, list[tuple[int, int]]] = {}
    for raw in re.split(r"[,;]", spec):
        item = " ".join(raw.strip().lower().split())
        if not item:
            continue
        match = _HOURS_ITEM.match(item)
        if not match:
            raise ValueError(f"no entiendo {raw.strip()!r} (escribilo como '{_HOURS_EXAMPLE}')")
        first, last = match["first"], match["last"] or ""
        if first not in _DAY_NAMES or (last and last not in _DAY_NAMES):
            raise ValueError(f"día desconocido en {raw.strip()!r} (usá lun, mar, mié, jue, vie, sáb, dom)")
        start_day, end_day = _DAY_NAMES[first], _DAY_NAMES[last or first]
        days = range(start_day, end_day + 1) if start_day <= end_day else [*range(start_day, 7), *range(end_day + 1)]
        start, end = (_minutes(match[k]) for k in ("start", "end"))
        if end <= start:
            raise ValueError(f"la hora de cierre es anterior a la de apertura en {raw.strip()!r}")
        for day in days:
            result.setdefault(day, []).append((start, end))
    return result


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    value_h, value_m = int(hours), int(minutes or 0)
    if value_h > 24 or value_m > 59 or (value_h == 24 and value_m):
        raise ValueError(f"hora imposible {hhmm!r}")
    return value_h * 60 + value_m


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    DATABASE_URL: str = ""
    PORT: int = Field(8080, ge=1, le=65535)
    HOST: str = "0.0.0.0"  # noqa: S104 - a container must listen on all interfaces
    PUBLIC_BASE_URL: str = ""
    SESSION_SECRET: str = ""
    META_VERIFY_TOKEN: str = ""
    META_APP_SECRET: str = ""
    WEBHOOK_SIGNATURE_MODE: Literal["required", "optional"] = "required"
    WHATSAPP_TOKEN: str = ""
    WHATSAPP_PHONE_NUMBER_ID: str = ""
    META_GRAPH_BASE_URL: str = "https://graph.facebook.com"
    META_GRAPH_VERSION: str = DEFAULT_GRAPH_VERSION
    WHATSAPP_MESSAGES_PER_SECOND: float = Field(80.0, gt=0)
    # How long a sender owns a row it is sending; a crashed sender's rows are retried after it.
    OUTBOX_LEASE_SECONDS: float = Field(120.0, gt=0)
    PANEL_ORIGIN: str = ""
    PANEL_ORIGINS: str = ""
    ENABLE_JOBS: bool = True
    HUMAN_INACTIVITY_MINUTES: float = Field(30.0, gt=0)
    HOT_LEAD_UNCLAIMED_MINUTES: float = Field(10.0, gt=0)
    JOBS_INTERVAL_SECONDS: float = Field(30.0, gt=0)
    # Processed raw webhook bodies (personal data) are deleted after this many days.
    WEBHOOK_RETENTION_DAYS: float = Field(30.0, gt=0)
    BUSINESS_HOURS: str = "mon-fri 09:00-19:00, sat 10:00-14:00"
    TIMEZONE: str = "America/Argentina/Buenos_Aires"
    N8N_WEBHOOK_URL: str = ""
    ADMIN_SEED_PASSWORD: str = ""
    SELLER_SEED_PASSWORD: str = ""
    TOKEN_MAX_AGE_HOURS: float = Field(12.0, gt=0)
    WEBHOOK_MAX_BODY_BYTES: int = Field(3 * 1024 * 1024 + 65536, gt=0)
    # Proxies whose X-Forwarded-For is believed (addresses/CIDRs, or `*`); see s7.client_address.
    FORWARDED_ALLOW_IPS: str = ""
    # Largest upload (catalog file, attachment), enforced while the body streams in (s7.limits).
    UPLOAD_MAX_MB: float = Field(20.0, gt=0)
    # Media (photos, audio, documents): in the database unless MEDIA_DIR names a mounted volume;
    # MEDIA_MAX_MB caps the total, oldest evicted first. The WABA id lets us sync templates.
    MEDIA_DIR: str = ""
    MEDIA_MAX_MB: float = Field(2048.0, gt=0)
    WHATSAPP_BUSINESS_ACCOUNT_ID: str = ""
    # The first admin, created on the first start when the store has no admin (never overwritten).
    ADMIN_EMAIL: str = ""
    ADMIN_PASSWORD: str = ""
    # Outside sandbox SQLite is refused unless this is true (a container's file dies with it).
    ALLOW_SQLITE: bool = False
    # Hot leads and handoff requests find a seller (s7.domain.chats.assignment).
    AUTO_ASSIGN: bool = False
    AUTO_ASSIGN_MAX_OPEN: int = Field(10, ge=1, le=1000)
    AUTO_ASSIGN_REASSIGN_MINUTES: float = Field(3.0, gt=0)
    AVAILABILITY_GRACE_MINUTES: float = Field(10.0, ge=0)

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("postgres://", "postgresql://", "postgresql+psycopg://", "sqlite://")):
            raise ValueError("tiene que empezar con postgresql:// (o sqlite:///)")
        return value

    @field_validator("ADMIN_EMAIL")
    @classmethod
    def _admin_email(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("META_GRAPH_VERSION")
    @classmethod
    def _graph_version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", value):
            raise ValueError("tiene que tener la forma v27.0")
        return value

    @field_validator("BUSINESS_HOURS")
    @classmethod
    def _business_hours(cls, value: str) -> str:
        parse_business_hours(value)
        return value

    @field_validator("FORWARDED_ALLOW_IPS")
    @classmethod
    def _forwarded_allow_ips(cls, value: str) -> str:
        import ipaddress

        for item in (v.strip() for v in value.split(",")):
            if item and item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} no es una dirección, un rango CIDR ni *") from None
        return value.strip()

    @field_validator("TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"zona horaria desconocida {value!r} (por ejemplo America/Argentina/Buenos_Aires)"
            ) from exc
        return value

    @field_validator("META_GRAPH_BASE_URL", "N8N_WEBHOOK_URL", "PUBLIC_BASE_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("tiene que ser una URL http:// o https://")
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if not self.sandbox:
            if not self.WHATSAPP_PHONE_NUMBER_ID:
                raise _named("WHATSAPP_PHONE_NUMBER_ID", "falta: es obligatorio cuando hay WHATSAPP_TOKEN")
            if not self.SESSION_SECRET:
                raise _named("SESSION_SECRET", "falta: es obligatorio fuera de sandbox (hay WHATSAPP_TOKEN)")
            if not self.META_APP_SECRET and self.WEBHOOK_SIGNATURE_MODE == "required":
                raise _named(
                    "META_APP_SECRET",
                    "falta: es obligatorio fuera de sandbox (o WEBHOOK_SIGNATURE_MODE=optional para correr sin él)",
                )
            if self.is_sqlite and not self.ALLOW_SQLITE:
                raise _named(
                    "DATABASE_URL",
                    "fuera de sandbox no uso SQLite: en un contenedor los chats se pierden en cada redeploy; "
                    "poné la URI de Postgres (o ALLOW_SQLITE=true si el disco es persistente)",
                )
        if self.SESSION_SECRET and len(self.SESSION_SECRET) < 16:
            raise _named("SESSION_SECRET", "es muy corto (usá al menos 16 caracteres al azar)")
        if bool(self.ADMIN_EMAIL) != bool(self.ADMIN_PASSWORD):
            missing = "ADMIN_PASSWORD" if self.ADMIN_EMAIL else "ADMIN_EMAIL"
            raise _named(missing, "falta: ADMIN_EMAIL y ADMIN_PASSWORD van juntos (el primer administrador)")
        if self.ADMIN_EMAIL and not EMAIL_SHAPE.match(self.ADMIN_EMAIL):
            raise _named("ADMIN_EMAIL", "no parece un email (alguien@dominio.com)")
        if self.ADMIN_PASSWORD and len(self.ADMIN_PASSWORD) < 8:
            raise _named("ADMIN_PASSWORD", "es muy corta (al menos 8 caracteres)")
        return self

    # ---- derived values -------------------------------------------------------------------------
    @property
    def sandbox(self) -> bool:
        """No WhatsApp token: nothing leaves the machine, the simulator is on."""
        return not self.WHATSAPP_TOKEN

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL; plain Supabase/Railway `postgresql://` URIs are mapped to psycopg 3."""
        url = self.DATABASE_URL or f"sqlite:///{DEFAULT_SQLITE_PATH}"
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def session_secret(self) -> str:
        return self.SESSION_SECRET or _dev_secret()

    @property
    def public_base_url(self) -> str:
        return self.PUBLIC_BASE_URL or f"http://localhost:{self.PORT}"

    @property
    def upload_max_bytes(self) -> int:
        return int(self.UPLOAD_MAX_MB * 1024 * 1024)

    @property
    def panel_origins(self) -> list[str]:
        raw = ",".join(v for v in (self.PANEL_ORIGIN, self.PANEL_ORIGINS) if v)
        return [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]

    @property
    def business_hours(self) -> dict[int, list[tuple[int, int]]]:
        return parse_business_hours(self.BUSINESS_HOURS)

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.TIMEZONE)

    @property
    def graph_root_url(self) -> str:
        """`{base}/{version}`: media ids, templates and the number's endpoints hang from it."""
        return f"{self.META_GRAPH_BASE_URL}/{self.META_GRAPH_VERSION}"

    @property
    def graph_messages_url(self) -> str:
        return f"{self.META_GRAPH_BASE_URL}/{self.META_GRAPH_VERSION}/{self.WHATSAPP_PHONE_NUMBER_ID}/messages"


class _NamedError(ValueError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")


def _named(name: str, reason: str) -> _NamedError:
    return _NamedError(name, reason)


@lru_cache(maxsize=1)
def _dev_secret() -> str:
    """A per-process secret for the sandbox; sessions do not survive a restart, which is fine there."""
    return secrets.token_urlsafe(32)


def load_settings() -> Settings:
    """Read the environment; raise ConfigError whose text is one Spanish line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(p) for p in error.get("loc", ()))
        message = spanish_error(error)
        if location:
            raise ConfigError(f"{location}: {message}") from None
        raise ConfigError(message) from None


def spanish_error(error: Mapping[str, Any]) -> str:
    """One pydantic error in the words of the person who set the value (es-AR), no jargon.
    Our own validators already speak Spanish; pydantic's built-in checks are translated here."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    got = _shown(error.get("input"))
    if kind in ("value_error", "assertion_error"):
        return str(error.get("msg", "valor inválido")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"tiene que ser un número entero{got}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"tiene que ser un número (con punto para decimales, como 0.5){got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"tiene que ser true o false{got}"
    if kind == "greater_than":
        return f"tiene que ser mayor que {_number(ctx.get('gt'))}{got}"
    if kind == "greater_than_equal":
        return f"tiene que ser {_number(ctx.get('ge'))} o más{got}"
    if kind == "less_than":
        return f"tiene que ser menor que {_number(ctx.get('lt'))}{got}"
    if kind == "less_than_equal":
        return f"tiene que ser {_number(ctx.get('le'))} o menos{got}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"tiene que ser uno de: {expected}{got}"
    if kind == "missing":
        return "falta"
    if kind == "string_too_short":
        return f"tiene que tener al menos {ctx.get('min_length')} carácter(es)"
    if kind == "string_too_long":
        return f"puede tener hasta {ctx.get('max_length')} caracteres"
    if kind == "too_short":
        return f"tiene que tener al menos {ctx.get('min_length')} elemento(s)"
    if kind == "too_long":
        return f"puede tener hasta {ctx.get('max_length')} elementos"
    if kind in ("string_type", "string_unicode"):
        return "tiene que ser texto"
    if kind == "string_pattern_mismatch":
        return "no tiene el formato esperado"
    if kind == "json_invalid":
        return "el cuerpo no es JSON válido"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "tiene que ser un objeto JSON"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "tiene que ser una lista"
    if kind == "enum":
        return f"tiene que ser uno de: {str(ctx.get('expected', '')).replace(chr(39), '').replace(' or ', ', ')}{got}"
    if kind == "extra_forbidden":
        return "este campo no va"
    if kind in ("decimal_parsing", "decimal_type"):
        return f"tiene que ser un número{got}"
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return f"tiene que ser una fecha y hora ISO (2026-11-30T14:00:00Z){got}"
    if kind in ("date_parsing", "date_type", "date_from_datetime_parsing"):
        return f"tiene que ser una fecha (2026-11-30){got}"
    if kind in ("url_parsing", "url_type", "url_scheme"):
        return f"tiene que ser una URL{got}"
    return "valor inválido"


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _shown(value: Any) -> str:
    """`(recibí 'abc')` for short scalar inputs; nothing for long or structured ones (no secrets)."""
    if isinstance(value, str | int | float | bool) and len(str(value)) <= 40:
        return f" (recibí {str(value)!r})"
    return ""


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings(settings: Settings | None = None) -> None:
    """Tests and the CLI swap the settings object here."""
    global _settings
    _settings = settings
