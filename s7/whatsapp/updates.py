"""Webhook JSON → typed update objects. The only module that reads Meta's raw dicts.

`parse(body)` walks EVERY entry, change and item of a (possibly batched) POST: Meta batches up
to 1,000 updates and a parser that reads `[0]` silently drops the rest. One malformed item never
sinks its batch: it becomes an `UnknownUpdate` kept for the log, like any kind we do not know.

Shapes follow `shared/reference/whatsapp-cloud-api.md` (§2-§3): `timestamp` is a string of Unix
seconds, `context` may be absent, un-react is `emoji: ""` or no `emoji` key, echoes live under
`message_echoes`, history under `history[].threads[].messages[]`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

WABA_OBJECT = "whatsapp_business_account"


# ---- message contents (shared by customer messages, business echoes and history) -------------
@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: int | None
    title: str
    message: str = ""
    details: str = ""

    def describe(self) -> str:
        """Meta's reason in one line, as sellers get to see it."""
        text = self.message or self.title
        if self.details and self.details != text:
            text = f"{text}: {self.details}" if text else self.details
        return f"({self.code}) {text}" if self.code is not None else text


@dataclass(frozen=True, slots=True)
class Text:
    body: str
    preview_url: bool = False


@dataclass(frozen=True, slots=True)
class ButtonReply:
    """A tap on one of our reply buttons."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class ListReply:
    """A row picked from one of our list messages."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class TemplateButton:
    """A tap on a template's quick-reply button (`type: button`)."""

    payload: str
    text: str


@dataclass(frozen=True, slots=True)
class Media:
    """image, audio (voice notes: `voice=True`), video, document, sticker."""

    kind: str
    media_id: str | None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    animated: bool = False
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float | None
    longitude: float | None
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SharedContacts:
    """Contact cards; kept as Meta sent them (names, phones, emails...)."""

    cards: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Reaction:
    """An emoji on `target_wamid`; `emoji=None` is an un-react."""

    target_wamid: str
    emoji: str | None


@dataclass(frozen=True, slots=True)
class Order:
    catalog_id: str | None
    text: str | None
    items: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Edit:
    """The sender edited an earlier message; `content` is the new version."""

    original_wamid: str
    content: Content


@dataclass(frozen=True, slots=True)
class Revoke:
    """The sender deleted an earlier message for everyone."""

    original_wamid: str


@dataclass(frozen=True, slots=True)
class System:
    """WhatsApp's notice about the customer's identity: `user_changed_number` (new phone in
    `new_wa_id`: `system.wa_id`, or the legacy `system.new_wa_id`) or `user_changed_user_id`
    (new BSUID in `user_id`, the old one in `previous_user_id` when Meta sends it)."""

    body: str
    system_type: str | None = None
    new_wa_id: str | None = None
    user_id: str | None = None
    previous_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class FlowReply:
    """`interactive.nfm_reply`: a WhatsApp Flow or an address message answered. `response` is the
    decoded `response_json` (None when absent or not a JSON object; `raw_response` keeps the text)."""

    name: str | None
    body: str | None
    response: dict[str, Any] | None
    raw_response: str | None = None


@dataclass(frozen=True, slots=True)
class RequestWelcome:
    """The customer opened the chat for the first time (`type: request_welcome`)."""


