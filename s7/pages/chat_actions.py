"""What the inbox's buttons do: one short transaction each, calling the domain.

Blocking (sync SQLAlchemy): pages call these through `layout.io`. Errors the seller must see
come back as `ActionRefused` with a Spanish sentence; everything else is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain.chats import conversations
from s7.domain.models import User
from s7.domain.reads import inbox as inbox_queries


class ActionRefused(Exception):
    """The seller asked for something the chat's state does not allow; the text says why."""


def _user(session, current: CurrentUser) -> User:  # type: ignore[no-untyped-def]
    user = session.get(User, current.id)
    if user is None or not user.active:
        raise ActionRefused("Tu usuario ya no está activo.")
    return user


def _held(error: conversations.HeldByOther) -> ActionRefused:
    return ActionRefused(f"Este chat lo tiene {error.holder_name}.")


def send(conversation_id: int, current: CurrentUser, text: str) -> None:
    """Send as the seller: the chat is taken over in the same transaction (rule 1), and nothing
    is taken over if WhatsApp would refuse the message (closed window, too long)."""
    text = text.strip()
    if not text:
        return
    _as_seller(current, lambda session, user: conversations.send_seller_message(session, conversation_id, user, text))


def send_file(
    conversation_id: int, current: CurrentUser, data: bytes, mime_type: str, filename: str, caption: str
) -> None:
    """A photo, document or audio from the composer: the same takeover and send path as text."""
    from s7.domain.media import outbound

    def queue(session: Session, user: User) -> Any:
        return conversations.seller_sends(
            session,
            conversation_id,
            user,
            lambda chat: outbound.queue_attachment(
                session,
                chat,
                author="seller",
                data=data,
                mime_type=mime_type,
                filename=filename,
                caption=caption,
                user_id=user.id,
            ),
        )

    _as_seller(current, queue)


def send_template(conversation_id: int, current: CurrentUser, name: str, language: str, params: list[str]) -> None:
    """An approved template, also outside the 24-hour window: a takeover like any seller message."""
    from s7.domain.chats import templates

    def queue(session: Session, user: User) -> Any:
        return conversations.seller_sends(
            session,
            conversation_id,
            user,
            lambda chat: templates.queue_template(
                session, chat, author="seller", name=name, language=language, params=params, user_id=user.id
            ),
            needs_window=False,
        )

    _as_seller(current, queue)


def choose_job_template(current: CurrentUser, use: str, template_id: int | None) -> None:
    """Admins: the template a follow-up job sends when the customer's window is closed."""
    from s7.domain.chats import templates

    try:
        with session_scope() as session:
            user = _user(session, current)
            if user.role != "admin":
                raise ActionRefused("Solo un admin elige las plantillas de los seguimientos.")
            templates.choose_for_job(session, template_id, use)
    except templates.TemplateRefused as error:
        raise ActionRefused(str(error)) from None


def load_templates() -> list[Any]:
    from s7.domain.chats import templates

    with session_scope() as session:
        return templates.list_templates(session)


def _as_seller(current: CurrentUser, action: Callable[[Session, User], Any]) -> None:
    """Run a seller's send in one transaction; the domain's refusals become `ActionRefused`."""
    from s7.domain.chats import messages

    try:
        with session_scope() as session:
            action(session, _user(session, current))
    except conversations.HeldByOther as error:
        raise _held(error) from None
    except messages.WindowClosed as error:
        raise ActionRefused(error.user_message) from None
    except (messages.InvalidMessage, conversations.ConversationError) as error:
        raise ActionRefused(str(error)) from None


def take(conversation_id: int, current: CurrentUser) -> None:
    try:
        with session_scope() as session:
            conversations.takeover(session, conversation_id, _user(session, current))
    except conversations.HeldByOther as error:
        raise _held(error) from None


def release(conversation_id: int, current: CurrentUser) -> None:
    try:
        with session_scope() as session:
            conversations.release_to_bot(session, conversation_id, actor_user=_user(session, current))
    except conversations.HeldByOther as error:
        raise ActionRefused(f"Solo {error.holder_name} o un admin pueden devolverlo al bot.") from None


def assign(conversation_id: int, current: CurrentUser, user_id: int | None) -> None:
    try:
        with session_scope() as session:
            conversations.assign(session, conversation_id, user_id, actor_user=_user(session, current))
    except conversations.HeldByOther as error:
        raise ActionRefused(f"Este chat lo tiene {error.holder_name}: solo un admin puede reasignarlo.") from None
    except conversations.ConversationError as error:
        raise ActionRefused(str(error)) from None


