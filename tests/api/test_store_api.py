"""/api/store over HTTP: the admin edits the store profile; sellers get 403; bad data 422."""

from __future__ import annotations

import httpx

from s7.db import session_scope
from s7.domain.store import profile as store_profile
from tests.api.test_users_api import bearer
from tests.domain.test_users import make_user


async def test_admin_reads_and_replaces_the_store_profile(pg_db, user) -> None:
    make_user("jefa@tienda.com", role="admin", name="Jefa")
    make_user("vende@tienda.com", name="Vende")
    client: httpx.AsyncClient = user.http_client
    admin = await bearer(client, "jefa@tienda.com")

    empty = await client.get("/api/store", headers=admin)
    assert empty.status_code == 200
    assert empty.json()["saved"] is False and empty.json()["hours_source"] == "BUSINESS_HOURS"

    body = {
        "name": "La Tienda",
        "address": "Av. Rivadavia 5000, CABA",
        "hours": "mon-fri 10:00-20:00",
        "shipping": {"mode": "zones", "zones": [{"name": "CABA", "cost": 5000, "days": "24 h"}]},
        "payment_methods": ["efectivo", "transferencia"],
        "faq": [{"questions": ["hacen factura"], "answer": "Sí, factura A y B."}],
        "vocabulary": [{"say": "compu", "search": "notebook"}],
    }
    saved = await client.put("/api/store", headers=admin, json=body)
    assert saved.status_code == 200, saved.text
    out = saved.json()
    assert out["saved"] is True and out["hours_source"] == "profile" and out["hours_in_effect"] == "mon-fri 10:00-20:00"
    assert out["shipping"]["zones"] == [{"name": "CABA", "cost": 5000.0, "days": "24 h"}]
    with session_scope() as session:
        assert store_profile.load(session).get("address") == "Av. Rivadavia 5000, CABA"

    bad = await client.put("/api/store", headers=admin, json={"hours": "todos los días"})
    assert bad.status_code == 422 and "Horarios" in bad.text
    bad_map = await client.put("/api/store", headers=admin, json={"map_url": "javascript:alert(1)"})
    assert bad_map.status_code == 422

    seller = await bearer(client, "vende@tienda.com")
    assert (await client.get("/api/store", headers=seller)).status_code == 403
    assert (await client.put("/api/store", headers=seller, json=body)).status_code == 403
    assert (await client.get("/api/store")).status_code == 401
