"""/admin/users in the NiceGUI user simulation: what an admin can do, and that sellers cannot."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from s7 import realtime
from s7.auth import authenticate, user_from_token
from s7.db import session_scope
from s7.domain.models import User as UserRow
from tests.domain.test_users import make_user, token_for
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401 - autouse fixture


@pytest.mark.parametrize("path", ["/admin/users", "/admin/catalog", "/dashboard"])
async def test_a_seller_gets_no_permission_on_admin_pages(pg_db, user: User, path: str) -> None:
    make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    await user.open(path)
    await user.should_see("Sin permiso")
    await user.should_see("Esta sección es solo para administradores de la tienda.")
    await user.should_not_see(marker="create-user")
    await user.should_not_see(kind=ui.upload)
    await user.should_not_see(kind=ui.echart)


async def test_admin_creates_a_seller_who_can_then_sign_in(pg_db, user: User) -> None:
    make_user("jefa@tienda.com", role="admin", name="Jefa")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/users")
    await user.should_see("1 activo · 0 vendedores, 1 admin")
    user.find(marker="new-name").type("Carla Gómez")
    user.find(marker="new-email").type("carla@tienda.com")
    user.find(marker="new-password").type("clave-de-carla")
    user.find(marker="create-button").click()
    await user.should_see("Listo: Carla Gómez ya puede ingresar con carla@tienda.com", retries=50)
    await user.should_see("carla@tienda.com")
    await user.should_see("2 activos · 1 vendedor, 1 admin")
    signed = authenticate("carla@tienda.com", "clave-de-carla", "10.1.1.1")
    assert signed is not None and signed.role == "seller"
    assert user.find(marker="new-email").elements.pop().value == ""  # the form is ready for the next one


async def test_create_shows_why_it_failed(pg_db, user: User) -> None:
    make_user("jefa@tienda.com", role="admin")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/users")
    user.find(marker="new-name").type("Dani")
    user.find(marker="new-email").type("dani@tienda.com")
    user.find(marker="new-password").type("corta")
    user.find(marker="create-button").click()
    await user.should_see("La contraseña necesita al menos 8 caracteres", retries=50)
    with session_scope() as session:
        assert session.scalar(select(UserRow).where(UserRow.email == "dani@tienda.com")) is None


async def test_generate_fills_a_visible_password(pg_db, user: User) -> None:
    make_user("jefa@tienda.com", role="admin")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/users")
    user.find("Generar").click()
    password = user.find(marker="new-password").elements.pop()
    assert len(password.value) == 12 and password.props["type"] == "text"


async def test_reset_password_from_the_page(pg_db, user: User) -> None:
    make_user("jefa@tienda.com", role="admin")
    seller = make_user("ana@tienda.com", name="Ana")
    old_token = token_for(seller)
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/users")
    user.find(marker=f"reset-{seller}").click()
    await user.should_see("Nueva contraseña para Ana")
    field = user.find(marker="reset-password")
    field.clear().type("la-nueva-de-ana")
    user.find(marker="reset-save").click()
    await user.should_see("Contraseña de Ana cambiada. Pasásela por un medio seguro.", retries=50)
    assert user_from_token(old_token) is None
    assert authenticate("ana@tienda.com", "clave-segura-1", "10.1.1.2") is None
    assert authenticate("ana@tienda.com", "la-nueva-de-ana", "10.1.1.2") is not None


async def test_deactivate_ends_the_sellers_sessions_and_reactivate_lets_them_back(pg_db, user: User) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    seller = make_user("ana@tienda.com", name="Ana")
    seller_token = token_for(seller)
    ended: list[int] = []
    unsubscribe = realtime.subscribe(lambda e: ended.append(e.get("user_id")) if e.kind == "session_ended" else None)
    try:
        await sign_in(user, "jefa@tienda.com")
        await user.open("/admin/users")
        await user.should_not_see(marker=f"deactivate-{admin}")  # nobody deactivates themselves
        user.find(marker=f"deactivate-{seller}").click()
        await user.should_see("¿Desactivar a Ana?")
        user.find(marker="deactivate-confirm").click()
        await user.should_see("Ana desactivado", retries=50)
        await user.should_see(marker=f"reactivate-{seller}")
        assert ended == [seller]
        assert user_from_token(seller_token) is None
        assert authenticate("ana@tienda.com", "clave-segura-1", "10.1.1.3") is None

        user.find(marker=f"reactivate-{seller}").click()
        await user.should_see("Ana reactivado", retries=50)
        await user.should_see(marker=f"deactivate-{seller}")
        assert authenticate("ana@tienda.com", "clave-segura-1", "10.1.1.3") is not None
    finally:
        unsubscribe()


async def test_a_demoted_admin_cannot_act_from_a_page_still_open(pg_db, user: User) -> None:
    """The page was rendered for an admin; the handler re-checks before changing anything."""
    admin = make_user("jefa@tienda.com", role="admin")
    make_user("socia@tienda.com", role="admin")
    seller = make_user("ana@tienda.com", name="Ana")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/users")
    with session_scope() as session:
        session.get(UserRow, admin).role = "seller"
    user.find(marker=f"deactivate-{seller}").click()
    user.find(marker="deactivate-confirm").click()
    await user.should_see("Solo un administrador activo puede cambiar el equipo", retries=50)
    with session_scope() as session:
        assert session.get(UserRow, seller).active is True
