"""/api/catalog: ranked search (any signed-in user) and catalog import (admins).

Both go through `s7.domain.catalog`, the same service behind the bot, the panel and the CLI.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile, status
from sqlalchemy.orm import Session

from s7.api.conversations import ERRORS, ApiError
from s7.api.deps import api_admin, api_user, db_session
from s7.auth import CurrentUser
from s7.config import get_settings
from s7.domain import catalog
from s7.limits import too_large_text

router = APIRouter(prefix="/api/catalog", tags=["catalog"], dependencies=[Depends(api_user)], responses=ERRORS)

Db = Annotated[Session, Depends(db_session, scope="function")]
QUERY_MAX = 200
_CHUNK = 1024 * 1024


@router.get("/search", summary="Buscar productos (en stock primero, después coincidencia y popularidad)")
def search(
    _user: Annotated[CurrentUser, Depends(api_user)],
    session: Db,
    q: str = Query("", description="lo que buscaría un cliente: «zapatillas nike 42»"),
    limit: int = Query(10, ge=1, le=50),
    in_stock_only: bool = Query(False),
) -> dict[str, Any]:
    query = " ".join(q.split())
    if not query:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="Escribí qué buscar en «q»")
    if len(query) > QUERY_MAX:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"La búsqueda admite hasta {QUERY_MAX} caracteres"
        )
    hits = catalog.search(session, query, limit=limit, in_stock_only=in_stock_only)
    return {
        "query": query,
        "items": [hit.to_dict() for hit in hits],
        "best": hits.best.to_dict() if hits.best is not None else None,
    }


@router.post(
    "/import",
    summary="Importar un catálogo JSON o CSV (solo administradores)",
    responses={
        403: {"model": ApiError, "description": "Solo para administradores"},
        413: {"model": ApiError, "description": "El archivo supera UPLOAD_MAX_MB (cortado mientras llega)"},
        422: {"model": ApiError, "description": "El archivo no es un catálogo (no se cambió nada)"},
    },
)
def import_catalog(
    _admin: Annotated[CurrentUser, Depends(api_admin)],
    session: Db,
    file: UploadFile = File(..., description="catálogo .json o .csv"),
    deactivate_missing: bool = Form(False, description="desactivar los productos que no están en el archivo"),
) -> dict[str, Any]:
    data = _read_limited(file)
    try:
        report = catalog.import_catalog(
            session, data, file.filename or "catalogo", deactivate_missing=deactivate_missing
        )
    except catalog.CatalogError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return report.to_dict()


def _read_limited(file: UploadFile) -> bytes:
    """The upload's bytes, refusing a file over UPLOAD_MAX_MB with a clear 413. (s7.limits has
    already cut the request body at that size plus the multipart framing while it streamed.)"""
    max_bytes = get_settings().upload_max_bytes
    parts: list[bytes] = []
    size = 0
    while chunk := file.file.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=too_large_text(max_bytes))
        parts.append(chunk)
    if not size:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="El archivo está vacío.")
    return b"".join(parts)
