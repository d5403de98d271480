"""The store profile: the one source of opening hours once saved, validated, and the store's own words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from s7.config import Settings
from s7.db import session_scope
from s7.domain import catalog
from s7.domain.store import hours
from s7.domain.store import profile as store_profile

# Buenos Aires is UTC-3: 13:00 UTC is 10:00 there.
MONDAY_10 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
SATURDAY_16 = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)


def test_business_hours_until_the_admin_saves_hours_then_the_profile(sqlite_db: Settings) -> None:
    with session_scope() as session:
        assert hours.is_open(MONDAY_10, session)  # BUSINESS_HOURS: mon-fri 09:00-19:00
        assert not hours.is_open(SATURDAY_16, session)
        assert store_profile.fact(store_profile.load(session), "hours") is None  # a default is not a stated fact
        store_profile.save(session, {"hours": "mon-fri 11:00-20:00, sat 15:00-18:00"})
    with session_scope() as session:
        assert not hours.is_open(MONDAY_10, session)
        assert hours.is_open(SATURDAY_16, session)
        assert hours.next_opening(MONDAY_10, session) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
        text = store_profile.fact(store_profile.load(session), "hours")
        assert text == "Atendemos lun a vie de 11 a 20 h, sáb de 15 a 18 h."
    # Without a session (the jobs' edge), the same profile.
    assert not hours.is_open(MONDAY_10)


def test_closed_days_and_vacation_close_the_store_and_move_the_next_opening(sqlite_db: Settings) -> None:
    with session_scope() as session:
        store_profile.save(session, {"hours": "mon-fri 09:00-19:00", "closed_days": ["2026-12-07"]})
    with session_scope() as session:
        assert not hours.is_open(MONDAY_10, session)
        assert hours.next_opening(MONDAY_10, session) == datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
        vacation = {"on": True, "until": "2026-12-20", "message": ""}
        store_profile.save(session, {"hours": "mon-fri 09:00-19:00", "vacation": vacation})
    with session_scope() as session:
        assert hours.next_opening(MONDAY_10, session) == datetime(2026, 12, 21, 12, 0, tzinfo=UTC)
        assert store_profile.fact(store_profile.load(session), "hours") == "Estamos de vacaciones hasta el 20/12."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "de 9 a 18"}, "Horarios"),
        ({"closed_days": ["25/12"]}, "Feriados"),
        ({"shipping": {"mode": "zones", "zones": []}}, "al menos una zona"),
        ({"shipping": {"mode": "volando"}}, "Envíos"),
        ({"faq": [{"questions": ["horario"], "answer": ""}]}, "Preguntas frecuentes"),
        ({"vocabulary": [{"say": "compu", "search": ""}]}, "Vocabulario"),
        ({"map_url": "javascript:alert(1)"}, "mapa"),
        ({"inventado": 1}, "Campos desconocidos"),
        ({"returns": "x" * 5000}, "máximo"),
    ],
)
def test_what_cannot_be_saved_says_why(data: dict, message: str) -> None:
    with pytest.raises(store_profile.ProfileError, match=message):
        store_profile.clean(data)


def test_missing_facts_are_none_and_filled_ones_come_from_the_profile() -> None:
    empty = store_profile.Profile()
    for topic in ("address", "hours", "pickup", "shipping", "payment", "installments_policy", "returns"):
        assert store_profile.fact(empty, topic) is None, topic
    demo = store_profile.Profile(store_profile.clean(store_profile.DEMO), saved=True)
    assert (
        store_profile.fact(demo, "payment")
        == "Podés pagar con efectivo, transferencia, débito, crédito y Mercado Pago."
    )
    assert store_profile.fact(demo, "shipping").startswith("Enviamos a CABA $ 4.500 (24 a 48 h), GBA $ 6.900")
    assert store_profile.faq_answer(demo, "che, ¿hacen factura A?") == "Sí, hacemos factura A y B."
    assert store_profile.faq_answer(demo, "¿tienen factura?") is None


def test_the_stores_own_words_reach_search_at_once(sqlite_db: Settings) -> None:
    products = [{"sku": "NB1", "name": "Notebook Lenovo IdeaPad", "price": 1000, "stock": 3}]
    with session_scope() as session:
        catalog.import_catalog(session, __import__("json").dumps(products).encode(), "c.json")
        assert [h.sku for h in catalog.search(session, "maquinola")] == []
        store_profile.save(session, {"vocabulary": [{"say": "maquinola", "search": "notebook"}]})
    with session_scope() as session:
        assert [h.sku for h in catalog.search(session, "maquinola")] == ["NB1"]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "a\x00b"},  # Postgres JSONB cannot store it: a 500 unless refused here
        {"shipping": {"mode": "zones", "zones": [{"name": "CABA", "cost": float("inf")}]}},
        {"shipping": {"mode": "zones", "zones": [{"name": "CABA", "cost": float("nan")}]}},
        {"shipping": {"mode": "zones", "zones": [{"name": "CABA", "cost": -1}]}},
    ],
)
def test_values_the_database_cannot_hold_are_refused(data: dict) -> None:
    with pytest.raises(store_profile.ProfileError):
        store_profile.clean(data)
