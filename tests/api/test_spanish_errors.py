"""A malformed API request is refused in FastAPI's machine-readable shape, in Spanish words."""

from __future__ import annotations

import httpx

from tests.api.test_users_api import bearer
from tests.domain.test_users import make_user


async def test_validation_errors_keep_their_shape_and_speak_spanish(pg_db, user) -> None:
    make_user("jefa@tienda.com", role="admin", name="Jefa")
    client: httpx.AsyncClient = user.http_client
    admin = await bearer(client, "jefa@tienda.com")

    bad_id = await client.get("/api/conversations/abc", headers=admin)
    assert bad_id.status_code == 422
    [error] = bad_id.json()["detail"]
    assert error["type"] == "int_parsing" and error["loc"] == ["path", "conversation_id"]
    assert error["msg"] == "tiene que ser un número entero (recibí 'abc')"

    not_json = await client.post(
        "/api/users", headers={**admin, "Content-Type": "application/json"}, content=b"{email: x"
    )
    assert not_json.status_code == 422 and not_json.json()["detail"][0]["msg"] == "el cuerpo no es JSON válido"

    missing = await client.post("/api/users", headers=admin, json={"name": "Sin email"})
    messages = {tuple(e["loc"]): e["msg"] for e in missing.json()["detail"]}
    assert messages[("body", "email")] == "falta"

    for body in (bad_id.json(), not_json.json(), missing.json()):
        text = str(body)
        assert "Input should" not in text and "Field required" not in text and "JSON decode" not in text


async def test_the_users_api_checks_the_email_shape(pg_db, user) -> None:
    make_user("jefa@tienda.com", role="admin", name="Jefa")
    client: httpx.AsyncClient = user.http_client
    admin = await bearer(client, "jefa@tienda.com")
    for email in ("notanemail", "ana@", "ana@tienda"):
        refused = await client.post(
            "/api/users", headers=admin, json={"email": email, "name": "Ana", "password": "clave-segura-1"}
        )
        assert refused.status_code == 422 and "email" in str(refused.json()["detail"]).lower(), refused.text
    local = await client.post(
        "/api/users",
        headers=admin,
        json={"email": "carla@sector7.local", "name": "Carla", "password": "clave-segura-1"},
    )
    assert local.status_code == 201
