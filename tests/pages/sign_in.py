"""Signing a simulated NiceGUI user in through the real login form (the session cookie)."""

from __future__ import annotations

from nicegui.testing import User


async def sign_in(user: User, email: str, password: str = "clave-segura-1") -> None:
    response = await user.http_client.post(
        "/auth/login", data={"email": email, "password": password, "redirect_to": "/"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/", response.headers.get("location")
