"""Settings: every environment name from DESIGN.md, read and validated once.

A bad value stops the process with one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path(".s7") / "sector7.db"
DEFAULT_GRAPH_VERSION = "v23.0"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_ITEM = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


def parse_business_hours(spec: str) -> dict[int, list[tuple[int, int]]]:
    """`mon-fri 09:00-19:00, sat 10:00-14:00` → {weekday: [(start_minute, end_minute)]}."""
    result: dict[int, list[tuple[int, int]]] = {}
    for raw in spec.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        match = _HOURS_ITEM.match(item)
        if not match:
            raise ValueError(f"cannot read {raw.strip()!r} (expected like 'mon-fri 09:00-19:00')")
        first, _, last = match["days"].partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"unknown day in {raw.strip()!r}")
        start_day, end_day = _DAYS.index(first), _DAYS.index(last or first)
        days = range(start_day, end_day + 1) if start_day <= end_day else [*range(start_day, 7), *range(end_day + 1)]
        start, end = (_minutes(match[k]) for k in ("start", "end"))
        if end <= start:
            raise ValueError(f"closing time before opening in {raw.strip()!r}")
        for day in days:
            result.setdefault(day, []).append((start, end))
    return result


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    if hours > 24 or minutes > 59:
        raise ValueError(f"bad time {hhmm!r}")
    return hours * 60 + minutes


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

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("postgres://", "postgresql://", "postgresql+psycopg://", "sqlite://")):
            raise ValueError("must start with postgresql:// or sqlite:///")
        return value

    @field_validator("META_GRAPH_VERSION")
    @classmethod
    def _graph_version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", value):
            raise ValueError("must look like v23.0")
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
                    raise ValueError(f"{item!r} is not an address, a CIDR or *") from None
        return value.strip()

    @field_validator("TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("META_GRAPH_BASE_URL", "N8N_WEBHOOK_URL", "PUBLIC_BASE_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if not self.sandbox:
            if not self.WHATSAPP_PHONE_NUMBER_ID:
                raise _named("WHATSAPP_PHONE_NUMBER_ID", "required when WHATSAPP_TOKEN is set")
            if not self.SESSION_SECRET:
                raise _named("SESSION_SECRET", "required outside sandbox (WHATSAPP_TOKEN is set)")
            if not self.META_APP_SECRET and self.WEBHOOK_SIGNATURE_MODE == "required":
                raise _named(
                    "META_APP_SECRET",
                    "required outside sandbox; set WEBHOOK_SIGNATURE_MODE=optional to run without it",
                )
        if self.SESSION_SECRET and len(self.SESSION_SECRET) < 16:
            raise _named("SESSION_SECRET", "too short (use at least 16 random characters)")
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
    """Read the environment; raise ConfigError whose text is one line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if location:
            raise ConfigError(f"{location}: {message}") from None
        raise ConfigError(message) from None


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
