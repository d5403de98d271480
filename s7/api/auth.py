"""POST /api/auth/login: email + password → a Bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from s7.api.deps import api_user
from s7.auth import CurrentUser, LoginThrottled, authenticate, issue_token, revoke_token, token_from_scope
from s7.config import get_settings
from s7.db import session_scope
from s7.domain import users

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    user: dict


def client_ip(request: Request) -> str:
    """The address s7.client_address resolved (the socket peer unless a trusted proxy says)."""
    return request.client.host if request.client and request.client.host else "unknown"


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def throttled_error(exc: LoginThrottled) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"Demasiados intentos fallidos. Probá de nuevo en {exc.minutes} minutos.",
        headers={"Retry-After": str(exc.retry_after)},
    )


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, request: Request) -> TokenOut:
    try:
        user = authenticate(body.email, body.password, client_ip(request), user_agent(request))
    except LoginThrottled as exc:
        raise throttled_error(exc) from None
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Email o contraseña incorrectos")
    return TokenOut(
        token=issue_token(user),
        expires_in=int(get_settings().TOKEN_MAX_AGE_HOURS * 3600),
        user={"id": user.id, "email": user.email, "name": user.name, "role": user.role},
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cerrar esta sesión (o todas, con everywhere=true): el token deja de valer en el acto",
    responses={401: {"description": "Token inválido o vencido"}},
)
def logout(
    request: Request,
    user: CurrentUser = Depends(api_user),
    everywhere: bool = Query(False, description="cerrar todas las sesiones de este usuario, panel incluido"),
) -> Response:
    if everywhere:
        with session_scope() as session:
            users.end_all_sessions(session, user.id, actor_id=user.id)
    else:
        revoke_token(token_from_scope(request.scope))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
