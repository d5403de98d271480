"""Consent and blocking.

Marketing consent: a customer stops marketing messages through WhatsApp (`user_preferences`
"stop"/"resume") or by writing it in the chat ("BAJA", "no me escriban más"...). Nothing marked
marketing may go to an opted-out customer: the templates work asks `may_send_marketing(contact)`.
A customer who opts out in the chat is told so once.

Blocking: a seller blocks a contact; the bot and the jobs stay out of that chat, the customer's
messages are still stored and shown.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.chats import identity, messages
from s7.domain.chats.audit import audit, changed
from s7.domain.models import Contact, Conversation, User
from s7.domain.text_es import plain

# Whole-message commands ("BAJA", "stop") and phrases that say it anywhere in a short message.
OPT_OUT_COMMANDS = frozenset({"baja", "stop", "darme de baja", "dar de baja", "unsubscribe", "desuscribir", "basta"})
OPT_OUT_PHRASES = (
    r"\bno (me|nos) (escriban|escribas|manden|mandes|envien|envies|contacten|jodan) mas\b",
    r"\bno (quiero|queremos) (recibir )?mas (mensajes|promociones|promos|publicidad|ofertas)\b",
    r"\bdejen de (escribirme|mandarme|enviarme)\b",
    r"\b(dame|denme|darme) de baja\b",
    r"\bquiero (la|darme de) baja\b",
)
OPT_OUT_MAX_WORDS = 12
_PHRASES = re.compile("|".join(OPT_OUT_PHRASES))

OPT_OUT_REPLY = (
    "Listo, no te vamos a mandar más promociones. Si nos escribís, te seguimos atendiendo igual. "
    "Para volver a recibirlas, escribinos «ALTA»."
)
OPT_IN_COMMANDS = frozenset({"alta", "quiero recibir promociones", "volver a recibir promociones"})


def asks_to_opt_out(text: str | None) -> bool:
    """ "BAJA", "no me escriban más", "dejen de escribirme"... — not "¿bajan de precio?"."""
    said = plain(text or "")
    if not said or len(said.split()) > OPT_OUT_MAX_WORDS:
        return False
    return said in OPT_OUT_COMMANDS or _PHRASES.search(said) is not None


def asks_to_opt_in(text: str | None) -> bool:
    return plain(text or "") in OPT_IN_COMMANDS


def may_send_marketing(contact: Contact) -> bool:
    """False for an opted-out or blocked customer: no marketing template, promotion or campaign."""
    return contact.marketing_opt_out_at is None and contact.blocked_at is None


def bot_allowed(contact: Contact | None) -> bool:
    """The bot and the jobs stay out of a blocked customer's chat."""
    return contact is None or contact.blocked_at is None


# ---- opting out and in ---------------------------------------------------------------------------
def opt_out(
    session: Session, contact: Contact, *, source: str, at: datetime | None = None, detail: str | None = None
) -> bool:
    """Mark the contact opted out of marketing; False when it already was."""
    if contact.marketing_opt_out_at is not None:
        return False
    contact.marketing_opt_out_at, contact.marketing_opt_out_source = at or now(), source
    _audit_contact(session, contact, "marketing_opt_out", source=source, detail=detail)
    return True


def opt_in(session: Session, contact: Contact, *, source: str, detail: str | None = None) -> bool:
    if contact.marketing_opt_out_at is None:
        return False
    contact.marketing_opt_out_at, contact.marketing_opt_out_source = None, None
    _audit_contact(session, contact, "marketing_opt_in", source=source, detail=detail)
    return True


def on_customer_text(session: Session, conversation: Conversation, text: str | None) -> bool:
    """A customer's message that opts out (or back in) of marketing. True when the message was
    that and nothing else: the bot does not answer it as a question. The opt-out is confirmed to
    the customer once, ever (inside the 24-hour window, which their message just opened)."""
    contact = conversation.contact
    if asks_to_opt_in(text):
        opt_in(session, contact, source="chat")
        return False  # "alta" may also be a question for the bot; let it answer
    if not asks_to_opt_out(text):
        return False
    opt_out(session, contact, source="chat", detail=(text or "")[:80])
    if contact.opt_out_told_at is None and contact.blocked_at is None:
        contact.opt_out_told_at = now()
        with contextlib.suppress(messages.WindowClosed):
            messages.queue_outbound(session, conversation, author="system", text=OPT_OUT_REPLY)
    return True


def apply_preference(
    session: Session,
    *,
    phone: str | None,
    bsuid: str | None,
    value: str,
    at: datetime | None = None,
    detail: str | None = None,
) -> Contact | None:
    """WhatsApp's `user_preferences` webhook: "stop" or "resume" marketing messages."""
    contact = identity.find_contact(session, phone=phone, bsuid=bsuid)
    if contact is None:
        return None
    if value == "stop":
        opt_out(session, contact, source="whatsapp", at=at, detail=detail)
    elif value == "resume":
        opt_in(session, contact, source="whatsapp", detail=detail)
    return contact


# ---- blocking ------------------------------------------------------------------------------------
def block(session: Session, contact: Contact, user: User) -> bool:
    if contact.blocked_at is not None:
        return False
    contact.blocked_at, contact.blocked_by = now(), user.id
    _audit_contact(session, contact, "contact_blocked", user=user)
    return True


def unblock(session: Session, contact: Contact, user: User) -> bool:
    if contact.blocked_at is None:
        return False
    contact.blocked_at, contact.blocked_by = None, None
    _audit_contact(session, contact, "contact_unblocked", user=user)
    return True


def _audit_contact(
    session: Session, contact: Contact, action: str, *, user: User | None = None, **detail: object
) -> None:
    session.flush()
    conversation = contact.conversation
    actor = "customer" if user is None else ("admin" if user.role == "admin" else "seller")
    audit(session, conversation, action, actor=actor, user=user, **detail)
    if conversation is not None:
        changed(session, conversation)
