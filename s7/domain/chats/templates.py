"""Approved WhatsApp message templates: the one kind of message WhatsApp takes outside the
24-hour window. Synced from the WABA (`s7.whatsapp.templates`), chosen by a seller (a takeover
like any seller message) or by a job (the chat stays the bot's, behind the send gate).

`params` fill the body's variables in order ({{1}}, {{2}}… or named ones in the order they
appear); an optional `components` list (header or button parameters) passes through as given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.chats import consent, messages
from s7.domain.models import TEMPLATE_USES, Conversation, Message, MessageTemplate

APPROVED = "APPROVED"
PARAM_MAX = 1024  # WhatsApp's limit for one body parameter
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
STATUS_LABEL = {
    "APPROVED": "aprobada",
    "PAUSED": "pausada por Meta",
    "REJECTED": "rechazada",
    "PENDING": "en revisión",
    "DISABLED": "deshabilitada",
}
USE_LABEL = {"hot_lost": "seguimiento de leads calientes (HOT_LOST)", "after_hours": "seguimiento fuera de horario"}


class TemplateRefused(messages.InvalidMessage):
    """The template cannot be sent as asked (unknown, not approved, wrong number of values)."""


@dataclass(frozen=True)
class TemplateView:
    id: int
    name: str
    language: str
    status: str
    category: str | None
    header: str | None
    body: str
    footer: str | None
    buttons: list[str]
    variables: list[str]  # as written in the body, in order: ["1", "2"] or ["nombre", ...]
    use_for: str | None

    @property
    def approved(self) -> bool:
        return self.status == APPROVED

    def render(self, params: list[str]) -> str:
        return render_body(self.body, self.variables, params)


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    removed: int
    approved: int


# ---- reading the components ----------------------------------------------------------------
def _component(components: Iterable[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((c for c in components if isinstance(c, dict) and str(c.get("type", "")).upper() == kind), None)


def variables_of(body: str) -> list[str]:
    seen: list[str] = []
    for name in _VARIABLE.findall(body):
        if name not in seen:
            seen.append(name)
    return seen


def render_body(body: str, variables: list[str], params: list[str]) -> str:
    values = dict(zip(variables, params, strict=False))
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def view(row: MessageTemplate) -> TemplateView:
    components = list(row.components or [])
    header = _component(components, "HEADER")
    body = str((_component(components, "BODY") or {}).get("text") or "")
    footer = _component(components, "FOOTER")
    buttons_component = _component(components, "BUTTONS") or {}
    buttons = [str(b.get("text") or "") for b in buttons_component.get("buttons") or [] if isinstance(b, dict)]
    return TemplateView(
        id=row.id,
        name=row.name,
        language=row.language,
        status=row.status,
        category=row.category,
        header=str(header.get("text"))
        if header and header.get("format", "TEXT") == "TEXT" and header.get("text")
        else None,
        body=body,
        footer=str(footer.get("text")) if footer and footer.get("text") else None,
        buttons=[b for b in buttons if b],
        variables=variables_of(body),
        use_for=row.use_for,
    )


def _text_header(header: dict[str, Any] | None) -> str | None:
    if header and str(header.get("format") or "TEXT").upper() == "TEXT" and header.get("text"):
        return str(header["text"])
    return None


# ---- sync ----------------------------------------------------------------------------------
def replace_synced(session: Session, fetched: list[dict[str, Any]]) -> SyncReport:
    """Make the table what Meta says the WABA has: upsert by (name, language), drop the rest.
    An admin's choice of template for a job survives a re-sync."""
    existing = {(t.name, t.language): t for t in session.scalars(select(MessageTemplate))}
    seen: set[tuple[str, str]] = set()
    added = updated = 0
    at = now()
    for item in fetched:
        name, language = str(item.get("name") or "")[:512], str(item.get("language") or "")[:16]
        if not name or not language or (name, language) in seen:
            continue
        seen.add((name, language))
        values = {
            "status": str(item.get("status") or "PENDING")[:32].upper(),
            "category": (str(item.get("category"))[:32] if item.get("category") else None),
            "components": [c for c in item.get("components") or [] if isinstance(c, dict)],
            "synced_at": at,
        }
        row = existing.get((name, language))
        if row is None:
            session.add(MessageTemplate(name=name, language=language, **values))
            added += 1
        else:
            changed = any(getattr(row, k) != v for k, v in values.items() if k != "synced_at")
            for key, value in values.items():
                setattr(row, key, value)
            updated += int(changed)
    gone = [t.id for key, t in existing.items() if key not in seen]
    if gone:
        session.execute(delete(MessageTemplate).where(MessageTemplate.id.in_(gone)))
    session.flush()
    approved_count = sum(1 for item in fetched if str(item.get("status") or "").upper() == APPROVED)
    return SyncReport(added, updated, len(gone), approved_count)


