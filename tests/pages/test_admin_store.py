"""/admin/tienda and /admin/vocabulario in the NiceGUI user simulation: the admin fills the store's
facts and the customers' words; the bot answers from them; sellers get no permission."""

from __future__ import annotations

import json

import pytest
from nicegui import ui
from nicegui.testing import User

from s7.db import session_scope
from s7.domain import bot, catalog
from s7.domain.store import profile as store_profile
from s7.pages.admin_store import faq_from, zones_from
from tests.domain.test_users import make_user
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401 - autouse fixture


@pytest.mark.parametrize("path", ["/admin/tienda", "/admin/vocabulario"])
async def test_a_seller_gets_no_permission(pg_db, user: User, path: str) -> None:
    make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    await user.open(path)
    await user.should_see("Sin permiso")
    await user.should_not_see(marker="save")


async def test_admin_fills_the_store_and_the_bot_answers_from_it(pg_db, user: User) -> None:
    make_user("jefa@tienda.com", role="admin")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/tienda")
    await user.should_see("Lo que el bot puede decir de tu tienda")
    user.find(marker="address").type("Av. Santa Fe 2000, CABA")
    user.find(marker="payments").type("efectivo, transferencia")
    user.find(marker="save").click()
    await user.should_see("Guardado: el bot ya responde con estos datos.", retries=50)
    with session_scope() as session:
        reply = bot.decide(bot.CatalogView(session), {}, "dónde queda el local? aceptan transferencia?").reply
    assert reply is not None
    assert reply.text == "Estamos en Av. Santa Fe 2000, CABA. Podés pagar con efectivo y transferencia."

    user.find(marker="hours").type("los lunes")
    user.find(marker="save").click()
    await user.should_see("Horarios:", retries=50)  # the reason, not a crash


async def test_admin_teaches_a_word_with_a_live_preview(pg_db, user: User) -> None:
    products = [{"sku": "NB1", "name": "Notebook Lenovo IdeaPad 3", "price": 900000, "stock": 4}]
    with session_scope() as session:
        catalog.import_catalog(session, json.dumps(products).encode(), "c.json")
    make_user("jefa@tienda.com", role="admin")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/vocabulario")
    user.find(marker="trial").type("tenés una maquinola?")
    await user.should_see("No encontré eso en el catálogo", retries=50)
    user.find(marker="say").type("maquinola")
    user.find(marker="search").type("notebook")
    user.find(marker="add").click()
    await user.should_see("Cuando digan «maquinola», buscá «notebook»", retries=50)
    await user.should_see("Notebook Lenovo IdeaPad 3", retries=50)  # the preview, before saving
    user.find(marker="save").click()
    await user.should_see("Guardado: la búsqueda ya usa estas palabras.", retries=50)
    with session_scope() as session:
        assert store_profile.load(session).vocabulary() == [("maquinola", "notebook")]
        assert [h.sku for h in catalog.search(session, "maquinola")] == ["NB1"]
    assert ui  # the page module registered its routes


def test_zone_and_faq_lines_read_as_the_admin_writes_them() -> None:
    assert zones_from("CABA | $ 4.500 | 24 h\nInterior |  | a coordinar\n") == [
        {"name": "CABA", "cost": "4500", "days": "24 h"},
        {"name": "Interior", "cost": None, "days": "a coordinar"},
    ]
    assert faq_from("hacen factura; factura a => Sí, A y B.") == [
        {"questions": ["hacen factura", "factura a"], "answer": "Sí, A y B."}
    ]
