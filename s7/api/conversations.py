"""/api/conversations: list, read, write as a seller, take over, release, assign, notes.

Thin: parse → call `s7.domain.chats.conversations` → serialise. Every route needs a Bearer token
(`api_user`); sellers and admins see every chat of the store (a small shared inbox), and the
domain decides who may take, release or reassign what (409 naming who holds the chat).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from s7.api import outgoing
from s7.api.deps import api_user, db_session
from s7.auth import CurrentUser
from s7.domain import media
from s7.domain.bot import cards
from s7.domain.chats import assignment, audit, conversations, messages, outcomes, teamwork, templates
from s7.domain.media import outbound
from s7.domain.models import LEADS, MODES, Conversation, Message, Note, User
from s7.domain.reads import conversation_list


class ApiError(BaseModel):
    """Every refusal: a Spanish sentence, or FastAPI's list of field errors for a malformed request."""

    detail: str | list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "Sin token, o token vencido"},
    404: {"model": ApiError, "description": "No existe esa conversación"},
    409: {"model": ApiError, "description": "La tiene otro vendedor (X-Held-By), o la ventana de 24 h está cerrada"},
    422: {"model": ApiError, "description": "Datos inválidos (el detalle dice cuál)"},
}
router = APIRouter(
    prefix="/api/conversations", tags=["conversations"], dependencies=[Depends(api_user)], responses=ERRORS
)

# Commit before the response goes out: a 200 means it happened (the default "request" scope
# would commit after sending, so a client's next call could miss it).
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[CurrentUser, Depends(api_user)]
INT32_MAX = 2**31 - 1  # ids are 32-bit integers in the database: bigger ones are simply not found
ConversationId = Annotated[int, Path(ge=1, le=INT32_MAX)]


# ---- resources ---------------------------------------------------------------------------------


class ContactOut(BaseModel):
    """Who the customer is for WhatsApp; any may be null (a username-only customer has no phone)."""

    phone: str | None
    bsuid: str | None
    username: str | None


class ConversationOut(BaseModel):
    id: int
    wa_id: str | None
    name: str | None
    contact: ContactOut
    mode: str
    lead: str
    intent_score: int
    assigned_to: int | None
    unread: int
    last_message_at: datetime | None
    window_open: bool
    outcome: Literal["won", "lost", "none"] | None = Field(
        None, description="cómo terminó el último episodio, mientras el cliente no volvió a escribir"
    )
    # more than the contract asks
    assigned_to_name: str | None
    human_source: str | None
    awaiting_human_since: datetime | None
    window_closes_at: datetime | None
    last_message_preview: str | None
    hot_at: datetime | None
    created_at: datetime


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    total: int
    limit: int
    offset: int


class OptionOut(BaseModel):
    id: str
    title: str
    description: str | None = None


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    wa_message_id: str | None
    direction: str
    author: str
    author_user_id: int | None
    type: str
    text: str | None
    options: list[OptionOut]
    status: str
    error: str | None
    created_at: datetime
    context_wa_id: str | None
    reaction: str | None
    media: dict[str, Any] | None
    edited: bool
    revoked: bool
    media_url: str | None = Field(None, description="`/media/{id}`: the file, for a session or a token")
    extra: dict[str, Any] | None = Field(
        None, description="what WhatsApp said around the message: forwarded, group_id, referral (the ad), errors"
    )


class MessagePage(BaseModel):
    items: list[MessageOut]
    has_more: bool


class NoteOut(BaseModel):
    id: int
    conversation_id: int
    author_user_id: int
    author_name: str | None
    text: str
    created_at: datetime


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    actor: str
    actor_user_id: int | None
    detail: dict[str, Any]
    created_at: datetime


class TextIn(BaseModel):
    text: str


class AssignIn(BaseModel):
    user_id: int | None = Field(description="id del vendedor, o null para dejarla sin asignar")


class ReadOut(BaseModel):
    last_read_message_id: int | None


def _conversation_out(listed: conversation_list.ListedConversation) -> ConversationOut:
    c = listed.conversation
    return ConversationOut(
        id=c.id,
        wa_id=listed.wa_id,
        name=listed.name,
        contact=ContactOut(phone=listed.wa_id, bsuid=listed.bsuid, username=listed.username),
        mode=c.mode,
        lead=c.lead,
        intent_score=c.intent_score or 0,
        assigned_to=c.assigned_to,
        unread=listed.unread,
        last_message_at=c.last_message_at,
        window_open=messages.window_open(c),
        outcome=outcomes.outcome_of(c),  # type: ignore[arg-type]
        assigned_to_name=listed.assignee_name,
        human_source=c.human_source,
        awaiting_human_since=c.awaiting_human_since,
        window_closes_at=messages.window_closes_at(c),
        last_message_preview=c.last_message_preview,
        hot_at=c.hot_at,
        created_at=c.created_at,
    )


def _message_out(m: Message) -> MessageOut:
    out = MessageOut.model_validate(m)
    if m.type in media.MEDIA_KINDS:
        out.media_url = f"/media/{m.id}"
    return out.model_copy(update={"text": None}) if m.revoked else out  # deleted for everyone


