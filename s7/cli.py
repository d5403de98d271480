"""The `s7` command: serve, migrate, seed, import-catalog, worker, create-user.

Errors are one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from s7.config import ConfigError, get_settings

log = logging.getLogger("s7")


class CliError(Exception):
    """A failure worth one line to the user."""


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "apscheduler", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _migrate() -> None:
    from s7.db import migrate

    migrate()


def cmd_migrate(_args: argparse.Namespace) -> None:
    _migrate()
    print("Base de datos al día (migraciones aplicadas).")


def cmd_seed(_args: argparse.Namespace) -> None:
    from s7.seed import seed

    _migrate()
    report = seed()
    print("Datos de demo listos: " + ", ".join(f"{k}={v}" for k, v in report.items()))


def cmd_import_catalog(args: argparse.Namespace) -> None:
    from s7.db import session_scope
    from s7.domain import catalog

    path = Path(args.path)
    if not path.is_file():
        raise CliError(f"No encuentro el archivo {path}")
    _migrate()
    try:
        with session_scope() as session:
            report = catalog.import_path(session, path, deactivate_missing=args.deactivate_missing)
    except catalog.CatalogError as exc:
        raise CliError(f"{path.name}: {exc}") from None
    print(report.summary())
    for rejected in report.rejected:
        print(f"  fila {rejected.row}: {rejected.reason}", file=sys.stderr)


def cmd_create_user(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from s7.auth import hash_password
    from s7.db import session_scope
    from s7.domain.models import User

    password = args.password or getpass.getpass("Contraseña: ")
    if len(password) < 8:
        raise CliError("La contraseña necesita al menos 8 caracteres")
    _migrate()
    email = args.email.strip().lower()
    with session_scope() as session:
        if session.scalar(select(User).where(User.email == email)) is not None:
            raise CliError(f"Ya existe un usuario con el email {email}")
        session.add(
            User(
                email=email,
                name=args.name or email.split("@")[0],
                role=args.role,
                password_hash=hash_password(password),
                active=True,
            )
        )
    print(f"Usuario {email} creado ({args.role}).")


def cmd_worker(_args: argparse.Namespace) -> None:
    """Only the background work (processor, outbox, jobs), for a dedicated worker service."""
    from s7 import worker

    _migrate()
    worker.run()


def cmd_serve(_args: argparse.Namespace) -> None:
    serve_app()


def serve_app() -> None:
    """Migrate (under the migrations lock), seed an empty embedded database, start the server."""
    _setup_logging()
    try:
        settings = get_settings()
        _migrate()
        first_start = _seed_if_empty()
    except (ConfigError, CliError) as exc:
        _die(str(exc))
    except OperationalError as exc:
        _die(f"DATABASE_URL: no puedo conectar a la base de datos ({_short(exc)})")
    from nicegui import ui

    from s7.app import configure

    configure()
    _print_banner(settings, first_start)
    ui.run(
        host=settings.HOST,
        port=settings.PORT,
        title="Sector 7",
        reload=False,
        show=False,
        storage_secret=settings.session_secret,
        language="es",
        favicon="💬",
        fastapi_docs=True,  # OpenAPI at /docs and /openapi.json (DESIGN.md)
        reconnect_timeout=15,
        # Proxy headers are ours to judge (s7.client_address, FORWARDED_ALLOW_IPS): uvicorn's
        # own handling would take the left-most X-Forwarded-For, which the client writes.
        proxy_headers=False,
    )


def _seed_if_empty() -> bool:
    from s7.db import session_scope
    from s7.seed import needs_seed, seed

    settings = get_settings()
    if not (settings.is_sqlite or settings.sandbox):
        return False
    with session_scope() as session:
        empty = needs_seed(session)
    if empty:
        seed()
    return empty


def _print_banner(settings, first_start: bool) -> None:  # type: ignore[no-untyped-def]
    from s7.seed import DEMO_USERS, seed_passwords

    print(f"\n  Sector 7 → {settings.public_base_url}")
    print(f"  Base de datos: {'SQLite (embebida)' if settings.is_sqlite else 'Postgres'}")
    if settings.sandbox:
        admin_password, seller_password = seed_passwords()
        print("  Modo sandbox: no sale nada hacia Meta; probá el bot en /simulator")
        for demo in DEMO_USERS:
            password = admin_password if demo.role == "admin" else seller_password
            print(f"  {demo.email} / {password}")
    if first_start:
        print("  (primera vez: se cargaron los usuarios y el catálogo de demo)")
    print()


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def _die(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="s7", description="Sector 7: bot de ventas por WhatsApp + panel")
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, tuple[Callable[[argparse.Namespace], None], str]] = {
        "serve": (cmd_serve, "arranca el servidor (panel, webhook, API, jobs)"),
        "migrate": (cmd_migrate, "aplica las migraciones"),
        "seed": (cmd_seed, "usuarios y catálogo de demo (idempotente)"),
        "import-catalog": (cmd_import_catalog, "importa un catálogo JSON o CSV"),
        "worker": (cmd_worker, "solo el trabajo de fondo (procesador, envíos, jobs)"),
        "create-user": (cmd_create_user, "crea un usuario"),
    }
    parsers = {}
    for name, (fn, help_text) in commands.items():
        parsers[name] = sub.add_parser(name, help=help_text)
        parsers[name].set_defaults(fn=fn)
    parsers["import-catalog"].add_argument("path")
    parsers["import-catalog"].add_argument(
        "--deactivate-missing", action="store_true", help="marca inactivos los productos que no están en el archivo"
    )
    parsers["create-user"].add_argument("--email", required=True)
    parsers["create-user"].add_argument("--name")
    parsers["create-user"].add_argument("--role", choices=["admin", "seller"], default="seller")
    parsers["create-user"].add_argument("--password", help="si falta, se pide por teclado")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command != "serve":
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        get_settings()
        args.fn(args)
    except (ConfigError, CliError) as exc:
        _die(str(exc))
    except OperationalError as exc:
        _die(f"DATABASE_URL: no puedo conectar a la base de datos ({_short(exc)})")
    except SQLAlchemyError as exc:
        _die(f"error de base de datos: {_short(exc)}")
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
