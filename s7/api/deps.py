"""FastAPI dependencies shared by the REST routers: the caller's identity and a DB session."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from s7.auth import SESSION_COOKIE, CurrentUser, user_from_token
from s7.db import session_scope

_bearer = HTTPBearer(auto_error=False, description="Token de `POST /api/auth/login`")


def db_session() -> Iterator[Session]:
    """One transaction per request (sync routes run in FastAPI's threadpool)."""
    with session_scope() as session:
        yield session


def api_user(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> CurrentUser:
    """Bearer token (or the panel's session cookie) → user; 401 otherwise."""
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    user = user_from_token(token)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Token inválido o vencido",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def api_admin(user: CurrentUser = Depends(api_user)) -> CurrentUser:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Solo para administradores")
    return user
