"""The template picker: when the 24-hour window is closed the composer offers approved templates,
with a field per variable and a live preview; sending one is a takeover. Admins re-sync here."""

from __future__ import annotations

from datetime import timedelta

from nicegui.testing import User

from s7.clock import now
from s7.whatsapp import templates as template_sync
from tests.pages.inbox_helpers import (
    conversation,
    customer_says,
    eventually,
    make_user,
    outbound_messages,
    set_conversation,
    sign_in,
)


async def test_a_closed_window_offers_templates_with_a_form_and_a_preview(pg_db, user: User) -> None:
    seller = make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000501", "¿hay en 42?", name="Juana")
    set_conversation(chat, last_customer_at=now() - timedelta(hours=30))
    template_sync.sync()  # the sandbox's demo templates
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    await user.should_see(marker="window-closed")
    await user.should_not_see(marker="composer")
    user.find(marker="template-open").click()
    await user.should_see(marker="template-dialog")
    await user.should_not_see("promo_noviembre (es_AR)")  # paused by Meta: not offered
    await user.should_not_see(marker="template-sync")  # re-syncing is for admins

    user.find(marker="template-select").elements.pop().set_value("seguimiento_consulta|es_AR")
    user.find(marker="template-param-1").type("Juana")
    await user.should_see("Hola Juana, te escribimos de la tienda por tu consulta sobre {{2}}.", retries=5)
    user.find(marker="template-param-2").type("las Air Max 90")
    await user.should_see("Hola Juana, te escribimos de la tienda por tu consulta sobre las Air Max 90.", retries=5)
    user.find(marker="template-send").click()
    await eventually(lambda: len(outbound_messages(chat)) == 1)
    sent = outbound_messages(chat)[0]
    assert (sent.type, sent.author, sent.author_user_id) == ("template", "seller", seller)
    assert sent.text.startswith("Hola Juana, te escribimos de la tienda por tu consulta sobre las Air Max 90.")
    assert conversation(chat).mode == "HUMAN_TAKEOVER"
    await user.should_see(marker="kind-template")


async def test_an_admin_syncs_the_templates_from_the_picker(pg_db, user: User) -> None:
    make_user("Jefa", role="admin")
    chat, _ = customer_says("5491100000502", "hola", name="Pedro")
    await sign_in(user, "Jefa")
    await user.open(f"/?chat={chat}")
    user.find(marker="template-open").click()  # on demand, with the window open
    await user.should_see(marker="no-templates")
    user.find(marker="template-sync").click()
    await user.should_see(marker="template-select", retries=20)


async def test_an_admin_chooses_the_template_the_hot_lost_follow_up_sends(pg_db, user: User) -> None:
    from s7.db import session_scope
    from s7.domain.chats import templates

    make_user("Jefa", role="admin")
    chat, _ = customer_says("5491100000503", "hola", name="Pedro")
    template_sync.sync()
    await sign_in(user, "Jefa")
    await user.open(f"/?chat={chat}")
    user.find(marker="template-open").click()
    await user.should_see(marker="job-templates")
    with session_scope() as session:
        chosen = next(t for t in templates.list_templates(session) if t.name == "ya_abrimos")
    user.find(marker="job-template-hot_lost").elements.pop().set_value(chosen.id)

    def picked() -> bool:
        with session_scope() as session:
            return {t.name: t.use_for for t in templates.list_templates(session)}["ya_abrimos"] == "hot_lost"

    await eventually(picked)