def list_templates(session: Session, *, approved_only: bool = True) -> list[TemplateView]:
    statement = select(MessageTemplate).order_by(MessageTemplate.name, MessageTemplate.language)
    if approved_only:
        statement = statement.where(MessageTemplate.status == APPROVED)
    return [view(t) for t in session.scalars(statement)]


def choose_for_job(session: Session, template_id: int | None, use: str) -> None:
    """An admin picks the template a job sends outside the window (None: the job stays silent)."""
    if use not in TEMPLATE_USES:
        raise ValueError(f"use must be one of {TEMPLATE_USES}")
    for row in session.scalars(select(MessageTemplate).where(MessageTemplate.use_for == use)):
        row.use_for = None
    if template_id is not None:
        row = session.get(MessageTemplate, template_id)
        if row is None or row.status != APPROVED:
            raise TemplateRefused("Esa plantilla no existe o no está aprobada")
        if len(view(row).variables) > 1:
            raise TemplateRefused(
                "Para los seguimientos automáticos elegí una plantilla con a lo sumo un dato (el nombre)"
            )
        row.use_for = use
    session.flush()


# ---- sending -------------------------------------------------------------------------------
def queue_template(
    session: Session,
    conversation: Conversation,
    *,
    author: str,
    name: str,
    language: str,
    params: list[str],
    components: list[dict[str, Any]] | None = None,
    user_id: int | None = None,
) -> Message:
    """Queue an approved template (inside or outside the 24-hour window)."""
    row = session.scalar(
        select(MessageTemplate).where(MessageTemplate.name == name, MessageTemplate.language == language)
    )
    if row is None:
        raise TemplateRefused(f"No hay una plantilla «{name}» ({language}): sincronizá las plantillas")
    template = view(row)
    if not template.approved:
        label = STATUS_LABEL.get(template.status, template.status.lower())
        raise TemplateRefused(f"La plantilla «{name}» está {label}: WhatsApp no la deja enviar")
    if (template.category or "").upper() == "MARKETING" and not consent.may_send_marketing(conversation.contact):
        raise TemplateRefused("Este cliente no quiere recibir promociones: no se le mandan plantillas de marketing")
    values = [" ".join(str(p).split()) for p in params]
    if len(values) != len(template.variables):
        raise TemplateRefused(f"La plantilla «{name}» pide {len(template.variables)} dato(s) y recibió {len(values)}")
    if any(not v for v in values) or any(len(v) > PARAM_MAX for v in values):
        raise TemplateRefused(f"Completá cada dato de la plantilla (hasta {PARAM_MAX} caracteres)")
    sent_components: list[dict[str, Any]] = []
    if values:
        named = not all(v.isdigit() for v in template.variables)
        parameters = [
            {"type": "text", "text": v, **({"parameter_name": n} if named else {})}
            for n, v in zip(template.variables, values, strict=True)
        ]
        sent_components.append({"type": "body", "parameters": parameters})
    sent_components.extend(c for c in components or [] if str(c.get("type", "")).lower() != "body")
    text = template.render(values)
    message = messages.new_outbound(
        session, conversation, author=author, kind="template", text=text, user_id=user_id, needs_window=False
    )
    payload = {"to": conversation.contact.wa_id, "name": name, "language": language, "components": sent_components}
    messages.send(session, conversation, message, payload)
    return message


def queue_for_job(session: Session, conversation: Conversation, use: str) -> Message | None:
    """The admin-chosen template for this job, as the bot (the chat stays the bot's; the send
    gate holds it if a seller takes the chat first). None when no template is chosen."""
    row = session.scalar(
        select(MessageTemplate).where(MessageTemplate.use_for == use, MessageTemplate.status == APPROVED)
    )
    if row is None:
        return None
    template = view(row)
    params = [conversation.contact.name or "¡hola!"] if template.variables else []
    return queue_template(
        session,
        conversation,
        author="bot",
        name=row.name,
        language=row.language,
        params=params[: len(template.variables)],
    )
