"""The store profile: what is true about this store, as its admin wrote it (page "Tienda", `/api/store`).

The bot states store facts (address, hours, pick-up, shipping, payment, installments, returns,
FAQ) only from here; a fact left empty is answered with "un vendedor te confirma" and a
hand-off, never with a made-up default (DESIGN rule 11). Opening hours: `BUSINESS_HOURS` until
the admin saves hours here; from then on this is the one source (`store.hours` reads it).
The store's own search words ("cuando digan X, buscá Y") live here too.

One row (`store_profile`, id 1) holding a JSON document; `clean` is its schema.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.config import get_settings, parse_business_hours
from s7.domain.models import StoreProfile
from s7.domain.text_es import fold

_RECHECK_SECONDS = 30.0  # how stale another replica's edit can leave this process
TEXT_MAX = 600
LIST_MAX = 30
DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_SHORT_DAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
SHIPPING_MODES = ("zones", "coordinate", "none")
_COST_MAX = 1_000_000_000


class ProfileError(ValueError):
    """The profile as sent cannot be saved; the message says why, in Spanish."""


@dataclass(frozen=True)
class Profile:
    data: dict[str, Any] = field(default_factory=dict)
    saved: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value in (None, "", [], {}) else value

    @property
    def schedule(self) -> dict[int, list[tuple[int, int]]]:
        spec = self.get("hours")
        return parse_business_hours(spec) if spec else get_settings().business_hours

    @property
    def hours_from_profile(self) -> bool:
        return bool(self.get("hours"))

    def closed_on(self, day: date) -> bool:
        vacation = self.get("vacation", {})
        if vacation.get("on"):
            until = vacation.get("until")
            if not until or day <= date.fromisoformat(until):
                return True
        return day.isoformat() in set(self.get("closed_days", []))

    def vocabulary(self) -> list[tuple[str, str]]:
        return [(v["say"], v["search"]) for v in self.get("vocabulary", [])]


# ---- reading and writing ------------------------------------------------------------------------
_cache: dict[str, tuple[Profile, float]] = {}
_cache_lock = threading.Lock()


def load(session: Session) -> Profile:
    """The profile as saved (an empty one before the admin saves anything)."""
    row = session.get(StoreProfile, 1, populate_existing=True)
    return Profile(dict(row.data or {}), saved=True) if row is not None else Profile()


def current(session: Session | None = None) -> Profile:
    """The profile, cached per database for a few seconds (hours are read on every message)."""
    if session is None:
        from s7.db import session_scope  # local: the profile module is imported by the edge

        with session_scope() as own:
            return current(own)
    key = str(session.get_bind().url)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[1] < _RECHECK_SECONDS:
        return cached[0]
    profile = load(session)
    with _cache_lock:
        _cache[key] = (profile, time.monotonic())
    return profile


def forget_cached() -> None:
    with _cache_lock:
        _cache.clear()


def updated_at(session: Session) -> datetime | None:
    return session.scalar(select(StoreProfile.updated_at).where(StoreProfile.id == 1))


def save(session: Session, data: dict[str, Any], *, user_id: int | None = None) -> Profile:
    """Validate and store the whole profile; the search index and caches pick it up at once."""
    from s7.domain import catalog  # local: catalog imports nothing from store

    cleaned = clean(data)
    row = session.get(StoreProfile, 1)
    if row is None:
        row = StoreProfile(id=1, data=cleaned, updated_at=now(), updated_by=user_id)
        session.add(row)
    else:
        row.data, row.updated_at, row.updated_by = cleaned, now(), user_id
    session.flush()
    forget_cached()
    catalog.invalidate_index()  # the store's own search words are part of the index
    return Profile(cleaned, saved=True)


def _text(value: Any, name: str, limit: int = TEXT_MAX) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProfileError(f"{name}: tiene que ser texto")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ProfileError(f"{name}: tiene caracteres de control")
    text = " ".join(value.split()) if "\n" not in value else value.strip()
    if len(text) > limit:
        raise ProfileError(f"{name}: máximo {limit} caracteres")
    return text


def _texts(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.replace("\n", ",").split(",")]
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ProfileError(f"{name}: tiene que ser una lista (hasta {LIST_MAX})")
    return [t for t in (_text(v, name, 200) for v in value) if t]


def _day(value: Any, name: str) -> str:
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ProfileError(f"{name}: fecha inválida {value!r} (AAAA-MM-DD)") from None


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """The profile's schema: unknown keys are refused, every text is bounded."""
    if not isinstance(data, dict):
        raise ProfileError("El perfil tiene que ser un objeto")
    known = {
        "name", "address", "map_url", "hours", "closed_days", "vacation", "pickup", "shipping",
        "payment_methods", "installments", "returns", "faq", "vocabulary",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(f"Campos desconocidos: {', '.join(unknown)}")
    out: dict[str, Any] = {
        "name": _text(data.get("name"), "Nombre", 120),
        "address": _text(data.get("address"), "Dirección", 300),
        "map_url": _text(data.get("map_url"), "Link del mapa", 500),
        "installments": _text(data.get("installments"), "Cuotas"),
        "returns": _text(data.get("returns"), "Cambios y devoluciones"),
        "payment_methods": _texts(data.get("payment_methods"), "Medios de pago"),
    }
    if out["map_url"] and not out["map_url"].startswith(("https://", "http://")):
        raise ProfileError("Link del mapa: tiene que empezar con https://")
    hours = _text(data.get("hours"), "Horarios", 300)
    if hours:
        try:
            if not parse_business_hours(hours):
                raise ValueError("sin días")
        except (ValueError, KeyError, IndexError) as exc:
            raise ProfileError(f"Horarios: {exc} (ejemplo: mon-fri 09:00-19:00, sat 10:00-14:00)") from None
    out["hours"] = hours
    out["closed_days"] = sorted({_day(d, "Feriados") for d in (data.get("closed_days") or [])})
    vacation = data.get("vacation") or {}
    out["vacation"] = {
        "on": bool(vacation.get("on")),
        "until": _day(vacation["until"], "Vacaciones hasta") if vacation.get("until") else None,
        "message": _text(vacation.get("message"), "Mensaje de vacaciones", 300),
    }
    pickup = data.get("pickup") or {}
    available = pickup.get("available")
    if available not in (True, False, None):
        raise ProfileError("Retiro: indicá sí, no o sin completar")
    out["pickup"] = {"available": available, "details": _text(pickup.get("details"), "Retiro", 300)}
    shipping = data.get("shipping") or {}
    mode = shipping.get("mode") or None
    if mode is not None and mode not in SHIPPING_MODES:
        raise ProfileError(f"Envíos: el modo tiene que ser uno de {', '.join(SHIPPING_MODES)}")
    zones = []
    for zone in shipping.get("zones") or []:
        name = _text(zone.get("name"), "Zona de envío", 80)
        if not name:
            continue
        cost = zone.get("cost")
        if cost not in (None, ""):
            try:
                cost = float(Decimal(str(cost)))
            except (InvalidOperation, ValueError):
                raise ProfileError(f"Envíos: costo inválido para {name}") from None
            if not 0 <= cost <= _COST_MAX:  # also NaN and infinity
                raise ProfileError(f"Envíos: costo inválido para {name}")
        else:
            cost = None
        zones.append({"name": name, "cost": cost, "days": _text(zone.get("days"), "Demora", 60)})
    if mode == "zones" and not zones:
        raise ProfileError("Envíos por zona: cargá al menos una zona")
    out["shipping"] = {"mode": mode, "zones": zones[:LIST_MAX], "notes": _text(shipping.get("notes"), "Envíos", 300)}
    faq = []
    for entry in data.get("faq") or []:
        questions = _texts(entry.get("questions"), "Preguntas frecuentes")
        answer = _text(entry.get("answer"), "Respuesta", 400)
        if questions and answer:
            faq.append({"questions": questions, "answer": answer})
        elif questions or answer:
            raise ProfileError("Preguntas frecuentes: cada entrada necesita preguntas y respuesta")
    out["faq"] = faq[:LIST_MAX]
    vocabulary = []
    for entry in data.get("vocabulary") or []:
        say, search = _text(entry.get("say"), "Cuando digan", 80), _text(entry.get("search"), "Buscá", 80)
        if say and search:
            vocabulary.append({"say": say, "search": search})
        elif say or search:
            raise ProfileError("Vocabulario: completá las dos partes (cuando digan… / buscá…)")
    out["vocabulary"] = vocabulary[:200]
    return out


# ---- what the bot may say -------------------------------------------------------------------------
def describe_hours(schedule: dict[int, list[tuple[int, int]]]) -> str:
    """ "lun a vie de 9 a 19 h, sáb de 10 a 14 h"."""
    groups: list[tuple[list[int], list[tuple[int, int]]]] = []
    for day in range(7):
        spans = sorted(schedule.get(day, []))
        if not spans:
            continue
        if groups and groups[-1][1] == spans and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))
    parts = []
    for days, spans in groups:
        named = _SHORT_DAYS[days[0]] if len(days) == 1 else f"{_SHORT_DAYS[days[0]]} a {_SHORT_DAYS[days[-1]]}"
        times = " y ".join(f"de {_clock(s)} a {_clock(e)}" for s, e in spans)
        parts.append(f"{named} {times} h")
    return ", ".join(parts)


