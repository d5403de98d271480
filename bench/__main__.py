"""All benchmarks, one command: `python -m bench` (or `make bench`).

Runs each benchmark in its own process (so one's memory or threads never colour another's),
collects their headline figures, and prints one table: figure, goal, verdict, same-run baseline.
Exit status 1 if any goal was missed. `python -m bench webhook search` runs a subset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS: dict[str, list[str]] = {
    "webhook": ["bench.webhook"],  # throughput vs bare durable ack, ack p50/p99 at 80 msg/s
    "reply": ["bench.reply_latency"],  # webhook → bot reply at the Graph API, 80 msg/s (median of 3)
    "reply2": ["bench.reply_latency", "--replicas", "2"],  # the same with two replicas on one database
    "panel": ["bench.panel"],  # webhook → 20 seller tabs, RSS with 50 tabs
    "search": ["bench.search", "--postgres"],  # 50k products: search p95, import time
    "handoff": ["bench.handoff"],  # list page, takeover, HOT_LOST sweep at scale
    "inbox_search": ["bench.inbox_search"],  # 50k chats: indexed inbox search p95 beside today's ILIKE
    "bot": ["bench.bot"],  # labelled shopper messages: baseline vs this tree, held-out half
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    results_file = Path(tempfile.mkstemp(prefix="s7-bench-", suffix=".jsonl")[1])
    env = {**os.environ, "S7_BENCH_RESULTS": str(results_file), "PYTHONUNBUFFERED": "1"}
    crashed: list[str] = []
    for name in chosen:
        module, *args = BENCHMARKS[name]
        print(f"\n=== {name}: python -m {module} {' '.join(args)}", flush=True)
        started = time.monotonic()
        completed = subprocess.run([sys.executable, "-m", module, *args], env=env, check=False)
        print(f"=== {name}: exit {completed.returncode} in {time.monotonic() - started:.0f} s", flush=True)
        if completed.returncode not in (0, 1):  # 1 = ran, missed a goal; anything else = broke
            crashed.append(name)
    rows = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
    results_file.unlink(missing_ok=True)
    _print_table(rows)
    if crashed:
        print(f"benchmarks that did not finish: {', '.join(crashed)}")
    return 0 if rows and all(r["ok"] for r in rows) and not crashed else 1


def _print_table(rows: list[dict]) -> None:
    print(f"\n{'figure':<52} {'value':>12}  {'goal':<12} {'':<6} baseline / note")
    print("-" * 120)
    for row in rows:
        value = f"{row['value']:.2f} {row['unit']}"
        extra = "; ".join(p for p in (row.get("baseline"), row.get("note")) if p)
        print(f"{row['name'][:52]:<52} {value:>12}  {row['goal']:<12} {'OK' if row['ok'] else 'MISSED':<6} {extra}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
