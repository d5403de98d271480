"""/api/users: the store's team, for admins only (401 without a token, 403 for a seller)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from s7.api.conversations import INT32_MAX, ApiError
from s7.api.deps import api_admin, db_session
from s7.auth import CurrentUser
from s7.domain import users

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "Sin token, o token vencido"},
    403: {"model": ApiError, "description": "Solo para administradores"},
    404: {"model": ApiError, "description": "No existe ese usuario"},
    409: {"model": ApiError, "description": "Email repetido, o sería dejar la tienda sin administradores"},
    422: {"model": ApiError, "description": "Datos inválidos (el detalle dice cuál)"},
}
router = APIRouter(prefix="/api/users", tags=["users"], responses=ERRORS)
UserId = Annotated[int, Path(ge=1, le=INT32_MAX)]

# Commit before the response goes out: a 201 means the user exists (the default "request" scope
# would commit after sending, so a client's next call could miss it).
_session = Depends(db_session, scope="function")


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Literal["admin", "seller"]
    active: bool
    created_at: str | None
    last_login_at: str | None


class UserCreate(BaseModel):
    email: str = Field(max_length=users.EMAIL_MAX)
    name: str = Field(max_length=users.NAME_MAX)
    password: str = Field(max_length=users.PASSWORD_MAX)
    role: Literal["admin", "seller"] = "seller"


class UserPatch(BaseModel):
    active: bool | None = None


class PasswordReset(BaseModel):
    password: str = Field(max_length=users.PASSWORD_MAX)


def _http_error(exc: users.UserError) -> HTTPException:
    code = {
        users.InvalidUser: status.HTTP_422_UNPROCESSABLE_CONTENT,
        users.UserConflict: status.HTTP_409_CONFLICT,
        users.UserNotFound: status.HTTP_404_NOT_FOUND,
        users.NotAllowed: status.HTTP_403_FORBIDDEN,
    }.get(type(exc), status.HTTP_400_BAD_REQUEST)
    return HTTPException(code, detail=str(exc))


@router.get("", response_model=list[UserOut])
def list_users(_admin: CurrentUser = Depends(api_admin), session: Session = _session) -> list[dict[str, object]]:
    return [u.to_dict() for u in users.list_users(session)]


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserCreate, admin: CurrentUser = Depends(api_admin), session: Session = _session
) -> dict[str, object]:
    try:
        created = users.create_user(
            session, actor_id=admin.id, email=body.email, name=body.name, password=body.password, role=body.role
        )
    except users.UserError as exc:
        raise _http_error(exc) from None
    return created.to_dict()


@router.get("/{user_id}", response_model=UserOut)
def get_user(
    user_id: UserId, _admin: CurrentUser = Depends(api_admin), session: Session = _session
) -> dict[str, object]:
    try:
        return users.get_user(session, user_id).to_dict()
    except users.UserError as exc:
        raise _http_error(exc) from None


@router.patch("/{user_id}", response_model=UserOut)
def update_user(
    user_id: UserId, body: UserPatch, admin: CurrentUser = Depends(api_admin), session: Session = _session
) -> dict[str, object]:
    """`{"active": false}` deactivates (their sessions end); `{"active": true}` reactivates."""
    try:
        if body.active is None:
            users.require_admin(session, admin.id)
            return users.get_user(session, user_id).to_dict()
        return users.set_active(session, user_id, body.active, actor_id=admin.id).to_dict()
    except users.UserError as exc:
        raise _http_error(exc) from None


@router.post("/{user_id}/password", response_model=UserOut)
def reset_password(
    user_id: UserId, body: PasswordReset, admin: CurrentUser = Depends(api_admin), session: Session = _session
) -> dict[str, object]:
    """Set a new password; every open session of that user ends."""
    try:
        return users.reset_password(session, user_id, body.password, actor_id=admin.id).to_dict()
    except users.UserError as exc:
        raise _http_error(exc) from None