def _clock(minute: int) -> str:
    hours, minutes = divmod(minute, 60)
    return f"{hours}" if not minutes else f"{hours}:{minutes:02d}"


def _money(amount: float) -> str:
    return "$ " + f"{int(round(amount)):,}".replace(",", ".")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]


def fact(profile: Profile, topic: str) -> str | None:
    """The answer to a store question from the profile, or None when the admin left it empty."""
    if topic == "address":
        address = profile.get("address")
        if not address:
            return None
        link = profile.get("map_url")
        return f"Estamos en {address}." + (f" Mapa: {link}" if link else "")
    if topic == "hours":
        if not profile.hours_from_profile:
            return None  # BUSINESS_HOURS is the default for the jobs, not a fact the admin stated
        text = f"Atendemos {describe_hours(profile.schedule)}."
        vacation = profile.get("vacation", {})
        if vacation.get("on"):
            until = vacation.get("until")
            text = vacation.get("message") or (
                "Estamos de vacaciones" + (f" hasta el {_date(until)}" if until else "") + "."
            )
        return text
    if topic == "pickup":
        pickup = profile.get("pickup", {})
        if pickup.get("available") is None:
            return None
        if not pickup["available"]:
            return "No tenemos retiro en el local."
        where = profile.get("address")
        details = pickup.get("details")
        return (
            "Sí, podés retirarlo"
            + (f" en {where}" if where else " en el local")
            + "."
            + (f" {details}" if details else "")
        )
    if topic == "shipping":
        shipping = profile.get("shipping", {})
        mode = shipping.get("mode")
        notes = shipping.get("notes")
        if mode == "none":
            return "Por ahora no hacemos envíos." + (f" {notes}" if notes else "")
        if mode == "coordinate":
            return "El envío se coordina con un vendedor según tu zona." + (f" {notes}" if notes else "")
        if mode == "zones":
            zones = [
                z["name"]
                + (f" {_money(z['cost'])}" if z.get("cost") is not None else "")
                + (f" ({z['days']})" if z.get("days") else "")
                for z in shipping.get("zones", [])[:5]
            ]
            return f"Enviamos a {_listed(zones)}." + (f" {notes}" if notes else "")
        return None
    if topic == "payment":
        methods = profile.get("payment_methods", [])
        return f"Podés pagar con {_listed(methods)}." if methods else None
    if topic == "installments_policy":
        return profile.get("installments")
    if topic == "returns":
        return profile.get("returns")
    return None


