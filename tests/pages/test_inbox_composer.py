"""The composer and the ownership buttons: send = takeover, closed window, held chats, races."""

from __future__ import annotations

from datetime import timedelta

from nicegui.testing import User

from s7.clock import now
from tests.pages.inbox_helpers import (
    conversation,
    customer_says,
    eventually,
    make_user,
    outbound_messages,
    set_conversation,
    sign_in,
    take,
)

SEND = "keydown.enter.exact.prevent"  # the composer's listener: Enter alone sends, Shift+Enter is a newline


async def test_enter_sends_as_the_seller_and_takes_the_chat_over(pg_db, user: User) -> None:
    me = make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000201", "¿tienen talle 42?", name="Cliente")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    await user.should_see("El bot está atendiendo. Si escribís, tomás el chat y el bot se calla.")
    user.find(marker="composer").type("Sí, tenemos\n¿lo reservo?").trigger(SEND)
    await eventually(lambda: len(outbound_messages(chat)) == 1)
    sent = outbound_messages(chat)[0]
    assert (sent.author, sent.author_user_id, sent.text) == ("seller", me, "Sí, tenemos\n¿lo reservo?")
    state = conversation(chat)
    assert (state.mode, state.assigned_to) == ("HUMAN_TAKEOVER", me)
    await user.should_see(marker=f"msg-{sent.id}", retries=30)
    await eventually(lambda: _badge(user, "chat-owner") == "Vendedor: Vendedor Uno")
    await user.should_not_see("El bot está atendiendo. Si escribís, tomás el chat y el bot se calla.", retries=30)
    assert user.find(marker="composer").elements.pop().value == ""


async def test_outside_the_window_the_composer_is_replaced_by_a_clear_closed_state(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000211", "hola", name="Cliente", at=now() - timedelta(hours=25))
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    await user.should_see(marker="window-closed")
    await user.should_see("Ventana cerrada")
    await user.should_not_see(marker="composer")


async def test_a_send_refused_because_the_window_just_closed_says_so_and_keeps_the_text(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000221", "hola", name="Cliente")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    set_conversation(chat, last_customer_at=now() - timedelta(hours=24, seconds=1))  # closed meanwhile
    user.find(marker="composer").type("¿Seguís interesado?").trigger(SEND)
    await user.should_see("La ventana de 24 horas está cerrada", retries=30)
    assert outbound_messages(chat) == []
    assert conversation(chat).mode == "BOT_ON"  # nothing sent, nothing taken
    assert user.find(marker="composer").elements.pop().value == "¿Seguís interesado?"


async def test_a_chat_held_by_another_seller_names_them_instead_of_a_composer(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    other = make_user("Vendedora Dos")
    chat, _ = customer_says("5491100000231", "hola", name="Cliente")
    take(chat, other)
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    await user.should_see("🔒 Vendedora Dos está atendiendo este chat.", retries=5)
    await user.should_not_see(marker="composer")
    assert _badge(user, "chat-owner") == "Vendedor: Vendedora Dos"
    await user.should_not_see(marker="take")  # not offered: pressing it could only explain it is held
    assert conversation(chat).assigned_to == other


async def test_two_sellers_taking_at_once_one_wins_and_the_other_is_told_who(pg_db, create_user) -> None:
    ids = {"Vendedor Uno": make_user("Vendedor Uno"), "Vendedora Dos": make_user("Vendedora Dos")}
    chat, _ = customer_says("5491100000241", "lo llevo", name="Cliente")
    sellers = {name: create_user() for name in ids}
    for name, tab in sellers.items():
        await sign_in(tab, name)
        await tab.open(f"/?chat={chat}")
    for tab in sellers.values():  # both click before either answer comes back
        tab.find(marker="take").click()
    await eventually(lambda: conversation(chat).assigned_to is not None)
    winner = next(name for name, uid in ids.items() if uid == conversation(chat).assigned_to)
    loser = next(name for name in ids if name != winner)
    await sellers[loser].should_see(f"🔒 {winner} está atendiendo este chat.", retries=30)
    await sellers[winner].should_see(marker="composer", retries=30)

    # The simulation routes every ui.notify to the last user touched (NiceGUI's multi-user
    # pitfall), so the toasts are checked across both tabs; the real browser test checks per tab.
    def toasts() -> list[str]:
        return [message for tab in sellers.values() for message in tab.notify.messages]

    await eventually(lambda: f"Este chat lo tiene {winner}." in toasts())
    await eventually(lambda: "Tomaste el chat: el bot no va a responder." in toasts())
    assert toasts().count("Tomaste el chat: el bot no va a responder.") == 1  # exactly one winner


async def test_return_to_bot_by_the_holder_or_an_admin_not_by_another_seller(pg_db, create_user) -> None:
    holder = make_user("Vendedor Uno")
    make_user("Vendedora Dos")
    make_user("La Admin", role="admin")
    chat, _ = customer_says("5491100000251", "hola", name="Cliente")
    take(chat, holder)
    other, admin = create_user(), create_user()
    await sign_in(other, "Vendedora Dos")
    await other.open(f"/?chat={chat}")
    await other.should_see(marker="held")
    assert _badge(other, "chat-owner") == "Vendedor: Vendedor Uno"
    for action in ("take", "release", "assign"):  # what this seller may not do is not offered
        await other.should_not_see(marker=action)
    assert conversation(chat).mode == "HUMAN_TAKEOVER"

    await sign_in(admin, "La Admin")
    await admin.open(f"/?chat={chat}")
    admin.find(marker="release").click()
    await eventually(lambda: conversation(chat).mode == "BOT_ON")
    await admin.should_see("Listo, el bot vuelve a atender este chat.", retries=30)
    await eventually(lambda: _badge(other, "chat-owner") == "Bot (asignado a Vendedor Uno)")  # follows live
    await other.should_see(marker="take", retries=30)
    await other.should_not_see(marker="held", retries=30)


async def test_assign_to_a_teammate_updates_both_the_chat_and_the_list(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    other = make_user("Vendedora Dos")
    chat, _ = customer_says("5491100000261", "hola", name="Cliente")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    user.find(marker=f"assign-{other}").click()
    await eventually(lambda: conversation(chat).assigned_to == other)
    with user.scope(marker=f"chat-{chat}"):
        await user.should_see("Bot (asignado a Vendedora Dos)", retries=30)
    await user.should_see("Asignación actualizada.")


def _badge(user: User, marker: str) -> str:
    with user:
        return user.find(marker=marker).elements.pop().text
