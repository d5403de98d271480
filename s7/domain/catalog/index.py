"""The in-memory search index behind `catalog.search` (pure: no database here).

Ranking is the user's rule: in stock first, then match quality, then popularity. The
index makes that cheap at 50k products by numbering products in (in stock, popularity)
order and keeping, per folded word, the set of products that contain it as a Python int
used as a bitset. A query is then a few ANDs over bitsets: the lowest set bit of a group
of equally good matches *is* its most popular in-stock product, so nothing is sorted per
query and no product is scored one by one.

Match quality of a product = the weighted share of the customer's words it contains,
each word graded by how it matched (exact, prefix, typo; name/brand/category above
attributes). Words are folded (see `text_es`) so spelling variants meet exactly.

A word no product contains ("para la facu", a brand the store does not carry) is dropped
rather than allowed to sink the whole query, and reported (`Ranking.dropped`) so the bot can
say what it did find. The one exception is the query's head, the first word that names a
thing ("pintura" in "pintura latex blanca"): when the catalog has nothing like it, the
words describing it must not pass for a match, so the ranking is empty.
"""

from __future__ import annotations

import bisect
import json
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from s7.domain.text_es import fold_word, plain, words

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
_MAX_TERMS = 8  # a paragraph pasted into search should not explode the walk
_MAX_PREFIX_EXPANSIONS = 40
_GRADE_STEP = 20  # grades are rounded to 1/20 so equal-looking matches share a branch
_EXACT, _PREFIX_LONG, _PREFIX_SHORT, _SPLIT = 1.0, 0.9, 0.8, 0.9
_TYPO_SCALE = 0.95  # a typo match never grades as high as an exact one
_SYNONYM = 0.9  # "hoodie" finds "buzo", but a product that says "hoodie" comes first
_HEAD_WEIGHT = 1.25  # "silla para la compu": the chair matters more than the computer
_HEAD_MIN_GRADE = 0.84  # the thing asked for must be clearly there: no short prefix, no loose typo
_KIND_MIN = 2  # brands whose names start with a word, to make it a kind of product
_FILED = 0.6  # what a product is filed under or for ("Funda" in "Celulares", "Mochila para Notebook")
_DIMINUTIVES = (("itos", "o"), ("itas", "a"), ("ito", "o"), ("ita", "a"))  # "fundita" → "funda"
# Folded: "con" folds to "kon". "Freidora sin Aceite" is not aceite, "Heladera con Freezer" not a freezer.
_FEATURE_MARKERS = frozenset(fold_word(w) for w in ("sin", "con"))
_LINKS = _FEATURE_MARKERS | {fold_word("de")}  # "Silla de Escritorio": what follows still describes the kind


@dataclass(frozen=True, slots=True)
class IndexedProduct:
    """What search needs to know about one active product."""

    id: int
    sku: str
    name: str
    brand: str | None = None
    category: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    stock: int = 0
    popularity: int = 0


@dataclass(frozen=True, slots=True)
class RankedMatch:
    product_id: int
    sku: str
    quality: float  # 0..1: share of the query found in the product
    in_stock: bool


@dataclass
class Ranking:
    matches: list[RankedMatch]
    # The best match by quality alone (ties: in stock, then popular). The bot uses it to say
    # "that one is out of stock" when the closest product is not among the in-stock options.
    best: RankedMatch | None
    dropped: list[str] = field(default_factory=list)  # the customer's words no product has
    matched: list[str] = field(default_factory=list)  # the customer's words the best match has
    unknown_head: str | None = None  # the thing asked for, when nothing like it is sold
    # Words saying what the thing is for that name a kind of product the best match is not for:
    # "notebook" in "funda para la notebook" when the fundas are for phones.
    for_other: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchSettings:
    min_quality: float
    relative_margin: float
    bucket: float
    attribute_weight: float
    stopwords: frozenset[str]
    generic_heads: frozenset[str]  # "algo", "regalo": words that do not name the thing wanted
    modifiers: frozenset[str]  # folded: "mujer", "cuero", "oficina": "zapatillas de mujer" are zapatillas
    compounds: frozenset[tuple[str, ...]]  # plain words: "control remoto" is no joystick
    replacements: dict[tuple[str, ...], tuple[str, ...]]  # plain words → plain words
    groups: dict[str, frozenset[str]]  # folded word → folded words meaning the same

    @property
    def longest_phrase(self) -> int:
        return max((len(k) for k in self.replacements), default=1)


