"""How a chat's episode ended: vendido (amount, optional SKUs), perdido (a reason) or sin resultado.

An *episode* is a stretch of a chat from its start (or the previous outcome) to the outcome a
seller records. Each outcome is its own row, so a customer who buys twice has two sales. Closing
an episode starts the next one fresh: the lead goes back to NONE and the intent score to 0, so a
second purchase is a second hot lead.

A chat's `outcome` (API) is the result of its last episode while the customer has not written
since; a new customer message opens a new episode and the outcome reads null again. Recording an
outcome on an episode that is still empty (nothing new from the customer since the last one)
corrects that last outcome instead of adding a second sale: a double click or a wrong button
never counts twice.

The lead's source, for the dashboard: `ad` when the episode started from a click-to-WhatsApp ad
(`note_ad_referral`), `bot` when the bot found the lead (it turned HOT or the customer asked the
bot for a person), otherwise `organic`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.chats.audit import actor_of, audit, changed
from s7.domain.chats.conversations import ConversationError, _held, get, held_by_other
from s7.domain.chats.leads import set_lead
from s7.domain.models import AuditEvent, Conversation, LostReason, Outcome, Product, User

RESULTS = {"won": "Vendido", "lost": "Perdido", "none": "Sin resultado"}
SOURCES = {"bot": "Bot", "ad": "Anuncio", "organic": "Orgánico"}
AMOUNT_MAX = Decimal("9999999999.99")
NOTE_MAX = 1000
REASON_MAX = 80
REASONS_MAX = 15
SKUS_MAX = 20
# Until an admin edits the list (the table is empty), sellers pick from these.
DEFAULT_REASONS = ("Precio", "Sin stock", "No respondió", "Compró en otro lado", "Otro")


@dataclass(frozen=True)
class Closed:
    outcome: Outcome
    corrected: bool  # True: the episode's previous outcome was replaced, not a new one added


# ---- the chat's current outcome --------------------------------------------------------------------


def outcome_of(conversation: Any) -> str | None:
    """won / lost / none for a chat whose last episode was closed and that stayed quiet since."""
    closed_at = conversation.last_outcome_at
    if conversation.last_outcome is None or closed_at is None:
        return None
    last_customer = conversation.last_customer_at
    return conversation.last_outcome if last_customer is None or last_customer <= closed_at else None


def episode_start(conversation: Conversation) -> datetime:
    return conversation.episode_started_at or conversation.created_at


# ---- closing an episode ----------------------------------------------------------------------------


def close_episode(
    session: Session,
    conversation_id: int,
    user: User,
    result: str,
    *,
    amount: Any = None,
    reason: str | None = None,
    skus: Iterable[str] = (),
    note: str | None = None,
) -> Closed:
    """Record how the current episode ended and start a fresh one (lead NONE, intent 0).

    Raises ConversationError with a sentence for the seller when the data does not fit the result
    (a sale without an amount, a loss without a reason from the list, an unknown SKU), and
    HeldByOther when another seller holds the chat (admins may always close).
    """
    if result not in RESULTS:
        raise ConversationError("El resultado tiene que ser won (vendido), lost (perdido) o none (sin resultado)")
    conversation = get(session, conversation_id, for_update=True)
    if user.role != "admin" and held_by_other(conversation, user.id):
        raise _held(session, conversation)
    fields = _validated(session, result, amount, reason, skus, note)
    at = now()
    previous = _open_correction(session, conversation)
    if previous is not None:
        for key, value in fields.items():
            setattr(previous, key, value)
        previous.user_id = user.id
        outcome, corrected = previous, True
    else:
        outcome = Outcome(
            conversation_id=conversation.id,
            user_id=user.id,
            source=lead_source(session, conversation),
            was_hot=conversation.hot_at is not None or conversation.lead in ("HOT", "HOT_LOST"),
            episode_started_at=episode_start(conversation),
            hot_at=conversation.hot_at,
            created_at=at,
            **fields,
        )
        session.add(outcome)
        corrected = False
    session.flush()
    audit(
        session,
        conversation,
        "outcome_corrected" if corrected else "outcome",
        actor=actor_of(user),
        user=user,
        outcome_id=outcome.id,
        result=result,
        amount=str(outcome.amount) if outcome.amount is not None else None,
        reason=outcome.reason,
    )
    if not corrected:
        _start_fresh_episode(session, conversation, user, at)
    conversation.last_outcome = result
    conversation.last_outcome_at = at if not corrected else conversation.last_outcome_at
    session.flush()
    changed(session, conversation)
    return Closed(outcome, corrected)


def _open_correction(session: Session, conversation: Conversation) -> Outcome | None:
    """The last outcome, if the episode it opened is still empty (the customer has not written)."""
    if outcome_of(conversation) is None:
        return None
    return session.scalar(
        select(Outcome).where(Outcome.conversation_id == conversation.id).order_by(Outcome.id.desc()).limit(1)
    )


def _start_fresh_episode(session: Session, conversation: Conversation, user: User, at: datetime) -> None:
    if conversation.lead != "NONE":
        set_lead(session, conversation, "NONE", actor=actor_of(user), user=user, reason="episodio cerrado")
    conversation.intent_score = 0
    conversation.hot_at = None
    conversation.awaiting_human_since = None
    conversation.auto_assigned_at = None
    conversation.episode_started_at = at


def _validated(
    session: Session, result: str, amount: Any, reason: str | None, skus: Iterable[str], note: str | None
) -> dict[str, Any]:
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise ConversationError(f"La nota es demasiado larga (máximo {NOTE_MAX} caracteres)")
    fields: dict[str, Any] = {"result": result, "amount": None, "skus": [], "reason": None, "note": note}
    if result == "won":
        fields["amount"] = parse_amount(amount)
        fields["skus"] = _known_skus(session, skus)
    elif result == "lost":
        fields["reason"] = _reason_from_list(session, reason)
    return fields


def parse_amount(value: Any) -> Decimal:
    """189999.5, "189999.50", "$ 189.999,50" → Decimal; a sale needs a positive amount."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConversationError("Para registrar una venta falta el monto")
    if isinstance(value, bool):
        raise ConversationError("El monto tiene que ser un número")
    if isinstance(value, str):
        text = value.strip().replace("$", "").replace(" ", "")
        if "," in text:  # local format: 189.999,50
            text = text.replace(".", "").replace(",", ".")
        value = text
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ConversationError("El monto tiene que ser un número") from None
    if not amount.is_finite() or amount <= 0 or amount > AMOUNT_MAX:
        raise ConversationError("El monto tiene que ser mayor que cero")
    return amount


