"""Bot benchmark: the labelled evaluation set (bench/data/bot_eval.json) on the baseline and on this tree.

    .venv/bin/python -m bench.bot                    # both, figures for the held-out half
    .venv/bin/python -m bench.bot --failures tune    # also list this tree's misses on the tuning half

The baseline is main as it was before issue #16 (BASELINE_COMMIT), extracted with `git archive`
into a temporary directory and run by the same harness (bench/bot_eval.py) on the same data,
each in its own process. Goals (held-out half): ≥ 95 % of first messages with an acceptable
product in the top 3, ≤ 5 % false offers, 0 invented store facts. Exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.results import report

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "bench" / "bot_eval.py"
BASELINE_COMMIT = "13e28bb4a5c6bbcce889728a8f563e28b8205314"  # main before issue #16
_ROWS = [
    ("top3", "right product in top 3 (first message)", True),
    ("no_dead_end", "no dead end when something fits", True),
    ("false_offer_free", "no false offer (not sold here)", True),
    ("oos_honest", "out-of-stock honesty", True),
    ("facts_not_invented", "store facts not invented (empty profile)", True),
    ("facts_routed", "store question → seller confirms", True),
    ("multi_turn", "multi-turn: does the right thing", True),
]


def _run(source: Path, failures: str | None) -> dict:
    out = Path(tempfile.mkstemp(prefix="s7-boteval-", suffix=".json")[1])
    command = [sys.executable, str(HARNESS), "--json", str(out)]
    if failures:
        command += ["--failures", failures]
    env = {**os.environ, "PYTHONPATH": str(source)}
    subprocess.run(command, env=env, cwd=source, check=True)
    result = json.loads(out.read_text())
    out.unlink(missing_ok=True)
    return result


def _baseline_tree() -> Path:
    target = Path(tempfile.gettempdir()) / f"s7-bot-baseline-{BASELINE_COMMIT[:12]}"
    if not (target / "s7" / "__init__.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BASELINE_COMMIT, "s7", "migrations", "alembic.ini"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _share(figures: dict, split: str, key: str) -> tuple[float, str]:
    done, total = figures.get(split, {}).get(key, [0, 0])
    return (100.0 * done / total if total else float("nan")), f"{done}/{total}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", choices=["tune", "heldout"], help="list this tree's misses on one split")
    parser.add_argument("--split", default="heldout", choices=["tune", "heldout"])
    args = parser.parse_args(argv)
    print(f"baseline: {BASELINE_COMMIT[:12]} (main before #16); this tree: {ROOT}")
    baseline = _run(_baseline_tree(), None)
    ours = _run(ROOT, args.failures)
    for line in ours["failures"]:
        print(line)
    split = args.split
    print(f"\n{split} half                                     baseline          this tree")
    for key, label, _ in _ROWS:
        b, b_n = _share(baseline, split, key)
        o, o_n = _share(ours, split, key)
        print(f"{label:<44} {b:6.1f} % {b_n:>7}   {o:6.1f} % {o_n:>7}")
    b50, b95 = baseline["latency_ms"]
    o50, o95 = ours["latency_ms"]
    print(f"{'latency of one turn p50 / p95 (ms)':<44} {b50:5.1f} / {b95:5.1f}     {o50:5.1f} / {o95:5.1f}")

    top3, top3_n = _share(ours, split, "top3")
    free, free_n = _share(ours, split, "false_offer_free")
    honest, honest_n = _share(ours, split, "facts_not_invented")
    invented = ours[split]["facts_not_invented"][1] - ours[split]["facts_not_invented"][0]
    base_top3, _ = _share(baseline, split, "top3")
    base_free, _ = _share(baseline, split, "false_offer_free")
    base_invented = baseline[split]["facts_not_invented"][1] - baseline[split]["facts_not_invented"][0]
    report(
        f"bot: right product in top 3 ({split})", top3, "%", goal="≥ 95", ok=top3 >= 95.0,
        baseline=f"baseline {base_top3:.1f} %", note=top3_n,
    )  # fmt: skip
    report(
        f"bot: false offers ({split})", 100.0 - free, "%", goal="≤ 5", ok=100.0 - free <= 5.0,
        baseline=f"baseline {100.0 - base_free:.1f} %", note=free_n + " clean",
    )  # fmt: skip
    report(
        f"bot: invented store facts ({split})", invented, "answers", goal="= 0", ok=invented == 0,
        baseline=f"baseline {base_invented}", note=honest_n + " clean",
    )  # fmt: skip
    report(f"bot: one turn p95 ({split} set)", o95, "ms", goal="≤ 50", ok=o95 <= 50.0, baseline=f"baseline {b95:.1f}")
    ok = top3 >= 95.0 and 100.0 - free <= 5.0 and invented == 0 and o95 <= 50.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