@dataclass(frozen=True, slots=True)
class CallPermissionReply:
    """`interactive.call_permission_reply`: may the business call this customer?"""

    accepted: bool
    permanent: bool = False
    expires_at: datetime | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Anything we cannot show as such: Meta's `unsupported`, a type we do not know, or an
    `interactive` arriving without its object. Kept and shown, never dropped."""

    type: str
    errors: tuple[ErrorInfo, ...] = ()


Content = (
    Text
    | ButtonReply
    | ListReply
    | TemplateButton
    | Media
    | Location
    | SharedContacts
    | Reaction
    | Order
    | Edit
    | Revoke
    | System
    | FlowReply
    | RequestWelcome
    | CallPermissionReply
    | Unsupported
)


@dataclass(frozen=True, slots=True)
class Referral:
    """The click-to-WhatsApp ad (or post) that brought the customer here."""

    source_url: str | None
    source_id: str | None = None
    source_type: str | None = None  # ad | post
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    media_url: str | None = None  # image_url / video_url
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


@dataclass(frozen=True, slots=True)
class Pricing:
    """`statuses[].pricing`: what Meta bills (or not) for the message the status is about."""

    billable: bool | None
    pricing_model: str | None  # PMP (per message), CBP (old per conversation)
    category: str | None  # service | utility | marketing | authentication | marketing_lite | ...
    type: str | None = None  # regular | free_customer_service | free_entry_point


# ---- updates -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Envelope:
    """Where an update came from: WABA, business number, subscribed field."""

    waba_id: str | None
    phone_number_id: str | None
    display_phone_number: str | None
    field: str


@dataclass(frozen=True, slots=True)
class CustomerMessage:
    """A customer wrote to the business (`messages` field, `value.messages[]`).

    Who wrote: `wa_id` (phone digits) and/or `user_id` (business-scoped id, BSUID) — since 2026
    either may be missing — plus `username` when the customer has one. A message in a group
    carries `group_id`: never a 1:1 chat to answer.
    """

    envelope: Envelope
    wamid: str
    wa_id: str | None
    user_id: str | None
    name: str | None
    timestamp: datetime | None
    content: Content
    context_wamid: str | None = None
    forwarded: bool = False
    referral: Referral | None = None
    errors: tuple[ErrorInfo, ...] = ()
    username: str | None = None
    parent_user_id: str | None = None
    group_id: str | None = None
    frequently_forwarded: bool = False


@dataclass(frozen=True, slots=True)
class BusinessEcho:
    """The business wrote from the WhatsApp Business app or a companion (`smb_message_echoes`).
    A human, never the bot: it silences the bot for that chat."""

    envelope: Envelope
    wamid: str
    wa_id: str | None  # the customer (`to`); None when only the BSUID is known
    user_id: str | None
    name: str | None
    timestamp: datetime | None
    content: Content
    username: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    """A backfilled message (coexistence onboarding). No bot reply, no window."""

    envelope: Envelope
    wamid: str
    wa_id: str | None  # the thread's customer (phone); None when the thread is keyed by BSUID
    from_business: bool
    timestamp: datetime | None
    content: Content
    status: str | None  # history_context.status, e.g. READ, DELIVERED, ERROR
    phase: int | None = None
    chunk_order: int | None = None
    progress: int | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A tick for a message we (or the business app) sent."""

    envelope: Envelope
    wamid: str
    status: str  # sent | delivered | read | failed | played | ...
    timestamp: datetime | None
    recipient_id: str | None
    errors: tuple[ErrorInfo, ...] = ()
    callback_data: str | None = None  # biz_opaque_callback_data we attached to the send
    recipient_user_id: str | None = None  # the customer's BSUID, when Meta tells it
    recipient_type: str | None = None  # "group" for a message sent to a group
    pricing: Pricing | None = None


@dataclass(frozen=True, slots=True)
class ContactSync:
    """`smb_app_state_sync`: an address-book entry of the business app added, edited or removed."""

    envelope: Envelope
    action: str
    wa_id: str | None
    full_name: str | None
    first_name: str | None
    timestamp: datetime | None


@dataclass(frozen=True, slots=True)
class UserIdChange:
    """`user_id_update`: the customer's BSUID changed from `previous` to `current`."""

    envelope: Envelope
    wa_id: str | None
    previous: str
    current: str
    timestamp: datetime | None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class MarketingPreference:
    """`user_preferences`: the customer stopped (`stop`) or resumed (`resume`) marketing messages."""

    envelope: Envelope
    wa_id: str | None
    user_id: str | None
    value: str  # stop | resume
    category: str | None
    detail: str | None
    timestamp: datetime | None


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """`account_update` (e.g. PARTNER_REMOVED): logged for the admin, nothing else."""

    envelope: Envelope
    event: str | None
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WebhookError:
    """`value.errors[]`: an error about the number or a batch, not tied to one message."""

    envelope: Envelope
    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class UnknownUpdate:
    """A field or item we cannot read. Logged with its raw JSON, never silently dropped."""

    envelope: Envelope
    raw: Any
    reason: str = "unknown kind"


