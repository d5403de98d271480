"""Acks before processing: the processor steps aside while webhooks arrive as a burst.

The processor child of `s7 serve` reads the web process's count of received webhooks from an
`AckGauge` (shared memory) and pauses between batches while they arrive at ≥ 150/s, at most
`BURST_MAX_PAUSE_SECONDS` per batch; at a store's steady pace it never waits.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from s7.whatsapp import processor, webhook
from s7.whatsapp.ack_gauge import AckGauge


def test_a_gauge_written_in_one_process_is_read_in_another() -> None:
    gauge = AckGauge.create()
    try:
        gauge.set(41)
        reader = (
            "import sys; from s7.whatsapp.ack_gauge import AckGauge; print(AckGauge.attach(int(sys.argv[1])).get())"
        )
        seen = subprocess.run(
            [sys.executable, "-c", reader, str(gauge.fd)],
            capture_output=True,
            text=True,
            check=True,
            pass_fds=(gauge.fd,),
        )
        assert seen.stdout.strip() == "41"
    finally:
        gauge.close()


def test_only_customer_messages_of_signed_stored_webhooks_count(monkeypatch) -> None:
    gauge = AckGauge.create()
    monkeypatch.setattr(webhook, "_received", 0)
    webhook.publish_acks(gauge)
    try:
        two_messages = {"entry": [{"changes": [{"field": "messages", "value": {"messages": [{}, {}]}}]}]}
        statuses = {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [{}, {}, {}]}}]}]}
        echoes = {"entry": [{"changes": [{"field": "smb_message_echoes", "value": {"message_echoes": [{}]}}]}]}
        odd = [{"entry": "nonsense"}, {"entry": [{"changes": True}, None]}, {"entry": [{"changes": [None, 3]}]}]
        for document in (two_messages, statuses, echoes, *odd, None, [], "x"):
            webhook._count_received(document)
        assert gauge.get() == 2  # a store's own status callbacks never look like a burst
    finally:
        webhook.publish_acks(None)
        gauge.close()


class Arrivals:
    """A web process receiving webhooks at `rate` per second, as its gauge shows them."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.began = time.monotonic()

    def get(self) -> int:
        return int((time.monotonic() - self.began) * self.rate)


def test_the_rate_is_measured_over_a_window() -> None:
    clock = [0.0]
    counts = [0]

    class Gauge:
        def get(self) -> int:
            return counts[0]

    rate = webhook.AckRate(Gauge(), window=0.2, clock=lambda: clock[0])  # type: ignore[arg-type]
    assert rate.per_second() == 0.0  # one reading: no rate yet
    for _ in range(10):
        clock[0] += 0.05
        counts[0] += 15  # 300 per second
    assert rate.per_second() == pytest.approx(300.0)
    for _ in range(10):  # then a steady 80/s: the old burst leaves the window
        clock[0] += 0.05
        counts[0] += 4
        measured = rate.per_second()
    assert measured == pytest.approx(80.0)


@pytest.mark.parametrize(("arriving", "paused"), [(400.0, True), (80.0, False), (0.0, False)])
def test_the_processor_steps_aside_only_during_a_burst(monkeypatch, arriving: float, paused: bool) -> None:
    monkeypatch.setattr(processor, "BURST_MAX_PAUSE_SECONDS", 0.3)
    monkeypatch.setattr(webhook, "_watched", webhook.AckRate(Arrivals(arriving), window=0.05))  # type: ignore[arg-type]
    webhook.ack_rate()
    time.sleep(0.06)  # the watcher has a reading older than its window
    began = time.monotonic()
    processor._let_acks_through()
    waited = time.monotonic() - began
    if paused:
        assert 0.25 <= waited < 1.0  # bounded: processing slows in a burst, never stops
    else:
        assert waited < 0.1
