"""The body of `POST /api/conversations/{id}/messages`: JSON (`text`, `template` or
`product_sku`) or a multipart upload (`file` + optional `caption`), parsed into one `Outgoing`
before the route's domain call.

The request body was already cut at UPLOAD_MAX_MB while it streamed (`s7.limits`); what arrives
here fits in memory, and WhatsApp's own limit per type is checked by the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from s7.config import get_settings
from s7.limits import too_large_text


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=1, max_length=16, description="p. ej. es_AR")
    params: list[str] = Field(default_factory=list, max_length=60, description="variables del cuerpo, en orden")
    components: list[dict[str, Any]] | None = Field(
        None, max_length=20, description="parámetros de encabezado o botones, tal cual los pide WhatsApp"
    )


class JsonBody(BaseModel):
    """Exactly one of: `text`, `template`, `product_sku`."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    template: TemplateIn | None = None
    product_sku: str | None = Field(None, min_length=1, max_length=120)


@dataclass(frozen=True)
class Attachment:
    data: bytes
    mime_type: str | None
    filename: str | None

    def as_kwargs(self) -> dict[str, Any]:
        return {"data": self.data, "mime_type": self.mime_type, "filename": self.filename}


@dataclass(frozen=True)
class Outgoing:
    text: str | None = None
    file: Attachment | None = None
    caption: str | None = None
    template: TemplateIn | None = None
    product_sku: str | None = None


def _json_schema() -> dict[str, Any]:
    schema = JsonBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    schema["properties"]["template"] = {
        "anyOf": [TemplateIn.model_json_schema(), {"type": "null"}],
        "description": "una plantilla aprobada (se puede fuera de la ventana de 24 h)",
    }
    return schema


OPENAPI_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": _json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "foto, documento, audio o video"},
                    "caption": {"type": "string", "maxLength": 1024, "description": "texto que acompaña al archivo"},
                },
            }
        },
    },
}


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


async def parse(request: Request) -> Outgoing:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await _multipart(request)
    try:
        raw = await request.json()
    except ValueError:
        raise _unprocessable("Mandá JSON con «text», o un archivo (multipart con «file»)") from None
    try:
        body = JsonBody.model_validate(raw)
    except ValidationError as exc:  # FastAPI's 422 shape, in Spanish (s7.api.errors)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    given = [k for k in ("text", "template", "product_sku") if getattr(body, k) is not None]
    if len(given) != 1:
        raise _unprocessable("Mandá uno de «text», «template» o «product_sku» (o un archivo como multipart)")
    return Outgoing(text=body.text, template=body.template, product_sku=body.product_sku)


async def _multipart(request: Request) -> Outgoing:
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # malformed multipart (Starlette raises its own error types)
        raise _unprocessable("El formulario no se pudo leer: mandá «file» y, si querés, «caption»") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise _unprocessable("Falta el archivo («file»)")
    max_bytes = get_settings().upload_max_bytes
    if upload.size is not None and upload.size > max_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=too_large_text(max_bytes))
    data = await upload.read()
    caption = form.get("caption")
    return Outgoing(
        file=Attachment(data, upload.content_type, upload.filename),
        caption=caption if isinstance(caption, str) else None,
    )
