"""Message templates at the edge: `GET /{WABA_ID}/message_templates` (all pages) → the domain's
table. Run from the panel's "sincronizar" button, `POST /api/templates/sync` and once a day by
the jobs. In sandbox a few demo templates stand in for a WABA's."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.config import get_settings
from s7.db import session_scope
from s7.domain.chats import templates
from s7.domain.models import JobClaim
from s7.whatsapp.graph import DEFAULT_TIMEOUT

log = logging.getLogger(__name__)

FIELDS = "name,status,language,category,components"
PAGE_LIMIT = 100
MAX_PAGES = 50  # 5000 templates: far above Meta's per-WABA limit; a loop guard, not a cap in practice

SANDBOX_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "seguimiento_consulta",
        "language": "es_AR",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hola {{1}}, te escribimos de la tienda por tu consulta sobre {{2}}. "
                "¿Seguís interesado/a? Respondé este mensaje y seguimos por acá.",
            },
            {"type": "FOOTER", "text": "Sector 7"},
        ],
    },
    {
        "name": "retomar_contacto",
        "language": "es_AR",
        "status": "APPROVED",
        "category": "MARKETING",
        "components": [
            {"type": "BODY", "text": "¡Hola {{1}}! ¿Pudiste ver lo que te mandamos? Respondé y te ayudamos."},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Sí, me interesa"}]},
        ],
    },
    {
        "name": "ya_abrimos",
        "language": "es_AR",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "¡Buen día! Ya abrimos. ¿Te ayudamos con tu consulta de ayer?"}],
    },
    {
        "name": "promo_noviembre",
        "language": "es_AR",
        "status": "PAUSED",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Promo de noviembre: 6 cuotas sin interés en zapatillas."}],
    },
]


class TemplateSyncError(Exception):
    """Meta did not give us the templates; the text says why (shown to the admin)."""


def fetch_all() -> list[dict[str, Any]]:
    """Every template of the WABA, following `paging.next` (blocking: call it off the loop)."""
    settings = get_settings()
    if settings.sandbox:
        return [dict(t) for t in SANDBOX_TEMPLATES]
    if not settings.WHATSAPP_BUSINESS_ACCOUNT_ID:
        raise TemplateSyncError("Falta WHATSAPP_BUSINESS_ACCOUNT_ID: sin él no podemos leer las plantillas")
    url: str | None = f"{settings.graph_root_url}/{settings.WHATSAPP_BUSINESS_ACCOUNT_ID}/message_templates"
    params: dict[str, Any] | None = {"fields": FIELDS, "limit": PAGE_LIMIT}
    headers = {"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"}
    found: list[dict[str, Any]] = []
    with httpx.Client(timeout=DEFAULT_TIMEOUT) as client:
        for _ in range(MAX_PAGES):
            if url is None:
                break
            try:
                response = client.get(url, params=params, headers=headers)
            except httpx.HTTPError as exc:
                raise TemplateSyncError(f"Error de red con la API de WhatsApp ({type(exc).__name__})") from exc
            body = _json(response)
            if response.status_code != 200 or "error" in body:
                error = body.get("error") if isinstance(body.get("error"), dict) else {}
                reason = error.get("message") or f"HTTP {response.status_code}"
                raise TemplateSyncError(f"Meta no devolvió las plantillas: ({error.get('code')}) {reason}")
            found.extend(t for t in body.get("data") or [] if isinstance(t, dict))
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            url, params = (str(paging["next"]), None) if paging.get("next") else (None, None)
    return found


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def sync() -> templates.SyncReport:
    """Fetch and store (the button and the API). Raises TemplateSyncError with Meta's reason."""
    fetched = fetch_all()
    with session_scope() as session:
        report = templates.replace_synced(session, fetched)
    log.info("templates synced: %s", report)
    return report


def daily_sync(session: Session, at: datetime) -> int:
    """The job: once a day per store (claimed, so replicas do not repeat it), when configured."""
    settings = get_settings()
    if not settings.sandbox and not settings.WHATSAPP_BUSINESS_ACCOUNT_ID:
        return 0
    day = at.date().isoformat()
    if session.scalar(select(JobClaim.id).where(JobClaim.job == "templates_sync", JobClaim.key == day)):
        return 0
    try:
        fetched = fetch_all()
    except TemplateSyncError as exc:
        log.warning("daily template sync failed: %s", exc)
        return 0
    templates.replace_synced(session, fetched)
    session.add(JobClaim(job="templates_sync", key=day))
    return 1
