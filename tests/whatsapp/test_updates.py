"""Every Meta-shaped fixture parses into the typed update it stands for; batches are walked whole."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from s7.whatsapp import updates as up
from tests.whatsapp.conftest import CUSTOMER, fixture_names, load

AT = datetime(2026, 11, 25, 14, 59, tzinfo=UTC)


def only(name: str) -> up.Update:
    parsed = up.parse(load(name))
    assert len(parsed) == 1, parsed
    return parsed[0]


def content(name: str) -> up.Content:
    update = only(name)
    assert isinstance(update, up.CustomerMessage | up.BusinessEcho)
    return update.content


def test_a_text_message_carries_sender_name_business_id_and_time() -> None:
    update = only("text")
    assert isinstance(update, up.CustomerMessage)
    assert update.wa_id == CUSTOMER
    assert update.name == "Sofía Gómez"
    assert update.user_id == "AR.13491208655302741918"
    assert update.timestamp == AT
    assert update.envelope.phone_number_id == "106540352242922"
    assert update.envelope.field == "messages"
    assert update.content == up.Text("Hola! ¿Tienen las Air Max 90 en 42? Precio en cuotas/contado")
    assert update.context_wamid is None


def test_replies_and_forwards_keep_their_context() -> None:
    update = only("text_reply_forwarded")
    assert isinstance(update, up.CustomerMessage)
    assert update.context_wamid == "wamid.OUT1"
    assert update.forwarded


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("interactive_button_reply", up.ButtonReply("sku:ZAP-NK-AM90", "Air Max 90")),
        ("interactive_list_reply", up.ListReply("sku:ZAP-AD-SS", "Adidas Superstar", "$ 149.999 · 6 cuotas")),
        ("template_button", up.TemplateButton("reservar_am90", "Reservar")),
        ("template_button_no_context", up.TemplateButton("Unsubscribe", "Unsubscribe")),
        ("reaction", up.Reaction("wamid.OUT1", "😮")),
        ("unreaction_empty", up.Reaction("wamid.OUT1", None)),
        ("unreaction_no_emoji", up.Reaction("wamid.OUT1", None)),
        (
            "location",
            up.Location(
                -34.6037, -58.3816, "Obelisco", "Av. 9 de Julio s/n, CABA", "https://maps.example.com/obelisco"
            ),
        ),
        (
            "system_changed_number",
            up.System("User A changed from 5491155550001 to 5491155550009", "user_changed_number", "5491155550009"),
        ),
        ("new_message_type", up.Unsupported("poll_vote")),
    ],
)
def test_each_message_kind_has_its_type(name: str, expected: up.Content) -> None:
    assert content(name) == expected


@pytest.mark.parametrize(
    ("name", "kind", "caption", "voice"),
    [
        ("image", "image", "¿esta la tienen?", False),
        ("audio_voice", "audio", None, True),
        ("video", "video", None, False),
        ("document", "document", "comprobante", False),
        ("sticker", "sticker", None, False),
    ],
)
def test_media_kinds(name: str, kind: str, caption: str | None, voice: bool) -> None:
    media = content(name)
    assert isinstance(media, up.Media)
    assert (media.kind, media.caption, media.voice) == (kind, caption, voice)
    assert media.media_id and media.mime_type


def test_document_keeps_its_filename() -> None:
    media = content("document")
    assert isinstance(media, up.Media) and media.filename == "transferencia.pdf"


def test_shared_contacts_and_orders() -> None:
    cards = content("contacts")
    assert isinstance(cards, up.SharedContacts)
    assert cards.cards[0]["name"]["formatted_name"] == "Juan Pérez"
    order = content("order")
    assert isinstance(order, up.Order)
    assert order.catalog_id == "1234567890" and order.items[0]["product_retailer_id"] == "ZAP-NK-AM90"


@pytest.mark.parametrize(
    ("name", "kind", "code"),
    [
        ("unsupported", "poll_creation", 131051),
        ("unsupported_legacy", "unsupported", 131051),
        ("unavailable_131060", "media_placeholder", 131060),
    ],
)
def test_unsupported_messages_are_kept_with_their_error(name: str, kind: str, code: int) -> None:
    unsupported = content(name)
    assert isinstance(unsupported, up.Unsupported)
    assert unsupported.type == kind
    assert unsupported.errors[0].code == code


def test_an_interactive_without_its_object_is_unsupported_and_the_value_error_reported() -> None:
    parsed = up.parse(load("interactive_without_object"))
    kinds = {type(u) for u in parsed}
    assert kinds == {up.WebhookError, up.CustomerMessage}
    error = next(u for u in parsed if isinstance(u, up.WebhookError))
    assert error.error.code == 131000 and "Unsupported webhook payload" in error.error.describe()
    message = next(u for u in parsed if isinstance(u, up.CustomerMessage))
    assert isinstance(message.content, up.Unsupported)


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
def test_statuses(status: str) -> None:
    update = only(f"status_{status}")
    assert isinstance(update, up.StatusUpdate)
    assert (update.wamid, update.status, update.recipient_id) == ("wamid.OUT1", status, CUSTOMER)
    assert not update.errors


def test_a_failed_status_carries_metas_reason() -> None:
    update = only("status_failed")
    assert isinstance(update, up.StatusUpdate) and update.status == "failed"
    reason = update.errors[0].describe()
    assert reason.startswith("(131047) Re-engagement message")
    assert "more than 24 hours" in reason


def test_value_level_errors() -> None:
    update = only("value_errors")
    assert isinstance(update, up.WebhookError) and update.error.code == 130429


def test_business_app_echoes_normalise_the_customer_number() -> None:
    update = only("echo_text")
    assert isinstance(update, up.BusinessEcho)
    assert update.wa_id == CUSTOMER  # "+54 9 11 5555-0001" in the payload
    assert update.envelope.field == "smb_message_echoes"
    assert update.content == up.Text("Hola Sofía, te escribo desde el local: sí hay en 42")


def test_echo_edits_and_revokes_point_at_the_original() -> None:
    edit = content("echo_edit")
    assert edit == up.Edit("wamid.ECHO1", up.Text("Hola Sofía: sí hay en 42 y 43"))
    assert content("echo_revoke") == up.Revoke("wamid.ECHO1")


def test_echoes_with_contacts_keep_the_business_scoped_id() -> None:
    update = only("echo_with_contacts")
    assert isinstance(update, up.BusinessEcho)
    assert update.user_id == "AR.13491208655302741918" and update.name == "Sofía Gómez"
    assert isinstance(update.content, up.Media) and update.content.caption == "así quedan"


def test_history_tells_business_from_customer_and_keeps_chunk_data() -> None:
    parsed = up.parse(load("history"))
    assert [type(u) for u in parsed] == [up.HistoryMessage] * 3
    first, placeholder, customer = parsed
    assert isinstance(first, up.HistoryMessage) and first.from_business and first.status == "READ"
    assert first.wa_id == CUSTOMER and (first.phase, first.chunk_order, first.progress) == (1, 2, 55)
    assert isinstance(placeholder, up.HistoryMessage) and placeholder.content == up.Unsupported("media_placeholder")
    assert isinstance(customer, up.HistoryMessage) and not customer.from_business


def test_history_declined_is_an_error() -> None:
    update = only("history_declined")
    assert isinstance(update, up.WebhookError) and update.error.code == 2593109


def test_address_book_sync() -> None:
    added, removed = up.parse(load("state_sync"))
    assert isinstance(added, up.ContactSync) and added.action == "add"
    assert (added.wa_id, added.full_name) == (CUSTOMER, "Sofía Gómez (clienta VIP)")
    assert isinstance(removed, up.ContactSync) and removed.action == "remove" and removed.full_name is None


def test_account_update_and_unknown_fields_are_kept() -> None:
    account = only("account_update")
    assert isinstance(account, up.AccountUpdate) and account.event == "PARTNER_REMOVED"
    unknown = only("unknown_field")
    assert isinstance(unknown, up.UnknownUpdate)
    assert unknown.envelope.field == "message_template_status_update"


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_parses_without_dropping_anything(name: str) -> None:
    body = load(name)
    parsed = up.parse(body)
    assert parsed, f"{name} produced no update"
    value = body["entry"][0]["changes"][0]["value"]
    leaves = sum(len(value.get(k) or []) for k in ("messages", "statuses", "message_echoes", "state_sync", "errors"))
    if body["entry"][0]["changes"][0]["field"] == "messages":
        assert len(parsed) == leaves


def test_a_batch_is_walked_entry_by_entry_change_by_change_item_by_item() -> None:
    body = {"object": "whatsapp_business_account", "entry": []}
    expected = []
    for e in range(3):
        changes = []
        for c in range(2):
            text = load("text")["entry"][0]["changes"][0]
            change = copy.deepcopy(text)
            msgs = []
            for m in range(4):
                wamid = f"wamid.B{e}{c}{m}"
                msgs.append(
                    {"from": CUSTOMER, "id": wamid, "timestamp": "1795618740", "type": "text", "text": {"body": wamid}}
                )
                expected.append(wamid)
            change["value"]["messages"] = msgs
            status = load("status_read")["entry"][0]["changes"][0]["value"]["statuses"][0]
            change["value"]["statuses"] = [dict(status, id=f"wamid.S{e}{c}")]
            expected.append(f"wamid.S{e}{c}")
            changes.append(change)
        body["entry"].append({"id": f"waba{e}", "changes": changes})
    parsed = up.parse(body)
    assert [u.wamid for u in parsed] == expected  # type: ignore[union-attr]


def test_one_malformed_item_does_not_sink_its_batch() -> None:
    body = load("text")
    good = body["entry"][0]["changes"][0]["value"]["messages"][0]
    body["entry"][0]["changes"][0]["value"]["messages"] = ["garbage", {"type": "text"}, good]
    parsed = up.parse(body)
    assert [type(u) for u in parsed] == [up.UnknownUpdate, up.UnknownUpdate, up.CustomerMessage]


def test_foreign_bodies_are_recognised() -> None:
    assert not up.is_whatsapp_body({"object": "page", "entry": []})
    assert not up.is_whatsapp_body([1, 2])
    assert up.parse({"object": "instagram", "entry": [{}]}) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+54 9 11 5555-0001", "5491155550001"), ("16505551234", "16505551234"), ("US.1349", "US.1349"), (None, None)],
)
def test_numbers_are_normalised(raw: str | None, expected: str | None) -> None:
    assert up.normalize_number(raw) == expected
