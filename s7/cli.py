"""The `s7` command: serve, migrate, seed, import-catalog, worker, create-user.

Errors are one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import sys
from collections.abc import Callable, Iterator
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
    from s7.seed import SeedRefused, demo_logins, refuse_outside_sandbox, seed

    try:
        refuse_outside_sandbox()
        _migrate()
        report = seed()
    except SeedRefused as exc:
        raise CliError(str(exc)) from None
    print(
        f"Demo lista: {report['users_created']} usuario(s) creados, {report['users_updated']} actualizados, "
        f"{report['products_created']} producto(s) nuevos, {report['products_updated']} actualizados."
    )
    print("Usuarios de demo (solo sandbox):")
    for email, password in demo_logins():
        print(f"  {email} / {password}")


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
    from sqlalchemy import func, select

    from s7.auth import hash_password
    from s7.db import session_scope
    from s7.domain.models import User
    from s7.domain.users import InvalidUser, check_password, normalize_email

    try:
        email = normalize_email(args.email)
        password = args.password or getpass.getpass("Contraseña: ")
        check_password(password)
    except InvalidUser as exc:
        raise CliError(f"{exc} ({args.email!r})" if "email" in str(exc) else str(exc)) from None
    _migrate()
    with session_scope() as session:
        if session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
            raise CliError(f"Ya existe un usuario con el email {email}")
        session.add(
            User(
                email=email,
                name=" ".join((args.name or "").split()) or email.split("@")[0],
                role=args.role,
                password_hash=hash_password(password),
                active=True,
            )
        )
    print(f"Usuario {email} creado ({ROLE_LABELS[args.role]}).")


def cmd_worker(_args: argparse.Namespace) -> None:
    """Only the background work (processor, outbox, jobs), for a dedicated worker service."""
    from s7 import worker

    _migrate()
    worker.run()


def cmd_serve(_args: argparse.Namespace) -> None:
    serve_app()


def serve_app() -> None:
    """Migrate (under the migrations lock), make the store safe to open (demo users off in real
    mode, first admin or setup link), seed an empty sandbox, start the server."""
    _setup_logging()
    try:
        settings = get_settings()
        _migrate()
        first_start = _seed_if_empty()
        from s7.bootstrap import on_start

        start = on_start(settings)
    except (ConfigError, CliError) as exc:
        _die(str(exc))
    except OperationalError as exc:
        _die(f"DATABASE_URL: no puedo conectar a la base de datos ({_short(exc)})")
    in_child = os.environ.get("S7_PROCESSOR", "process") != "inline"
    supervisor = None
    if in_child and not settings.is_sqlite:
        from s7.whatsapp.processor_process import Supervisor

        # The children import and warm up while this process loads NiceGUI and its pages.
        supervisor = Supervisor()
        supervisor.spawn()
    from nicegui import ui

    from s7 import app as app_module

    app_module.PROCESSOR_IN_CHILD = in_child
    app_module.use_supervisor(supervisor)
    app_module.configure()
    _print_banner(settings, first_start, start)
    ui.run(
        host=settings.HOST,
        port=settings.PORT,
        title="Sector 7",
        reload=False,
        show=False,
        storage_secret=settings.session_secret,
        language="es",
        favicon="💬",
        fastapi_docs=True,  # OpenAPI at /docs and /openapi.json (DESIGN.md); outside sandbox behind a session
        reconnect_timeout=15,
        # Proxy headers are ours to judge (s7.client_address, FORWARDED_ALLOW_IPS): uvicorn's
        # own handling would take the left-most X-Forwarded-For, which the client writes.
        proxy_headers=False,
    )


def _seed_if_empty() -> bool:
    from s7.db import session_scope
    from s7.seed import needs_seed, seed

    if not get_settings().sandbox:  # a real store never gets demo users
        return False
    with session_scope() as session:
        empty = needs_seed(session)
    if empty:
        seed()
    return empty


def _print_banner(settings, first_start: bool, start) -> None:  # type: ignore[no-untyped-def]
    from s7.bootstrap import exposed_sandbox
    from s7.seed import demo_logins

    print(f"\n  Sector 7 → {settings.public_base_url}")
    print(f"  Base de datos: {'SQLite (embebida)' if settings.is_sqlite else 'Postgres'}")
    if settings.sandbox:
        print("  Modo sandbox: no sale nada hacia Meta; probá el bot en /simulator (con sesión iniciada)")
        print("  Usuarios de demo:")
        for email, password in demo_logins():
            print(f"    {email} / {password}")
        if first_start:
            print("  (primera vez: se cargaron los usuarios y el catálogo de demo)")
        if exposed_sandbox(settings):
            warning = (
                "ATENCIÓN: este sandbox se puede abrir desde afuera y es solo una demo: nada es durable "
                "(SQLite en un contenedor se pierde en cada redeploy) y nada llega a WhatsApp. "
                "Para la tienda real configurá WHATSAPP_TOKEN y DATABASE_URL (README: Poner la tienda en línea)."
            )
            print(f"  {warning}")
            log.warning(warning)
    else:
        print("  Modo real: WhatsApp Cloud API")
        if start.admin_created:
            print(f"  Primer administrador creado: {start.admin_created}")
        if start.demo_users_disabled:
            print(f"  Usuarios de demo desactivados: {start.demo_users_disabled}")
    if start.setup_url:
        print("  La tienda todavía no tiene administrador. Crealo (una sola vez) en:")
        print(f"    {start.setup_url}")
        print("  o definí ADMIN_EMAIL y ADMIN_PASSWORD y reiniciá, o usá: s7 create-user --role admin")
    print()


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def _die(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


ROLE_LABELS = {"admin": "administrador", "seller": "vendedor"}

# argparse's own words (usage, errors, section titles), in Spanish. argparse looks them up at
# call time through its module-level `_`, swapped only while `main` builds and parses.
_ARGPARSE_ES = {
    "usage: ": "uso: ",
    "positional arguments": "argumentos",
    "options": "opciones",
    "show this help message and exit": "muestra esta ayuda y sale",
    "the following arguments are required: %s": "falta: %s",
    "unrecognized arguments: %s": "no entiendo: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "%(value)r no es una opción (elegí entre %(choices)s)",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "expected one argument": "falta el valor",
    "expected at most one argument": "va un solo valor",
    "expected at least one argument": "falta al menos un valor",
    "invalid %(type)s value: %(value)r": "valor inválido: %(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "opción ambigua: %(option)s puede ser %(matches)s",
    "not allowed with argument %s": "no va junto con %s",
    "ignored explicit argument %r": "sobra el valor %r",
    "%(prog)s: error: %(message)s\n": "error: %(message)s (ayuda: %(prog)s --help)\n",
}


@contextlib.contextmanager
def _spanish_argparse() -> Iterator[None]:
    original = argparse._  # type: ignore[attr-defined]
    argparse._ = lambda text: _ARGPARSE_ES.get(text, original(text))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]


_DESCRIPTION = """\
Sector 7: el bot de ventas por WhatsApp y el panel de tu equipo.