def _known_skus(session: Session, skus: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(s.strip() for s in skus if s and s.strip()))
    if len(wanted) > SKUS_MAX:
        raise ConversationError(f"Hasta {SKUS_MAX} productos por venta")
    if not wanted:
        return []
    found = set(session.scalars(select(Product.sku).where(Product.sku.in_(wanted))))
    missing = [s for s in wanted if s not in found]
    if missing:
        raise ConversationError(f"No existe en el catálogo: {', '.join(missing[:3])}")
    return wanted


def _reason_from_list(session: Session, reason: str | None) -> str:
    label = " ".join((reason or "").split())
    if not label:
        raise ConversationError("Para marcarla como perdida elegí un motivo")
    for known in lost_reasons(session):
        if known.casefold() == label.casefold():
            return known
    raise ConversationError(f"«{label[:REASON_MAX]}» no está en la lista de motivos")


# ---- where the lead came from ------------------------------------------------------------------------


def note_ad_referral(session: Session, conversation: Conversation, referral: dict[str, Any]) -> None:
    """The customer arrived from a click-to-WhatsApp ad (Meta's `referral`): the episode's source."""
    keep = ("source_type", "source_id", "source_url", "headline", "ctwa_clid")
    audit(session, conversation, "ad_referral", actor="customer", **{k: referral.get(k) for k in keep})


def lead_source(session: Session, conversation: Conversation) -> str:
    actions = set(
        session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.conversation_id == conversation.id,
                AuditEvent.created_at >= episode_start(conversation),
                AuditEvent.action.in_(("ad_referral", "lead", "handoff_requested")),
                AuditEvent.actor.in_(("customer", "bot")),
            )
        )
    )
    if "ad_referral" in actions:
        return "ad"
    if actions & {"lead", "handoff_requested"} and (conversation.hot_at is not None or "handoff_requested" in actions):
        return "bot"
    return "organic"


# ---- the list of reasons ------------------------------------------------------------------------------


def lost_reasons(session: Session) -> list[str]:
    if session.scalar(select(LostReason.id).limit(1)) is None:
        return list(DEFAULT_REASONS)
    rows = session.scalars(select(LostReason.label).where(LostReason.active).order_by(LostReason.position))
    return list(rows)


def save_lost_reasons(session: Session, labels: Iterable[str], *, actor_user: User) -> list[str]:
    """Replace the list (admins). Removed labels are kept inactive: old outcomes still name them."""
    if actor_user.role != "admin":
        raise ConversationError("Solo un admin puede cambiar la lista de motivos")
    wanted: list[str] = []
    for raw in labels:
        label = " ".join((raw or "").split())
        if not label:
            continue
        if len(label) > REASON_MAX:
            raise ConversationError(f"Un motivo tiene como máximo {REASON_MAX} caracteres")
        if label.casefold() not in (w.casefold() for w in wanted):
            wanted.append(label)
    if not wanted:
        raise ConversationError("La lista necesita al menos un motivo")
    if len(wanted) > REASONS_MAX:
        raise ConversationError(f"Como máximo {REASONS_MAX} motivos: una lista corta se elige rápido")
    existing = {r.label.casefold(): r for r in session.scalars(select(LostReason))}
    for row in existing.values():
        row.active = False
    for position, label in enumerate(wanted):
        row = existing.get(label.casefold())
        if row is None:
            session.add(LostReason(label=label, position=position, active=True))
        else:
            row.label, row.position, row.active = label, position, True
    session.flush()
    audit(session, None, "lost_reasons", actor="admin", user=actor_user, labels=wanted)
    return wanted