@lru_cache(maxsize=4)
def load_settings(data_dir: Path = DATA_DIR) -> SearchSettings:
    """Read `search.json` and `synonyms.json` (cached; call `load_settings.cache_clear()` after editing)."""
    tuning = json.loads((data_dir / "search.json").read_text(encoding="utf-8"))
    synonyms = json.loads((data_dir / "synonyms.json").read_text(encoding="utf-8"))
    replacements = {
        tuple(words(source)): tuple(words(target))
        for source, target in synonyms.get("replace", {}).items()
        if words(source) and words(target)
    }
    groups: dict[str, set[str]] = defaultdict(set)
    for group in synonyms.get("groups", []):
        folded = {fold_word(w) for entry in group for w in words(entry)}
        for word in folded:
            groups[word] |= folded
    return SearchSettings(
        min_quality=float(tuning["min_quality"]),
        relative_margin=float(tuning["relative_margin"]),
        bucket=float(tuning["bucket"]),
        attribute_weight=float(tuning["attribute_weight"]),
        stopwords=frozenset(w for s in tuning.get("stopwords", []) for w in words(s)),
        generic_heads=frozenset(w for s in tuning.get("generic_heads", []) for w in words(s)),
        modifiers=frozenset(fold_word(w) for s in tuning.get("modifiers", []) for w in words(s)),
        compounds=frozenset(tuple(words(s)) for s in tuning.get("compounds", []) if len(words(s)) > 1),
        replacements=replacements,
        groups={k: frozenset(v) for k, v in groups.items()},
    )


def with_vocabulary(settings: SearchSettings, entries: Iterable[tuple[str, str]]) -> SearchSettings:
    """The settings plus a store's own "when they say X, search Y" entries (X wins over the file)."""
    replacements = dict(settings.replacements)
    for source, target in entries:
        if words(source) and words(target):
            replacements[tuple(words(source))] = tuple(words(target))
    return replace(settings, replacements=replacements)


@dataclass(frozen=True, slots=True)
class _Levels:
    levels: list[tuple[float, int]]  # disjoint (grade, products), best first
    union: int  # every product the term matches
    kinds: int  # products matched by a word saying what they are or who makes them
    names: int  # products matched by any word but one that only describes a kind


def _after_para(plain_words: list[str]) -> list[str]:
    """ "zapatillas para mi vieja" → ["mi", "vieja"]: what the thing is for, not what it is."""
    return plain_words[plain_words.index("para") + 1 :] if "para" in plain_words else []


def _after_de(plain_words: list[str], head: str) -> str:
    """ "silla de ruedas" → "ruedas": the word right after "<head> de", if any."""
    at = plain_words.index(head) if head in plain_words else -1
    return (
        plain_words[at + 2] if at >= 0 and plain_words[at + 1 : at + 2] == ["de"] and at + 2 < len(plain_words) else ""
    )


@dataclass(frozen=True)
class _Term:
    alternatives: tuple[tuple[str, float], ...]  # (folded spelling, how much it counts)
    weight: float
    word: str = ""  # as the customer wrote it (plain), to say what matched
    head: bool = False


