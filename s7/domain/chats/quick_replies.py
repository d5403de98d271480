"""Quick replies: saved answers a seller inserts with `/` + search in the composer.

Team-wide ones (no owner; admins manage them) and personal ones (each seller's own; a personal
reply with the same shortcut as a team one wins for its owner). The text may use `{nombre}`
(the customer), `{vendedor}` (the seller writing), `{producto}` and `{precio}` (the product
under discussion: the one the bot or a product card last put in focus). A variable with nothing
to fill never reaches the customer raw: a missing name simply disappears ("Hola {nombre}!" →
"Hola!"), and a sentence about a product when there is none is left out whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from s7.domain.bot.replies import money
from s7.domain.chats.conversations import ConversationError, NotFound
from s7.domain.models import Contact, Conversation, Product, QuickReply, User
from s7.domain.text_es import plain

VARIABLES = ("nombre", "vendedor", "producto", "precio")
# Without these the sentence that uses them says nothing true: it is dropped.
SENTENCE_VARIABLES = frozenset({"producto", "precio"})
SHORTCUT_MAX = 40
TEXT_MAX = 4096
LIST_MAX = 50
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_VARIABLE = re.compile(r"\{([^{}\s]{1,30})\}")
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|$)")


class QuickReplyError(ConversationError):
    """A quick reply that cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class QuickReplyRow:
    id: int
    shortcut: str
    text: str
    personal: bool
    owner_user_id: int | None


# ---- reading ----------------------------------------------------------------------------------------


def available(session: Session, user_id: int, query: str = "", *, limit: int = LIST_MAX) -> list[QuickReplyRow]:
    """The replies this seller can use, best match first: shortcut starts with the query, then
    shortcut contains it, then the text does (accents and case ignored)."""
    rows = session.scalars(
        select(QuickReply)
        .where(or_(QuickReply.owner_user_id.is_(None), QuickReply.owner_user_id == user_id))
        .order_by(QuickReply.shortcut, QuickReply.id)
    )
    mine: dict[str, QuickReplyRow] = {}
    for row in rows:  # a personal reply hides the team one with the same shortcut
        item = _row(row)
        if item.shortcut not in mine or item.personal:
            mine[item.shortcut] = item
    wanted = plain(query.lstrip("/"))
    if not wanted:
        return list(mine.values())[:limit]
    ranked = []
    for item in mine.values():
        shortcut, text = plain(item.shortcut), plain(item.text)
        rank = 0 if shortcut.startswith(wanted) else 1 if wanted in shortcut else 2 if wanted in text else None
        if rank is not None:
            ranked.append((rank, item.shortcut, item))
    return [item for _, _, item in sorted(ranked, key=lambda r: (r[0], r[1]))][:limit]


def _row(row: QuickReply) -> QuickReplyRow:
    return QuickReplyRow(row.id, row.shortcut, row.text, row.owner_user_id is not None, row.owner_user_id)


# ---- managing ---------------------------------------------------------------------------------------


def save(
    session: Session,
    user: User,
    shortcut: str,
    text: str,
    *,
    team: bool = False,
    reply_id: int | None = None,
) -> QuickReplyRow:
    """Create (or, with `reply_id`, edit) a reply. Team-wide ones are for admins to manage."""
    shortcut = _valid_shortcut(shortcut)
    text = _valid_text(text)
    if team and user.role != "admin":
        raise QuickReplyError("Las respuestas de todo el equipo las maneja un admin; guardala como personal")
    owner = None if team else user.id
    if reply_id is not None:
        row = _editable(session, user, reply_id)
        owner = row.owner_user_id
    clash = session.scalar(
        select(QuickReply.id).where(
            QuickReply.shortcut == shortcut,
            QuickReply.owner_user_id.is_(None) if owner is None else QuickReply.owner_user_id == owner,
            QuickReply.id != (reply_id or 0),
        )
    )
    if clash is not None:
        raise QuickReplyError(f"Ya existe /{shortcut}")
    if reply_id is None:
        row = QuickReply(shortcut=shortcut, text=text, owner_user_id=owner)
        session.add(row)
    else:
        row.shortcut, row.text = shortcut, text
    session.flush()
    return _row(row)


def delete(session: Session, user: User, reply_id: int) -> None:
    session.delete(_editable(session, user, reply_id))
    session.flush()


def _editable(session: Session, user: User, reply_id: int) -> QuickReply:
    row = session.get(QuickReply, reply_id)
    if row is None or (row.owner_user_id is not None and row.owner_user_id != user.id):
        raise NotFound("No existe esa respuesta rápida")
    if row.owner_user_id is None and user.role != "admin":
        raise QuickReplyError("Las respuestas de todo el equipo las cambia un admin")
    return row


def _valid_shortcut(shortcut: str) -> str:
    value = (shortcut or "").strip().lstrip("/").lower()
    if not value:
        raise QuickReplyError("Falta el atajo (por ejemplo: envios)")
    if len(value) > SHORTCUT_MAX or not _SHORTCUT.match(value):
        raise QuickReplyError(f"El atajo va en minúsculas, sin espacios ni acentos, hasta {SHORTCUT_MAX} caracteres")
    return value


def _valid_text(text: str) -> str:
    value = (text or "").strip()
    if not value:
        raise QuickReplyError("Falta el texto de la respuesta")
    if len(value) > TEXT_MAX:
        raise QuickReplyError(f"El texto tiene como máximo {TEXT_MAX} caracteres")
    unknown = sorted({name for name in _VARIABLE.findall(value) if name not in VARIABLES})
    if unknown:
        allowed = ", ".join("{" + v + "}" for v in VARIABLES)
        raise QuickReplyError(f"No conozco {{{unknown[0]}}}. Podés usar {allowed}")
    return value


# ---- filling the variables ------------------------------------------------------------------------------


def context_for(session: Session, conversation_id: int, seller: User) -> dict[str, str]:
    """What the variables mean in this chat, for this seller (missing ones are simply absent)."""
    row = session.execute(
        select(Contact.name, Conversation.bot_state)
        .join(Conversation, Conversation.contact_id == Contact.id)
        .where(Conversation.id == conversation_id)
    ).one_or_none()
    if row is None:
        raise NotFound("No existe esa conversación")
    name, state = row
    values = {"vendedor": _first_name(seller.name), "nombre": _first_name(name)}
    sku = (state or {}).get("focus")
    if sku:
        product = session.scalar(select(Product).where(Product.sku == sku, Product.active))
        if product is not None:
            values["producto"] = product.name
            values["precio"] = money(product.price, product.currency)
    return {k: v for k, v in values.items() if v}


def fill(text: str, values: dict[str, str]) -> str:
    """The text with its variables filled; what cannot be filled is left out, never printed raw."""
    kept = []
    for sentence in _SENTENCE.findall(text):
        names = set(_VARIABLE.findall(sentence))
        if any(n in SENTENCE_VARIABLES and not values.get(n) for n in names):
            continue
        kept.append(_VARIABLE.sub(lambda m: values.get(m[1], ""), sentence))
    return _tidy("".join(kept))


def _tidy(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]{2,}", " ", line)
        line = re.sub(r"\s+([,.!?;:])", r"\1", line)  # "Hola !" → "Hola!"
        line = re.sub(r"([¡¿])\s+", r"\1", line)
        line = re.sub(r",([.!?])", r"\1", line)  # "Hola ,!" → "Hola!"
        lines.append(line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _first_name(name: str | None) -> str:
    words = (name or "").split()
    return words[0] if words else ""
