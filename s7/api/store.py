"""/api/store: the store profile the bot answers from (admin only; DESIGN rule 11).

GET returns the profile as saved plus the hours in effect (the profile's, or BUSINESS_HOURS
until an admin saves some); PUT replaces the whole profile (422 with the reason in Spanish).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from s7.api.conversations import ApiError
from s7.api.deps import api_admin, db_session
from s7.auth import CurrentUser
from s7.config import get_settings
from s7.domain.store import profile as store_profile

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "Sin token, o token vencido"},
    403: {"model": ApiError, "description": "Solo para administradores"},
    422: {"model": ApiError, "description": "Datos inválidos (el detalle dice cuál)"},
}
router = APIRouter(prefix="/api/store", tags=["store"], responses=ERRORS)
_session = Depends(db_session, scope="function")  # committed before the response goes out


class Vacation(BaseModel):
    on: bool = False
    until: str | None = Field(default=None, description="AAAA-MM-DD; vacío = hasta que se apague")
    message: str = ""


class Pickup(BaseModel):
    available: bool | None = Field(default=None, description="null = sin completar (un vendedor confirma)")
    details: str = ""


class Zone(BaseModel):
    name: str
    cost: float | None = None
    days: str = ""


class Shipping(BaseModel):
    mode: Literal["zones", "coordinate", "none"] | None = None
    zones: list[Zone] = Field(default_factory=list, max_length=store_profile.LIST_MAX)
    notes: str = ""


class Faq(BaseModel):
    questions: list[str] = Field(max_length=store_profile.LIST_MAX)
    answer: str


class Word(BaseModel):
    say: str = Field(description="Lo que escriben los clientes, p. ej. 'compu'")
    search: str = Field(description="Lo que hay que buscar en el catálogo, p. ej. 'notebook'")


class StoreIn(BaseModel):
    name: str = ""
    address: str = ""
    map_url: str = ""
    hours: str = Field(default="", description="Como BUSINESS_HOURS: 'mon-fri 09:00-19:00, sat 10:00-14:00'")
    closed_days: list[str] = Field(default_factory=list, max_length=366)
    vacation: Vacation = Field(default_factory=Vacation)
    pickup: Pickup = Field(default_factory=Pickup)
    shipping: Shipping = Field(default_factory=Shipping)
    payment_methods: list[str] = Field(default_factory=list, max_length=store_profile.LIST_MAX)
    installments: str = ""
    returns: str = ""
    faq: list[Faq] = Field(default_factory=list, max_length=store_profile.LIST_MAX)
    vocabulary: list[Word] = Field(default_factory=list, max_length=200)


class StoreOut(StoreIn):
    saved: bool = Field(description="false: nunca se guardó; el bot deriva toda pregunta de la tienda")
    hours_in_effect: str = Field(description="Los horarios que usan el bot y los trabajos programados")
    hours_source: Literal["profile", "BUSINESS_HOURS"]


def _out(profile: store_profile.Profile) -> dict[str, Any]:
    data = StoreIn.model_validate(profile.data).model_dump()
    return {
        **data,
        "saved": profile.saved,
        "hours_in_effect": profile.get("hours") or get_settings().BUSINESS_HOURS,
        "hours_source": "profile" if profile.hours_from_profile else "BUSINESS_HOURS",
    }


@router.get("", response_model=StoreOut)
def get_store(_admin: CurrentUser = Depends(api_admin), session: Session = _session) -> dict[str, Any]:
    return _out(store_profile.load(session))


@router.put("", response_model=StoreOut)
def put_store(body: StoreIn, admin: CurrentUser = Depends(api_admin), session: Session = _session) -> dict[str, Any]:
    try:
        saved = store_profile.save(session, body.model_dump(), user_id=admin.id)
    except store_profile.ProfileError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return _out(saved)