Update = (
    CustomerMessage
    | BusinessEcho
    | HistoryMessage
    | StatusUpdate
    | ContactSync
    | UserIdChange
    | MarketingPreference
    | AccountUpdate
    | WebhookError
    | UnknownUpdate
)


# ---- parsing -------------------------------------------------------------------------------
def is_whatsapp_body(body: Any) -> bool:
    """A WhatsApp Business Account webhook at all? Anything else is foreign (200, ignored)."""
    return isinstance(body, dict) and body.get("object") == WABA_OBJECT and isinstance(body.get("entry"), list)


def customer_message_count(body: Any) -> int:
    """How many customer messages a body carries (`messages` changes only: not statuses, echoes
    or history). Never raises, whatever the body's shape."""
    if not isinstance(body, dict):
        return 0
    count = 0
    for entry in _list(body, "entry"):
        for change in _list(entry, "changes"):
            value = change.get("value")
            if change.get("field") == "messages" and isinstance(value, dict):
                count += len(_list(value, "messages"))
    return count


def parse(body: dict[str, Any]) -> list[Update]:
    """Every update in a webhook body, in the order Meta wrote them."""
    updates: list[Update] = []
    if not is_whatsapp_body(body):
        return updates
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            updates.append(UnknownUpdate(Envelope(None, None, None, ""), entry, "entry is not an object"))
            continue
        for change in _items(entry, "changes"):
            updates.extend(_parse_change(entry.get("id"), change))
    return updates


def _parse_change(waba_id: Any, change: Any) -> list[Update]:
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        return [UnknownUpdate(Envelope(_str(waba_id), None, None, ""), change, "change without a value")]
    value: dict[str, Any] = change["value"]
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    envelope = Envelope(
        waba_id=_str(waba_id),
        phone_number_id=_str(metadata.get("phone_number_id")),
        display_phone_number=_str(metadata.get("display_phone_number")),
        field=str(change.get("field") or ""),
    )
    parser = _FIELD_PARSERS.get(envelope.field)
    if parser is None:
        return [UnknownUpdate(envelope, value, f"field {envelope.field!r} not handled")]
    updates: list[Update] = []
    for error in _items(value, "errors"):
        updates.append(WebhookError(envelope, _error(error)))
    for kind, item, build in parser(envelope, value):
        try:
            updates.append(build(item))
        except Exception as exc:  # one bad item must not sink the rest of the batch
            log.warning("unreadable %s item in a %s webhook: %s", kind, envelope.field, exc)
            updates.append(UnknownUpdate(envelope, item, f"unreadable {kind}: {exc}"))
    return updates


def _messages_field(envelope: Envelope, value: dict[str, Any]):  # type: ignore[no-untyped-def]
    people = _People(value)
    for item in _items(value, "messages"):
        yield "message", item, lambda m: _customer_message(envelope, m, people)
    for item in _items(value, "statuses"):
        yield "status", item, lambda s: _status(envelope, s)


def _echoes_field(envelope: Envelope, value: dict[str, Any]):  # type: ignore[no-untyped-def]
    people = _People(value)
    for item in _items(value, "message_echoes"):
        yield "echo", item, lambda m: _echo(envelope, m, people)


def _history_field(envelope: Envelope, value: dict[str, Any]):  # type: ignore[no-untyped-def]
    business = normalize_number(envelope.display_phone_number)
    for chunk in _list(value, "history"):
        meta = chunk.get("metadata") if isinstance(chunk.get("metadata"), dict) else {}
        for error in chunk.get("errors") or []:
            yield "history error", error, lambda e: WebhookError(envelope, _error(e))
        for thread in _list(chunk, "threads"):
            thread_id = _str(thread.get("id"))
            for item in _items(thread, "messages"):
                yield "history message", item, lambda m, t=thread_id, c=meta: _history(envelope, m, t, business, c)
    # Media follow-ups of a backfill come as `value.messages` under field `history`.
    for item in _items(value, "messages"):
        yield "history message", item, lambda m: _history(envelope, m, None, business, {})


