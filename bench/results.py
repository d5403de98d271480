"""Shared by the benchmarks: quantiles, and one summary row per figure for `python -m bench`.

Each benchmark prints its own details, then calls `report(...)` per headline figure; when
`S7_BENCH_RESULTS` names a file, the row is also appended there as a JSON line.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (NaN for no data)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def report(name: str, value: float, unit: str, *, goal: str, ok: bool, baseline: str = "", note: str = "") -> None:
    row: dict[str, Any] = {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "goal": goal,
        "ok": ok,
        "baseline": baseline,
        "note": note,
    }
    print(f"RESULT {name}: {value:.2f} {unit} (goal {goal}) {'OK' if ok else 'MISSED'} {baseline} {note}".rstrip())
    path = os.environ.get("S7_BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
