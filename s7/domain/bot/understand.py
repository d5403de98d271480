"""What a customer's message asks for (pure): greeting, a pick among the offered options,
questions (price, installments, stock, sizes, pick-up, shipping, payment), buying, a person —
and whatever is left over, which is the product they are looking for.

Words are data (`data/bot_words.json`, and the purchase phrases of `data/intent.json`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from s7.domain.chats import intent
from s7.domain.text_es import fold, fold_word, plain

WORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "bot_words.json"
PRODUCT_TOPICS = frozenset({"price", "installments", "stock", "sizes"})


@dataclass
class Understood:
    text: str
    intent: intent.IntentResult
    topics: set[str] = field(default_factory=set)
    human: bool = False
    greeting: bool = False
    thanks: bool = False
    bye: bool = False
    ordinal: int | None = None  # 0-based position among the offered options; -1 = the last
    size: str | None = None
    query: str = ""  # the words left once the above are taken out: what they are looking for


@dataclass(frozen=True)
class _Vocabulary:
    greetings: tuple[tuple[str, ...], ...]
    thanks: tuple[tuple[str, ...], ...]
    bye: tuple[tuple[str, ...], ...]
    human: tuple[tuple[str, ...], ...]
    ordinals: dict[str, int]
    ordinal_markers: frozenset[str]
    size_words: frozenset[str]
    letter_sizes: frozenset[str]
    topics: dict[str, str]  # intent signal → topic
    topic_phrases: tuple[tuple[str, tuple[str, ...]], ...]  # (topic, folded phrase), longest first


def _phrases(items: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted((tuple(fold(p)) for p in items if fold(p)), key=len, reverse=True))


@lru_cache(maxsize=4)
def load_vocabulary(path: Path = WORDS_FILE) -> _Vocabulary:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    topics = dict(data["topics"])
    topic_phrases = [
        (topics[signal.name], phrase)
        for signal in intent.load_rules().signals
        if signal.name in topics
        for _, phrase in signal.phrases
    ]
    return _Vocabulary(
        greetings=_phrases(data["greetings"]),
        thanks=_phrases(data["thanks"]),
        bye=_phrases(data["bye"]),
        human=_phrases(data["human"]),
        ordinals={plain(w): int(n) for n, ws in data["ordinals"].items() for w in ws},
        ordinal_markers=frozenset(plain(w) for w in data["ordinal_markers"]),
        size_words=frozenset(plain(w) for w in data["size_words"]),
        letter_sizes=frozenset(plain(w) for w in data["letter_sizes"]),
        topics=topics,
        topic_phrases=tuple(sorted(topic_phrases, key=lambda tp: -len(tp[1]))),
    )


def understand(text: str) -> Understood:
    vocabulary = load_vocabulary()
    result = Understood(text=text, intent=intent.score(text))
    words = plain(text).split()
    folded = [fold_word(w) for w in words]
    used: set[int] = set()

    result.human = _take(folded, vocabulary.human, used)
    for topic, phrase in vocabulary.topic_phrases:
        if _take(folded, (phrase,), used):
            result.topics.add(topic)
    result.greeting = _take(folded, vocabulary.greetings, used)
    result.thanks = _take(folded, vocabulary.thanks, used)
    result.bye = _take(folded, vocabulary.bye, used)
    result.ordinal = _ordinal(words, used, vocabulary)
    result.size = _size(words, used, vocabulary)
    if result.size is not None:
        result.topics.add("sizes")
    result.query = " ".join(w for i, w in enumerate(words) if i not in used)
    return result


def _take(folded: list[str], phrases: tuple[tuple[str, ...], ...], used: set[int]) -> bool:
    """Mark every occurrence of any phrase as used; True if one was found."""
    found = False
    for phrase in phrases:
        size = len(phrase)
        for start in range(len(folded) - size + 1):
            span = range(start, start + size)
            if used.isdisjoint(span) and tuple(folded[start : start + size]) == phrase:
                used.update(span)
                found = True
    return found


def _ordinal(words: list[str], used: set[int], vocabulary: _Vocabulary) -> int | None:
    """ "la segunda", "el 1", "opción 3", or a message that is only "2"."""
    free = [i for i in range(len(words)) if i not in used]
    for i in free:
        position = vocabulary.ordinals.get(words[i])
        if position is None:
            continue
        marked = i > 0 and words[i - 1] in vocabulary.ordinal_markers
        if marked or len(free) == 1:
            used.add(i)
            if marked:
                used.add(i - 1)
            return position - 1 if position > 0 else -1
    return None


_NOT_A_SIZE_AFTER = {"cuota", "cuotas", "pago", "pagos", "dia", "dias", "hora", "horas", "min", "minutos"}


def _size(words: list[str], used: set[int], vocabulary: _Vocabulary) -> str | None:
    """ "talle 42", "en 42", "hay M?": a size asked right after a size word."""
    for i in range(1, len(words)):
        word = words[i]
        is_number = re.fullmatch(r"\d{1,2}", word) is not None
        if not (is_number or word in vocabulary.letter_sizes):
            continue
        if words[i - 1] not in vocabulary.size_words:
            continue
        if i + 1 < len(words) and words[i + 1] in _NOT_A_SIZE_AFTER:
            continue  # "en 12 cuotas"
        if not is_number and words[i - 1] in ("de", "en") and word in ("s", "l"):
            continue  # "de s..." is more likely a stray letter than a size
        used.update((i - 1, i))
        return word.upper()
    return None
