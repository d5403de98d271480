"""/admin/users: the store's team — create sellers, reset passwords, deactivate (sessions end)."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from s7 import realtime
from s7.auth import CurrentUser
from s7.clock import as_utc
from s7.config import get_settings
from s7.db import session_scope
from s7.domain import logins, users
from s7.pages.layout import frame, io, live
from s7.pages.words import count

ROLE_LABELS = {"seller": "Vendedor", "admin": "Admin"}
RECENT_LOGINS = 30


def _load() -> list[users.UserView]:
    with session_scope() as session:
        return users.list_users(session)


def _create(actor_id: int, email: str, name: str, password: str, role: str) -> users.UserView:
    with session_scope() as session:
        return users.create_user(session, actor_id=actor_id, email=email, name=name, password=password, role=role)


def _reset(actor_id: int, user_id: int, password: str) -> users.UserView:
    with session_scope() as session:
        return users.reset_password(session, user_id, password, actor_id=actor_id)


def _end_sessions(actor_id: int, user_id: int) -> users.UserView:
    with session_scope() as session:
        return users.end_all_sessions(session, user_id, actor_id=actor_id)


def _recent_logins() -> list[logins.LoginView]:
    with session_scope() as session:
        return logins.recent_logins(session, limit=RECENT_LOGINS)


def _set_active(actor_id: int, user_id: int, active: bool) -> users.UserView:
    with session_scope() as session:
        return users.set_active(session, user_id, active, actor_id=actor_id)


def _when(value: object) -> str:
    if value is None:
        return "nunca"
    local = as_utc(value).astimezone(get_settings().timezone)  # type: ignore[arg-type]
    return local.strftime("%d/%m/%Y %H:%M")


class TeamPage:
    """One admin's view of the team; every action re-checks, in the domain, that they still may."""

    def __init__(self, me: CurrentUser) -> None:
        self.me = me
        self.team: list[users.UserView] = []

    async def build(self) -> None:
        self.team = await io(_load)
        with ui.column().classes("w-full max-w-5xl mx-auto p-4 gap-4"):
            ui.label("Equipo").classes("text-2xl font-bold")
            ui.label(
                "Creá usuarios para tus vendedores y pasales la contraseña. Si desactivás a alguien, "
                "se le cierran las sesiones abiertas al instante y sus chats quedan libres para el resto."
            ).classes("text-slate-600")
            self._create_form()
            self.team_list()
            self.logins = await io(_recent_logins)
            self.login_list()
        live(self._on_event)

    async def _on_event(self, event: realtime.Event) -> None:
        if event.kind in ("user", "resync"):
            await self.reload()
            self.logins = await io(_recent_logins)
            self.login_list.refresh()

    async def reload(self) -> None:
        self.team = await io(_load)
        self.team_list.refresh()

    # ---- create -----------------------------------------------------------------------------------
    def _create_form(self) -> None:
        with ui.card().classes("w-full").mark("create-user"):
            ui.label("Nuevo usuario").classes("text-lg font-semibold")
            with ui.row().classes("w-full items-start gap-3"):
                self.name = ui.input("Nombre").classes("grow").mark("new-name")
                self.email = ui.input("Email").props('type="email"').classes("grow").mark("new-email")
                self.role = ui.select(ROLE_LABELS, value="seller", label="Rol").classes("w-36").mark("new-role")
            with ui.row().classes("w-full items-center gap-3"):
                self.password = (
                    ui.input("Contraseña", password=True, password_toggle_button=True)
                    .props('autocomplete="new-password"')
                    .classes("grow")
                    .mark("new-password")
                )
                ui.button("Generar", icon="casino", on_click=self._generate).props("flat no-caps")
                ui.button("Crear usuario", icon="person_add", on_click=self._create).props("unelevated no-caps").mark(
                    "create-button"
                )
            ui.label(f"Mínimo {users.PASSWORD_MIN} caracteres.").classes("text-xs text-slate-500")

    def _generate(self) -> None:
        self.password.value = users.generate_password()
        self.password.props(remove="type").props('type="text"')  # show it: the admin has to pass it on

    async def _create(self) -> None:
        try:
            created = await io(
                _create,
                self.me.id,
                self.email.value or "",
                self.name.value or "",
                self.password.value or "",
                self.role.value or "seller",
            )
        except users.UserError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"Listo: {created.name} ya puede ingresar con {created.email}", type="positive")
        for field in (self.name, self.email, self.password):
            field.value = ""
        await self.reload()

    # ---- the list ---------------------------------------------------------------------------------
    @ui.refreshable_method
    def team_list(self) -> None:
        with ui.card().classes("w-full").props('data-testid="team-list"').mark("team-list"):
            active = [u for u in self.team if u.active]
            sellers = sum(u.role == "seller" for u in active)
            ui.label(
                f"{count(len(active), 'activo', 'activos')} · {count(sellers, 'vendedor', 'vendedores')}, "
                f"{count(len(active) - sellers, 'admin', 'admins')}"
            ).classes("text-slate-600")
            for member in self.team:
                self._row(member)

    def _row(self, member: users.UserView) -> None:
        row = ui.row().classes("w-full items-center gap-3 py-2 border-b border-slate-100")
        with row.props(f'data-testid="user-{member.id:d}"').mark(f"user-{member.id}"):
            with ui.column().classes("gap-0 grow min-w-[12rem]"):
                name = ui.label(member.name).classes("font-medium")
                if not member.active:
                    name.classes("line-through text-slate-400")
                ui.label(member.email).classes("text-sm text-slate-500")
            ui.badge(ROLE_LABELS.get(member.role, member.role)).props(
                "color=teal-7" if member.role == "admin" else "color=blue-grey-5"
            )
            ui.label("Activo" if member.active else "Desactivado").classes(
                "text-sm " + ("text-teal-700" if member.active else "text-red-700")
            ).mark(f"state-{member.id}")
            ui.label(f"Último ingreso: {_when(member.last_login_at)}").classes("text-xs text-slate-500 w-44")
            end = ui.button("Cerrar sesiones", icon="logout", on_click=lambda m=member: self._end_sessions(m))
            end.props("flat dense no-caps").mark(f"end-sessions-{member.id}")
            end.tooltip("Cierra su sesión en todos los dispositivos y pestañas abiertas")
            ui.button("Nueva contraseña", icon="key", on_click=lambda m=member: self._reset_dialog(m)).props(
                "flat dense no-caps"
            ).mark(f"reset-{member.id}")
            if member.id == self.me.id:
                ui.label("(vos)").classes("text-xs text-slate-500 w-32 text-center")
            elif member.active:
                ui.button("Desactivar", icon="block", on_click=lambda m=member: self._deactivate_dialog(m)).props(
                    "flat dense no-caps color=negative"
                ).classes("w-32").mark(f"deactivate-{member.id}")
            else:
                ui.button("Reactivar", icon="undo", on_click=lambda m=member: self._set_active(m, True)).props(
                    "flat dense no-caps"
                ).classes("w-32").mark(f"reactivate-{member.id}")

    # ---- actions ----------------------------------------------------------------------------------
    def _reset_dialog(self, member: users.UserView) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96").mark("reset-dialog"):
            ui.label(f"Nueva contraseña para {member.name}").classes("text-lg font-semibold")
            ui.label("Sus sesiones abiertas se cierran; va a tener que ingresar con esta.").classes(
                "text-sm text-slate-600"
            )
            password = (
                ui.input("Nueva contraseña", value=users.generate_password()).classes("w-full").mark("reset-password")
            )
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")

                async def save() -> None:
                    try:
                        await io(_reset, self.me.id, member.id, password.value or "")
                    except users.UserError as exc:
                        ui.notify(str(exc), type="negative")
                        return
                    dialog.close()
                    ui.notify(f"Contraseña de {member.name} cambiada. Pasásela por un medio seguro.", type="positive")

                ui.button("Guardar", on_click=save).props("unelevated no-caps").mark("reset-save")
        dialog.open()

    def _deactivate_dialog(self, member: users.UserView) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96").mark("deactivate-dialog"):
            ui.label(f"¿Desactivar a {member.name}?").classes("text-lg font-semibold")
            ui.label(
                "No va a poder ingresar más, sus pestañas abiertas se cierran ahora y sus chats quedan "
                "libres para el resto del equipo. Podés reactivarlo cuando quieras."
            ).classes("text-sm text-slate-600")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")

                async def confirm() -> None:
                    dialog.close()
                    await self._set_active(member, False)

                ui.button("Desactivar", on_click=confirm).props(
                    'unelevated no-caps color=negative data-testid="deactivate-confirm"'
                ).mark("deactivate-confirm")
        dialog.open()

    async def _end_sessions(self, member: users.UserView) -> None:
        try:
            await io(_end_sessions, self.me.id, member.id)
        except users.UserError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"Listo: se cerraron las sesiones de {member.name} en todos sus dispositivos", type="positive")

    # ---- sign-in audit ----------------------------------------------------------------------------
    @ui.refreshable_method
    def login_list(self) -> None:
        with ui.card().classes("w-full").mark("recent-logins"):
            ui.label("Ingresos recientes").classes("text-lg font-semibold")
            ui.label(
                "Los últimos intentos de ingreso, buenos y fallidos, con la dirección y el navegador. "
                "Muchos fallidos desde una dirección que no conocés pueden ser alguien probando contraseñas."
            ).classes("text-sm text-slate-600")
            if not self.logins:
                ui.label("Todavía no hubo ingresos.").classes("text-slate-500")
                return
            rows = [
                {
                    "id": index,
                    "when": _when(entry.at),
                    "who": entry.user_name or entry.email,
                    "email": entry.email,
                    "outcome": entry.label,
                    "address": entry.address,
                    "agent": entry.user_agent[:80],
                }
                for index, entry in enumerate(self.logins)
            ]
            columns = [
                {"name": "when", "label": "Cuándo", "field": "when", "align": "left"},
                {"name": "who", "label": "Quién", "field": "who", "align": "left"},
                {"name": "email", "label": "Email", "field": "email", "align": "left"},
                {"name": "outcome", "label": "Resultado", "field": "outcome", "align": "left"},
                {"name": "address", "label": "Dirección", "field": "address", "align": "left"},
                {"name": "agent", "label": "Navegador", "field": "agent", "align": "left"},
            ]
            ui.table(columns=columns, rows=rows, row_key="id").props("flat dense wrap-cells").classes("w-full")

    async def _set_active(self, member: users.UserView, active: bool) -> None:
        try:
            await io(_set_active, self.me.id, member.id, active)
        except users.UserError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"{member.name} {'reactivado' if active else 'desactivado'}", type="positive")
        await self.reload()


@ui.page("/admin/users")
async def admin_users_page(request: Request) -> None:
    with frame(request, "Equipo", admin_only=True) as me:
        if me is None:
            return
        await TeamPage(me).build()
