"""What the bot would answer to a message, for the admin's vocabulary page (nothing is sent or kept).

The words on the page may not be saved yet, so they are applied to the message the way search
applies a store's entries (the customer's phrase becomes the catalog's words) before the turn.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from s7.domain.bot.replies import Reply
from s7.domain.bot.turn import CatalogView, decide
from s7.domain.text_es import plain


def with_words(text: str, entries: Iterable[tuple[str, str]]) -> str:
    """ "busco una maquinola" with ("maquinola", "notebook") → "busco una notebook" (longest phrase first)."""
    said = plain(text).split()
    pairs = sorted(
        ((plain(s).split(), plain(t).split()) for s, t in entries if plain(s) and plain(t)), key=lambda p: -len(p[0])
    )
    out: list[str] = []
    i = 0
    while i < len(said):
        for source, target in pairs:
            if said[i : i + len(source)] == source:
                out.extend(target)
                i += len(source)
                break
        else:
            out.append(said[i])
            i += 1
    return " ".join(out)


def preview(session: Session, text: str, entries: Iterable[tuple[str, str]] = ()) -> Reply | None:
    """The bot's reply to `text` as a first message, with these extra words."""
    entries = list(entries)
    message = with_words(text, entries) if entries else text
    return decide(CatalogView(session), {}, message).reply
