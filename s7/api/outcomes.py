"""How episodes end and when to come back: outcomes, lost reasons, follow-up reminders.

    POST /api/conversations/{id}/outcome    {"result": "won"|"lost"|"none", "amount", "reason", "skus", "note"}
    GET  /api/conversations/{id}/outcomes   every episode's outcome, newest first
    POST /api/conversations/{id}/reminders  {"when": "mañana 10:00"} or {"due_at": ISO}, "note"
    GET  /api/lost-reasons                  the list sellers pick from
    PUT  /api/lost-reasons                  {"reasons": [...]} (admins)

Thin: parse → `s7.domain.chats.outcomes` / `reminders` → serialise.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.api.conversations import ERRORS, ConversationId, ConversationOut, Db, Me, _domain_errors, _me, _view
from s7.api.deps import api_admin, api_user, db_session
from s7.auth import CurrentUser
from s7.clock import as_utc
from s7.domain.chats import outcomes, reminders
from s7.domain.models import Outcome

router = APIRouter(prefix="/api", tags=["sales"], dependencies=[Depends(api_user)], responses=ERRORS)


class OutcomeIn(BaseModel):
    result: Literal["won", "lost", "none"]
    amount: Decimal | str | None = Field(None, description="monto de la venta (obligatorio si result=won)")
    reason: str | None = Field(None, max_length=200, description="motivo de la lista (obligatorio si result=lost)")
    skus: list[Annotated[str, Field(max_length=120)]] = Field(default_factory=list, max_length=50)
    note: str | None = Field(None, max_length=2000)


class OutcomeOut(BaseModel):
    id: int
    conversation_id: int
    result: str
    amount: Decimal | None
    skus: list[str]
    reason: str | None
    note: str | None
    source: str
    was_hot: bool
    user_id: int | None
    episode_started_at: datetime
    created_at: datetime


class ClosedOut(BaseModel):
    outcome: OutcomeOut
    corrected: bool = Field(description="true: corrigió el resultado del episodio en vez de sumar otro")
    conversation: ConversationOut


class ReminderIn(BaseModel):
    when: str | None = Field(None, max_length=60, description="«mañana 10:00», «en 2 horas», «viernes 9»…")
    due_at: datetime | None = None
    note: str | None = Field(None, max_length=400)


class ReminderOut(BaseModel):
    id: int
    conversation_id: int
    user_id: int
    due_at: datetime
    note: str | None


class ReasonsIn(BaseModel):
    reasons: list[Annotated[str, Field(max_length=200)]] = Field(max_length=50)


def _outcome_out(o: Outcome) -> OutcomeOut:
    return OutcomeOut(
        id=o.id,
        conversation_id=o.conversation_id,
        result=o.result,
        amount=o.amount,
        skus=list(o.skus or []),
        reason=o.reason,
        note=o.note,
        source=o.source,
        was_hot=o.was_hot,
        user_id=o.user_id,
        episode_started_at=o.episode_started_at,
        created_at=o.created_at,
    )


@router.post(
    "/conversations/{conversation_id}/outcome",
    response_model=ClosedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Cerrar el episodio: vendido, perdido o sin resultado",
)
def record_outcome(conversation_id: ConversationId, body: OutcomeIn, current: Me, session: Db) -> ClosedOut:
    with _domain_errors():
        closed = outcomes.close_episode(
            session,
            conversation_id,
            _me(session, current),
            body.result,
            amount=body.amount,
            reason=body.reason,
            skus=body.skus,
            note=body.note,
        )
    return ClosedOut(
        outcome=_outcome_out(closed.outcome),
        corrected=closed.corrected,
        conversation=_view(session, current, conversation_id),
    )


@router.get(
    "/conversations/{conversation_id}/outcomes", response_model=list[OutcomeOut], summary="Resultados por episodio"
)
def list_outcomes(conversation_id: ConversationId, current: Me, session: Db) -> list[OutcomeOut]:
    _view(session, current, conversation_id)
    rows = session.scalars(
        select(Outcome).where(Outcome.conversation_id == conversation_id).order_by(Outcome.id.desc()).limit(200)
    )
    return [_outcome_out(o) for o in rows]


@router.post(
    "/conversations/{conversation_id}/reminders",
    response_model=ReminderOut,
    status_code=status.HTTP_201_CREATED,
    summary="Recordatorio: la conversación vuelve arriba de tu lista a esa hora",
)
def add_reminder(conversation_id: ConversationId, body: ReminderIn, current: Me, session: Db) -> ReminderOut:
    with _domain_errors():
        if body.due_at is not None:
            if body.due_at.tzinfo is None:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="due_at necesita zona horaria")
            due = as_utc(body.due_at)
        else:
            due = reminders.parse_when(body.when or "")
        reminder = reminders.schedule(session, conversation_id, _me(session, current), due, body.note)  # type: ignore[arg-type]
    return ReminderOut(
        id=reminder.id,
        conversation_id=reminder.conversation_id,
        user_id=reminder.user_id,
        due_at=reminder.due_at,
        note=reminder.note,
    )


@router.get("/lost-reasons", response_model=list[str], summary="Motivos para una venta perdida")
def get_lost_reasons(session: Db) -> list[str]:
    return outcomes.lost_reasons(session)


@router.put("/lost-reasons", response_model=list[str], summary="Cambiar la lista de motivos (admins)")
def put_lost_reasons(
    body: ReasonsIn,
    admin: Annotated[CurrentUser, Depends(api_admin)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> list[str]:
    with _domain_errors():
        return outcomes.save_lost_reasons(session, body.reasons, actor_user=_me(session, admin))
