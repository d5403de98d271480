"""Spanish text normalisation shared by catalog search, intent scoring and the bot.

Customers type fast on phones: no accents, "zapatiyas", "kiero", "celus". Rather than list
every misspelling, both sides (catalog words and customer words) are folded to one spelling
of how the word *sounds* (y/ll, s/z/c, b/v, k/qu, silent h) and stripped of plural and
gender endings; fuzzy matching then only has to absorb real typos.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# "ps5" / "128gb" / "a54": customers write them glued or apart, so always split them.
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_REPEATED = re.compile(r"(.)\1+")
_VOWELS = frozenset("aeiou")
# The accents Spanish text actually uses, as a table: decomposing every catalog name with
# unicodedata is what made indexing 50k products slow.
_ACCENTS = str.maketrans("áéíóúüñàèìòùâêîôûäëïöç", "aeiouunaeiouaeiouaeioc")


def plain(text: str) -> str:
    """Lower case, no accents (ñ → n), only letters, digits and single spaces."""
    lowered = text.lower().translate(_ACCENTS)
    if not lowered.isascii():
        decomposed = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = _NON_ALNUM.sub(" ", lowered)
    return " ".join(_LETTER_DIGIT.sub(" ", spaced).split())


def words(text: str) -> list[str]:
    """The plain words of a text (see `plain`)."""
    return plain(text).split()


@lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """One plain word → its sound-alike stem: "zapatillas" and "zapatiyas" → "sapatiyo".

    Cached: a 50k-product catalog has only a few thousand distinct words.
    """
    if not word or word.isdigit():
        return word
    w = word
    w = re.sub(r"gu(?=[ei])", "G", w)  # "guitarra": the u is silent, the g stays hard
    w = re.sub(r"g(?=[ei])", "j", w)
    w = w.replace("G", "g")
    w = re.sub(r"qu(?=[ei])", "k", w)
    w = re.sub(r"c(?=[ei])", "s", w)
    w = re.sub(r"c(?!h)", "k", w)
    w = w.replace("z", "s").replace("v", "b").replace("ll", "y")
    w = re.sub(r"(?<!c)h", "", w)
    w = _REPEATED.sub(r"\1", w)
    return _stem(w)


def _stem(w: str) -> str:
    """Drop plural and gender endings so "celulares"/"celular", "negra"/"negros" meet."""
    if len(w) > 3 and w.endswith("s"):
        w = w[:-1]
    if len(w) > 3 and w.endswith("e") and w[-2] not in _VOWELS:
        w = w[:-1]
    if len(w) > 3 and w.endswith("a"):
        w = w[:-1] + "o"
    return w


def fold(text: str) -> list[str]:
    """A text → its folded words, in order."""
    return [fold_word(w) for w in words(text)]
