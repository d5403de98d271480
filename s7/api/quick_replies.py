"""/api/quick-replies: the saved answers a seller can insert (team-wide and their own).

GET    /api/quick-replies?q=&conversation_id=   usable replies, best match first; with a chat,
                                                each also comes `filled` for it
POST   /api/quick-replies                       {"shortcut", "text", "team": false}
PUT    /api/quick-replies/{id}                  {"shortcut", "text"}
DELETE /api/quick-replies/{id}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field

from s7.api.conversations import ERRORS, INT32_MAX, Db, Me, _domain_errors, _me
from s7.api.deps import api_user
from s7.domain.chats import quick_replies

router = APIRouter(
    prefix="/api/quick-replies", tags=["quick-replies"], dependencies=[Depends(api_user)], responses=ERRORS
)
ReplyId = Annotated[int, Path(ge=1, le=INT32_MAX)]


class QuickReplyIn(BaseModel):
    shortcut: str = Field(max_length=200, description="se usa como /atajo en el compositor")
    text: str = Field(max_length=8000, description="puede usar {nombre}, {vendedor}, {producto}, {precio}")
    team: bool = Field(False, description="para todo el equipo (solo admins); si no, personal")


class QuickReplyOut(BaseModel):
    id: int
    shortcut: str
    text: str
    personal: bool
    filled: str | None = Field(None, description="el texto listo para esa conversación (si se pidió)")


def _out(row: quick_replies.QuickReplyRow, filled: str | None = None) -> QuickReplyOut:
    return QuickReplyOut(id=row.id, shortcut=row.shortcut, text=row.text, personal=row.personal, filled=filled)


@router.get("", response_model=list[QuickReplyOut], summary="Respuestas rápidas que podés usar")
def list_quick_replies(
    current: Me,
    session: Db,
    q: str = Query("", max_length=100),
    conversation_id: int | None = Query(None, ge=1, le=INT32_MAX),
) -> list[QuickReplyOut]:
    rows = quick_replies.available(session, current.id, q)
    if conversation_id is None:
        return [_out(r) for r in rows]
    with _domain_errors():
        values = quick_replies.context_for(session, conversation_id, _me(session, current))
    return [_out(r, quick_replies.fill(r.text, values)) for r in rows]


@router.post("", response_model=QuickReplyOut, status_code=status.HTTP_201_CREATED, summary="Nueva respuesta rápida")
def create_quick_reply(body: QuickReplyIn, current: Me, session: Db) -> QuickReplyOut:
    with _domain_errors():
        return _out(quick_replies.save(session, _me(session, current), body.shortcut, body.text, team=body.team))


@router.put("/{reply_id}", response_model=QuickReplyOut, summary="Cambiar una respuesta rápida")
def update_quick_reply(reply_id: ReplyId, body: QuickReplyIn, current: Me, session: Db) -> QuickReplyOut:
    with _domain_errors():
        row = quick_replies.save(session, _me(session, current), body.shortcut, body.text, reply_id=reply_id)
    return _out(row)


@router.delete("/{reply_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Borrar una respuesta rápida")
def delete_quick_reply(reply_id: ReplyId, current: Me, session: Db) -> Response:
    with _domain_errors():
        quick_replies.delete(session, _me(session, current), reply_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
