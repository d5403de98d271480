"""Every upload is cut at UPLOAD_MAX_MB while it streams in (s7.limits), NiceGUI's own upload
route included; and security headers on every response."""

from collections.abc import AsyncIterator

import pytest
from nicegui import ui
from nicegui.testing import User

from s7.auth import hash_password
from s7.db import session_scope
from s7.domain.models import User as UserRow
from s7.limits import BodyLimit, LimitRule
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401

MB = 1024 * 1024
CHUNK = 64 * 1024


def _admin() -> None:
    with session_scope() as session:
        session.add(
            UserRow(email="admin@tienda.com", name="Admin", role="admin", password_hash=hash_password("clave-segura-1"))
        )


class CountingBody:
    """A streamed multipart body of `size` bytes that counts what the server pulled."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="grande.json"\r\n\r\n'
        self.consumed += len(head)
        yield head
        sent = 0
        while sent < self.size:
            chunk = b"x" * min(CHUNK, self.size - sent)
            sent += len(chunk)
            self.consumed += len(chunk)
            yield chunk
        self.consumed += 9
        yield b"\r\n--XyZ--"


async def _upload_url(user: User) -> str:
    await sign_in(user, "admin@tienda.com")
    await user.open("/admin/catalog")
    return user.find(ui.upload).elements.pop().props["url"]


async def test_a_30_mb_panel_upload_is_refused_after_reading_at_most_the_limit(pg_db, user: User) -> None:
    _admin()
    url = await _upload_url(user)
    body = CountingBody(30 * MB)
    response = await user.http_client.post(
        url, content=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    assert response.status_code == 413
    assert response.text == "El archivo supera el máximo de 20 MB."
    print(f"\nbytes consumed before the 413: {body.consumed} (limit {20 * MB} + 64 KiB framing)")
    assert body.consumed <= 20 * MB + 64 * 1024 + CHUNK


async def test_a_declared_oversize_body_is_refused_before_a_byte_is_read(pg_db, user: User) -> None:
    _admin()
    url = await _upload_url(user)
    body = CountingBody(30 * MB)
    response = await user.http_client.post(
        url,
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=XyZ", "Content-Length": str(30 * MB + 100)},
    )
    assert response.status_code == 413 and body.consumed == 0


async def test_an_upload_under_the_limit_still_goes_through(pg_db, user: User) -> None:
    _admin()
    url = await _upload_url(user)
    catalog = b'[{"sku": "A-1", "name": "Zapatilla", "price": 1000, "stock": 2}]'
    response = await user.http_client.post(url, files={"file": ("chico.json", catalog, "application/json")})
    assert response.status_code == 200


async def test_the_api_import_is_cut_while_streaming_too(pg_db, user: User) -> None:
    from s7.config import reset_settings
    from tests.conftest import make_settings

    _admin()
    reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, UPLOAD_MAX_MB=1))
    login = await user.http_client.post(
        "/api/auth/login", json={"email": "admin@tienda.com", "password": "clave-segura-1"}
    )
    body = CountingBody(3 * MB)
    response = await user.http_client.post(
        "/api/catalog/import",
        content=body,
        headers={
            "Content-Type": "multipart/form-data; boundary=XyZ",
            "Authorization": f"Bearer {login.json()['token']}",
        },
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "El archivo supera el máximo de 1 MB."}
    assert body.consumed <= 1 * MB + 64 * 1024 + CHUNK


@pytest.mark.parametrize("swallow", [False, True])
async def test_body_limit_answers_413_whatever_the_app_does_with_the_cut(swallow: bool) -> None:
    """The reusable piece on its own: a route that turns the error into its own 400 (as FastAPI's
    body parsing does) still yields a 413, and other prefixes are left alone."""
    import httpx

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:
            if not swallow:
                raise
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"bad"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limited = BodyLimit(app, rules=[LimitRule("/free", None), LimitRule("/", 1000)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://t") as client:
        assert (await client.post("/x", content=b"a" * 1000)).status_code == 200

        async def two_chunks() -> AsyncIterator[bytes]:
            yield b"a" * 600
            yield b"a" * 600

        cut = await client.post("/x", content=two_chunks())
        assert cut.status_code == 413 and "supera el máximo" in cut.text
        assert (await client.post("/free", content=b"a" * 5000)).status_code == 200


async def test_security_headers_on_pages_api_redirects_and_static(pg_db, user: User) -> None:
    from s7.config import reset_settings
    from tests.conftest import make_settings

    _admin()
    client = user.http_client
    responses = [
        await client.get("/login"),
        await client.get("/", follow_redirects=False),  # the gate's redirect
        await client.get("/api/conversations"),  # 401 from the API
        await client.post("/api/auth/login", json={"email": "x@y.com", "password": "z"}),
        await client.get("/healthz"),
    ]
    for response in responses:
        csp = response.headers["content-security-policy"]
        for directive in (
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "img-src 'self' data: blob:",
        ):
            assert directive in csp, (response.request.url, directive)
        assert "connect-src 'self' ws://test" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers
    reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, PUBLIC_BASE_URL="https://tienda.example"))
    secure = await client.get("/login")
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    assert "wss://test" in secure.headers["content-security-policy"]
