"""`GET /media/{message_id}`: the bytes of a message's photo, audio, video, sticker or document.

Never public: a panel session or a Bearer token (401 otherwise). The bytes come from our own
store (`s7.domain.media`), fetched from Meta when the message arrived; Meta's short-lived URLs
never reach a browser. Served with the stored content type; anything a browser could run
(HTML, SVG, scripts a customer sends as a "document") is only ever a download, and the response
forbids being interpreted as anything else (nosniff, a sandboxing CSP).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from sqlalchemy.orm import Session

from s7.api.deps import api_user, db_session
from s7.domain import media

router = APIRouter(tags=["media"], dependencies=[Depends(api_user)])

Db = Annotated[Session, Depends(db_session, scope="function")]
# Shown inline in the panel (img / audio / video elements); everything else downloads.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
        "application/pdf",
    }
)
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "video/mp4": ".mp4",
    "application/pdf": ".pdf",
}
UNAVAILABLE = "Este archivo ya no está disponible"


@router.get(
    "/media/{message_id}",
    summary="Archivo de un mensaje (foto, audio, video, sticker, documento)",
    responses={
        200: {"description": "El archivo, con su tipo de contenido"},
        206: {"description": "Una parte del archivo (Range), para reproducir audio y video"},
        401: {"description": "Sin sesión ni token"},
        404: {"description": "No existe el mensaje o no tiene archivo"},
        410: {"description": "Ya no disponible (Meta ya no lo tiene, o se liberó espacio)"},
        503: {"description": "Todavía se está descargando de WhatsApp"},
    },
)
def media_file(message_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request, session: Db) -> Response:
    message, row, data = media.load_for_message(session, message_id)
    if message is None or row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Ese mensaje no tiene archivo")
    if row.state == "pending":
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="Descargando el archivo…", headers={"Retry-After": "3"}
        )
    if data is None:
        raise HTTPException(status.HTTP_410_GONE, detail=UNAVAILABLE)
    content_type = (row.mime_type or "application/octet-stream").strip()
    base_type = content_type.split(";")[0].strip().lower()
    inline = base_type in INLINE_TYPES and message.type != "document"
    name = row.filename or f"{message.type}-{message.id}{EXTENSIONS.get(base_type, '')}"
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if not inline:
        content_type = content_type if base_type in INLINE_TYPES else "application/octet-stream"
    headers["Accept-Ranges"] = "bytes"
    wanted = _byte_range(request.headers.get("range"), len(data))
    if wanted is None:
        return Response(content=data, media_type=content_type, headers=headers)
    if wanted == "unsatisfiable":
        return Response(status_code=416, headers={"Content-Range": f"bytes */{len(data)}"})
    start, end = wanted
    # Safari plays audio and video only from servers that answer byte ranges.
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(content=data[start : end + 1], status_code=206, media_type=content_type, headers=headers)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """`bytes=a-b`, `bytes=a-` or `bytes=-n` → (first, last); None to send it all (absent,
    malformed or several ranges); "unsatisfiable" when it starts past the end."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if not first:
            count = int(last)
            return (max(0, size - count), size - 1) if count > 0 and size else "unsatisfiable"
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end