def attribute_words(attributes: dict[str, Any]) -> list[str]:
    """Keys and values of the attributes, flattened ("talles": ["40", "41"] → talles 40 41)."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                out.append(str(key))
                walk(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner)
        elif value is not None and not isinstance(value, bool):
            out.append(str(value))

    walk(attributes or {})
    return out


# A word's products are kept as an int bitset when common, as a sorted array of positions when
# rare: a lone bit near position 50 000 is a 6 KB int, and most words of a scraped catalog
# (model codes, references) are rare. Rare ones become bitsets only when a query touches them.
Postings = int | array


def _postings(positions: list[int], nbytes: int) -> Postings:
    if len(positions) * 8 < nbytes:
        return array("I", positions)
    return _to_bits(positions, nbytes)


def _to_bits(positions: Iterable[int], nbytes: int) -> int:
    buffer = bytearray(nbytes)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


def _name_head(folded_name: list[str], brands: set[str]) -> str:
    """The first word of a name that is not a brand: "GENERICA Funda Silicona" → "funda"."""
    return next((f for f in folded_name if f not in brands), "")


def _category_label(category: str) -> str:
    """ "Electrodomésticos > Heladeras" → "heladeras"; "AUDIO" → "audio"."""
    last = category.split(">")[-1].split("/")[-1].strip()
    return last.lower() if last.isupper() or last[:1].isupper() else last


def _features(name_words: list[str], brands: set[str], types: frozenset[str]) -> tuple[list[str], set[str]]:
    """ "freidora sin aceite peabody" → (["freidora", "sin", "peabody"], {"aceite"}): what a product
    has or lacks is not what it is, so "aceite de oliva" must not find the freidora."""
    kept: list[str] = []
    features: set[str] = set()
    inside = False
    for word in name_words:
        if word in brands or word in types or any(c.isdigit() for c in word):
            inside = False
        if inside:
            features.add(word)
            continue
        kept.append(word)
        inside = word in _FEATURE_MARKERS and len(kept) > 1
    return kept, features


def _qualifiers(folded_names: list[list[str]], kinds: set[str], brands: set[str]) -> frozenset[str]:
    """Words that describe a kind of product and name nothing alone: the "carga" of "Lavarropas
    Carga Frontal", the "escritorio" of "Silla de Escritorio". A word that also follows a brand
    ("Apple iPhone") names a model and is not one of them."""
    after_kind: set[str] = set()
    after_brand: set[str] = set()
    for folded in folded_names:
        for i in range(1, len(folded)):
            previous = folded[i - 1]
            if previous in brands:
                after_brand.add(folded[i])
            elif previous in kinds or (previous in _LINKS and i >= 2 and folded[i - 2] in kinds):
                after_kind.add(folded[i])
    return frozenset(w for w in after_kind - after_brand - brands - kinds - _LINKS if not w.isdigit())


def _typo_cutoff(length: int) -> float:
    # One slip in a short word changes a big share of it; long words can afford a bit more.
    # A swapped letter in six ("libros"/"libres") is another word; a missing one is a typo.
    # Folded stems are short ("libro", "siyo"): one slip there is usually another word.
    return 90.0 if length <= 5 else 84.0 if length <= 6 else 78.0


class SearchIndex:
    """Immutable once built; safe to share between threads."""

    def __init__(self, products: Iterable[IndexedProduct], settings: SearchSettings | None = None) -> None:
        self.settings = settings or load_settings()
        ordered = sorted(products, key=lambda p: (p.stock <= 0, -p.popularity, p.name.lower(), p.id))
        self._ids = [p.id for p in ordered]
        self._skus = [p.sku for p in ordered]
        self._by_sku = {p.sku.upper(): i for i, p in enumerate(ordered)}
        count = len(ordered)
        in_stock = sum(1 for p in ordered if p.stock > 0)
        self._all = (1 << count) - 1
        self._in_stock_mask = (1 << in_stock) - 1
        self._out_of_stock_mask = self._all ^ self._in_stock_mask

        # Kinds, learned from the catalog: words many names start with ("funda", "zapatillas").
        # A "Funda … " filed under "Accesorios > Celulares" is a funda, not a phone: for a product
        # whose name starts with a kind, its category's words count less than its name's.
        brands = {fold_word(w) for p in ordered if p.brand for w in words(p.brand)}
        plain_names = [words(p.name) for p in ordered]
        folded_names = [[fold_word(w) for w in name] for name in plain_names]
        heads = [_name_head(name, brands) for name in folded_names]
        starts: dict[str, set[str]] = defaultdict(set)
        for product, head in zip(ordered, heads, strict=True):
            if head:
                starts[head].add(product.brand or product.name)
        # A kind is named by several brands ("funda"); a model line by one ("galaxy").
        kinds = {w for w, makers in starts.items() if len(makers) >= _KIND_MIN and not w.isdigit()}
        # Words that say what a product is: its kind, its category, and their synonyms ("compu").
        said_kinds = kinds | {fold_word(w) for p in ordered for w in words(p.category or "") if not w.isdigit()}
        groups = self.settings.groups
        self._types = frozenset(said_kinds | {s for w in said_kinds for s in groups.get(w, ())})
        self._brands = frozenset(brands)
        self._qualifiers = _qualifiers(folded_names, kinds, brands) - self._types
        settings = self.settings
        # Words the shop's vocabulary knows: "de correr" says what zapatillas are for, like "de mujer".
        self._said_of = (
            settings.modifiers
            | set(groups)
            | {fold_word(w) for source, target in settings.replacements.items() for w in (*source, *target)}
        )

        primary: dict[str, list[int]] = defaultdict(list)
        secondary: dict[str, list[int]] = defaultdict(list)
        filed: dict[str, list[int]] = defaultdict(list)  # category words of products named by a kind
        for position, product in enumerate(ordered):
            plain_name, folded_name = plain_names[position], folded_names[position]
            # "Mochila para Notebook" is a mochila: what it is for counts less than what it is.
            cut = plain_name.index("para") if "para" in plain_name[1:] else len(plain_name)
            name_words, features = _features(folded_name[:cut], brands, self._types)
            purpose = set(folded_name[cut + 1 :]) | features
            main_words = set(name_words) | {fold_word(w) for w in words(product.brand or "")}
            category_words = {fold_word(w) for w in words(product.category or "")} - main_words
            named_kind = heads[position] in kinds
            for word in main_words | (set() if named_kind else category_words):
                primary[word].append(position)
            for word in ((category_words if named_kind else set()) | purpose) - main_words:
                filed[word].append(position)
            attribute_only = {fold_word(w) for a in attribute_words(product.attributes) for w in words(a)}
            for word in attribute_only - main_words - category_words:
                secondary[word].append(position)
        self._nbytes = nbytes = (count + 7) // 8
        self._primary = {w: _postings(p, nbytes) for w, p in primary.items()}
        self._secondary = {w: _postings(p, nbytes) for w, p in secondary.items()}
        self._filed = {w: _postings(p, nbytes) for w, p in filed.items()}
        self._vocabulary = sorted(self._primary.keys() | self._secondary.keys() | self._filed.keys())
        self._known = frozenset(self._vocabulary)
        self._typo_vocabulary = [w for w in self._vocabulary if len(w) >= 4 and not w.isdigit()]
        counts: dict[str, int] = defaultdict(int)
        for product in ordered[:in_stock]:
            if product.category:
                counts[_category_label(product.category)] += 1
        # What the store sells, most listings first: said when a customer asks for something it does not.
        self.categories = sorted(counts, key=lambda c: (-counts[c], c))

    def __len__(self) -> int:
        return len(self._ids)

    # ---- query ----------------------------------------------------------------------------------
    def rank(self, query: str, *, limit: int = 3, in_stock_only: bool = False) -> Ranking:
        if limit <= 0 or not self._ids:
            return Ranking([], None)
        ranking = self._rank_words(query, limit, in_stock_only)
        # A seller pasting a SKU gets that product first (the words may also match others).
        sku_position = self._by_sku.get(query.strip().upper())
        if sku_position is not None:
            exact = self._match(sku_position, 1.0)
            others = [m for m in ranking.matches if m.sku != exact.sku]
            if in_stock_only and not exact.in_stock:
                return Ranking(others, exact)
            return Ranking([exact, *others][:limit], exact)
        return ranking

    def _rank_words(self, query: str, limit: int, in_stock_only: bool) -> Ranking:
        terms = self.terms(query)
        if not terms:
            return Ranking([], None)
        analysed = [(term, self._term_levels(term)) for term in terms]
        dropped = [term.word for term, found in analysed if not found.levels]
        head = next((a for a in analysed if a[0].head), None)
        if head is not None and (not head[1].levels or head[1].levels[0][0] < _HEAD_MIN_GRADE):
            return Ranking([], None, dropped=dropped, unknown_head=head[0].word)
        plain_words = plain(query).split()
        other = self._other_thing(plain_words, analysed, head[0].word if head else "")
        if other:
            return Ranking([], None, dropped=dropped, unknown_head=other)
        # What the thing is for ("para la notebook") does not say what a product is: a notebook
        # does not pass for the "funda" asked for.
        purpose = set(_after_para(plain_words))
        known = [(term.weight, found, term.word in purpose) for term, found in analysed if found.levels]
        if dropped and all(weight < 1.0 for weight, _, _ in known):
            return Ranking([], None, dropped=dropped)  # a size or model number alone names nothing
        if head is None and all(found.levels[0][0] < _HEAD_MIN_GRADE for _, found, _ in known):
            return Ranking([], None, dropped=dropped)  # "algo para el auto": a prefix of "automático"
        # A word said about the thing that no product has ("carga virtual"): what is left must
        # still name a product. What it is for ("para mi vieja") and numbers do not count.
        described = any(not w.isdigit() and w not in purpose for w in dropped)
        start = self._in_stock_mask if in_stock_only else self._all
        leaves = self._walk(known, start, described)
        if not leaves:
            return Ranking([], None, dropped=dropped)
        best_quality = max(q for q, _ in leaves)
        floor = max(self.settings.min_quality, best_quality - self.settings.relative_margin)
        buckets: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for quality, bits in leaves:
            if quality >= floor - 1e-9:
                buckets[int(quality / self.settings.bucket + 1e-9)].append((quality, bits))
        order = sorted(buckets, reverse=True)

        matches: list[RankedMatch] = []
        regions = [self._in_stock_mask] if in_stock_only else [self._in_stock_mask, self._out_of_stock_mask]
        for region in regions:
            for bucket in order:
                group = buckets[bucket]
                bits = 0
                for _, leaf_bits in group:
                    bits |= leaf_bits
                bits &= region
                while bits and len(matches) < limit:
                    lowest = bits & -bits
                    bits ^= lowest
                    position = lowest.bit_length() - 1
                    matches.append(self._match(position, self._quality_of(position, group)))
        top_group = buckets[order[0]]
        top_bits = 0
        for _, leaf_bits in top_group:
            top_bits |= leaf_bits
        best_position = (top_bits & -top_bits).bit_length() - 1
        best_bit = 1 << best_position
        matched = [term.word for term, found in analysed if found.levels and found.union & best_bit]
        best = self._match(best_position, self._quality_of(best_position, top_group))
        what_for = purpose | {_after_de(plain_words, head[0].word)} if head else purpose
        for_other = [
            term.word
            for term, found in analysed
            if term.word in what_for
            and not found.union & best_bit
            and any(s in self._types for s, _ in term.alternatives)
        ]
        return Ranking(matches, best, dropped=dropped, matched=matched, for_other=for_other)

    def _other_thing(self, plain_words: list[str], analysed: list[tuple[_Term, _Levels]], head: str) -> str:
        """ "silla de ruedas", "juego de mesa", "control remoto": the head is sold, but followed by a
        word no product has, the phrase names another thing. Not when that word says who it is
        for, what it is made of, where it is used or how many ("zapatillas de mujer", "termo de
        acero", "silla de oficina") or is a word of the vocabulary ("zapatillas de correr")."""
        for phrase in self.settings.compounds:
            size = len(phrase)
            if any(tuple(plain_words[i : i + size]) == phrase for i in range(len(plain_words) - size + 1)):
                named = self._all
                for word in phrase:
                    named &= self._bits(self._primary, fold_word(word)) or 0
                if not named:
                    return " ".join(phrase)
        word = _after_de(plain_words, head) if head else ""
        if not word or word.isdigit() or word in self.settings.stopwords or fold_word(word) in self._said_of:
            return ""
        found = next((f for t, f in analysed if t.word == word), None)
        if found is not None and found.levels and found.levels[0][0] >= _HEAD_MIN_GRADE:
            return ""
        return f"{head} de {word}"

    def terms(self, query: str) -> list[_Term]:
        """The customer's words, minus filler, with synonyms and abbreviations expanded."""
        settings = self.settings
        plain_words = [w for w in plain(query).split()]
        expanded: list[tuple[str, set[str]]] = []
        i = 0
        while i < len(plain_words):
            for size in range(min(settings.longest_phrase, len(plain_words) - i), 0, -1):
                target = settings.replacements.get(tuple(plain_words[i : i + size]))
                if target is not None:
                    if size == 1 and len(target) == 1:
                        expanded.append((target[0], {plain_words[i], target[0]}))
                    else:
                        expanded.extend((w, {w}) for w in target)
                    i += size
                    break
            else:
                word = plain_words[i]
                if word not in settings.stopwords:
                    expanded.append((word, {word}))
                i += 1
        terms: list[_Term] = []
        seen: set[frozenset[str]] = set()
        # "algo para el mate", "para correr": the query names a use, not a thing; no head.
        head_found = False
        for word in plain_words:
            if word in settings.generic_heads:
                head_found = True
                break
            if word not in settings.stopwords:
                break
        for word, spellings in expanded:
            own = {fold_word(s) for s in spellings}
            for ending, vowel in _DIMINUTIVES:
                if word.endswith(ending) and len(word) > len(ending) + 2:
                    own.add(fold_word(word[: -len(ending)] + vowel + ("s" if ending.endswith("s") else "")))
                    break
            alternatives = dict.fromkeys(own, 1.0)
            for spelling in own:
                for synonym in settings.groups.get(spelling, frozenset()):
                    alternatives.setdefault(synonym, _SYNONYM)
            key = frozenset(alternatives)
            if key in seen:
                continue
            seen.add(key)
            # Sizes and model numbers ("42", "5") narrow a search but should not carry it alone;
            # two-letter scraps ("ps", "xl") even less.
            weight = 0.75 if word.isdigit() else 0.5 if len(word) <= 2 else 1.0
            head = not head_found and weight == 1.0
            head_found = head_found or head
            terms.append(
                _Term(tuple(sorted(alternatives.items())), weight * (_HEAD_WEIGHT if head else 1.0), word, head)
            )
        return terms[:_MAX_TERMS]

    def _similar_words(self, term: _Term) -> dict[str, float]:
        """Vocabulary words matching a term, each with a grade in 0..1."""
        grades: dict[str, float] = {}

        def offer(word: str, grade: float) -> None:
            if grade > grades.get(word, 0.0):
                grades[word] = grade

        for spelling, worth in term.alternatives:
            if spelling in self._known:
                offer(spelling, _EXACT * worth)
            if spelling.isdigit():
                continue  # "42" must not find "420" or "43"
            if len(spelling) >= 3:
                start = bisect.bisect_left(self._vocabulary, spelling)
                for word in self._vocabulary[start : start + _MAX_PREFIX_EXPANSIONS]:
                    if not word.startswith(spelling):
                        break
                    offer(
                        word,
                        worth
                        * (_PREFIX_LONG if len(spelling) >= 4 and len(spelling) / len(word) >= 0.6 else _PREFIX_SHORT),
                    )
            if len(spelling) >= 4:
                for word, score, _ in process.extract(
                    spelling,
                    self._typo_vocabulary,
                    scorer=fuzz.ratio,
                    processor=None,
                    score_cutoff=_typo_cutoff(len(spelling)),
                    limit=25,
                ):
                    offer(word, worth * _TYPO_SCALE * score / 100.0)
        return grades

    def _term_levels(self, term: _Term) -> _Levels:
        """Disjoint (grade, products) levels for a term, best first, their union, and the products
        it names: by a word saying what they are or who makes them (`kinds`), or by any word of
        their name but one that only describes a kind ("carga" in "Lavarropas Carga Frontal")."""
        levels: dict[float, int] = defaultdict(int)
        kinds = names = 0
        grades = self._similar_words(term)
        for word, grade in grades.items():
            if (bits := self._bits(self._primary, word)) is not None:
                levels[round(grade * _GRADE_STEP) / _GRADE_STEP] |= bits
                if word in self._types or word in self._brands:
                    kinds |= bits
                if word not in self._qualifiers:
                    names |= bits
            if (bits := self._bits(self._secondary, word)) is not None:
                levels[round(grade * self.settings.attribute_weight * _GRADE_STEP) / _GRADE_STEP] |= bits
            if (bits := self._bits(self._filed, word)) is not None:
                levels[round(grade * _FILED * _GRADE_STEP) / _GRADE_STEP] |= bits
                if word in self._types:
                    kinds |= bits  # "Cocina", the category of a "Freidora …": still what it is
        if not grades:
            self._glued_words(term, levels)
            names |= levels.get(_SPLIT, 0)
        out: list[tuple[float, int]] = []
        covered = 0
        for grade in sorted(levels, reverse=True):
            bits = levels[grade] & ~covered
            if bits:
                out.append((grade, bits))
                covered |= bits
        return _Levels(out, covered, kinds, names)

    def _glued_words(self, term: _Term, levels: dict[float, int]) -> None:
        """ "airmax" when the catalog says "Air Max": products holding both halves match."""
        for spelling, _ in term.alternatives:
            for cut in range(2, len(spelling) - 1):
                left, right = fold_word(spelling[:cut]), fold_word(spelling[cut:])
                left_bits, right_bits = self._bits(self._primary, left), self._bits(self._primary, right)
                if left_bits is not None and right_bits is not None:
                    levels[_SPLIT] |= left_bits & right_bits

    def _bits(self, postings: dict[str, Postings], word: str) -> int | None:
        found = postings.get(word)
        if found is None or isinstance(found, int):
            return found
        return _to_bits(found, self._nbytes)

    def _walk(
        self, known: Sequence[tuple[float, _Levels, bool]], start: int, described: bool
    ) -> list[tuple[float, int]]:
        """Every distinct combination of term grades that some product has: (quality, products).

        `known`: (weight, levels, says what it is for) of the terms some product matches; the others
        are left out of the quality. A depth-first walk over the terms, pruned as soon as a branch holds no
        product or can no longer reach the minimum quality; real queries visit a few dozen
        branches.

        A product that misses a word naming a kind or a brand ("robot de cocina" for the
        "Aspiradora Robot") stays only if a word it does match says what it is or who makes it
        (a missed colour or model number does not count), other than what the customer wants it
        for ("funda para la notebook" is no notebook); when the customer
        described the thing with a word no product has (`described`), the words matched must
        name it, not only describe a kind ("carga virtual" is no "Lavarropas Carga Frontal").
        """
        matched = list(known)
        if not matched:
            return []
        total_weight = sum(weight for weight, _, _ in matched)
        matched.sort(key=lambda m: m[1].union.bit_count())  # rare words first: empty branches die early
        reachable = [0.0] * (len(matched) + 1)
        for i in range(len(matched) - 1, -1, -1):
            reachable[i] = reachable[i + 1] + matched[i][0] * matched[i][1].levels[0][0]
        needed = self.settings.min_quality * total_weight - 1e-9
        leaves: list[tuple[float, int]] = []

        def walk(i: int, products: int, score: float, missed: bool, kinds: int, names: int) -> None:
            if i == len(matched):
                if missed:
                    products &= kinds
                elif described:
                    products &= names
                if products:
                    leaves.append((score / total_weight, products))
                return
            weight, found, what_for = matched[i]
            says = 0 if what_for else found.kinds
            for grade, bits in found.levels:
                if score + weight * grade + reachable[i + 1] < needed:
                    break
                if inner := products & bits:
                    walk(i + 1, inner, score + weight * grade, missed, kinds | says, names | found.names)
            if score + reachable[i + 1] >= needed and (rest := products & ~found.union):
                walk(i + 1, rest, score, missed or bool(found.kinds), kinds, names)

        walk(0, start, 0.0, False, 0, 0)
        return leaves

    def _quality_of(self, position: int, group: list[tuple[float, int]]) -> float:
        bit = 1 << position
        return max(q for q, bits in group if bits & bit)

    def _match(self, position: int, quality: float) -> RankedMatch:
        return RankedMatch(
            product_id=self._ids[position],
            sku=self._skus[position],
            quality=round(quality, 4),
            in_stock=position < self._in_stock_mask.bit_length(),
        )
