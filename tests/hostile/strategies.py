"""Hypothesis strategies for webhook bodies: Meta-shaped skeletons with hostile leaves.

Bodies keep the envelope often enough (object / entry / changes / value / messages…) that the
generator reaches deep parser branches, while any leaf may be the wrong type, missing, huge,
unicode soup or an HTML/script payload.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

KINDS = [
    "text",
    "interactive",
    "button",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "unsupported",
    "order",
    "system",
    "edit",
    "revoke",
    "media_placeholder",
    "nfm_reply",
    "weird_new_kind",
]
FIELDS = ["messages", "smb_message_echoes", "history", "smb_app_state_sync", "account_update", "unknown_field"]
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "\u202e",
            "\x00",
            "💥" * 50,
            "{{7*7}}",
            "'; DROP TABLE messages; --",
            "\\/\\u00e9",
            "a" * 5000,
        ]
    ),
)
SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False), HOSTILE_TEXT
)
JUNK = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually the well-typed value, sometimes junk of any type."""
    return st.one_of(value, value, value, JUNK)


WAMID = st.builds(
    lambda s: f"wamid.{s}", st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=", min_size=1, max_size=24)
)
PHONE = st.from_regex(r"\A549\d{8,10}\Z")
TIMESTAMP = st.one_of(st.integers(min_value=0, max_value=2_000_000_000).map(str), JUNK)


@st.composite
def message(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    item: dict[str, Any] = {
        "from": draw(maybe(PHONE)),
        "id": draw(maybe(WAMID)),
        "timestamp": draw(TIMESTAMP),
        "type": draw(maybe(st.just(kind))),
    }
    body = {
        "text": {"body": draw(maybe(HOSTILE_TEXT))},
        "interactive": draw(
            st.sampled_from(
                [
                    {
                        "type": "button_reply",
                        "button_reply": {"id": draw(maybe(HOSTILE_TEXT)), "title": draw(HOSTILE_TEXT)},
                    },
                    {
                        "type": "list_reply",
                        "list_reply": {"id": draw(HOSTILE_TEXT), "title": draw(maybe(HOSTILE_TEXT))},
                    },
                    {"type": "nfm_reply", "nfm_reply": draw(JUNK)},
                ]
            )
        ),
        "button": {"payload": draw(maybe(HOSTILE_TEXT)), "text": draw(maybe(HOSTILE_TEXT))},
        "reaction": {"message_id": draw(maybe(WAMID)), "emoji": draw(st.one_of(st.just(""), HOSTILE_TEXT))},
        "location": {"latitude": draw(maybe(st.floats(-90, 90))), "longitude": draw(maybe(st.floats(-180, 180)))},
        "edit": {"original_message_id": draw(maybe(WAMID)), "message": draw(JUNK)},
        "revoke": {"original_message_id": draw(maybe(WAMID))},
    }.get(
        kind,
        {
            "id": draw(maybe(st.text(max_size=10))),
            "mime_type": draw(maybe(HOSTILE_TEXT)),
            "caption": draw(maybe(HOSTILE_TEXT)),
        },
    )
    item[kind] = draw(maybe(st.just(body)))
    if draw(st.booleans()):
        item["context"] = draw(maybe(st.fixed_dictionaries({"from": PHONE, "id": WAMID})))
    if draw(st.integers(0, 9)) == 0:
        item["errors"] = draw(
            maybe(st.lists(st.fixed_dictionaries({"code": maybe(st.integers()), "title": HOSTILE_TEXT}), max_size=2))
        )
    return item


@st.composite
def status(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(maybe(WAMID)),
        "status": draw(maybe(st.sampled_from(["sent", "delivered", "read", "failed", "played", "deleted"]))),
        "timestamp": draw(TIMESTAMP),
        "recipient_id": draw(maybe(PHONE)),
        "errors": draw(
            st.one_of(
                st.just([]),
                st.lists(
                    st.fixed_dictionaries({"code": maybe(st.integers(0, 200000)), "title": HOSTILE_TEXT}), max_size=2
                ),
            )
        ),
    }


@st.composite
def value(draw: st.DrawFn, field: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": draw(
            maybe(st.fixed_dictionaries({"display_phone_number": PHONE, "phone_number_id": st.just("106540352242922")}))
        ),
    }
    if field == "messages":
        result["contacts"] = draw(
            maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {"profile": maybe(st.fixed_dictionaries({"name": HOSTILE_TEXT})), "wa_id": maybe(PHONE)}
                    ),
                    max_size=2,
                )
            )
        )
        result["messages"] = draw(maybe(st.lists(message(), max_size=4)))
        result["statuses"] = draw(maybe(st.lists(status(), max_size=3)))
    elif field == "smb_message_echoes":
        result["message_echoes"] = draw(
            maybe(st.lists(message().map(lambda m: {**m, "to": m.get("from")}), max_size=3))
        )
    elif field == "history":
        result["history"] = draw(
            maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "metadata": maybe(
                                st.fixed_dictionaries(
                                    {
                                        "phase": st.integers(0, 2),
                                        "chunk_order": st.integers(0, 9),
                                        "progress": st.integers(0, 100),
                                    }
                                )
                            ),
                            "threads": maybe(
                                st.lists(
                                    st.fixed_dictionaries(
                                        {"id": maybe(PHONE), "messages": maybe(st.lists(message(), max_size=3))}
                                    ),
                                    max_size=2,
                                )
                            ),
                        }
                    ),
                    max_size=2,
                )
            )
        )
    elif field == "smb_app_state_sync":
        result["state_sync"] = draw(
            maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "type": st.just("contact"),
                            "action": maybe(st.sampled_from(["add", "remove"])),
                            "contact": maybe(
                                st.fixed_dictionaries({"full_name": HOSTILE_TEXT, "phone_number": maybe(PHONE)})
                            ),
                        }
                    ),
                    max_size=3,
                )
            )
        )
    else:
        result.update(draw(st.dictionaries(st.text(max_size=10), JUNK, max_size=3)))
    return result


@st.composite
def change(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(FIELDS))
    return {"field": draw(maybe(st.just(field))), "value": draw(maybe(value(field)))}


@st.composite
def webhook_body(draw: st.DrawFn) -> Any:
    entry = st.fixed_dictionaries(
        {"id": maybe(st.just("102290129340398")), "changes": maybe(st.lists(change(), max_size=3))}
    )
    body = {
        "object": draw(maybe(st.just("whatsapp_business_account"))),
        "entry": draw(maybe(st.lists(maybe(entry), max_size=3))),
    }
    return draw(st.one_of(st.just(body), st.just(body), st.just(body), JUNK))
