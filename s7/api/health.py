"""GET /healthz (the process is up) and GET /readyz (database reachable, schema at head): the
deploy's probes, about the process and the database only.

GET /api/health (admins): what the ordered core could not do — parked inbound items, webhook
events the parser could not read, sends Meta refused, the backlog — and the repairs for them
(retry, split again, raw body on demand), each audited."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from s7.api.conversations import ApiError
from s7.api.deps import api_admin, db_session
from s7.auth import CurrentUser
from s7.db import schema_at_head
from s7.domain import health
from s7.domain.reads import health as health_reads

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz() -> JSONResponse:
    try:
        at_head = schema_at_head()
    except Exception as exc:  # any failure to reach the database means "not ready"
        log.warning("readiness check failed: %s", exc.__class__.__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if not at_head:
        return JSONResponse({"status": "unavailable", "database": "schema not at head"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


# ---- /api/health (admins) -------------------------------------------------------------------------
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "Sin token, o token vencido"},
    403: {"model": ApiError, "description": "Solo para administradores"},
}
REPAIR_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ApiError, "description": "No existe (o ya se borró por antigüedad)"},
    409: {"model": ApiError, "description": "No está detenido ni falló: no hay nada que reintentar"},
    422: {"model": ApiError, "description": "Id inválido"},
}
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Db = Annotated[Session, Depends(db_session, scope="function")]  # committed before the answer
Admin = Annotated[CurrentUser, Depends(api_admin)]


class ParkedItemOut(BaseModel):
    id: int
    event_id: int
    chat_key: str
    kind: str
    error: str | None
    attempts: int
    at: str | None
    conversation_id: int | None
    customer: str | None


class FailedEventOut(BaseModel):
    id: int
    error: str | None
    received_at: str | None
    processed_at: str | None
    size: int


class FailedSendOut(BaseModel):
    id: int
    conversation_id: int
    customer: str | None
    kind: str
    text: str | None
    reason: str | None
    attempts: int
    at: str | None


class ParkedOut(BaseModel):
    count: int
    first_error: str | None
    recent: list[ParkedItemOut]


class FailedEventsOut(BaseModel):
    count: int
    first_error: str | None
    recent: list[FailedEventOut]


class FailedSendsOut(BaseModel):
    count: int
    first_error: str | None
    recent: list[FailedSendOut]


class BacklogOut(BaseModel):
    items_pending: int
    events_pending: int
    oldest_pending_at: str | None
    oldest_age_seconds: float | None


class HealthOut(BaseModel):
    parked: ParkedOut
    failed_events: FailedEventsOut
    failed_sends: FailedSendsOut
    backlog: BacklogOut
    checked_at: str


class RepairOut(BaseModel):
    id: int
    state: str


class RawBodyOut(BaseModel):
    id: int
    body: str  # exactly as Meta sent it: show it as text


@router.get("/api/health", response_model=HealthOut, responses=ERRORS)
def system_health(_admin: Admin, session: Db) -> dict[str, Any]:
    """Parked items, failed events and failed sends (count, first error, the most recent), and
    the backlog waiting to be applied."""
    return health_reads.system_health(session).as_dict()


@router.post("/api/health/items/{item_id}/retry", response_model=RepairOut, responses=REPAIR_ERRORS)
def retry_item(item_id: RowId, admin: Admin, session: Db) -> dict[str, Any]:
    """Put a parked inbound item back in its chat's lane (attempts from zero, due now)."""
    item = _repair(lambda: health.retry_parked_item(session, item_id, actor_id=admin.id))
    return {"id": item.id, "state": item.state}


@router.post("/api/health/events/{event_id}/resplit", response_model=RepairOut, responses=REPAIR_ERRORS)
def resplit_event(event_id: RowId, admin: Admin, session: Db) -> dict[str, Any]:
    """Parse a failed webhook event again from its raw body (applying is idempotent by wamid)."""
    event = _repair(lambda: health.resplit_event(session, event_id, actor_id=admin.id))
    return {"id": event.id, "state": event.state}


@router.post("/api/health/sends/{outbox_id}/retry", response_model=RepairOut, responses=REPAIR_ERRORS)
def retry_send(outbox_id: RowId, admin: Admin, session: Db) -> dict[str, Any]:
    """Send a failed message again (attempts from zero, due now; the send gate still applies)."""
    row = _repair(lambda: health.retry_failed_send(session, outbox_id, actor_id=admin.id))
    return {"id": row.id, "state": row.state}


@router.get("/api/health/events/{event_id}/body", response_model=RawBodyOut, responses=REPAIR_ERRORS)
def raw_body(event_id: RowId, admin: Admin, session: Db) -> dict[str, Any]:
    """The raw body of a stored webhook event (personal data: each read is audited)."""
    body = _repair(lambda: health.raw_body(session, event_id, actor_id=admin.id))
    return {"id": event_id, "body": body}


def _repair(action: Any) -> Any:
    try:
        return action()
    except health.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except health.NotRetryable as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except health.NotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None
