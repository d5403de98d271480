"""Signed webhook load against the app, and against a minimal baseline in the same run.

    .venv/bin/python -m bench.webhook [--messages 2000] [--concurrency 32] [--rate 80] [--seconds 15]

Two real server processes on throwaway Postgres databases:
- the app exactly as deployed (`python main.py`, sandbox, demo catalog seeded): verify, store,
  200, while its processor, bot and outbox work through the same messages in the background;
- the baseline: a bare Starlette endpoint that verifies the HMAC and commits one row (uvicorn).

Figures: throughput (acks/s, closed loop at `--concurrency`) of both and their ratio (goal
≥ 0.5); ack latency p50/p99 of the app at a steady open-loop `--rate` (goal p99 ≤ 50 ms);
and, after duplicate and re-batched redeliveries, that every message was stored exactly once
and every event processed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.results import quantile, report
from s7.whatsapp.signature import sign

SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
CUSTOMERS = 500
ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 0.7
GOAL_P99_MS = 100.0
GOAL_DRAIN_PER_S = 80.0


# ---- payloads --------------------------------------------------------------------------------
def message_item(wamid: str, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    wa_id = f"54911{index % CUSTOMERS:08d}"
    contact = {"profile": {"name": f"Cliente {index % CUSTOMERS}"}, "wa_id": wa_id}
    message = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": "hola! ¿tenés zapatillas nike en 42? ¿en cuántas cuotas?"},
    }
    return contact, message


def webhook_body(items: list[tuple[dict[str, Any], dict[str, Any]]]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5491100000000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [c for c, _ in items],
        "messages": [m for _, m in items],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode()  # escaped like Meta


def bodies(prefix: str, count: int) -> list[tuple[str, bytes]]:
    out = []
    for i in range(count):
        wamid = f"wamid.BENCH.{prefix}.{i:06d}"
        out.append((wamid, webhook_body([message_item(wamid, i)])))
    return out


# ---- load ----------------------------------------------------------------------------------
async def _post(client: httpx.AsyncClient, raw: bytes) -> tuple[int, float]:
    headers = {"content-type": "application/json", "x-hub-signature-256": sign(SECRET, raw)}
    start = time.perf_counter()
    try:
        status = (await client.post("/webhook", content=raw, headers=headers)).status_code
    except httpx.HTTPError:
        status = 0
    return status, time.perf_counter() - start


async def closed_loop(url: str, raws: list[bytes], concurrency: int) -> tuple[float, dict[int, int]]:
    """Everyone sends as fast as answers come back: throughput in acks/s."""
    statuses: dict[int, int] = {}
    cursor = iter(raws)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            for raw in cursor:
                status, _ = await _post(client, raw)
                statuses[status] = statuses.get(status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return statuses.get(200, 0) / elapsed, statuses


async def open_loop(url: str, raws: list[bytes], rate: float) -> tuple[list[float], dict[int, int]]:
    """Requests leave on schedule whatever the server does (as Meta's would): ack latencies."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(raw: bytes) -> None:
            status, elapsed = await _post(client, raw)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                latencies.append(elapsed)

        began = time.perf_counter()
        tasks = []
        for index, raw in enumerate(raws):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(raw)))
        await asyncio.gather(*tasks)
    return latencies, statuses


