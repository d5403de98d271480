"""/api/me: the caller's own state. Availability drives auto-assignment (AUTO_ASSIGN).

GET  /api/me/availability
POST /api/me/availability   {"available": true|false}
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from s7.api.conversations import ERRORS, Db, Me, _me
from s7.api.deps import api_user
from s7.domain.chats import assignment

router = APIRouter(prefix="/api/me", tags=["me"], dependencies=[Depends(api_user)], responses=ERRORS)


class AvailabilityIn(BaseModel):
    available: bool


class AvailabilityOut(BaseModel):
    available: bool = Field(description="tu interruptor: disponible / ausente")
    connected: bool = Field(description="tenés el panel abierto (dentro de AVAILABILITY_GRACE_MINUTES)")
    effective: bool = Field(description="te pueden llegar chats por asignación automática")
    panel_seen_at: datetime | None


def _out(state: assignment.Availability) -> AvailabilityOut:
    return AvailabilityOut(
        available=state.available,
        connected=state.connected,
        effective=state.effective,
        panel_seen_at=state.panel_seen_at,
    )


@router.get("/availability", response_model=AvailabilityOut, summary="Tu disponibilidad")
def get_availability(current: Me, session: Db) -> AvailabilityOut:
    return _out(assignment.availability(session, _me(session, current).id))


@router.post("/availability", response_model=AvailabilityOut, summary="Disponible o ausente")
def set_availability(body: AvailabilityIn, current: Me, session: Db) -> AvailabilityOut:
    return _out(assignment.set_available(session, _me(session, current), body.available))
