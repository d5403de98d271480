"""The 2026 platform at the edge: BSUIDs and usernames, identity notices, groups, Flows, welcome
requests, call permissions, ad referrals, pricing on statuses, marketing preferences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from s7.whatsapp import updates as up
from tests.whatsapp.conftest import CUSTOMER, fixture_names, load
from tests.whatsapp.test_updates import only

BSUID = "AR.13491208655302741918"
NEW_BSUID = "AR.24817305912873645029"


def message(name: str) -> up.CustomerMessage:
    update = only(name)
    assert isinstance(update, up.CustomerMessage), update
    return update


def test_a_customer_with_a_username_and_no_phone_is_keyed_by_bsuid() -> None:
    update = message("bsuid_only_text")
    assert update.wa_id is None
    assert update.user_id == BSUID
    assert update.username == "sofi.gomez"
    assert update.content == up.Text("Hola, soy yo otra vez")


def test_parent_ids_are_kept() -> None:
    update = message("bsuid_with_parent")
    assert (update.wa_id, update.user_id, update.parent_user_id) == (None, BSUID, "AR.ENT.11815799212886844830")


def test_a_phone_message_carries_its_bsuid_from_contacts() -> None:
    update = message("text")
    assert (update.wa_id, update.user_id, update.username) == (CUSTOMER, BSUID, None)


def test_a_bsuid_change_without_from_is_read_from_the_notice() -> None:
    update = message("system_changed_user_id")
    assert update.user_id == BSUID  # the customer as we know them: the previous id
    assert update.content == up.System(
        "Sofía Gómez changed from AR.13491208655302741918 to AR.24817305912873645029",
        "user_changed_user_id",
        None,
        NEW_BSUID,
        BSUID,
    )


@pytest.mark.parametrize("name", ["system_changed_number", "system_changed_number_legacy"])
def test_a_number_change_names_the_new_number_in_both_shapes(name: str) -> None:
    update = message(name)
    assert update.wa_id == CUSTOMER
    assert isinstance(update.content, up.System)
    assert update.content.system_type == "user_changed_number"
    assert update.content.new_wa_id == "5491155550009"


def test_a_number_change_may_bring_a_new_bsuid_too() -> None:
    update = message("system_changed_number_with_user_id")
    assert (update.wa_id, update.user_id) == (CUSTOMER, BSUID)  # the old number and BSUID
    assert isinstance(update.content, up.System)
    assert (update.content.new_wa_id, update.content.user_id) == ("5491155550009", NEW_BSUID)


def test_user_id_update_field() -> None:
    update = only("user_id_update")
    assert update == up.UserIdChange(
        update.envelope,
        CUSTOMER,
        BSUID,
        NEW_BSUID,
        datetime.fromtimestamp(1795618745, UTC),
        "User id for Sofía Gómez has been updated.",
    )


def test_a_group_message_says_so() -> None:
    assert message("group_message").group_id == "120363041234567890"
    assert message("text").group_id is None


def test_a_flow_answer_keeps_its_fields() -> None:
    update = message("flow_reply")
    assert isinstance(update.content, up.FlowReply)
    assert update.content.response == {"flow_token": "tok-1", "talle": "42", "color": "blanco", "retira_en_local": True}
    assert update.context_wamid == "wamid.OUT7"


@pytest.mark.parametrize(("name", "raw"), [("flow_reply_invalid_json", "{talle: 42"), ("flow_reply_null_json", None)])
def test_a_flow_answer_with_unreadable_json_is_kept_not_dropped(name: str, raw: str | None) -> None:
    content = message(name).content
    assert content == up.FlowReply("flow", "Sent", None, raw)


def test_an_address_answer() -> None:
    content = message("address_reply").content
    assert isinstance(content, up.FlowReply) and content.name == "address_message"
    assert content.response is not None and content.response["values"]["city"] == "CABA"


def test_request_welcome_and_call_permission() -> None:
    assert message("request_welcome").content == up.RequestWelcome()
    assert message("call_permission_reply").content == up.CallPermissionReply(
        True, False, datetime.fromtimestamp(1796223540, UTC), "user_action"
    )


def test_an_ad_referral_is_typed() -> None:
    referral = message("referral").referral
    assert referral is not None
    assert referral.headline == "Air Max 90 en 6 cuotas"
    assert referral.source_url == "https://fb.me/2ZulEu42P"
    assert referral.source_type == "ad" and referral.source_id == "120210000000000001"
    assert referral.media_url == "https://scontent.example.com/am90.jpg"
    assert referral.ctwa_clid


def test_the_legacy_error_shape_keeps_its_details() -> None:
    update = message("unsupported_legacy_error")
    assert update.errors[0].describe() == "(131051) Unsupported message type: Message type is not currently supported"


def test_a_history_media_follow_up_is_a_history_message() -> None:
    update = only("history_media")
    assert isinstance(update, up.HistoryMessage)
    assert update.wamid == "wamid.HIST2" and update.from_business
    assert isinstance(update.content, up.Media) and update.content.media_id == "1234567890"


@pytest.mark.parametrize("category", ["service", "utility", "marketing", "authentication"])
def test_statuses_carry_their_pricing(category: str) -> None:
    update = only(f"status_pricing_{category}")
    assert isinstance(update, up.StatusUpdate)
    assert update.pricing == up.Pricing(True, "PMP", category, "regular")
    assert update.recipient_user_id == BSUID


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("status_free_entry_point", up.Pricing(False, "PMP", "service", "free_entry_point")),
        ("status_free_customer_service", up.Pricing(False, "PMP", "utility", "free_customer_service")),
        ("status_delivered", None),
    ],
)
def test_free_and_unpriced_statuses(name: str, expected: up.Pricing | None) -> None:
    update = only(name)
    assert isinstance(update, up.StatusUpdate) and update.pricing == expected


def test_a_group_status_says_so() -> None:
    update = only("status_group")
    assert isinstance(update, up.StatusUpdate) and update.recipient_type == "group"


@pytest.mark.parametrize("value", ["stop", "resume"])
def test_marketing_preferences(value: str) -> None:
    update = only(f"user_preferences_{value}")
    assert isinstance(update, up.MarketingPreference)
    assert (update.wa_id, update.value, update.category) == (CUSTOMER, value, "marketing_messages")


def test_kinds_read_over_every_fixture() -> None:
    """The parser's report over the fixtures: nothing becomes an unknown update except the
    fixtures that stand for unknown fields."""
    unknown = {}
    for name in fixture_names():
        for update in up.parse(load(name)):
            if isinstance(update, up.UnknownUpdate):
                unknown[name] = update.reason
    assert unknown == {"unknown_field": "field 'message_template_status_update' not handled"}
