"""Whose address a request comes from: the socket peer, unless a trusted proxy says otherwise."""

import httpx
import pytest
from sqlalchemy import select

from s7.auth import hash_password
from s7.client_address import parse_trusted, resolve_client
from s7.config import reset_settings
from s7.db import session_scope
from s7.domain.models import LoginEvent, LoginFailure, User
from tests.conftest import ServerProcess, make_settings, server_env


@pytest.mark.parametrize(
    ("trusted", "peer", "header", "client"),
    [
        ("", "198.51.100.9", ["203.0.113.1"], "198.51.100.9"),  # nobody trusted: the socket
        ("10.0.0.0/8", "198.51.100.9", ["203.0.113.1"], "198.51.100.9"),  # peer is not our proxy
        ("10.0.0.0/8", "10.1.2.3", ["203.0.113.1"], "203.0.113.1"),
        ("10.0.0.0/8", "10.1.2.3", ["6.6.6.6, 203.0.113.1"], "203.0.113.1"),  # forged left-most ignored
        ("10.0.0.0/8", "10.1.2.3", ["6.6.6.6, 203.0.113.1, 10.9.9.9"], "203.0.113.1"),  # two proxies
        ("10.0.0.0/8", "10.1.2.3", ["6.6.6.6", "203.0.113.1"], "203.0.113.1"),  # repeated headers
        ("10.0.0.0/8", "10.1.2.3", [], "10.1.2.3"),
        ("10.0.0.0/8", "10.1.2.3", ["6.6.6.6, not-an-ip"], "10.1.2.3"),  # garbage: believe nothing past it
        ("10.0.0.0/8, 2001:db8::/32", "2001:db8::1", ["[2001:db8::5]:443, 203.0.113.4:5555"], "203.0.113.4"),
        ("*", "100.64.0.1", ["6.6.6.6, 203.0.113.7"], "203.0.113.7"),  # Railway: right-most only
        ("*", "100.64.0.1", ["6.6.6.6, 203.0.113.7, 100.64.0.2"], "100.64.0.2"),  # never further left
        ("*", "100.64.0.1", [], "100.64.0.1"),
        ("127.0.0.1", "::ffff:127.0.0.1", ["203.0.113.8"], "203.0.113.8"),  # v4-mapped peer
    ],
)
def test_resolve_client(trusted: str, peer: str, header: list[str], client: str) -> None:
    assert resolve_client(peer, header, parse_trusted(trusted)) == client


def test_a_bad_forwarded_allow_ips_stops_start_up_naming_it() -> None:
    from s7.config import ConfigError, load_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8, proxy.local")
        with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS"):
            load_settings()


def _user() -> None:
    with session_scope() as session:
        session.add(User(email="ana@tienda.com", name="Ana", role="seller", password_hash=hash_password("clave-1234")))


async def test_a_trusted_proxys_header_is_believed(pg_db, user) -> None:
    _user()
    reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, FORWARDED_ALLOW_IPS="127.0.0.0/8"))
    client: httpx.AsyncClient = user.http_client  # its requests come from 127.0.0.1
    headers = {"X-Forwarded-For": "6.6.6.6, 198.51.100.20", "User-Agent": "Tienda/1"}
    await client.post("/api/auth/login", json={"email": "ana@tienda.com", "password": "x"}, headers=headers)
    with session_scope() as session:
        event = session.scalar(select(LoginEvent))
    assert (event.address, event.user_agent) == ("198.51.100.20", "Tienda/1")


def test_served_app_ignores_x_forwarded_for_from_an_untrusted_peer(pg_db) -> None:
    """`s7 serve` as deployed, FORWARDED_ALLOW_IPS unset: a forged header changes nothing, so
    the per-address limit counts the real peer."""
    _user()
    server = ServerProcess(server_env(pg_db))
    try:
        server.wait_ready()
        for forged in ("203.0.113.1", "203.0.113.2"):
            response = httpx.post(
                server.url + "/api/auth/login",
                json={"email": "ana@tienda.com", "password": "wrong"},
                headers={"X-Forwarded-For": forged},
            )
            assert response.status_code == 401
    finally:
        server.stop()
    with session_scope() as session:
        assert set(session.scalars(select(LoginFailure.ip))) == {"127.0.0.1"}