def _user_id_update_field(envelope: Envelope, value: dict[str, Any]):  # type: ignore[no-untyped-def]
    for item in _items(value, "user_id_update"):
        yield "user id update", item, lambda u: _user_id_change(envelope, u)


def _user_preferences_field(envelope: Envelope, value: dict[str, Any]):  # type: ignore[no-untyped-def]
    for item in _items(value, "user_preferences"):
        yield "user preference", item, lambda u: _marketing_preference(envelope, u)


def _state_sync_field(envelope: Envelope, value: dict[str, Any]):  # type: ignore[no-untyped-def]
    for item in _items(value, "state_sync"):
        yield "state sync", item, lambda s: _contact_sync(envelope, s)


def _account_update_field(envelope: Envelope, value: dict[str, Any]):  # type: ignore[no-untyped-def]
    yield "account update", value, lambda v: AccountUpdate(envelope, _str(v.get("event")), v)


_FIELD_PARSERS = {
    "messages": _messages_field,
    "smb_message_echoes": _echoes_field,
    "history": _history_field,
    "smb_app_state_sync": _state_sync_field,
    "account_update": _account_update_field,
    "user_id_update": _user_id_update_field,
    "user_preferences": _user_preferences_field,
}


def _customer_message(envelope: Envelope, m: dict[str, Any], people: _People) -> Update:
    if not _wamid(m.get("id")):
        raise ValueError("message without id")
    content = parse_content(m)
    phone, bsuid = _phone(m.get("from")), _bsuid(m.get("from_user_id"))
    person = people.find(phone, bsuid)
    phone = phone or _phone(person.get("wa_id"))
    bsuid = bsuid or _bsuid(person.get("user_id"))
    if isinstance(content, System) and bsuid is None:
        # The customer as we knew them: the previous id. Some notices come without `from`.
        bsuid = content.previous_user_id or (content.user_id if phone is None else None)
        if phone is None and bsuid is None:
            phone = content.new_wa_id
    if phone is None and bsuid is None:
        raise ValueError("message without from/from_user_id")
    context = m.get("context") if isinstance(m.get("context"), dict) else {}
    return CustomerMessage(
        envelope=envelope,
        wamid=str(m["id"]),
        wa_id=phone,
        user_id=bsuid,
        name=_profile_name(person),
        timestamp=parse_timestamp(m.get("timestamp")),
        content=content,
        context_wamid=_wamid(context.get("id")),
        forwarded=bool(context.get("forwarded") or context.get("frequently_forwarded")),
        referral=_referral(m.get("referral")),
        errors=tuple(_error(e) for e in m.get("errors") or []),
        username=_username(person),
        parent_user_id=_bsuid(m.get("from_parent_user_id")) or _bsuid(person.get("parent_user_id")),
        group_id=_bounded(_str(m.get("group_id")), MAX_USER_ID),
        frequently_forwarded=bool(context.get("frequently_forwarded")),
    )


def _echo(envelope: Envelope, m: dict[str, Any], people: _People) -> Update:
    if not _wamid(m.get("id")):
        raise ValueError("echo without id")
    phone, bsuid = _phone(m.get("to")), _bsuid(m.get("to_user_id"))
    person = people.find(phone, bsuid)
    phone = phone or _phone(person.get("wa_id"))
    bsuid = bsuid or _bsuid(person.get("user_id"))
    if phone is None and bsuid is None:
        raise ValueError("echo without to/to_user_id")
    return BusinessEcho(
        envelope=envelope,
        wamid=str(m["id"]),
        wa_id=phone,
        user_id=bsuid,
        name=_profile_name(person),
        timestamp=parse_timestamp(m.get("timestamp")),
        content=parse_content(m),
        username=_username(person),
    )


