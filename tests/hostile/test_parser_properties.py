"""The webhook parser never crashes and never drops an item, whatever Meta (or an attacker
with the app secret) sends."""

import os

from hypothesis import HealthCheck, given, settings

from s7.whatsapp import updates
from tests.hostile.strategies import webhook_body

FIELD_ITEMS = {
    "messages": ("messages", "statuses"),
    "smb_message_echoes": ("message_echoes",),
    "smb_app_state_sync": ("state_sync",),
    "history": (),
    "account_update": (),
}


def _count_items(body: object) -> int:
    """Items the parser must account for: messages, statuses, echoes, history messages, syncs."""
    if not updates.is_whatsapp_body(body):
        return 0
    total = 0
    for entry in body["entry"]:  # type: ignore[index]
        if not isinstance(entry, dict):
            total += 1
            continue
        changes = entry.get("changes") or []
        if not isinstance(changes, list):
            continue
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                total += 1
                continue
            field = change.get("field")
            keys = FIELD_ITEMS.get(field) if isinstance(field, str) else None
            if keys is None:  # a field we do not handle is kept whole, as one unknown update
                total += 1
                continue
            for key in keys:
                if isinstance(value.get(key), list):
                    total += len(value[key])
    return total


@settings(
    max_examples=int(os.environ.get("S7_PARSER_EXAMPLES", "8000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(webhook_body())
def test_parser_never_raises_and_accounts_for_every_item(body: object) -> None:
    parsed = updates.parse(body) if isinstance(body, dict) else updates.parse({})  # type: ignore[arg-type]
    assert isinstance(parsed, list)
    # Every message/status/echo/sync item becomes some update (typed, unknown or error), none vanish.
    assert len(parsed) >= _count_items(body) if isinstance(body, dict) else parsed == []