Para probarlo en tu compu: `make run` (o `s7 serve`): arranca en modo sandbox con SQLite,
usuarios y catálogo de demo. Para la tienda real, configurá las variables (ver README:
"Poner la tienda en línea") y usá los mismos comandos."""

_EPILOG = """\
ejemplos:
  s7 serve                                   arranca todo en $PORT (8080)
  s7 create-user --email ana@tienda.com --name Ana --role seller
  s7 import-catalog productos.csv --deactivate-missing

Cada comando tiene su ayuda: s7 COMANDO --help"""

_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "arranca el servidor (panel, webhook, API y tareas)",
        "Aplica las migraciones y arranca en HOST:PORT el panel (/), el webhook de Meta (/webhook), la API "
        "(/api, documentada en /docs) y las tareas de fondo. En sandbox (sin WHATSAPP_TOKEN) carga la demo "
        "si la base está vacía e imprime los usuarios de demo. En modo real, si la tienda no tiene "
        "administrador, lo crea desde ADMIN_EMAIL / ADMIN_PASSWORD o imprime un enlace para crearlo. "
        "Es lo mismo que `python main.py`.",
    ),
    "migrate": (
        "aplica las migraciones de la base",
        "Lleva la base de DATABASE_URL al último esquema. `s7 serve` ya lo hace al arrancar; sirve para "
        "migrar antes de un despliegue. Varias réplicas a la vez se esperan entre sí.",
    ),
    "seed": (
        "carga la demo: usuarios y catálogo (solo sandbox)",
        "Crea los usuarios de demo (admin@sector7.local, vendedor1@ y vendedor2@) y el catálogo de "
        "catalog/demo.json. Las contraseñas salen de ADMIN_SEED_PASSWORD / SELLER_SEED_PASSWORD o se "
        "generan una vez (quedan en .s7/demo-logins.json) y se imprimen. Se puede correr varias veces. "
        "Fuera de sandbox no hace nada: una tienda real no tiene usuarios de demo.",
    ),
    "import-catalog": (
        "importa tu catálogo (CSV o JSON)",
        "Lee un CSV (coma o punto y coma, como lo exporta Excel o Google Sheets) o un JSON y crea o "
        "actualiza los productos por SKU. Las columnas pueden estar en español (código, nombre, marca, "
        "precio, stock, cuotas, descripción, imagen...). Informa cuántos productos creó o actualizó y, "
        "por cada fila rechazada, el motivo con el nombre de la columna como está en tu archivo.",
    ),
    "worker": (
        "solo el trabajo de fondo (procesador, envíos, tareas)",
        "Procesa los mensajes entrantes, envía las respuestas y corre las tareas periódicas, sin panel "
        "ni webhook. Para un servicio aparte: poné ENABLE_JOBS=false en el servicio web.",
    ),
    "create-user": (
        "crea un usuario del equipo (vendedor o administrador)",
        "Crea una cuenta para entrar al panel. Si no pasás --password, la pide por teclado sin mostrarla. "
        "Sirve también para crear el primer administrador: s7 create-user --email vos@tienda.com --role admin",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="s7", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=formatter)
    sub = parser.add_subparsers(dest="command", title="comandos", metavar="COMANDO")
    handlers: dict[str, Callable[[argparse.Namespace], None]] = {
        "serve": cmd_serve,
        "migrate": cmd_migrate,
        "seed": cmd_seed,
        "import-catalog": cmd_import_catalog,
        "worker": cmd_worker,
        "create-user": cmd_create_user,
    }
    parsers = {}
    for name, (summary, description) in _COMMANDS.items():
        parsers[name] = sub.add_parser(name, help=summary, description=description)
        parsers[name].set_defaults(fn=handlers[name])
    parsers["import-catalog"].add_argument("path", metavar="ARCHIVO", help="el .csv o .json con los productos")
    parsers["import-catalog"].add_argument(
        "--deactivate-missing", action="store_true", help="marca inactivos los productos que no están en el archivo"
    )
    create = parsers["create-user"]
    create.add_argument("--email", required=True, help="con el que va a ingresar (alguien@dominio.com)")
    create.add_argument("--name", metavar="NOMBRE", help="como lo ve el equipo (por defecto, lo que va antes de la @)")
    create.add_argument(
        "--role",
        choices=["admin", "seller"],
        default="seller",
        help="seller = vendedor (por defecto); admin = además maneja equipo y catálogo",
    )
    create.add_argument("--password", metavar="CONTRASEÑA", help="al menos 8 caracteres; si falta, se pide por teclado")
    return parser


def main(argv: list[str] | None = None) -> None:
    with _spanish_argparse():
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            raise SystemExit(2)
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