def _note_out(n: Note) -> NoteOut:
    return NoteOut(
        id=n.id,
        conversation_id=n.conversation_id,
        author_user_id=n.author_user_id,
        author_name=n.author.name if n.author else None,
        text=n.text,
        created_at=n.created_at,
    )


# ---- helpers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _domain_errors() -> Iterator[None]:
    """Domain refusals → HTTP answers with the domain's Spanish message."""
    try:
        yield
    except conversations.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except conversations.HeldByOther as exc:
        headers = {"X-Held-By": str(exc.holder_id)} if exc.holder_id is not None else None
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc), headers=headers) from None
    except messages.WindowClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.user_message) from None
    except (conversations.ConversationError, messages.InvalidMessage) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None


def _me(session: Session, current: CurrentUser) -> User:
    user = session.get(User, current.id)
    if user is None:  # deleted between the token check and now
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Token inválido o vencido")
    return user


def _view(session: Session, current: CurrentUser, conversation_id: int) -> ConversationOut:
    with _domain_errors():
        return _conversation_out(conversation_list.one(session, current.id, conversation_id))


def _bad(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _filter(
    current: CurrentUser,
    mode: str | None,
    lead: str | None,
    assigned_to: str | None,
    q: str,
    mine: bool,
    unassigned: bool,
    unread: bool,
) -> conversation_list.ConversationFilter:
    if mode and mode not in MODES:
        raise _bad(f"mode: usá {' o '.join(MODES)}")
    leads = tuple(part.strip().upper() for part in (lead or "").split(",") if part.strip())
    if any(value not in LEADS for value in leads):
        raise _bad(f"lead: usá {', '.join(LEADS)} (podés separar varios con comas)")
    owner: int | None = current.id if mine else None
    if assigned_to:
        value = assigned_to.strip().lower()
        if value == "me":
            owner = current.id
        elif value == "none":
            unassigned = True
        elif value.isdigit():
            owner = int(value)
        else:
            raise _bad("assigned_to: usá el id de un usuario, «me» o «none»")
    if len(q) > conversation_list.Q_MAX:
        raise _bad(f"q: la búsqueda admite hasta {conversation_list.Q_MAX} caracteres")
    return conversation_list.ConversationFilter(
        mode=mode or None, leads=leads, assigned_to=owner, unassigned=unassigned, q=q, unread_only=unread
    )


# ---- routes ----------------------------------------------------------------------------------------


@router.get("", response_model=ConversationPage, summary="Listar conversaciones (filtros y páginas)")
def list_conversations(
    current: Me,
    session: Db,
    mode: str | None = Query(None, description="BOT_ON o HUMAN_TAKEOVER"),
    lead: str | None = Query(None, description="NONE, WARM, HOT, HOT_LOST; varios separados por comas"),
    assigned_to: str | None = Query(None, description="id de usuario, `me` (las mías) o `none` (sin asignar)"),
    q: str = Query("", description="nombre, teléfono o texto de un mensaje"),
    mine: bool = Query(False, description="atajo de assigned_to=me"),
    unassigned: bool = Query(False, description="atajo de assigned_to=none"),
    unread: bool = Query(False, description="solo las que tienen mensajes sin leer (para vos)"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> ConversationPage:
    wanted = _filter(current, mode, lead, assigned_to, q, mine, unassigned, unread)
    rows, total = conversation_list.list_conversations(session, current.id, wanted, limit=limit, offset=offset)
    return ConversationPage(items=[_conversation_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{conversation_id}", response_model=ConversationOut, summary="Una conversación")
def get_conversation(conversation_id: ConversationId, current: Me, session: Db) -> ConversationOut:
    return _view(session, current, conversation_id)


@router.get("/{conversation_id}/messages", response_model=MessagePage, summary="Mensajes (los más nuevos)")
def list_messages(
    conversation_id: ConversationId,
    current: Me,
    session: Db,
    limit: int = Query(50, ge=1, le=200),
    before_id: int | None = Query(None, ge=1, le=2**63 - 1, description="para ver más viejos: el primer id recibido"),
) -> MessagePage:
    with _domain_errors():
        conversations.get(session, conversation_id)
    rows, has_more = conversation_list.recent_messages(session, conversation_id, limit=limit, before_id=before_id)
    return MessagePage(items=[_message_out(m) for m in rows], has_more=has_more)


@router.post(
    "/{conversation_id}/messages",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    summary="Escribirle al cliente como vendedor (toma la conversación): texto o archivo",
    description=(
        'JSON `{"text"}`, or multipart/form-data with `file` (a photo, a PDF or other document, an '
        "audio, a video; WhatsApp's size limit per type) and an optional `caption`."
    ),
    openapi_extra={"requestBody": outgoing.OPENAPI_BODY},
    responses={413: {"model": ApiError, "description": "El archivo supera UPLOAD_MAX_MB"}},
)
def send_message(
    conversation_id: ConversationId,
    body: Annotated[outgoing.Outgoing, Depends(outgoing.parse)],
    current: Me,
    session: Db,
) -> MessageOut:
    me = _me(session, current)
    with _domain_errors():
        if body.text is not None:
            message = conversations.send_seller_message(session, conversation_id, me, body.text)
        else:
            queue, needs_window = _seller_queue(session, me, body)
            message = conversations.seller_sends(session, conversation_id, me, queue, needs_window=needs_window)
    return _message_out(message)


def _seller_queue(session: Session, me: User, body: outgoing.Outgoing) -> tuple[Any, bool]:
    """What to queue for a file, a template or a product card (the takeover is the caller's)."""
    if body.file is not None:
        attachment = body.file

        def queue_file(chat: Conversation) -> Message:
            return outbound.queue_attachment(
                session, chat, author="seller", user_id=me.id, caption=body.caption, **attachment.as_kwargs()
            )

        return queue_file, True
    if body.template is not None:
        template = body.template

        def queue_template(chat: Conversation) -> Message:
            return templates.queue_template(
                session,
                chat,
                author="seller",
                name=template.name,
                language=template.language,
                params=template.params,
                components=template.components,
                user_id=me.id,
            )

        return queue_template, False  # the one kind WhatsApp takes outside the 24-hour window
    sku = body.product_sku or ""

    def queue_card(chat: Conversation) -> Message:
        return cards.queue_product_card(session, chat, sku, author="seller", user_id=me.id)

    return queue_card, True


@router.post(
    "/{conversation_id}/takeover",
    response_model=ConversationOut,
    summary="Tomar la conversación (el bot se calla)",
)
def takeover(conversation_id: ConversationId, current: Me, session: Db) -> ConversationOut:
    with _domain_errors():
        conversations.takeover(session, conversation_id, _me(session, current))
    return _view(session, current, conversation_id)


@router.post("/{conversation_id}/release", response_model=ConversationOut, summary="Devolver la conversación al bot")
def release(conversation_id: ConversationId, current: Me, session: Db) -> ConversationOut:
    with _domain_errors():
        conversations.release_to_bot(session, conversation_id, actor_user=_me(session, current))
    return _view(session, current, conversation_id)


@router.post("/{conversation_id}/assign", response_model=ConversationOut, summary="Asignar a un vendedor (o a nadie)")
def assign(conversation_id: ConversationId, body: AssignIn, current: Me, session: Db) -> ConversationOut:
    if body.user_id is not None and not 1 <= body.user_id <= INT32_MAX:
        raise _bad("Ese usuario no existe o está desactivado")
    with _domain_errors():
        conversations.assign(session, conversation_id, body.user_id, actor_user=_me(session, current))
    return _view(session, current, conversation_id)


@router.post("/{conversation_id}/read", response_model=ReadOut, summary="Marcar como leída (para vos)")
def mark_read(conversation_id: ConversationId, current: Me, session: Db) -> ReadOut:
    with _domain_errors():
        conversations.get(session, conversation_id)
    assignment.opened(session, conversation_id, current.id)  # an auto-assigned chat is now theirs
    return ReadOut(last_read_message_id=conversations.mark_read(session, conversation_id, current.id))


@router.get("/{conversation_id}/notes", response_model=list[NoteOut], summary="Notas internas")
def list_notes(conversation_id: ConversationId, current: Me, session: Db) -> list[NoteOut]:
    with _domain_errors():
        conversations.get(session, conversation_id)
    return [_note_out(n) for n in conversations.notes(session, conversation_id)]


@router.post(
    "/{conversation_id}/notes",
    response_model=NoteOut,
    status_code=status.HTTP_201_CREATED,
    summary="Agregar una nota interna (nunca se envía al cliente)",
)
def add_note(conversation_id: ConversationId, body: TextIn, current: Me, session: Db) -> NoteOut:
    with _domain_errors():
        note = teamwork.add_note(session, conversation_id, _me(session, current), body.text)
    return _note_out(note)


@router.get("/{conversation_id}/audit", response_model=list[AuditOut], summary="Historial de cambios")
def audit_trail(conversation_id: ConversationId, current: Me, session: Db) -> list[AuditOut]:
    with _domain_errors():
        conversations.get(session, conversation_id)
    return [AuditOut.model_validate(event) for event in audit.trail(session, conversation_id)]


class TransferIn(BaseModel):
    user_id: int = Field(ge=1, le=INT32_MAX, description="a quién se la pasás")
    note: str = Field("", max_length=4000, description="por qué (queda como nota interna)")


@router.post(
    "/{conversation_id}/transfer",
    response_model=ConversationOut,
    summary="Pasarle la conversación a un compañero, con una nota",
)
def transfer(conversation_id: ConversationId, body: TransferIn, current: Me, session: Db) -> ConversationOut:
    with _domain_errors():
        teamwork.transfer(session, conversation_id, _me(session, current), body.user_id, body.note)
    return _view(session, current, conversation_id)