def faq_answer(profile: Profile, text: str) -> str | None:
    """A FAQ entry whose trigger question is in the message (words compared folded)."""
    said = f" {' '.join(fold(text))} "
    best: tuple[int, str] | None = None
    for entry in profile.get("faq", []):
        for question in entry["questions"]:
            trigger = " ".join(fold(question))
            if trigger and f" {trigger} " in said and (best is None or len(trigger) > best[0]):
                best = (len(trigger), entry["answer"])
    return best[1] if best else None


def _date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day}/{day.month}"


# ---- the demo store (s7 seed only) -----------------------------------------------------------------
DEMO: dict[str, Any] = {
    "name": "Sector 7 Demo",
    "address": "Av. Corrientes 1234, CABA",
    "map_url": "https://maps.google.com/?q=Av.+Corrientes+1234,+CABA",
    "hours": "mon-fri 09:00-19:00, sat 10:00-14:00",
    "closed_days": [],
    "vacation": {"on": False, "until": None, "message": ""},
    "pickup": {"available": True, "details": "Con el número de pedido, en el horario del local."},
    "shipping": {
        "mode": "zones",
        "zones": [
            {"name": "CABA", "cost": 4500, "days": "24 a 48 h"},
            {"name": "GBA", "cost": 6900, "days": "48 a 72 h"},
            {"name": "resto del país", "cost": None, "days": "a coordinar"},
        ],
        "notes": "",
    },
    "payment_methods": ["efectivo", "transferencia", "débito", "crédito", "Mercado Pago"],
    "installments": "Hasta 6 cuotas sin interés con tarjetas bancarias; el detalle figura en cada producto.",
    "returns": "Tenés 30 días para cambios con el ticket y el producto sin uso.",
    "faq": [{"questions": ["factura a", "hacen factura"], "answer": "Sí, hacemos factura A y B."}],
    "vocabulary": [{"say": "compu", "search": "notebook"}],
}


def opening_text(at: datetime, session: Session | None = None) -> str:
    """ "el lunes a las 9" for the next opening after `at` (store time)."""
    from s7.domain.store import hours

    opening = hours.next_opening(at, session)
    if opening is None:
        return ""
    local = opening.astimezone(get_settings().timezone)
    today = at.astimezone(get_settings().timezone).date()
    when = (
        "hoy"
        if local.date() == today
        else "mañana"
        if (local.date() - today).days == 1
        else f"el {DAY_NAMES[local.weekday()]}"
    )
    return f"{when} a las {_clock(local.hour * 60 + local.minute)}"