def add_note(conversation_id: int, current: CurrentUser, text: str) -> None:
    from s7.domain.chats import teamwork

    try:
        with session_scope() as session:
            teamwork.add_note(session, conversation_id, _user(session, current), text)
    except conversations.ConversationError as error:
        raise ActionRefused(str(error)) from None


def seen(conversation_id: int, current: CurrentUser) -> None:
    from s7.domain.chats import assignment

    with session_scope() as session:
        inbox_queries.mark_seen(session, conversation_id, current.id)
        assignment.opened(session, conversation_id, current.id)  # an auto-assigned chat is now theirs


def close_episode(
    conversation_id: int,
    current: CurrentUser,
    result: str,
    amount: str | None = None,
    reason: str | None = None,
    skus: str = "",
    note: str | None = None,
) -> str:
    """Record how this episode ended; returns the sentence to show."""
    from s7.domain.chats import outcomes

    try:
        with session_scope() as session:
            closed = outcomes.close_episode(
                session,
                conversation_id,
                _user(session, current),
                result,
                amount=amount,
                reason=reason,
                skus=[s for s in skus.replace(";", ",").split(",")],
                note=note,
            )
    except conversations.HeldByOther as error:
        raise _held(error) from None
    except conversations.ConversationError as error:
        raise ActionRefused(str(error)) from None
    label = outcomes.RESULTS[result].lower()
    if closed.corrected:
        return f"Corregido: el episodio quedó como {label}."
    return f"Listo: {label}. Si el cliente vuelve a escribir, empieza un episodio nuevo."


def remind(conversation_id: int, current: CurrentUser, when: str, note: str | None = None) -> str:
    from s7.domain.chats import reminders
    from s7.pages.inbox_format import local_time

    try:
        with session_scope() as session:
            due = reminders.parse_when(when)
            reminders.schedule(session, conversation_id, _user(session, current), due, note)
    except conversations.ConversationError as error:
        raise ActionRefused(str(error)) from None
    return f"Te lo recuerdo {local_time(due)}: el chat va a volver arriba de tu lista."


def lost_reasons() -> list[str]:
    from s7.domain.chats import outcomes

    with session_scope() as session:
        return outcomes.lost_reasons(session)


def quick_reply_matches(current: CurrentUser, query: str) -> list[tuple[int, str, str]]:
    """(id, shortcut, text) of the seller's quick replies matching what follows the `/`."""
    from s7.domain.chats import quick_replies

    with session_scope() as session:
        return [(r.id, r.shortcut, r.text) for r in quick_replies.available(session, current.id, query, limit=8)]


def quick_reply_text(conversation_id: int, current: CurrentUser, reply_id: int) -> str:
    """The reply's text with this chat's variables filled (what cannot be filled left out)."""
    from s7.domain.chats import quick_replies

    with session_scope() as session:
        user = _user(session, current)
        found = [r for r in quick_replies.available(session, user.id, limit=500) if r.id == reply_id]
        if not found:
            raise ActionRefused("Esa respuesta rápida ya no existe.")
        return quick_replies.fill(found[0].text, quick_replies.context_for(session, conversation_id, user))


def here(current: CurrentUser) -> bool:
    """Heartbeat of an open inbox tab; returns the seller's own availability switch."""
    from s7.domain.chats import assignment

    with session_scope() as session:
        assignment.panel_seen(session, current.id)
        return assignment.availability(session, current.id).available


def set_available(current: CurrentUser, available: bool) -> None:
    from s7.domain.chats import assignment

    with session_scope() as session:
        assignment.set_available(session, _user(session, current), available)


def transfer(conversation_id: int, current: CurrentUser, to_user_id: int, note: str = "") -> None:
    from s7.domain.chats import teamwork

    try:
        with session_scope() as session:
            teamwork.transfer(session, conversation_id, _user(session, current), to_user_id, note)
    except conversations.HeldByOther as error:
        raise ActionRefused(f"Este chat lo tiene {error.holder_name}: solo un admin puede pasarlo.") from None
    except conversations.ConversationError as error:
        raise ActionRefused(str(error)) from None


def send_product(conversation_id: int, current: CurrentUser, sku: str) -> None:
    """A product card from the composer, built by the bot's own card function, sent as the seller;
    the product becomes the one under discussion (quick replies' {producto} / {precio})."""
    from s7.domain.bot import cards

    def queue(session: Session, user: User) -> Any:
        def card(chat: Any) -> Any:
            message = cards.queue_product_card(session, chat, sku, author="seller", user_id=user.id)
            chat.bot_state = {**(chat.bot_state or {}), "focus": sku}  # a new dict: JSON tracks assignment
            return message

        return conversations.seller_sends(session, conversation_id, user, card)

    _as_seller(current, queue)
