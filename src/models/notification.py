"""The notification outbox, its delivery attempts, residents' channel choices, and the
single-use links of account e-mails (verification, password reset)."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Identity, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, created_at_column, enum_column, municipality_fk, uuid_pk
from src.models.enums import Language


class NotificationKind(StrEnum):
    REPORT_RECEIVED = "report_received"
    STATUS_CHANGED = "status_changed"
    RESOLVED = "resolved"
    MARKED_DUPLICATE = "marked_duplicate"
    REOPENED = "reopened"
    VERIFY_EMAIL = "verify_email"
    ACCOUNT_EXISTS = "account_exists"
    PASSWORD_RESET = "password_reset"


# The kinds a person may switch per channel; account messages always go by e-mail.
SWITCHABLE_KINDS: tuple[NotificationKind, ...] = (
    NotificationKind.REPORT_RECEIVED,
    NotificationKind.STATUS_CHANGED,
    NotificationKind.RESOLVED,
    NotificationKind.MARKED_DUPLICATE,
    NotificationKind.REOPENED,
)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"


class Notification(Base):
    """One message to one person on one channel about one change (a ticket event or an account
    link). Holds no text: the worker renders it when sending, from the kind and the change."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    recipient_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, 8))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, 24))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    account_token_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    language: Mapped[Language] = mapped_column(enum_column(Language, 2))
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, 8), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = created_at_column()
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = created_at_column()


class NotificationAttempt(Base):
    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    notification_id: Mapped[int] = mapped_column(BigInteger)
    attempted_at: Mapped[datetime] = created_at_column()
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_column(AttemptOutcome, 8))
    error_class: Mapped[str | None] = mapped_column(String(64), nullable=True)


class NotificationPreference(Base):
    """A person's channels for one kind; no row means the default (e-mail)."""

    __tablename__ = "notification_preferences"

    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, 24), primary_key=True)
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(8)))


class AccountToken(Base):
    """A single-use link of an account e-mail. Only the hash of the link's token is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, 16))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
