"""Teamwork on a chat: @mentions in internal notes, and passing a chat to a colleague with a note.

A mention is `@` followed by a teammate's first name, full name without spaces, or the part of
their email before the @ (accents and case ignored): "@ana", "@AnaGómez", "@ana.gomez". A first
name two teammates share mentions nobody (ambiguous); the full name does. Each mentioned
teammate gets an alert of their own (and an audit row); the author is never alerted.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7 import realtime
from s7.domain.chats import conversations
from s7.domain.chats.audit import actor_of, audit
from s7.domain.chats.conversations import ConversationError
from s7.domain.models import Note, User
from s7.domain.text_es import plain

_MENTION = re.compile(r"(?<![\w@])@([\w.\-]{2,60})", re.UNICODE)


def _keys(user: User) -> tuple[set[str], set[str]]:
    """(unique keys, first-name key) for a teammate."""
    name = plain(user.name or "")
    unique = {name.replace(" ", ""), plain(user.email.split("@")[0]).replace(" ", "")}
    first = {name.split()[0]} if name else set()
    return {k for k in unique if k}, first


def mentioned(session: Session, text: str) -> list[User]:
    """The active teammates a note mentions, in the order first mentioned."""
    tokens = [plain(t).replace(" ", "") for t in _MENTION.findall(text or "")]
    if not tokens:
        return []
    team = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))
    keyed = [(user, *_keys(user)) for user in team]
    found: list[User] = []
    for token in tokens:
        exact = [u for u, unique, _ in keyed if token in unique]
        by_first = [u for u, _, first in keyed if token in first]
        chosen = exact or (by_first if len(by_first) == 1 else [])
        for user in chosen:
            if user not in found:
                found.append(user)
    return found


def add_note(session: Session, conversation_id: int, author: User, text: str) -> Note:
    """An internal note; every teammate it @mentions is alerted."""
    note = conversations.add_note(session, conversation_id, author, text)
    conversation = conversations.get(session, conversation_id)
    for user in mentioned(session, note.text):
        if user.id == author.id:
            continue
        audit(session, conversation, "mention", actor=actor_of(author), user=author, note_id=note.id, mentioned=user.id)
        realtime.publish_after_commit(
            session, "alert", conversation_id=conversation_id, reason="mention", for_user=user.id, note_id=note.id
        )
    return note


def transfer(session: Session, conversation_id: int, actor: User, to_user_id: int, note: str = "") -> Note | None:
    """Pass the chat to a colleague: they become its assignee (and hold it if it was held), a note
    says why, and they get an alert. Same rules as `assign` (only the holder or an admin)."""
    if to_user_id == actor.id:
        raise ConversationError("Ya es tuya: elegí a otra persona del equipo")
    target = session.get(User, to_user_id)
    if target is None or not target.active:
        raise ConversationError("Ese usuario no existe o está desactivado")
    conversation = conversations.assign(session, conversation_id, to_user_id, actor_user=actor)
    audit(session, conversation, "transfer", actor=actor_of(actor), user=actor, to=to_user_id)
    text = f"↪️ Le pasé el chat a {target.name}" + (f": {note.strip()}" if note and note.strip() else "")
    written = conversations.add_note(session, conversation_id, actor, text)
    realtime.publish_after_commit(
        session, "alert", conversation_id=conversation_id, reason="transfer", for_user=to_user_id, note_id=written.id
    )
    return written
