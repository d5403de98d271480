"""The chat list as a seller sees it: rows, per-seller unread, filters, search, live updates."""

from __future__ import annotations

from datetime import timedelta

from nicegui.testing import User

from s7.clock import now
from tests.pages.inbox_helpers import (
    customer_says,
    list_order,
    make_user,
    set_conversation,
    sign_in,
    take,
    unread_badge,
)


async def test_rows_show_name_preview_mode_lead_assignee_and_my_unread(pg_db, user: User) -> None:
    seller = make_user("Vendedor Uno")
    other = make_user("Vendedora Dos")
    hot, _ = customer_says("5491100000001", "quiero las Air Max", name="Juan Pérez", at=now() - timedelta(minutes=5))
    customer_says("5491100000001", "¿en cuotas?", name="Juan Pérez")
    set_conversation(hot, lead="HOT")
    held, _ = customer_says("5491100000002", "hola", name="María", at=now() - timedelta(minutes=9))
    take(held, other)
    lost, _ = customer_says("5491100000003", "sigo esperando", at=now() - timedelta(minutes=20))
    set_conversation(lost, lead="HOT_LOST")

    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    with user.scope(marker=f"chat-{hot}"):
        await user.should_see("Juan Pérez")
        await user.should_see("¿en cuotas?")
        await user.should_see("Bot")  # one ownership line: the bot has it
        await user.should_see("🔥 Caliente")
        await user.should_not_see("HOT")
    assert unread_badge(user, hot) == "2"  # two customer messages this seller has not seen
    with user.scope(marker=f"chat-{held}"):
        await user.should_see("Vendedor: Vendedora Dos")
    with user.scope(marker=f"chat-{lost}"):
        await user.should_see("+5491100000003")  # no profile name: the phone number
        await user.should_see("Perdido")
    assert seller != other


async def test_filters_show_exactly_their_chats(pg_db, user: User) -> None:
    me = make_user("Vendedor Uno")
    other = make_user("Vendedora Dos")
    bot_chat, _ = customer_says("5491100000011", "hola", name="Bot Chat")
    mine, _ = customer_says("5491100000012", "hola", name="Mi Chat")
    take(mine, me)
    theirs, _ = customer_says("5491100000013", "hola", name="Su Chat")
    take(theirs, other)
    hot, _ = customer_says("5491100000014", "lo llevo", name="Lucas Apurado")
    set_conversation(hot, lead="HOT")
    lost, _ = customer_says("5491100000015", "hola?", name="Marta Olvidada")
    set_conversation(lost, lead="HOT_LOST")

    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    expected = {
        "all": {"Bot Chat", "Mi Chat", "Su Chat", "Lucas Apurado", "Marta Olvidada"},
        "mine": {"Mi Chat"},
        "unassigned": {"Bot Chat", "Lucas Apurado", "Marta Olvidada"},
        "hot": {"Lucas Apurado"},
        "hot_lost": {"Marta Olvidada"},
        "bot": {"Bot Chat", "Lucas Apurado", "Marta Olvidada"},
        "human": {"Mi Chat", "Su Chat"},
    }
    for key, names in expected.items():
        user.find(marker=f"filter-{key}").click()
        for name in names:
            await user.should_see(name, retries=20)
        for name in expected["all"] - names:
            await user.should_not_see(name, retries=20)


async def test_search_by_name_phone_and_message_text(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    customer_says("5491144440001", "¿tienen botines Adidas talle 40?", name="Lucía Gómez")
    customer_says("5491155550002", "precio de la remera", name="Pedro")
    customer_says("5491166660003", "100% algodón?", name="Ana")

    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    search = user.find(marker="search")
    for query, visible in [
        ("lucía", "Lucía Gómez"),  # name, any case
        ("5555", "Pedro"),  # phone digits
        ("BOTINES adidas", "Lucía Gómez"),  # message text
        ("100%", "Ana"),  # LIKE wildcards are literal
    ]:
        search.clear().type(query)
        await user.should_see(visible, retries=20)
        others = {"Lucía Gómez", "Pedro", "Ana"} - {visible}
        for name in others:
            await user.should_not_see(name, retries=20)
    search.clear().type("nadie dijo esto")
    await user.should_see(marker="empty-list", retries=20)


async def test_a_new_message_updates_the_list_live_without_reload(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    older, _ = customer_says("5491100000021", "primero", name="Primero", at=now() - timedelta(minutes=10))
    newer, _ = customer_says("5491100000022", "segundo", name="Segundo", at=now() - timedelta(minutes=5))
    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    await user.should_see("Segundo")

    customer_says("5491100000021", "¡sigo acá!", name="Primero")  # the older chat moves to the top
    with user.scope(marker=f"chat-{older}"):
        await user.should_see("¡sigo acá!", retries=30)
    assert unread_badge(user, older) == "2"
    new_chat, _ = customer_says("5491100000023", "soy nuevo", name="Nuevo")
    await user.should_see("soy nuevo", retries=30)
    inbox_order = list_order(user)
    assert inbox_order[:3] == [new_chat, older, newer]


async def test_a_chat_leaves_the_unassigned_filter_when_someone_takes_it(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    other = make_user("Vendedora Dos")
    chat, _ = customer_says("5491100000031", "hola", name="Se Va")
    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    user.find(marker="filter-unassigned").click()
    await user.should_see("Se Va", retries=20)
    take(chat, other)
    await user.should_not_see("Se Va", retries=30)


async def test_the_list_pages_instead_of_loading_everything(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    base = now() - timedelta(hours=2)
    for i in range(55):
        customer_says(f"54911000010{i:02d}", f"mensaje {i}", name=f"Cliente {i:02d}", at=base + timedelta(minutes=i))
    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    await user.should_see("Cliente 54")
    await user.should_not_see("Cliente 04")  # the 51st newest is not loaded yet
    assert len(list_order(user)) == 50
    user.find("Ver más").click()
    await user.should_see("Cliente 04", retries=20)
    assert len(list_order(user)) == 55
