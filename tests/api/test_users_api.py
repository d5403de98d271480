"""/api/users over HTTP: admins manage the team; sellers get 403, strangers 401."""

from __future__ import annotations

import httpx

from tests.domain.test_users import make_user


async def bearer(client: httpx.AsyncClient, email: str, password: str = "clave-segura-1") -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_admin_lists_creates_resets_and_deactivates(pg_db, user) -> None:
    make_user("jefa@tienda.com", role="admin", name="Jefa")
    client: httpx.AsyncClient = user.http_client
    admin = await bearer(client, "jefa@tienda.com")

    created = await client.post(
        "/api/users",
        headers=admin,
        json={"email": "Nuevo@Tienda.com", "name": "Nuevo", "password": "clave-nueva-1"},
    )
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["email"] == "nuevo@tienda.com" and new["role"] == "seller" and new["active"] is True
    assert "password_hash" not in new

    listing = await client.get("/api/users", headers=admin)
    assert listing.status_code == 200
    assert {u["email"] for u in listing.json()} == {"jefa@tienda.com", "nuevo@tienda.com"}

    seller = await bearer(client, "nuevo@tienda.com", "clave-nueva-1")
    reset = await client.post(f"/api/users/{new['id']}/password", headers=admin, json={"password": "otra-clave-22"})
    assert reset.status_code == 200
    assert (await client.get("/api/users", headers=seller)).status_code == 401  # old token died (alive: 403)
    seller = await bearer(client, "nuevo@tienda.com", "otra-clave-22")

    off = await client.patch(f"/api/users/{new['id']}", headers=admin, json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await client.get("/api/users", headers=seller)).status_code == 401
    login = await client.post("/api/auth/login", json={"email": "nuevo@tienda.com", "password": "otra-clave-22"})
    assert login.status_code == 401

    on = await client.patch(f"/api/users/{new['id']}", headers=admin, json={"active": True})
    assert on.json()["active"] is True
    assert (await client.get(f"/api/users/{new['id']}", headers=admin)).json()["active"] is True


async def test_sellers_get_403_and_anonymous_callers_401(pg_db, user) -> None:
    make_user("ana@tienda.com")
    client: httpx.AsyncClient = user.http_client
    seller = await bearer(client, "ana@tienda.com")
    assert (await client.get("/api/users", headers=seller)).status_code == 403
    forbidden = await client.post(
        "/api/users", headers=seller, json={"email": "x@tienda.com", "name": "X", "password": "clave-segura-9"}
    )
    assert forbidden.status_code == 403
    assert (await client.patch("/api/users/1", headers=seller, json={"active": False})).status_code == 403
    assert (await client.post("/api/users/1/password", headers=seller, json={"password": "x" * 10})).status_code == 403
    assert (await client.get("/api/users")).status_code == 401
    assert (await client.get("/api/users", headers={"Authorization": "Bearer forged"})).status_code == 401


async def test_errors_say_what_is_wrong(pg_db, user) -> None:
    admin_id = make_user("jefa@tienda.com", role="admin")
    client: httpx.AsyncClient = user.http_client
    admin = await bearer(client, "jefa@tienda.com")
    short = await client.post("/api/users", headers=admin, json={"email": "a@t.com", "name": "A", "password": "corta"})
    assert short.status_code == 422 and "8 caracteres" in short.json()["detail"]
    duplicate = await client.post(
        "/api/users", headers=admin, json={"email": "JEFA@tienda.com", "name": "J", "password": "clave-segura-1"}
    )
    assert duplicate.status_code == 409
    last_admin = await client.patch(f"/api/users/{admin_id}", headers=admin, json={"active": False})
    assert last_admin.status_code == 409 and "propio" in last_admin.json()["detail"]
    missing = await client.post("/api/users/9999/password", headers=admin, json={"password": "clave-segura-1"})
    assert missing.status_code == 404
    huge = await client.patch("/api/users/8261116966179842998470180864", headers=admin, json={"active": False})
    assert huge.status_code == 422  # beyond the database's integer range: refused, not a 500
