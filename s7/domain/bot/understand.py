"""What a customer's message asks for (pure): greeting, a pick among the offered options,
questions (price, installments, stock, sizes, pick-up, shipping, payment), buying, a person,
price words ("hasta 50 mil", "entre 50 y 80 lucas", "barato", "el mejor"), a colour, follow-ups
("mostrame más", "la otra", "más barato"), store questions (address, hours, returns) —
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
STORE_TOPICS = ("pickup", "shipping", "payment", "address", "hours", "returns", "installments_policy")
_AMOUNT = r"(\d{1,3}(?:[.\s]\d{3})+|\d+(?:[.,]\d+)?)\s*(mil|k|lucas?|palos?|millon(?:es)?|m)?\b"
_RANGE = re.compile(r"\bentre\s*\$?\s*" + _AMOUNT + r"\s*y\s*\$?\s*" + _AMOUNT)
_MAX = re.compile(
    r"\b(?:hasta|menos de|maximo|no mas de|por debajo de|que no pase de|tope|no mas que|de menos de)"
    + r"\s*(?:de\s*)?\$?\s*"
    + _AMOUNT
)
_MIN = re.compile(r"\b(?:mas de|desde|arriba de|minimo|por encima de)\s*\$?\s*" + _AMOUNT)


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
    max_price: int | None = None
    min_price: int | None = None
    sort: str | None = None  # "cheap" (barato, económico) or "premium" (el mejor)
    cheaper: bool = False  # "más barato": below what was shown, or cheap when nothing was
    more: bool = False  # "mostrame más"
    other: bool = False  # "la otra"
    colour: str | None = None
    store_topics: list[str] = field(default_factory=list)  # in the order asked
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
    cheap: tuple[tuple[str, ...], ...]
    cheaper: tuple[tuple[str, ...], ...]
    premium: tuple[tuple[str, ...], ...]
    more: tuple[tuple[str, ...], ...]
    other: tuple[tuple[str, ...], ...]
    colours: dict[str, str]  # folded → as said
    store_topics: tuple[tuple[str, tuple[str, ...]], ...]  # (topic, folded phrase), longest first
    genders: dict[tuple[str, ...], str]  # folded noun → "f" / "m"
    accessories: frozenset[str]  # folded: things defined by what they are for ("funda para …")
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
        cheap=_phrases(data["cheap"]),
        cheaper=_phrases(data["cheaper"]),
        premium=_phrases(data["premium"]),
        more=_phrases(data["more"]),
        other=_phrases(data["other"]),
        colours={fold_word(plain(c)): c for c in data["colours"]},
        store_topics=tuple(
            sorted(
                ((topic, tuple(fold(p))) for topic, phrases in data["store_topics"].items() for p in phrases),
                key=lambda tp: -len(tp[1]),
            )
        ),
        accessories=frozenset(fold_word(w) for a in data.get("accessories", []) for w in plain(a).split()),
        genders={tuple(fold(noun)): gender for gender in ("f", "m") for noun in data["genders"][gender] if fold(noun)},
    )


def understand(text: str) -> Understood:
    vocabulary = load_vocabulary()
    result = Understood(text=text, intent=intent.score(text))
    rest = _prices(plain_keeping_numbers(text), result)
    words = plain(rest).split()
    folded = [fold_word(w) for w in words]
    used: set[int] = set()

    result.human = _take(folded, vocabulary.human, used)
    result.other = _take(folded, vocabulary.other, used)  # before "more": "otra" and "otras" fold alike
    result.more = _take(folded, vocabulary.more, used)
    result.cheaper = _take(folded, vocabulary.cheaper, used)
    if _take(folded, vocabulary.cheap, used):
        result.sort = "cheap"
    elif _take(folded, vocabulary.premium, used):
        result.sort = "premium"
    for topic, phrase in vocabulary.store_topics:  # first: "cuotas sin interés" is the store's policy
        if _take(folded, (phrase,), used) and topic not in result.store_topics:
            result.store_topics.append(topic)
    for topic, phrase in vocabulary.topic_phrases:
        if _take(folded, (phrase,), used):
            result.topics.add(topic)
            if topic in STORE_TOPICS and topic not in result.store_topics:
                result.store_topics.append(topic)
    if "installments_policy" in result.store_topics:
        result.topics.add("installments")
    result.colour = next((vocabulary.colours[f] for f in folded if f in vocabulary.colours), None)
    result.greeting = _take(folded, vocabulary.greetings, used)
    result.thanks = _take(folded, vocabulary.thanks, used)
    result.bye = _take(folded, vocabulary.bye, used)
    result.ordinal = _ordinal(words, used, vocabulary)
    result.size = _size(words, used, vocabulary)
    if result.size is not None:
        result.topics.add("sizes")
    result.query = " ".join(w for i, w in enumerate(words) if i not in used)
    return result


def plain_keeping_numbers(text: str) -> str:
    """Lower case without accents, keeping "100.000" and "$" for the price reader."""
    lowered = text.lower()
    for accented, bare in zip("áéíóúüñ", "aeiouun", strict=True):
        lowered = lowered.replace(accented, bare)
    return lowered


def _amount(number: str, unit: str | None, *, bare_is_thousands: bool) -> int:
    digits = re.sub(r"[.\s]", "", number) if re.fullmatch(r"\d{1,3}(?:[.\s]\d{3})+", number) else number
    value = float(digits.replace(",", "."))
    if unit in ("mil", "k", "luca", "lucas"):
        value *= 1000
    elif unit and (unit.startswith("palo") or unit.startswith("millon") or unit == "m"):
        value *= 1_000_000
    elif bare_is_thousands and value < 1000:
        value *= 1000  # "hasta 50": nobody pays 50 pesos for anything here
    return int(value)


def _prices(text: str, result: Understood) -> str:
    """Read "hasta 50 mil", "menos de 100.000", "entre 50 y 80 lucas", "más de 200k"; the text without them."""
    found = _RANGE.search(text)
    if found:
        low_unit = found.group(2) or found.group(4)  # "entre 50 y 80 lucas": the unit is said once
        low = _amount(found.group(1), low_unit, bare_is_thousands=True)
        high = _amount(found.group(3), found.group(4), bare_is_thousands=True)
        result.min_price, result.max_price = min(low, high), max(low, high)
        return text[: found.start()] + " " + text[found.end() :]
    for pattern, field_name in ((_MAX, "max_price"), (_MIN, "min_price")):
        found = pattern.search(text)
        if found:
            setattr(result, field_name, _amount(found.group(1), found.group(2), bare_is_thousands=True))
            text = text[: found.start()] + " " + text[found.end() :]
    return text


def gender_of(name: str, category: str | None = None) -> tuple[str, bool]:
    """("f"|"m", plural) of the noun naming a product: "Zapatillas Nike …" → ("f", True)."""
    genders = load_vocabulary().genders
    plain_words = plain(name).split()
    folded = [fold_word(w) for w in plain_words]
    for size in (2, 1):
        for start in range(len(folded) - size + 1):
            gender = genders.get(tuple(folded[start : start + size]))
            if gender is not None:
                noun = plain_words[start + size - 1]
                return gender, noun.endswith("s") and noun not in ("lavarropas", "microondas")
    if category:
        return gender_of(category)
    return "m", False


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


_NOT_A_SIZE_AFTER = {
    "cuota", "cuotas", "pago", "pagos", "dia", "dias", "hora", "horas", "min", "minutos", "pulgadas", "pulgada",
    "gb", "tb", "kg", "kilos", "l", "litros", "w", "mah", "hz", "cm", "mm", "mil", "lucas", "k",
}  # fmt: skip


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
