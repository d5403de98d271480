"""Secrets never reach the logs: app secret, session secret, WhatsApp token, passwords, tokens."""

import time

import httpx

from tests.conftest import ServerProcess, server_env
from tests.fakes.graph_server import FakeGraph
from tests.faults.test_chaos import PHONE_NUMBER_ID, SECRET, post, text_webhook


def test_a_busy_server_logs_no_secret(pg_db) -> None:
    with FakeGraph(token="EAAG-super-secret-token", phone_number_id=PHONE_NUMBER_ID) as graph:
        env = server_env(
            pg_db,
            WHATSAPP_TOKEN="EAAG-super-secret-token",
            WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            META_GRAPH_BASE_URL=graph.base_url,
            META_APP_SECRET=SECRET,
            SESSION_SECRET="session-secret-9f8e7d6c5b4a",
            ADMIN_EMAIL="duena@tienda.com",
            ADMIN_PASSWORD="admin-pw-77x",
        )
        import subprocess
        import sys

        subprocess.run(
            # A real store has no demo users: the seller is made the way an owner makes one.
            [
                sys.executable,
                "-m",
                "s7.cli",
                "create-user",
                "--email",
                "vendedor@tienda.com",
                "--password",
                "seller-pw-88y",
            ],
            env={**env, "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            timeout=120,
        )
        server = ServerProcess(env)
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.url, timeout=10) as client:
                token = client.post(
                    "/api/auth/login", json={"email": "vendedor@tienda.com", "password": "seller-pw-88y"}
                ).json()["token"]
                client.post("/api/auth/login", json={"email": "vendedor@tienda.com", "password": "wrong-pw-99z"})
                client.post(
                    "/webhook",
                    content=b'{"object":"whatsapp_business_account","entry":[]}',
                    headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
                )
                assert post(client, server.url, text_webhook(1)[1]) == 200
                time.sleep(2)
                chats = client.get("/api/conversations", headers={"Authorization": f"Bearer {token}"}).json()
                chat_id = chats["items"][0]["id"]
                sent = client.post(
                    f"/api/conversations/{chat_id}/messages",
                    json={"text": "Hola, soy Vendedor 1"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert sent.status_code in (200, 201), sent.text
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and not any("soy Vendedor" in str(r.json) for r in graph.requests):
                    time.sleep(0.3)
        finally:
            server.stop()
        output = server.output()
        assert "login failed for vendedor@tienda.com" in output  # the log is real and verbose enough
        for secret in (
            "EAAG-super-secret-token",
            SECRET,
            "session-secret-9f8e7d6c5b4a",
            "admin-pw-77x",
            "seller-pw-88y",
            "wrong-pw-99z",
            token,
        ):
            assert secret not in output, f"{secret[:6]}… appears in the server log"
        assert any("soy Vendedor" in str(r.json) for r in graph.requests)
