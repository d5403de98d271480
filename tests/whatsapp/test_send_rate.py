"""Meta's throughput limit is per phone number: two replicas together stay under it."""

from __future__ import annotations

import asyncio
import time

from s7.config import Settings
from s7.whatsapp.outbox import RateLimiter, SharedRateLimiter, default_limiter


async def _take_for(limiter: RateLimiter, seconds: float) -> int:
    taken = 0
    deadline = time.monotonic() + seconds
    while True:
        await limiter.acquire()
        if time.monotonic() > deadline:
            return taken
        taken += 1


async def test_two_replicas_share_one_bucket_on_postgres(pg_db: Settings) -> None:
    rate, seconds = 20.0, 1.5
    replicas = [SharedRateLimiter(rate), SharedRateLimiter(rate)]  # two processes' senders
    began = time.monotonic()
    counts = await asyncio.gather(*(_take_for(limiter, seconds) for limiter in replicas))
    elapsed = time.monotonic() - began
    # The bucket starts full (burst = one second's worth) and refills at `rate` for both together.
    assert sum(counts) <= rate + rate * elapsed + 2, counts
    assert sum(counts) >= rate * seconds * 0.5, counts  # and it does let them send
    assert all(count > 0 for count in counts), counts


def test_the_shared_bucket_is_the_default_on_postgres_only(any_db: Settings) -> None:
    limiter = default_limiter()
    assert isinstance(limiter, SharedRateLimiter) == (not any_db.is_sqlite)
