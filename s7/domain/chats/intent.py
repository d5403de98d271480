"""Purchase-intent scoring: how close a customer's message is to buying.

Words, points and thresholds are data (`data/intent.json`) so a store can tune them without a
release. Spelling is folded the same way as in search, so "yevo", "kiero comprar" and
"reservame" need no extra entries; longer words also match with a small typo.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from s7.domain.text_es import fold

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "intent.json"
_CLAUSE = re.compile(r"[.,;:!?¡¿\n]+")  # a negation does not reach past punctuation


@dataclass(frozen=True)
class IntentResult:
    points: int
    signals: list[str] = field(default_factory=list)  # e.g. ["compra: lo compro", "cuotas: cuotas"]

    @property
    def reason(self) -> str:
        """For the lead's audit trail."""
        return ", ".join(self.signals)


@dataclass(frozen=True)
class _Signal:
    name: str
    points: int
    phrases: tuple[tuple[str, tuple[str, ...]], ...]  # (as written, folded words)


@dataclass(frozen=True)
class IntentRules:
    warm: int
    hot: int
    selection_points: int
    typo_min_length: int
    typo_cutoff: float
    negations: tuple[tuple[str, ...], ...]
    negation_reach: int
    signals: tuple[_Signal, ...]


@lru_cache(maxsize=4)
def load_rules(path: Path = DATA_FILE) -> IntentRules:
    data = json.loads(path.read_text(encoding="utf-8"))
    # Longest phrases first: "me lo llevo" is reported (and its words used up) before "llevo".
    signals = tuple(
        _Signal(
            name,
            int(spec["points"]),
            tuple(sorted(((p, tuple(fold(p))) for p in spec["phrases"] if fold(p)), key=lambda x: -len(x[1]))),
        )
        for name, spec in data["signals"].items()
    )
    return IntentRules(
        warm=int(data["thresholds"]["warm"]),
        hot=int(data["thresholds"]["hot"]),
        selection_points=int(data["selection_points"]),
        typo_min_length=int(data["typo_min_length"]),
        typo_cutoff=float(data["typo_cutoff"]),
        negations=tuple(tuple(fold(n)) for n in data.get("negations", [])),
        negation_reach=int(data.get("negation_reach", 2)),
        signals=signals,
    )


_RULES = load_rules()
WARM: int = _RULES.warm
HOT: int = _RULES.hot
SELECTION_POINTS: int = _RULES.selection_points


def score(text: str, rules: IntentRules | None = None) -> IntentResult:
    """Points for one customer message; each signal counts once, and a word counts for one
    signal only (the first listed), so "paso a buscar" is pick-up, not also a visit."""
    rules = rules or _RULES
    clauses = [fold(c) for c in _CLAUSE.split(text or "")]
    used: list[set[int]] = [set() for _ in clauses]
    points, signals = 0, []
    for signal in rules.signals:
        hit = next(
            (
                written
                for written, phrase in signal.phrases
                for words, taken in zip(clauses, used, strict=True)
                if _found(words, phrase, taken, rules)
            ),
            None,
        )
        if hit is not None:
            points += signal.points
            signals.append(f"{signal.name}: {hit}")
    return IntentResult(points, signals)


def lead_for_score(total: int) -> str:
    """The lead a conversation's total score earns: NONE, WARM or HOT."""
    if total >= HOT:
        return "HOT"
    if total >= WARM:
        return "WARM"
    return "NONE"


def _found(words: list[str], phrase: tuple[str, ...], taken: set[int], rules: IntentRules) -> bool:
    """Is the phrase in these words (not negated, not already used)? Marks its words used."""
    size = len(phrase)
    if size > len(words) or not _may_appear(phrase[0], words, rules):
        return False  # the usual case, decided in C: most phrases share no word with the message
    for start in range(len(words) - size + 1):
        span = range(start, start + size)
        if (
            taken.isdisjoint(span)
            and all(_same_word(words[i], phrase[i - start], rules) for i in span)
            and not _negated(words, start, rules)
        ):
            taken.update(span)
            return True
    return False


def _may_appear(expected: str, words: list[str], rules: IntentRules) -> bool:
    """Some word here is `expected` or close enough to be its typo (the same test as _same_word)."""
    if expected in words:
        return True
    if len(expected) < rules.typo_min_length or expected.isdigit():
        return False
    return process.extractOne(expected, words, scorer=fuzz.ratio, score_cutoff=rules.typo_cutoff) is not None


def _same_word(said: str, expected: str, rules: IntentRules) -> bool:
    if said == expected:
        return True
    return (
        len(expected) >= rules.typo_min_length
        and not expected.isdigit()
        and fuzz.ratio(said, expected) >= rules.typo_cutoff
    )


def _negated(words: list[str], start: int, rules: IntentRules) -> bool:
    before = words[max(0, start - rules.negation_reach - 1) : start]
    for negation in rules.negations:
        size = len(negation)
        if any(tuple(before[i : i + size]) == negation for i in range(len(before) - size + 1)):
            return True
    return False
