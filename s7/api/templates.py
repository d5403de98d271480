"""/api/templates: the WABA's message templates as last synced; sync now (admins); choose the
template each follow-up job sends outside the 24-hour window (admins). Sending one to a customer
is `POST /api/conversations/{id}/messages` with `{"template": {...}}`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from s7.api.conversations import ERRORS, ApiError
from s7.api.deps import api_admin, api_user, db_session
from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain.chats import templates
from s7.whatsapp import templates as template_sync

router = APIRouter(prefix="/api/templates", tags=["templates"], dependencies=[Depends(api_user)], responses=ERRORS)
Db = Annotated[Session, Depends(db_session, scope="function")]


class TemplateOut(BaseModel):
    id: int
    name: str
    language: str
    status: str
    category: str | None
    header: str | None
    body: str
    footer: str | None
    buttons: list[str]
    params: int = Field(description="cuántas variables tiene el cuerpo (se completan en orden)")
    variables: list[str]
    use_for: str | None


class SyncOut(BaseModel):
    added: int
    updated: int
    removed: int
    approved: int


class UseIn(BaseModel):
    use: Literal["hot_lost", "after_hours"]
    template_id: int | None = Field(None, ge=1, le=2**31 - 1, description="null: ese seguimiento no usa plantilla")


def _out(t: templates.TemplateView) -> TemplateOut:
    return TemplateOut(
        id=t.id,
        name=t.name,
        language=t.language,
        status=t.status,
        category=t.category,
        header=t.header,
        body=t.body,
        footer=t.footer,
        buttons=t.buttons,
        params=len(t.variables),
        variables=t.variables,
        use_for=t.use_for,
    )


@router.get("", response_model=list[TemplateOut], summary="Plantillas (aprobadas, o todas)")
def list_templates(
    session: Db, all: bool = Query(False, description="también las pausadas, rechazadas o en revisión")
) -> list[TemplateOut]:
    return [_out(t) for t in templates.list_templates(session, approved_only=not all)]


@router.post(
    "/sync",
    response_model=SyncOut,
    summary="Sincronizar las plantillas con Meta (admins)",
    responses={502: {"model": ApiError, "description": "Meta no devolvió las plantillas (el motivo de Meta)"}},
)
async def sync_templates(_admin: Annotated[CurrentUser, Depends(api_admin)]) -> SyncOut:
    try:
        report = await run_in_threadpool(template_sync.sync)
    except template_sync.TemplateSyncError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc)) from None
    return SyncOut(added=report.added, updated=report.updated, removed=report.removed, approved=report.approved)


@router.post("/use", response_model=list[TemplateOut], summary="Elegir la plantilla de un seguimiento (admins)")
def choose_for_job(body: UseIn, _admin: Annotated[CurrentUser, Depends(api_admin)]) -> list[TemplateOut]:
    try:
        with session_scope() as session:
            templates.choose_for_job(session, body.template_id, body.use)
    except templates.TemplateRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    with session_scope() as session:
        return [_out(t) for t in templates.list_templates(session)]