def _history(
    envelope: Envelope, m: dict[str, Any], thread_id: str | None, business: str | None, meta: dict[str, Any]
) -> Update:
    sender = normalize_number(_str(m.get("from")))
    from_business = bool(business) and sender == business
    party = _party(thread_id) or (_party(_str(m.get("to"))) if from_business else _party(sender))
    if not party or not _wamid(m.get("id")):
        raise ValueError("history message without thread/id")
    context = m.get("history_context") if isinstance(m.get("history_context"), dict) else {}
    return HistoryMessage(
        envelope=envelope,
        wamid=str(m["id"]),
        wa_id=_phone(party),
        from_business=from_business,
        timestamp=parse_timestamp(m.get("timestamp")),
        content=parse_content(m),
        status=_str(context.get("status")),
        phase=_int(meta.get("phase")),
        chunk_order=_int(meta.get("chunk_order")),
        progress=_int(meta.get("progress")),
        user_id=None if _phone(party) else _bsuid(party),
    )


def _status(envelope: Envelope, s: dict[str, Any]) -> Update:
    if not _wamid(s.get("id")) or not _str(s.get("status")):
        raise ValueError("status without id/status")
    pricing = s.get("pricing") if isinstance(s.get("pricing"), dict) else None
    return StatusUpdate(
        envelope=envelope,
        wamid=str(s["id"]),
        status=str(s["status"]).lower(),
        timestamp=parse_timestamp(s.get("timestamp")),
        recipient_id=normalize_number(_str(s.get("recipient_id"))),
        errors=tuple(_error(e) for e in s.get("errors") or []),
        callback_data=_str(s.get("biz_opaque_callback_data")),
        recipient_user_id=_bsuid(s.get("recipient_user_id")),
        recipient_type=_str(s.get("recipient_type")),
        pricing=None
        if pricing is None
        else Pricing(
            billable=pricing.get("billable") if isinstance(pricing.get("billable"), bool) else None,
            pricing_model=_str(pricing.get("pricing_model")),
            category=_lower(pricing.get("category")),
            type=_lower(pricing.get("type")),
        ),
    )


def _user_id_change(envelope: Envelope, u: dict[str, Any]) -> Update:
    ids = u.get("user_id") if isinstance(u.get("user_id"), dict) else {}
    previous, current = _bsuid(ids.get("previous")), _bsuid(ids.get("current"))
    if previous is None or current is None:
        raise ValueError("user_id_update without previous/current")
    return UserIdChange(
        envelope, _phone(u.get("wa_id")), previous, current, parse_timestamp(u.get("timestamp")), _str(u.get("detail"))
    )


def _marketing_preference(envelope: Envelope, u: dict[str, Any]) -> Update:
    value = _lower(u.get("value"))
    phone, bsuid = _phone(u.get("wa_id")), _bsuid(u.get("user_id"))
    if value not in ("stop", "resume") or (phone is None and bsuid is None):
        raise ValueError("user_preferences item without wa_id/user_id or a stop/resume value")
    return MarketingPreference(
        envelope=envelope,
        wa_id=phone,
        user_id=bsuid,
        value=value,
        category=_str(u.get("category")),
        detail=_str(u.get("detail")),
        timestamp=parse_timestamp(u.get("timestamp")),
    )


def _referral(value: Any) -> Referral | None:
    if not isinstance(value, dict):
        return None
    return Referral(
        source_url=_str(value.get("source_url")),
        source_id=_str(value.get("source_id")),
        source_type=_str(value.get("source_type")),
        headline=_str(value.get("headline")),
        body=_str(value.get("body")),
        media_type=_str(value.get("media_type")),
        media_url=_str(value.get("image_url")) or _str(value.get("video_url")),
        thumbnail_url=_str(value.get("thumbnail_url")),
        ctwa_clid=_str(value.get("ctwa_clid")),
    )


def _contact_sync(envelope: Envelope, s: dict[str, Any]) -> Update:
    contact = s.get("contact") if isinstance(s.get("contact"), dict) else {}
    meta = s.get("metadata") if isinstance(s.get("metadata"), dict) else {}
    return ContactSync(
        envelope=envelope,
        action=str(s.get("action") or ""),
        wa_id=normalize_number(_str(contact.get("phone_number"))),
        full_name=_str(contact.get("full_name")),
        first_name=_str(contact.get("first_name")),
        timestamp=parse_timestamp(meta.get("timestamp")),
    )


