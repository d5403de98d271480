"""Helpers for the admin, dashboard and simulator page tests: signing in, a clean realtime bus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nicegui.testing import User

from s7 import realtime


async def sign_in(user: User, email: str, password: str = "clave-segura-1") -> None:
    """Through the real login form: the simulated user's client keeps the session cookie."""
    response = await user.http_client.post(
        "/auth/login", data={"email": email, "password": password, "redirect_to": "/"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/", response.headers.get("location")


@pytest.fixture(autouse=True)
def clean_realtime_bus() -> Iterator[None]:
    """NiceGUI's test reset drops the clients of the previous test without deleting them, so their
    realtime subscriptions stay and fire into a closed loop (logged as ERROR, which fails a user
    test). Start and end each test with no subscribers; import this fixture into a test module."""
    realtime.reset()
    yield
    realtime.reset()
