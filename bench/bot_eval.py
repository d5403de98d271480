"""Runs the bot's evaluation set against whichever `s7` is first on the path; prints JSON figures.

    PYTHONPATH=<a checkout> .venv/bin/python bench/bot_eval.py [--failures tune] [--json FILE]

Run by path (not as `bench.*`) so `python -m bench.bot` can point it at an older checkout
(the baseline) and at this one with the same harness and the same data. It uses only what
both have: `catalog.import_catalog`, `bot.decide` / `bot.CatalogView`, `intent.score`.

How a reply is read: the products it offers are its `p:SKU` options, or, for a one-product
answer, the product it left in focus when its text names it. Figures per split (tune/heldout):
  top3            product questions (first message) whose offers include an acceptable product
  dead_end        product questions (and conversations that should end in offers) that got no
                  product at all although acceptable ones were in stock
  false_offer     questions about things the store does not sell that got products offered
  oos_honest      an out-of-stock product asked by name: said plainly, not offered as
                  available, and in-stock alternatives offered
  invented_facts  store questions (empty store profile) answered with a fact anyway
  multi_turn      conversations whose last reply does what a good seller would
  latency         one `decide` call, ms (p50, p95)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "bot_eval.json"

_NO_STOCK = re.compile(r"sin stock|no tiene stock|no tengo stock|no hay stock|no (me )?qued|agotad", re.IGNORECASE)
# Phrases that state a store fact as true. With an empty profile any of them is invented.
_FACTS = re.compile(
    r"hacemos env[ií]o|env[ií]os? a todo|enviamos|aceptamos|pod[eé]s pagar con|pod[eé]s pasar a buscar|"
    r"por el local|abrimos|estamos abiertos|atendemos de|nuestra direcci[oó]n|estamos en |queda en |"
    r"cambios? (dentro|hasta|sin)|devoluci[oó]n (dentro|hasta|sin)|cuotas sin inter[eé]s con|factura a",
    re.IGNORECASE,
)
_SELLER_CONFIRMS = re.compile(r"vendedor|persona del equipo|te confirma|te escribe|equipo", re.IGNORECASE)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))] if ordered else float("nan")


class Harness:
    def __init__(self, products: list[dict[str, Any]]) -> None:
        from s7.config import Settings, reset_settings
        from s7.db import migrate, reset_engine, session_scope
        from s7.domain import catalog

        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='s7-boteval-')) / 'eval.db'}"
        reset_settings(Settings(_env_file=None, DATABASE_URL=url, ENABLE_JOBS=False))  # type: ignore[call-arg]
        reset_engine()
        migrate()
        clean = [{k: v for k, v in p.items() if k != "type"} for p in products]
        with session_scope() as session:
            catalog.import_catalog(session, json.dumps({"products": clean}).encode(), "eval.json")
        self.session_scope = session_scope
        self.by_sku = {p["sku"]: p for p in products}
        self.latencies: list[float] = []

    def turn(self, state: dict[str, Any], text: str) -> tuple[Any, dict[str, Any], list[str]]:
        from s7.domain import bot
        from s7.domain.chats import intent

        with self.session_scope() as session:
            started = time.perf_counter()
            plan = bot.decide(bot.CatalogView(session), dict(state), text, None, "text")
            self.latencies.append((time.perf_counter() - started) * 1000)
        reply = plan.reply
        offered = [o["id"][2:] for o in (reply.options if reply else []) if str(o.get("id", "")).startswith("p:")]
        focus = plan.state.get("focus")
        if not offered and reply is not None and focus and focus != state.get("focus"):
            name = self.by_sku.get(focus, {}).get("name", "")
            if name and name.lower()[:12] in reply.text.lower():
                offered = [focus]
        return plan, {"points": intent.score(text).points}, offered


def evaluate(harness: Harness, items: list[dict[str, Any]], failures_of: str | None) -> dict[str, Any]:
    from s7.domain.chats import intent

    out: dict[str, dict[str, list[bool]]] = {}
    shown_failures: list[str] = []
    for item in items:
        figures = out.setdefault(item["split"], {})
        try:
            verdicts, transcript = _judge(harness, item, intent.HOT)
        except Exception as exc:  # a crash is a miss, and says why
            verdicts, transcript = {_figure_of(item): False}, [f"CRASH {type(exc).__name__}: {exc}"]
        for name, ok in verdicts.items():
            figures.setdefault(name, []).append(ok)
            if not ok and failures_of == item["split"]:
                shown_failures.append(f"[{name}] {item['id']} {item['turns']} -> {' / '.join(transcript)}")
    result: dict[str, Any] = {}
    for split, figures in out.items():
        result[split] = {name: [sum(v), len(v)] for name, v in figures.items()}
    result["latency_ms"] = [_quantile(harness.latencies, 0.5), _quantile(harness.latencies, 0.95)]
    result["failures"] = shown_failures
    return result


def _figure_of(item: dict[str, Any]) -> str:
    return {
        "product": "top3",
        "not_sold": "false_offer_free",
        "store_fact": "facts_not_invented",
        "out_of_stock": "oos_honest",
        "multi": "multi_turn",
    }[item["kind"]]


def _judge(harness: Harness, item: dict[str, Any], hot: int) -> tuple[dict[str, bool], list[str]]:
    state: dict[str, Any] = {}
    points = 0
    history: list[list[str]] = []
    transcript: list[str] = []
    plan = None
    offered: list[str] = []
    for text in item["turns"]:
        previous_state = state
        plan, scored, offered = harness.turn(state, text)
        points += scored["points"]
        state = plan.state
        history.append(offered)
        reply_text = plan.reply.text if plan.reply else "(silencio)"
        titles = [o.get("title", "") for o in (plan.reply.options if plan.reply else [])]
        transcript.append(f"{reply_text} {titles}")
    assert plan is not None
    accept = set(item["accept"])
    text = plan.reply.text if plan.reply else ""
    kind = item["kind"]
    if kind == "product":
        return {"top3": bool(accept & set(offered)), "no_dead_end": bool(offered)}, transcript
    if kind == "not_sold":
        return {"false_offer_free": not offered}, transcript
    if kind == "store_fact":
        invented = bool(_FACTS.search(text))
        routed = plan.hand_off is not None or bool(_SELLER_CONFIRMS.search(text))
        return {"facts_not_invented": not invented, "facts_routed": routed and not invented}, transcript
    if kind == "out_of_stock":
        gone = set(item["out_of_stock"])
        said = bool(_NO_STOCK.search(text))
        offered_gone = bool(gone & set(offered)) and not said
        alternatives = [s for s in offered if s not in gone]
        alternatives_ok = bool(alternatives) and all(harness.by_sku[s]["stock"] > 0 for s in alternatives)
        return {"oos_honest": said and not offered_gone and alternatives_ok}, transcript
    label = item["label"]
    expect = label["expect"]
    before = history[-2] if len(history) > 1 else []
    ok = False
    if expect == "offers":
        ok = bool(accept & set(offered))
        return {"multi_turn": ok, "no_dead_end": bool(offered)}, transcript
    if expect == "about_offered":
        k = label["k"]
        ok = len(before) > k and (state.get("focus") == before[k] or offered == [before[k]])
    elif expect == "about_offered_other":
        picked = previous_state.get("focus")
        earlier = history[-3] if len(history) > 2 else []
        ok = bool(offered) and all(s in earlier and s != picked for s in offered)
    elif expect == "installments":
        ok = "cuota" in text.lower() and state.get("focus") is not None and state.get("focus") in history[-2]
    elif expect == "more":
        seen = {s for turn in history[:-1] for s in turn}
        ok = bool(offered) and not (set(offered) & seen) and set(offered) <= accept
    elif expect == "cheaper":
        floor = min((harness.by_sku[s]["price"] for s in before), default=0)
        cheaper = [s for s in accept if harness.by_sku[s]["price"] < floor]
        if cheaper:
            ok = bool(offered) and all(harness.by_sku[s]["price"] < floor and s in accept for s in offered)
        else:
            ok = not offered and "barat" in text.lower()
    elif expect == "hot":
        ok = points >= hot
    elif expect == "human":
        ok = plan.hand_off is not None
    return {"multi_turn": ok}, transcript


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--failures", choices=["tune", "heldout"], help="list the misses of one split")
    args = parser.parse_args(argv)
    data = json.loads(DATA.read_text(encoding="utf-8"))
    harness = Harness(data["products"])
    result = evaluate(harness, data["items"], args.failures)
    for line in result["failures"]:
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(result), encoding="utf-8")
    else:
        print(json.dumps({k: v for k, v in result.items() if k != "failures"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
