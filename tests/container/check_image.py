"""Run the built image as Railway would and check it from outside (called by .ci/container-test).

    python -m tests.container.check_image --image sector7:ci [--build-seconds 24.3]

The container gets only what Railway gives it: PORT, DATABASE_URL (a throwaway database on the
local Postgres), SESSION_SECRET, the Meta variables (pointed at tests/fakes/graph_server.py run
as a process) and the first admin. It must reach /readyz, let the admin log in, answer a signed
webhook through the fake Graph API, and stop cleanly and quickly on SIGTERM. The image itself
must run as a non-root user and carry no compiler, pip or uv.

Prints one line per check and a closing "N passed, N failed" line; exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from s7.whatsapp.signature import sign
from tests.conftest import create_pg_database, drop_pg_database, free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "container-token"  # noqa: S105 - the fake Graph API's bearer token
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "container-app-secret"  # noqa: S105 - test value
VERIFY_TOKEN = "container-verify"  # noqa: S105 - test value
ADMIN_EMAIL = "duena@tienda.com.ar"
ADMIN_PASSWORD = "clave-de-la-duena-1"  # noqa: S105 - test value
SELLER_EMAIL = "ana@tienda.com.ar"
SELLER_PASSWORD = "clave-de-ana-123"  # noqa: S105 - test value
CUSTOMER = "5491155550123"
STOP_BUDGET_SECONDS = 10.0


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"  ok   {name}{': ' + detail if detail else ''}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL {name}{': ' + detail if detail else ''}", flush=True)
        return ok


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


def wait_for(predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.3)
    return None


def inbound_text(text: str) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "5491100000000", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [{"profile": {"name": "Cliente del contenedor"}, "wa_id": CUSTOMER}],
                            "messages": [
                                {
                                    "from": CUSTOMER,
                                    "id": f"wamid.CONTAINER{uuid.uuid4().hex[:12]}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def check_image_contents(image: str, checks: Checks) -> None:
    user = docker("run", "--rm", "--network", "none", "--entrypoint", "id", image, "-u").stdout.strip()
    checks.check("runs as a non-root user", user not in ("", "0"), f"uid {user}")
    tools = docker(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        image,
        "-c",
        "for t in gcc cc make pip pip3 uv apt-get; do command -v $t; done; true",
    ).stdout.split()
    tools = [t for t in tools if not t.endswith("apt-get")]  # apt itself is part of any Debian base
    checks.check("no build tools in the final image", not tools, ", ".join(tools) or "gcc/cc/make/pip/uv absent")
    size = int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout.strip() or 0)
    checks.check("image size", size > 0, f"{size / 1e6:.0f} MB")


def run(image: str, build_seconds: str | None) -> int:
    checks = Checks()
    if build_seconds:
        print(f"  ..   build took {build_seconds} s")
    check_image_contents(image, checks)

    database_url = create_pg_database("s7_container")
    graph = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.graph_server", "--token", TOKEN, "--phone-number-id", PHONE_NUMBER_ID],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    name = f"s7-container-{uuid.uuid4().hex[:8]}"
    try:
        graph_url = (graph.stdout.readline() if graph.stdout else "").strip()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "SESSION_SECRET": "container-session-secret-0123456789",
            "META_APP_SECRET": APP_SECRET,
            "META_VERIFY_TOKEN": VERIFY_TOKEN,
            "WHATSAPP_TOKEN": TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "META_GRAPH_BASE_URL": graph_url,
            "ADMIN_EMAIL": ADMIN_EMAIL,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "FORWARDED_ALLOW_IPS": "*",  # what the README tells a Railway deploy to set
            "ENABLE_JOBS": "true",
        }
        env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        # A seller made with the image's own CLI, the way the README tells an owner to; the admin
        # comes from ADMIN_EMAIL / ADMIN_PASSWORD at the first start.
        cli = ["s7", "create-user", "--email", SELLER_EMAIL, "--name", "Ana", "--password", SELLER_PASSWORD]
        created = docker("run", "--rm", "--network", "host", *env_args, image, *cli, check=False)
        said = (created.stdout + created.stderr).strip().splitlines()
        checks.check("s7 create-user inside the image", created.returncode == 0, said[-1] if said else "")

        started = time.monotonic()
        docker("run", "-d", "--name", name, "--network", "host", *env_args, image)
        ready = wait_for(lambda: httpx.get(url + "/readyz", timeout=2).status_code == 200, timeout=120)
        checks.check("/readyz answers 200 on Postgres", bool(ready), f"after {time.monotonic() - started:.1f} s")
        if not ready:
            return _finish(checks, name)

        login = httpx.post(url + "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=10)
        token = login.json().get("token") if login.status_code == 200 else None
        checks.check("the first admin (ADMIN_EMAIL / ADMIN_PASSWORD) logs in", bool(token), f"HTTP {login.status_code}")
        seller = httpx.post(
            url + "/api/auth/login", json={"email": SELLER_EMAIL, "password": SELLER_PASSWORD}, timeout=10
        )
        checks.check("the seller made with the CLI logs in", seller.status_code == 200, f"HTTP {seller.status_code}")
        demo = httpx.post(
            url + "/api/auth/login", json={"email": "admin@sector7.local", "password": "admin-sector7"}, timeout=10
        )
        checks.check("no demo user in a real store", demo.status_code == 401, f"HTTP {demo.status_code}")
        docs = httpx.get(url + "/openapi.json", timeout=10)
        checks.check("/openapi.json needs a session", docs.status_code == 401, f"HTTP {docs.status_code}")
        page = httpx.get(url + "/login", timeout=10)
        checks.check(
            "login page renders", page.status_code == 200 and "Sector 7" in page.text, f"HTTP {page.status_code}"
        )

        challenge = httpx.get(
            url + "/webhook",
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
            timeout=10,
        )
        checks.check("webhook verification (GET)", challenge.text == "1158201444", f"HTTP {challenge.status_code}")
        unsigned = httpx.post(
            url + "/webhook", content=inbound_text("hola"), timeout=10, headers={"Content-Type": "application/json"}
        )
        checks.check("unsigned webhook refused", unsigned.status_code in (401, 403), f"HTTP {unsigned.status_code}")
        raw = inbound_text("hola, ¿tienen zapatillas?")
        posted = httpx.post(
            url + "/webhook",
            content=raw,
            timeout=10,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, raw)},
        )
        checks.check("signed webhook accepted", posted.status_code == 200, f"HTTP {posted.status_code}")

        def bot_reply() -> list[dict[str, Any]]:
            recorded = httpx.get(graph_url + "/_requests", timeout=5).json()
            return [
                r["json"] for r in recorded if r["json"].get("to", "").lstrip("+") == CUSTOMER and r["json"].get("type")
            ]

        replies = wait_for(bot_reply, timeout=30)
        checks.check(
            "the bot answered through the Graph API",
            bool(replies),
            f"{len(replies or [])} send(s), first type {replies[0]['type'] if replies else '-'}",
        )
        if token:
            listed = httpx.get(url + "/api/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            items = listed.json().get("items", []) if listed.status_code == 200 else []
            checks.check(
                "the chat is in the API", any(c.get("wa_id") == CUSTOMER for c in items), f"HTTP {listed.status_code}"
            )

        stop_started = time.monotonic()
        docker("kill", "--signal", "TERM", name)
        docker("wait", name, timeout=STOP_BUDGET_SECONDS + 30)
        took = time.monotonic() - stop_started
        state = json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)
        checks.check(
            "SIGTERM: clean exit",
            state.get("ExitCode") == 0 and not state.get("OOMKilled"),
            f"exit code {state.get('ExitCode')}",
        )
        checks.check("SIGTERM: stops in time", took <= STOP_BUDGET_SECONDS, f"{took:.1f} s")
        logs = docker("logs", name, check=False)
        output = logs.stdout + logs.stderr
        checks.check("no traceback in the log", "Traceback" not in output)
        checks.check("no setup link when ADMIN_EMAIL is set", "/setup?token=" not in output)
        checks.check(
            "no secret in the log",
            all(secret not in output for secret in (APP_SECRET, TOKEN, ADMIN_PASSWORD, env["SESSION_SECRET"])),
        )
        return _finish(checks, name)
    finally:
        docker("rm", "-f", name, check=False)
        graph.terminate()
        graph.wait(timeout=10)
        drop_pg_database(database_url)


def _finish(checks: Checks, name: str) -> int:
    if checks.failed:
        logs = docker("logs", "--tail", "60", name, check=False)
        print("---- container log (last 60 lines) ----")
        print(logs.stdout + logs.stderr)
    print(f"container: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--build-seconds")
    args = parser.parse_args()
    os.chdir(ROOT)
    raise SystemExit(run(args.image, args.build_seconds))


if __name__ == "__main__":
    main()