def parse_content(m: dict[str, Any]) -> Content:
    """The body of one message object, whatever its `type`."""
    kind = str(m.get("type") or "")
    obj = m.get(kind) if isinstance(m.get(kind), dict) else None
    errors = tuple(_error(e) for e in m.get("errors") or [])
    if kind == "text" and obj is not None:
        return Text(str(obj.get("body") or ""), bool(obj.get("preview_url")))
    if kind == "interactive" and obj is not None:
        sub = obj.get(str(obj.get("type"))) if isinstance(obj.get(str(obj.get("type"))), dict) else None
        if obj.get("type") == "button_reply" and sub is not None:
            return ButtonReply(str(sub.get("id") or ""), str(sub.get("title") or ""))
        if obj.get("type") == "list_reply" and sub is not None:
            return ListReply(str(sub.get("id") or ""), str(sub.get("title") or ""), str(sub.get("description") or ""))
        if obj.get("type") == "nfm_reply" and sub is not None:
            return _flow_reply(sub)
        if obj.get("type") == "call_permission_reply" and sub is not None:
            return CallPermissionReply(
                accepted=_lower(sub.get("response")) == "accept",
                permanent=bool(sub.get("is_permanent")),
                expires_at=parse_timestamp(sub.get("expiration_timestamp")),
                source=_str(sub.get("response_source")),
            )
        return Unsupported(f"interactive:{obj.get('type')}", errors)
    if kind == "request_welcome":
        return RequestWelcome()
    if kind == "button" and obj is not None:
        return TemplateButton(str(obj.get("payload") or ""), str(obj.get("text") or ""))
    if kind in ("image", "audio", "video", "document", "sticker") and obj is not None:
        return Media(
            kind=kind,
            media_id=_str(obj.get("id")),
            mime_type=_str(obj.get("mime_type")),
            sha256=_str(obj.get("sha256")),
            caption=_str(obj.get("caption")),
            filename=_str(obj.get("filename")),
            voice=bool(obj.get("voice")),
            animated=bool(obj.get("animated")),
            url=_str(obj.get("url")),
        )
    if kind == "location" and obj is not None:
        return Location(
            _float(obj.get("latitude")),
            _float(obj.get("longitude")),
            _str(obj.get("name")),
            _str(obj.get("address")),
            _str(obj.get("url")),
        )
    if kind == "contacts" and isinstance(m.get("contacts"), list):
        return SharedContacts(tuple(c for c in m["contacts"] if isinstance(c, dict)))
    if kind == "reaction" and obj is not None and _wamid(obj.get("message_id")):
        return Reaction(str(obj["message_id"]), _bounded(_str(obj.get("emoji")), MAX_EMOJI) or None)
    if kind == "order" and obj is not None:
        items = tuple(i for i in obj.get("product_items") or [] if isinstance(i, dict))
        return Order(_str(obj.get("catalog_id")), _str(obj.get("text")), items)
    if kind == "edit" and obj is not None and _wamid(obj.get("original_message_id")):
        inner = obj.get("message") if isinstance(obj.get("message"), dict) else {}
        return Edit(str(obj["original_message_id"]), parse_content(inner))
    if kind == "revoke" and obj is not None and _wamid(obj.get("original_message_id")):
        return Revoke(str(obj["original_message_id"]))
    if kind == "system" and obj is not None:
        return System(
            str(obj.get("body") or ""),
            _str(obj.get("type")),
            _phone(obj.get("wa_id")) or _phone(obj.get("new_wa_id")),
            _bsuid(obj.get("user_id")),
            _bsuid(obj.get("previous_user_id")),
        )
    if kind == "unsupported" and obj is not None and obj.get("type"):
        return Unsupported(str(obj["type"]), errors)
    # Meta's `unsupported` without its object, a new type, or a known type missing its object.
    return Unsupported(kind or "unknown", errors)


def _flow_reply(sub: dict[str, Any]) -> FlowReply:
    raw = sub.get("response_json")
    response: dict[str, Any] | None = None
    if isinstance(raw, dict):  # some peers' fixtures send it already decoded
        response, raw = raw, json.dumps(raw, ensure_ascii=False)
    elif isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = None
        response = decoded if isinstance(decoded, dict) else None
    return FlowReply(_str(sub.get("name")), _str(sub.get("body")), response, raw if isinstance(raw, str) else None)


