"""SQLAlchemy models: the whole schema, portable between Postgres and SQLite.

Times are stored as UTC. Enumerations are plain strings with named CHECK constraints
(no native Postgres enums: they make migrations on two dialects painful).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship, synonym

from s7.clock import as_utc, now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Portable JSON: JSONB on Postgres, JSON text on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only autoincrements INTEGER PRIMARY KEY, Postgres wants 64-bit ids for busy tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every dialect (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Mode(StrEnum):
    """Who speaks in a chat (DESIGN rules 1, 2 and 8)."""

    BOT_ON = "BOT_ON"
    HUMAN_TAKEOVER = "HUMAN_TAKEOVER"


class Lead(StrEnum):
    NONE = "NONE"
    WARM = "WARM"
    HOT = "HOT"
    HOT_LOST = "HOT_LOST"


class Author(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    SELLER = "seller"
    BUSINESS_APP = "business_app"
    SYSTEM = "system"


class Status(StrEnum):
    """A message's delivery state. `cancelled`: a bot/job message that never left because a human
    took the chat first (rule 8)."""

    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ItemState(StrEnum):
    """An inbound work item or outbox row: waiting, in a worker's hands, finished, parked."""

    PENDING = "pending"
    SENDING = "sending"  # outbox only: leased to a sender
    DONE = "done"
    SENT = "sent"  # outbox only
    FAILED = "failed"  # parked after its last attempt (inbound) / given up (outbox)
    CANCELLED = "cancelled"  # outbox only: a bot/job row stopped by the send gate


ROLES = ("admin", "seller")
MODES = tuple(Mode)
LEADS = tuple(Lead)
DIRECTIONS = ("in", "out")
AUTHORS = tuple(Author)
STATUSES = tuple(Status)
EVENT_STATES = ("pending", "done", "failed")
ITEM_STATES = ("pending", "done", "failed")
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "cancelled")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(10), default="seller")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on deactivation or password reset: every token/session minted before dies.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Availability for auto-assignment: the seller's switch, and the last moment a panel tab of
    # theirs was connected (AVAILABILITY_GRACE_MINUTES after it they count as away).
    available: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    panel_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_auto_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A customer is known by phone, by business-scoped user id (BSUID), or both (DESIGN rule 10);
    # a username (display, lookups as a last resort) only when they set one. Any may be missing.
    wa_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    bsuid: Mapped[str | None] = mapped_column(String(64), unique=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(200))  # profile name: display only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Consent: nothing marked marketing goes to a customer who opted out (WhatsApp's
    # `user_preferences` "stop", or "BAJA" written in the chat); `opt_out_told_at`: told once.
    marketing_opt_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marketing_opt_out_source: Mapped[str | None] = mapped_column(String(16))  # whatsapp | chat | seller
    opt_out_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Blocked by a seller: the bot and jobs stay out; messages are still stored and shown.
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_id = synonym("bsuid")  # Meta's name for it

    conversation: Mapped[Conversation | None] = relationship(back_populates="contact", uselist=False)


