"""Demo data: three users and the demo catalog. Idempotent: running it twice changes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s7.auth import hash_password, verify_password
from s7.config import ConfigError, get_settings
from s7.db import ROOT, session_scope
from s7.domain.models import Product, User

log = logging.getLogger(__name__)

DEMO_CATALOG = ROOT / "catalog" / "demo.json"
# Used only in sandbox when the seed variables are unset, and printed at start-up.
SANDBOX_ADMIN_PASSWORD = "admin-sector7"  # noqa: S105 - sandbox demo only, printed
SANDBOX_SELLER_PASSWORD = "vendedor-sector7"  # noqa: S105 - sandbox demo only


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


def seed_passwords() -> tuple[str, str]:
    settings = get_settings()
    admin, seller = settings.ADMIN_SEED_PASSWORD, settings.SELLER_SEED_PASSWORD
    if settings.sandbox:
        return admin or SANDBOX_ADMIN_PASSWORD, seller or SANDBOX_SELLER_PASSWORD
    if not admin:
        raise ConfigError("ADMIN_SEED_PASSWORD: required to seed the demo users outside sandbox")
    if not seller:
        raise ConfigError("SELLER_SEED_PASSWORD: required to seed the demo users outside sandbox")
    return admin, seller


def seed(catalog_path: Path = DEMO_CATALOG) -> dict[str, int]:
    """Create or update the demo users (password from the seed variables) and load the catalog."""
    admin_password, seller_password = seed_passwords()
    created = updated = 0
    with session_scope() as session:
        for demo in DEMO_USERS:
            password = admin_password if demo.role == "admin" else seller_password
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
            elif not verify_password(password, user.password_hash):
                user.password_hash = hash_password(password)
                updated += 1
    report = load_catalog(catalog_path)
    return {"users_created": created, "users_updated": updated, **report}


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