# ---- small helpers -------------------------------------------------------------------------
def parse_timestamp(value: Any) -> datetime | None:
    """Meta's Unix-seconds timestamp (a string, sometimes an int) → aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int(str(value).strip()), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def normalize_number(value: str | None) -> str | None:
    """`+1 650-555-1234` → `16505551234`. Non-phone ids (business-scoped `US.123...`) unchanged."""
    if not value:
        return None
    value = value.strip()
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits and all(ch.isdigit() or ch in "+-() ." for ch in value):
        return digits
    return value or None


class _People:
    """`value.contacts[]`, found by phone or by BSUID, whichever the message carries. A lone
    contact belongs to the message even when the message names nobody (BSUID-only peers)."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.all = _list(value, "contacts")
        self.by_key: dict[str, dict[str, Any]] = {}
        for contact in self.all:
            for key in (_phone(contact.get("wa_id")), _bsuid(contact.get("user_id"))):
                if key:
                    self.by_key.setdefault(key, contact)

    def find(self, phone: str | None, bsuid: str | None) -> dict[str, Any]:
        for key in (phone, bsuid):
            if key and key in self.by_key:
                return self.by_key[key]
        if len(self.all) == 1 and phone is None and bsuid is None:
            return self.all[0]
        return {}


def _profile_name(person: dict[str, Any]) -> str | None:
    profile = person.get("profile") if isinstance(person.get("profile"), dict) else {}
    return _bounded(_str(profile.get("name")), MAX_NAME)


def _username(person: dict[str, Any]) -> str | None:
    profile = person.get("profile") if isinstance(person.get("profile"), dict) else {}
    name = _str(profile.get("username")) or _str(person.get("username"))
    name = name.strip().lstrip("@") if name else None
    return name if name and len(name) <= MAX_USERNAME else None


def _phone(value: Any) -> str | None:
    """Phone digits, or None: a BSUID is never taken for a phone."""
    number = _party(_str(value))
    return number if number is not None and number.isdigit() else None


def _bsuid(value: Any) -> str | None:
    """A business-scoped user id (`US.1349…`, `US.ENT.…`); never phone digits."""
    text = _str(value)
    text = text.strip() if text else None
    if not text or len(text) > MAX_USER_ID or normalize_number(text) == text and text.isdigit():
        return None
    return text


def _lower(value: Any) -> str | None:
    text = _str(value)
    return text.strip().lower() if text else None


# What our columns hold. Meta's real values are far shorter; anything longer is not Meta's and
# must become "unreadable item" here, not a database error that fails the whole event.
MAX_WAMID, MAX_PARTY, MAX_USER_ID, MAX_NAME, MAX_EMOJI, MAX_USERNAME = 255, 32, 64, 200, 32, 64


def _wamid(value: Any) -> str | None:
    text = _str(value)
    return text if text is not None and len(text) <= MAX_WAMID else None


def _party(value: str | None) -> str | None:
    """A customer's WhatsApp id (phone digits or a business-scoped id), or None if implausible."""
    number = normalize_number(value)
    return number if number is not None and len(number) <= MAX_PARTY else None


def _bounded(value: str | None, limit: int) -> str | None:
    """Display-only text (names, emoji): cut to what the column holds."""
    return value[:limit] if value is not None else None


def _error(e: Any) -> ErrorInfo:
    if not isinstance(e, dict):
        return ErrorInfo(None, str(e))
    data = e.get("error_data") if isinstance(e.get("error_data"), dict) else {}
    # Older payloads put `details` at the top level instead of under `error_data`.
    details = data.get("details") or e.get("details") or ""
    return ErrorInfo(_int(e.get("code")), str(e.get("title") or ""), str(e.get("message") or ""), str(details))


def _list(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Container levels (chunks, threads, contacts): only objects make sense there."""
    items = obj.get(key)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _items(obj: dict[str, Any], key: str) -> list[Any]:
    """Leaf items (messages, statuses...): all of them, so a malformed one is reported, not skipped."""
    items = obj.get(key)
    return items if isinstance(items, list) else []


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text if text != "" else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
