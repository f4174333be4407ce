"""SLA deadlines (from the most specific policy), when a deadline is breached, and a ticket's SLA
status (SPEC §2, §2.1).

A deadline is breached when the ticket was done (responded to, resolved) after it, or is not
done and the moment in question is past it. That definition is written once in SQL,
`sla_breached(done_at, deadline, at)` (src/db/sql/sla.sql): the dashboard, the export, the
sweep and the tally triggers all call it through `breached`. `is_breached` is its twin for a
ticket already loaded in memory (the detail's status); tests/services/test_sla.py holds the two
equal.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Boolean, ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import OPEN_SET, RESOLVED_SET, SlaStatus, TicketStatus
from src.models.sla_policy import SlaPolicy

DEFAULT_RESPONSE_HOURS = 24.0
DEFAULT_RESOLUTION_HOURS = 168.0
WARNING_FRACTION = 0.8


@dataclass(frozen=True)
class Deadlines:
    response: datetime
    resolution: datetime


async def policy_hours(session: AsyncSession, municipality_id: uuid.UUID, category: str, severity: str) -> tuple[float, float]:
    """Most specific wins: category+severity, then category, then severity, then the default."""
    policy = await session.scalar(
        select(SlaPolicy)
        .where(
            SlaPolicy.municipality_id == municipality_id,
            (SlaPolicy.category == category) | SlaPolicy.category.is_(None),
            (SlaPolicy.severity == severity) | SlaPolicy.severity.is_(None),
        )
        .order_by(SlaPolicy.category.is_(None), SlaPolicy.severity.is_(None))
        .limit(1)
    )
    if policy is None:
        return DEFAULT_RESPONSE_HOURS, DEFAULT_RESOLUTION_HOURS
    return float(policy.response_hours), float(policy.resolution_hours)


async def deadlines_for(
    session: AsyncSession, municipality_id: uuid.UUID, category: str, severity: str, created_at: datetime
) -> Deadlines:
    response_h, resolution_h = await policy_hours(session, municipality_id, category, severity)
    return Deadlines(created_at + timedelta(hours=response_h), created_at + timedelta(hours=resolution_h))


def breached(done_at: Any, deadline: Any, at: Any) -> ColumnElement[bool]:
    """SQL: whether `deadline` is breached by `done_at`, or, not done, by the moment `at` (NULL:
    by `done_at` alone). NULL without a deadline, which a filter or CASE takes as not breached."""
    return func.sla_breached(done_at, deadline, at, type_=Boolean)


def is_breached(done_at: datetime | None, deadline: datetime | None, at: datetime | None) -> bool:
    """`breached` for values in memory (sla.sql's `coalesce(done_at, at) > deadline`)."""
    moment = done_at if done_at is not None else at
    return deadline is not None and moment is not None and moment > deadline


def _past_warning(now: datetime, created_at: datetime, deadline: datetime) -> bool:
    return (now - created_at) >= (deadline - created_at) * WARNING_FRACTION


class SlaTimes(Protocol):
    """What the SLA state reads: a ticket row, or a ticket already shaped for a response."""

    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def first_responded_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def sla_response_deadline(self) -> datetime | None: ...
    @property
    def sla_resolution_deadline(self) -> datetime | None: ...


def sla_status(ticket: SlaTimes, now: datetime) -> SlaStatus | None:
    response, resolution = ticket.sla_response_deadline, ticket.sla_resolution_deadline
    if response is None and resolution is None:
        return None
    status = TicketStatus(ticket.status)
    if status in RESOLVED_SET:
        return SlaStatus.BREACHED_RESOLUTION if is_breached(ticket.resolved_at, resolution, None) else None
    assert status in OPEN_SET
    if is_breached(ticket.resolved_at, resolution, now):
        return SlaStatus.BREACHED_RESOLUTION
    awaiting_response = ticket.first_responded_at is None
    if awaiting_response and is_breached(None, response, now):
        return SlaStatus.BREACHED_RESPONSE
    pending = [d for d in (response if awaiting_response else None, resolution) if d is not None]
    if any(_past_warning(now, ticket.created_at, d) for d in pending):
        return SlaStatus.WARNING
    return SlaStatus.ON_TRACK
