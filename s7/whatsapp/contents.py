"""Typed message content → the row the panel shows (`Message.type`, text, options, media) and the
message-level facts WhatsApp adds around it (`Message.extra`: forwarded, group, ad, errors).

Every kind becomes something a seller can read: Flows and address answers as "campo: valor"
lines, WhatsApp's identity notices in Spanish, unknown kinds as "no soportado" — never dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from s7.domain.chats.identity import notice_text
from s7.whatsapp import updates as up

FLOW_FIELDS_MAX = 30
FLOW_VALUE_MAX = 300
HIDDEN_FLOW_KEYS = frozenset({"flow_token", "saved_address_id"})

Described = tuple[str, str | None, list[dict[str, str]] | None, dict[str, Any] | None]


def describe(content: up.Content) -> Described:
    """Typed content → (Message.type, text, options, media). A selection keeps what was chosen
    in `options` ([{id, title}]): the bot reads the id, the panel shows the title."""
    if isinstance(content, up.Text):
        return "text", content.body, None, None
    if isinstance(content, up.ButtonReply):
        return "button_reply", content.title, [{"id": content.id, "title": content.title}], None
    if isinstance(content, up.ListReply):
        option = {"id": content.id, "title": content.title}
        if content.description:
            option["description"] = content.description
        return "list_reply", content.title, [option], None
    if isinstance(content, up.TemplateButton):
        return "quick_reply", content.text, [{"id": content.payload, "title": content.text}], None
    if isinstance(content, up.Media):
        return content.kind, content.caption, None, media_of(content)
    if isinstance(content, up.Location):
        label = " · ".join(p for p in (content.name, content.address) if p) or None
        media = {
            "latitude": content.latitude,
            "longitude": content.longitude,
            "name": content.name,
            "address": content.address,
            "url": content.url,
        }
        return "location", label, None, _compact(media)
    if isinstance(content, up.SharedContacts):
        names = [str((card.get("name") or {}).get("formatted_name") or "") for card in content.cards]
        return "contacts", ", ".join(n for n in names if n) or None, None, {"contacts": list(content.cards)}
    if isinstance(content, up.Order):
        return "order", content.text, None, {"catalog_id": content.catalog_id, "items": list(content.items)}
    if isinstance(content, up.System):
        media = {
            "system_type": content.system_type,
            "new_wa_id": content.new_wa_id,
            "user_id": content.user_id,
            "previous_user_id": content.previous_user_id,
            "body": content.body,
        }
        return "system", notice_text(new_phone=content.new_wa_id, new_bsuid=content.user_id), None, _compact(media)
    if isinstance(content, up.FlowReply):
        return _flow(content)
    if isinstance(content, up.RequestWelcome):
        return "request_welcome", "Abrió el chat por primera vez", None, None
    if isinstance(content, up.CallPermissionReply):
        text = "Aceptó que lo llamemos" if content.accepted else "No aceptó que lo llamemos"
        if content.accepted and content.permanent:
            text += " (sin vencimiento)"
        media = {
            "accepted": content.accepted,
            "permanent": content.permanent,
            "expires_at": content.expires_at.isoformat() if content.expires_at else None,
            "source": content.source,
        }
        return "call_permission", text, None, _compact(media)
    if isinstance(content, up.Unsupported):
        errors = [e.describe() for e in content.errors]
        return "unsupported", None, None, {"unsupported_type": content.type, "errors": errors}
    # Reaction / Edit / Revoke never become rows of their own (the processor applies them).
    return "unsupported", None, None, {"unsupported_type": type(content).__name__}


def media_of(content: up.Media) -> dict[str, Any]:
    media: dict[str, Any] = {
        "id": content.media_id,
        "mime_type": content.mime_type,
        "sha256": content.sha256,
        "caption": content.caption,
        "filename": content.filename,
        "url": content.url,
    }
    if content.voice:
        media["voice"] = True
    if content.animated:
        media["animated"] = True
    return _compact(media)


def extra_of(update: up.CustomerMessage) -> dict[str, Any] | None:
    """What WhatsApp says about a customer's message beyond its content (None when nothing)."""
    extra: dict[str, Any] = {}
    if update.forwarded:
        extra["forwarded"] = "frequently" if update.frequently_forwarded else True
    if update.group_id:
        extra["group_id"] = update.group_id
    if update.referral is not None:
        extra["referral"] = referral_of(update.referral)
    if update.errors:
        extra["errors"] = [e.describe() for e in update.errors]
    return extra or None


def referral_of(referral: up.Referral) -> dict[str, Any]:
    return _compact(dataclasses.asdict(referral))


def _flow(content: up.FlowReply) -> Described:
    kind = "address" if content.name == "address_message" else "flow_reply"
    response = content.response
    if kind == "address" and response is not None and isinstance(response.get("values"), dict):
        response = response["values"]
    lines = flow_lines(response) if response is not None else []
    if lines:
        text = "\n".join(f"{label}: {value}" for label, value in lines)
    else:
        text = content.body or ("Dirección enviada" if kind == "address" else "Formulario enviado")
    media = {"flow_name": content.name, "body": content.body, "fields": [list(pair) for pair in lines]}
    if content.response is None:
        media["unreadable_response"] = content.raw_response  # kept for a person to read, never lost
    return kind, text, None, _compact(media)


def flow_lines(response: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A Flow's answer as (label, value) pairs a seller can read: `talle_calzado: "42"` →
    ("Talle calzado", "42"); booleans sí/no, lists joined, nested objects flattened."""
    lines: list[tuple[str, str]] = []
    for key, value in response.items():
        if key in HIDDEN_FLOW_KEYS or value in (None, "", [], {}):
            continue
        label = (prefix + " › " if prefix else "") + str(key).replace("_", " ").strip().capitalize()
        if isinstance(value, dict):
            lines.extend(flow_lines(value, label))
        else:
            lines.append((label[:80], _flow_value(value)))
        if len(lines) >= FLOW_FIELDS_MAX:
            break
    return lines[:FLOW_FIELDS_MAX]


def _flow_value(value: Any) -> str:
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, list):
        return ", ".join(_flow_value(v) for v in value)[:FLOW_VALUE_MAX]
    return str(value)[:FLOW_VALUE_MAX]


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