# ---- servers -------------------------------------------------------------------------------
def serve_baseline(port: int, database_url: str) -> None:
    """The baseline server (run in its own process): verify HMAC, INSERT, COMMIT, 200."""
    import uvicorn
    from sqlalchemy import create_engine, text
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from s7.whatsapp.signature import Verdict, check

    engine = create_engine(
        database_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=10, max_overflow=20
    )
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, body text NOT NULL)"))

    def insert(body: bytes) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_baseline (body) VALUES (:b)"), {"b": body.decode()})

    async def receive(request: Request) -> Response:
        body = await request.body()
        if check(SECRET, body, request.headers.get("x-hub-signature-256")) is not Verdict.VALID:
            return Response("Forbidden", 403)
        await run_in_threadpool(insert, body)
        return Response("OK", media_type="text/plain")

    async def health(_: Request) -> Response:
        return Response("ok")

    app = Starlette(routes=[Route("/webhook", receive, methods=["POST"]), Route("/healthz", health)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


class Baseline:
    def __init__(self, database_url: str) -> None:
        from tests.conftest import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.webhook", "--serve-baseline", str(self.port), database_url],
            cwd=ROOT,
            env=env,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("baseline server not ready")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def wait_drained(timeout: float) -> float:
    """Seconds until every stored event is processed and every reply sent."""
    from sqlalchemy import func, select

    from s7.db import session_scope
    from s7.domain.models import InboundItem, OutboxItem, WebhookEvent

    began = time.monotonic()
    while time.monotonic() - began < timeout:
        with session_scope() as session:
            events = session.scalar(select(func.count()).where(WebhookEvent.state == "pending"))
            events += session.scalar(select(func.count()).where(InboundItem.state == "pending")) or 0
            sends = session.scalar(select(func.count()).where(OutboxItem.state.in_(("pending", "sending"))))
        if events == 0 and sends == 0:
            return time.monotonic() - began
        time.sleep(0.25)
    raise RuntimeError(f"not drained after {timeout:.0f} s")


def stored_once(expected: set[str]) -> dict[str, int]:
    from sqlalchemy import func, select

    from s7.db import session_scope
    from s7.domain.models import Message, WebhookEvent

    with session_scope() as session:
        rows = session.scalars(
            select(Message.wa_message_id).where(Message.direction == "in", Message.wa_message_id.like("wamid.BENCH.%"))
        ).all()
        states = dict(session.execute(select(WebhookEvent.state, func.count()).group_by(WebhookEvent.state)).all())
        replies = session.scalar(select(func.count()).where(Message.direction == "out", Message.status == "sent"))
    return {
        "expected": len(expected),
        "stored": len(rows),
        "distinct": len(set(rows)),
        "missing": len(expected - set(rows)),
        "events_done": states.get("done", 0),
        "events_pending": states.get("pending", 0),
        "events_failed": states.get("failed", 0),
        "bot_replies_sent": replies or 0,
    }


# ---- the run -------------------------------------------------------------------------------
def phase(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run(messages: int, concurrency: int, rate: float, seconds: float) -> dict[str, Any]:
    from s7.config import reset_settings
    from s7.db import reset_engine
    from tests.conftest import ServerProcess, create_pg_database, drop_pg_database, make_settings, server_env

    app_db, baseline_db = create_pg_database("s7_bench_app"), create_pg_database("s7_bench_base")
    # Both servers share this machine with the load generator: say how busy it was.
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()[0]}
    baseline = app = None
    try:
        settings = make_settings(DATABASE_URL=app_db, META_APP_SECRET=SECRET)
        env = server_env(settings)
        subprocess.run(
            [sys.executable, "-m", "s7.cli", "seed"],
            env={**os.environ, **env},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        reset_settings(settings)
        reset_engine()
        baseline, app = Baseline(baseline_db), ServerProcess(env)
        phase("starting the servers")
        baseline.wait_ready()
        app.wait_ready(timeout=90)

        phase("warming up")
        warm = bodies("warm", 200)
        asyncio.run(closed_loop(baseline.url, [r for _, r in warm], concurrency))
        asyncio.run(closed_loop(app.url, [r for _, r in warm], concurrency))
        wait_drained(300)

        throughput = bodies("tput", messages)
        phase(f"throughput: {messages} webhooks to each server")
        base_rate, base_statuses = asyncio.run(closed_loop(baseline.url, [r for _, r in throughput], concurrency))
        posting_began = time.monotonic()
        app_rate, app_statuses = asyncio.run(closed_loop(app.url, [r for _, r in throughput], concurrency))
        posting_s = time.monotonic() - posting_began
        figures.update(
            baseline_acks_per_s=base_rate,
            app_acks_per_s=app_rate,
            ratio=app_rate / base_rate,
            baseline_statuses=base_statuses,
            app_statuses=app_statuses,
        )
        phase(f"{figures['ratio']:.2f}x; waiting for the app to process its backlog")
        figures["backlog_drain_s"] = wait_drained(600)
        # End to end: from the first POST until every message is processed and every reply sent.
        figures["drain_events_per_s"] = messages / (posting_s + figures["backlog_drain_s"])

        steady = bodies("steady", int(rate * seconds))
        phase(f"steady: {len(steady)} webhooks at {rate:.0f}/s")
        base_latencies, _ = asyncio.run(open_loop(baseline.url, [r for _, r in steady], rate))
        latencies, steady_statuses = asyncio.run(open_loop(app.url, [r for _, r in steady], rate))
        figures.update(
            steady_rate=rate,
            steady_messages=len(steady),
            steady_statuses=steady_statuses,
            ack_p50_ms=quantile(latencies, 0.5) * 1000,
            ack_p99_ms=quantile(latencies, 0.99) * 1000,
            ack_max_ms=max(latencies) * 1000 if latencies else float("nan"),
            baseline_ack_p50_ms=quantile(base_latencies, 0.5) * 1000,
            baseline_ack_p99_ms=quantile(base_latencies, 0.99) * 1000,
        )
        figures["steady_drain_s"] = wait_drained(600)

        phase("redeliveries")
        # Meta's retries: identical bodies again, and the same messages re-batched 10 per body.
        sent = warm + throughput + steady
        repeats = [r for _, r in sent[:300]]
        rebatched = [
            webhook_body([message_item(w, i) for i, (w, _) in enumerate(sent[k : k + 10], start=k)])
            for k in range(0, 300, 10)
        ]
        asyncio.run(closed_loop(app.url, repeats + rebatched, concurrency))
        wait_drained(300)
        figures["stored_once"] = stored_once({w for w, _ in sent})
        try:
            figures["app_log_tracebacks"] = app.output().count("Traceback")
        except OSError:  # the log lives in /tmp, which other tools may clean
            figures["app_log_tracebacks"] = None
        figures["loadavg_at_end"] = os.getloadavg()[0]
    finally:
        for server in (baseline, app):
            if server is not None:
                server.stop()
        reset_engine()
        drop_pg_database(app_db)
        drop_pg_database(baseline_db)
    return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-baseline"]:
        serve_baseline(int(argv[1]), argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="webhooks per server in the throughput phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=80.0, help="msg/s in the steady phase")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the steady phase")
    args = parser.parse_args(argv)
    figures = run(args.messages, args.concurrency, args.rate, args.seconds)
    print(json.dumps(figures, indent=2, default=str))

    once = figures["stored_once"]
    exactly_once = (
        once["stored"] == once["distinct"] == once["expected"]
        and once["events_pending"] == 0
        and once["events_failed"] == 0
    )
    ratio_ok = figures["ratio"] >= GOAL_RATIO
    p99_ok = figures["ack_p99_ms"] <= GOAL_P99_MS
    report(
        "webhook throughput app / baseline",
        figures["ratio"],
        "x",
        goal=f"≥ {GOAL_RATIO}",
        ok=ratio_ok,
        baseline=f"baseline {figures['baseline_acks_per_s']:.0f} acks/s (HMAC + 1 INSERT, same run)",
        note=f"app {figures['app_acks_per_s']:.0f} acks/s at concurrency {args.concurrency}",
    )
    report(
        f"webhook ack p99 at {args.rate:.0f} msg/s",
        figures["ack_p99_ms"],
        "ms",
        goal=f"≤ {GOAL_P99_MS:.0f}",
        ok=p99_ok,
        baseline=f"baseline p99 {figures['baseline_ack_p99_ms']:.1f} ms (same run)",
        note=f"p50 {figures['ack_p50_ms']:.1f} ms, max {figures['ack_max_ms']:.1f} ms",
    )
    report(
        "webhook messages stored exactly once",
        once["stored"],
        "messages",
        goal=f"= {once['expected']}",
        ok=exactly_once,
        note=f"after {300 + 30} redeliveries; events failed {once['events_failed']}",
    )
    drain_ok = figures["drain_events_per_s"] >= GOAL_DRAIN_PER_S
    report(
        "webhooks processed end to end (post → all replies sent)",
        figures["drain_events_per_s"],
        "events/s",
        goal=f"≥ {GOAL_DRAIN_PER_S:.0f}",
        ok=drain_ok,
        note=f"{args.messages} webhooks from 500 customers; backlog drained in {figures['backlog_drain_s']:.1f} s",
    )
    return 0 if (ratio_ok and p99_ok and exactly_once and drain_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
