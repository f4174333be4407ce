import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Computed, DateTime, Float, Integer, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, created_at_column, enum_column, municipality_fk, uuid_pk
from src.models.enums import (
    SEVERITY_RANK,
    STATUS_RANK,
    EventKind,
    Language,
    SlaClock,
    TicketCategory,
    TicketSeverity,
    TicketStatus,
)


def _rank_sql(column: str, ranks: Iterable[tuple[StrEnum, int]]) -> str:
    """The generated rank column's expression, from the enum's order (enums.py)."""
    whens = " ".join(f"WHEN '{member.value}' THEN {rank}" for member, rank in ranks)
    return f"CASE {column} {whens} END"


SEVERITY_RANK_SQL = _rank_sql("severity", SEVERITY_RANK.items())
STATUS_RANK_SQL = _rank_sql("status", STATUS_RANK.items())


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    tracking_number: Mapped[str] = mapped_column(String(22), unique=True)
    category: Mapped[TicketCategory] = mapped_column(enum_column(TicketCategory, 20))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[TicketSeverity] = mapped_column(enum_column(TicketSeverity, 10), default=TicketSeverity.MEDIUM)
    severity_rank: Mapped[int] = mapped_column(SmallInteger, Computed(SEVERITY_RANK_SQL, persisted=True))
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus, 20), default=TicketStatus.OPEN)
    status_rank: Mapped[int] = mapped_column(SmallInteger, Computed(STATUS_RANK_SQL, persisted=True))
    is_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(
        Text, nullable=True
    )  # sealed when sensitive: longer than its 500 characters
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    ward_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    assigned_team_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    language: Mapped[Language] = mapped_column(enum_column(Language, 2), default=Language.EN)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    first_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    sla_response_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sla_resolution_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    followers: Mapped[int] = mapped_column(Integer, default=0)  # kept by a trigger on ticket_followers
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sla_clock: Mapped[SlaClock | None] = mapped_column(enum_column(SlaClock, 8), nullable=True)
    response_breach_logged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolution_breach_logged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TicketEvent(Base):
    """The audit trail: append-only; the database refuses UPDATE and DELETE."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, 20))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_at_column()


class TicketFollower(Base):
    """A resident following a report they did not write (instead of reporting it again)."""

    __tablename__ = "ticket_followers"

    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()


class NearbyRadius(Base):
    """How far "nearby" reaches for a category; a category without a row uses the default."""

    __tablename__ = "nearby_radius"

    municipality_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    category: Mapped[TicketCategory] = mapped_column(enum_column(TicketCategory, 20), primary_key=True)
    radius_m: Mapped[int] = mapped_column(Integer)


class TicketPhoto(Base):
    """A photo of a ticket: decoded and re-encoded on upload; the files live under MEDIA_DIR."""

    __tablename__ = "ticket_photos"

    id: Mapped[uuid.UUID] = uuid_pk()
    municipality_id: Mapped[uuid.UUID] = municipality_fk()
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