class Conversation(Base):
    """One thread per contact. Who speaks (mode), how hot (lead), who holds it."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(_in("mode", MODES), name="mode"),
        CheckConstraint(_in("lead", LEADS), name="lead"),
        Index("ix_conversations_last_message_at", "last_message_at"),
        Index(
            "ix_conversations_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
            postgresql_with={"gin_pending_list_limit": 256},  # migration 0024
        ),
        Index(
            "ix_conversations_search_doc",
            "search_doc",
            postgresql_using="gin",
            postgresql_ops={"search_doc": "gin_trgm_ops"},
            postgresql_with={"gin_pending_list_limit": 256},  # migration 0024
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), unique=True)
    mode: Mapped[str] = mapped_column(String(16), default="BOT_ON")
    lead: Mapped[str] = mapped_column(String(10), default="NONE")
    intent_score: Mapped[int] = mapped_column(Integer, default=0)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who took it over: "panel" (a seller) or "business_app" (a phone echo).
    human_source: Mapped[str | None] = mapped_column(String(16))
    last_human_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_customer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # opens the 24 h window
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    hot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the bot has handed off and waits for a seller (hot lead or "quiero una persona").
    awaiting_human_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    after_hours_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bot_state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    # Episodes (s7.domain.chats.outcomes): an outcome closes one; lead and intent restart then.
    episode_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(8))
    last_outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A follow-up reminder fired: the chat sorts as if something happened at this moment.
    attention_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Auto-assignment (s7.domain.chats.assignment): when the assignee got it, until they open it.
    auto_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Inbox search (Postgres): name + phone, and the newest text of the chat, lower case without
    # accents, kept by triggers (see migration 0018); trigram-indexed. Unused on SQLite.
    search_name: Mapped[str | None] = mapped_column(Text)
    search_doc: Mapped[str | None] = mapped_column(Text)

    contact: Mapped[Contact] = relationship(back_populates="conversation")
    assignee: Mapped[User | None] = relationship()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint(_in("author", AUTHORS), name="author"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    # Unique: every inbound message is stored once however often Meta retries.
    wa_message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    direction: Mapped[str] = mapped_column(String(3))
    author: Mapped[str] = mapped_column(String(16))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(32), default="text")
    text: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    media: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # id, mime_type, caption, filename...
    context_wa_id: Mapped[str | None] = mapped_column(String(255))  # quoted / tapped message
    reaction: Mapped[str | None] = mapped_column(String(32))  # emoji a customer put on this message
    status: Mapped[str] = mapped_column(String(10), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # What WhatsApp said around the content: forwarded, group id, the ad that brought it, errors.
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ReadMark(Base):
    """Per-seller unread state: the last message each seller has seen in a chat."""

    __tablename__ = "read_marks"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id", name="uq_read_marks_conversation_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    last_read_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Note(Base):
    """Internal note on a chat: never sent to the customer."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    author: Mapped[User] = relationship()


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str | None] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(120))
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="ARS")
    stock: Mapped[int] = mapped_column(Integer, default=0)
    popularity: Mapped[int] = mapped_column(Integer, default=0)
    installments: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    image_url: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class WebhookEvent(Base):
    """A raw webhook body, stored before the 200: the durable inbound queue."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint(_in("state", EVENT_STATES), name="state"),
        Index("ix_webhook_events_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Meta's retries resend the identical body: a repeat is recognised and not queued twice.
    body_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    signature_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxItem(Base):
    """One thing to send to the Graph API, committed with the state change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("state", OUTBOX_STATES), name="state"),
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(16))  # text | buttons | list | read | typing
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The send gate (rule 8): a bot- or job-authored row leaves only while its chat is BOT_ON.
    gated: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SendRate(Base):
    """The one token bucket every replica's sender draws from (row id 1): Meta limits a phone
    number's throughput, not a process's. Postgres only; SQLite is a single process."""

    __tablename__ = "send_rate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundChat(Base):
    """One row per customer lane: the lock that makes one worker at a time the writer of a chat
    (rule 9). `due_at` is set while the lane has items to apply; a worker leases the lane
    (`leased_by`/`leased_until`) and holds the row lock while it applies them in order."""

    __tablename__ = "inbound_chats"
    __table_args__ = (Index("ix_inbound_chats_due_at", "due_at"),)

    chat_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundItem(Base):
    """One update of a stored webhook, routed to its customer's lane in arrival order.

    The update itself is re-read from the event's body (`position` in the parsed list): the raw
    body is stored once. Attempts are counted when the lane is leased, in their own transaction,
    so an item that keeps failing is parked (`failed`) after the last one and the lane moves on.
    """

    __tablename__ = "inbound_items"
    __table_args__ = (
        CheckConstraint(_in("state", ITEM_STATES), name="state"),
        Index("ix_inbound_items_chat_key_state_id", "chat_key", "state", "id"),
        Index("ix_inbound_items_state", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    chat_key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Who or what changed a chat: takeovers, releases, assignments, lead changes."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    actor: Mapped[str] = mapped_column(String(16))  # seller | admin | bot | system | business_app | customer
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


class JobClaim(Base):
    """An effect a job performed once: (job, key) unique, so replicas never double-send."""

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "key", name="uq_job_claims_job_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class LoginFailure(Base):
    """Throttling state: recent failed logins per (account, address) and per address, shared by
    every replica (see s7.domain.logins); pruned once out of the window."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_ip_created_at", "ip", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


class LoginOutcome(StrEnum):
    OK = "ok"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome, not a secret
    UNKNOWN_EMAIL = "unknown_email"
    INACTIVE = "inactive"


LOGIN_OUTCOMES = tuple(LoginOutcome)


class LoginEvent(Base):
    """The sign-in audit the admin reads: every success and failure, with address and browser.
    Kept apart from `login_failures` (throttling state, pruned once out of its window)."""

    __tablename__ = "login_events"
    __table_args__ = (CheckConstraint(_in("outcome", LOGIN_OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))  # as typed (normalised), also for unknown accounts
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


class RevokedSession(Base):
    """A session (token id) ended by its own logout before it expired; pruned once it would have
    expired anyway. Ending *every* session of a user bumps `User.session_version` instead."""

    __tablename__ = "revoked_sessions"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


MEDIA_STATES = ("pending", "ready", "failed", "gone", "evicted")


class MediaFile(Base):
    """The bytes of a photo, audio, video, sticker or document of one message, in or out.

    Also the durable queue of inbound fetches: `pending` rows are claimed (SKIP LOCKED) and
    fetched from the Graph API off the chat's ordered path. `content` holds the bytes unless
    MEDIA_DIR is set (then `path` names the file there); evicted or expired files keep the row.
    """

    __tablename__ = "media_files"
    __table_args__ = (
        CheckConstraint(_in("state", MEDIA_STATES), name="state"),
        Index("ix_media_files_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    direction: Mapped[str] = mapped_column(String(3))
    wa_media_id: Mapped[str | None] = mapped_column(String(255))  # Meta's id (inbound, or once uploaded)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    mime_type: Mapped[str | None] = mapped_column(String(255))
    filename: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    path: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


TEMPLATE_USES = ("hot_lost", "after_hours")


class MessageTemplate(Base):
    """An approved WhatsApp message template of the WABA, as last synced from Meta."""

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("name", "language", name="uq_message_templates_name_language"),
        CheckConstraint("use_for IS NULL OR " + _in("use_for", TEMPLATE_USES), name="use_for"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))  # APPROVED, PAUSED, REJECTED, PENDING, DISABLED
    category: Mapped[str | None] = mapped_column(String(32))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # The job that sends this template when the 24-hour window is closed (chosen by an admin).
    use_for: Mapped[str | None] = mapped_column(String(16))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


OUTCOME_RESULTS = ("won", "lost", "none")
LEAD_SOURCES = ("bot", "ad", "organic")


class Outcome(Base):
    """How one episode of a chat ended: a sale (amount, SKUs), a loss (reason) or nothing.

    One row per episode: a customer who buys twice has two sales."""

    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint(_in("result", OUTCOME_RESULTS), name="result"),
        CheckConstraint(_in("source", LEAD_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    result: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    skus: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reason: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(String(8), default="organic")
    was_hot: Mapped[bool] = mapped_column(Boolean, default=False)
    episode_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


class LostReason(Base):
    """The short list a seller picks from when a sale is lost (admins edit it)."""

    __tablename__ = "lost_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Reminder(Base):
    """ "Recordame mañana 10:00": at `due_at` the chat goes back to the top of the seller's list."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_fired_at_due_at", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class QuickReply(Base):
    """A saved answer a seller inserts with `/shortcut`: team-wide (no owner) or personal."""

    __tablename__ = "quick_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(40), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class StoreProfile(Base):
    """What is true about the store (one row): the bot states store facts only from here, and
    the jobs read opening hours from here once an admin saved them (DESIGN rule 11)."""

    __tablename__ = "store_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AdReferral(Base):
    """A click-to-WhatsApp ad (or post) that brought a customer's message: shown on the chat
    ("vino del anuncio …") and counted on the dashboard (leads and cost per ad)."""

    __tablename__ = "ad_referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    source_id: Mapped[str | None] = mapped_column(String(64))
    source_type: Mapped[str | None] = mapped_column(String(16))
    source_url: Mapped[str | None] = mapped_column(String(1000))
    headline: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(String(1000))
    ctwa_clid: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


PRICING_CATEGORIES = ("service", "utility", "marketing", "authentication")


class WhatsAppRate(Base):
    """What Meta charges per delivered message of a category, from `valid_from` on. Editing a rate
    adds a row: a message keeps the price it was charged at."""

    __tablename__ = "whatsapp_rates"
    __table_args__ = (Index("ix_whatsapp_rates_category_valid_from", "category", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MessageCharge(Base):
    """What one outbound message cost, fixed on the first status that carried its pricing."""

    __tablename__ = "message_charges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    billable: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(32))
    pricing_type: Mapped[str | None] = mapped_column(String(32))  # regular | free_customer_service | ...
    pricing_model: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))
    currency: Mapped[str | None] = mapped_column(String(3))
    charged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
