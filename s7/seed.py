"""Demo data: three users, the demo catalog and the demo store's profile, for sandbox only.
Idempotent: running it twice changes nothing.

The demo users' passwords come from ADMIN_SEED_PASSWORD / SELLER_SEED_PASSWORD, or are generated
once on this machine and kept in `.s7/demo-logins.json` (so `make run` prints the same ones at
every start). There is no fixed, published demo password. In real mode (WHATSAPP_TOKEN set) the
demo users are never created, and `s7.bootstrap` deactivates any left from a sandbox past.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s7.auth import hash_password, verify_password
from s7.config import DEFAULT_SQLITE_PATH, get_settings
from s7.db import ROOT, session_scope
from s7.domain.models import Product, User

log = logging.getLogger(__name__)

DEMO_CATALOG = ROOT / "catalog" / "demo.json"
GENERATED_LOGINS = DEFAULT_SQLITE_PATH.parent / "demo-logins.json"
# Readable generated passwords: no 0/O or 1/l/I to confuse when read aloud.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


class SeedRefused(Exception):
    """`s7 seed` outside sandbox; the text says what to do instead (es-AR)."""


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str


DEMO_USERS = (
    DemoUser("admin@sector7.local", "Admin", "admin"),
    DemoUser("vendedor1@sector7.local", "Vendedor 1", "seller"),
    DemoUser("vendedor2@sector7.local", "Vendedor 2", "seller"),
)
DEMO_EMAILS = tuple(demo.email for demo in DEMO_USERS)


def seed_passwords() -> tuple[str, str]:
    """(admin, seller) demo passwords: the seed variables, else generated once and kept."""
    settings = get_settings()
    admin, seller = settings.ADMIN_SEED_PASSWORD, settings.SELLER_SEED_PASSWORD
    if admin and seller:
        return admin, seller
    kept = _generated_logins()
    return admin or kept["admin"], seller or kept["seller"]


def _generated_logins() -> dict[str, str]:
    try:
        kept = json.loads(GENERATED_LOGINS.read_text())
        if isinstance(kept, dict) and all(
            isinstance(kept.get(k), str) and len(kept[k]) >= 8 for k in ("admin", "seller")
        ):
            return kept
    except (OSError, ValueError):
        pass
    kept = {role: "".join(secrets.choice(_ALPHABET) for _ in range(12)) for role in ("admin", "seller")}
    GENERATED_LOGINS.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(GENERATED_LOGINS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(kept, file)
    return kept


def demo_logins() -> list[tuple[str, str]]:
    """(email, password) of each demo user, to print in sandbox."""
    admin_password, seller_password = seed_passwords()
    return [(d.email, admin_password if d.role == "admin" else seller_password) for d in DEMO_USERS]


def refuse_outside_sandbox() -> None:
    if not get_settings().sandbox:
        raise SeedRefused(
            "s7 seed carga la demo y solo corre en sandbox (sin WHATSAPP_TOKEN): una tienda real no tiene "
            "usuarios de demo. Tu equipo: s7 create-user; tu catálogo: s7 import-catalog ARCHIVO"
        )


def seed(catalog_path: Path = DEMO_CATALOG) -> dict[str, int]:
    """Create or update the demo users and load the demo catalog (sandbox only)."""
    refuse_outside_sandbox()
    created = updated = 0
    with session_scope() as session:
        for email, password in demo_logins():
            demo = next(d for d in DEMO_USERS if d.email == email)
            user = session.scalar(select(User).where(User.email == demo.email))
            if user is None:
                session.add(
                    User(
                        email=demo.email,
                        name=demo.name,
                        role=demo.role,
                        password_hash=hash_password(password),
                        active=True,
                    )
                )
                created += 1
            elif not user.active or not verify_password(password, user.password_hash):
                user.password_hash = hash_password(password)
                user.active = True
                updated += 1
    report = load_catalog(catalog_path)
    return {"users_created": created, "users_updated": updated, **report, "store_profile": seed_store_profile()}


def seed_store_profile() -> int:
    """The demo store's facts (address, hours, shipping…), only if the admin never saved a profile:
    sensible defaults belong to the demo store, never to a real one. 1 when saved."""
    from s7.domain.store import profile as store_profile

    with session_scope() as session:
        if store_profile.load(session).saved:
            return 0
        store_profile.save(session, store_profile.DEMO)
    return 1


def disable_demo_users() -> int:
    """Real mode: the demo users stop working at once (sessions end on every replica)."""
    with session_scope() as session:
        users = session.scalars(
            select(User).where(User.email.in_(DEMO_EMAILS), User.active.is_(True)).with_for_update()
        ).all()
        for user in users:
            user.active = False
            user.session_version = (user.session_version or 1) + 1
        return len(users)


def load_catalog(path: Path) -> dict[str, int]:
    from s7.domain import catalog

    with session_scope() as session:
        report = catalog.import_path(session, path)
    return {"products_created": len(report.created), "products_updated": len(report.updated)}


def needs_seed(session: Session) -> bool:
    """An empty database (no users, no products): the embedded first start seeds it."""
    users = session.scalar(select(func.count(User.id))) or 0
    products = session.scalar(select(func.count(Product.id))) or 0
    return users == 0 and products == 0
