"""Malformed requests get FastAPI's usual 422 shape (`{"detail": [{type, loc, msg, ...}]}`, so
clients keep parsing `type` and `loc`), with `msg` in Spanish for the person reading it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from s7.config import spanish_error


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = []
    for error in exc.errors():
        item = {key: error[key] for key in ("type", "loc", "input", "ctx") if key in error}
        item["msg"] = spanish_error(error)
        errors.append(item)
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
