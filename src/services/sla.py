"""SLA deadlines (from the most specific policy), when a deadline is breached, and a ticket's SLA
status.

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

from src.models.enums import (
    OPEN_SET,
    RESOLVED_SET,
    SlaClock,
    SlaStatus,
    TicketCategory,
    TicketSeverity,
    TicketStatus,
    default_clock,
)
from src.models.sla_policy import SlaPolicy
from src.models.ticket import Ticket
from src.services.business_clock import WallClock
from src.services.business_hours_service import Clock, clock_for

DEFAULT_RESPONSE_HOURS = 24.0
DEFAULT_RESOLUTION_HOURS = 168.0
WARNING_FRACTION = 0.8


@dataclass(frozen=True)
class Deadlines:
    response: datetime
    resolution: datetime
    clock: SlaClock


async def policy_hours(
    session: AsyncSession, municipality_id: uuid.UUID, category: TicketCategory, severity: TicketSeverity
) -> tuple[float, float, SlaClock]:
    """Most specific wins: category+severity, then category, then severity, then the default
    (whose clock is the severity's default). GBV always runs on `24x7`: a clock that stops for
    the weekend has no place in a report of violence."""
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
        response, resolution, clock = DEFAULT_RESPONSE_HOURS, DEFAULT_RESOLUTION_HOURS, default_clock(severity)
    else:
        response, resolution, clock = (
            float(policy.response_hours),
            float(policy.resolution_hours),
            SlaClock(policy.clock),
        )
    return response, resolution, SlaClock.ALWAYS if category is TicketCategory.GBV else clock


async def deadlines_for(
    session: AsyncSession,
    municipality_id: uuid.UUID,
    timezone: str,
    category: TicketCategory,
    severity: TicketSeverity,
    start: datetime,
) -> Deadlines:
    """Deadlines counted from `start` in hours of the policy's clock, computed once and stored."""
    response_h, resolution_h, clock_kind = await policy_hours(session, municipality_id, category, severity)
    clock = await clock_for(session, clock_kind, municipality_id, timezone, start)
    return Deadlines(
        clock.add(start, timedelta(hours=response_h)), clock.add(start, timedelta(hours=resolution_h)), clock_kind
    )


def breached(done_at: Any, deadline: Any, at: Any) -> ColumnElement[bool]:
    """SQL: whether `deadline` is breached by `done_at`, or, not done, by the moment `at` (NULL:
    by `done_at` alone). NULL without a deadline, which a filter or CASE takes as not breached."""
    return func.sla_breached(done_at, deadline, at, type_=Boolean)


def is_breached(done_at: datetime | None, deadline: datetime | None, at: datetime | None) -> bool:
    """`breached` for values in memory (sla.sql's `coalesce(done_at, at) > deadline`)."""
    moment = done_at if done_at is not None else at
    return deadline is not None and moment is not None and moment > deadline


def _past_warning(clock: Clock, now: datetime, start: datetime, deadline: datetime) -> bool:
    """80 % of the time to the deadline has passed, both measured on the ticket's clock."""
    return clock.elapsed(start, now) >= clock.elapsed(start, deadline) * WARNING_FRACTION


async def ticket_clock(session: AsyncSession, ticket: Ticket, timezone: str) -> Clock:
    return await clock_for(session, ticket.sla_clock, ticket.municipality_id, timezone, sla_start(ticket))


class SlaTimes(Protocol):
    """What the SLA state reads: a ticket row, or a ticket already shaped for a response."""

    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def reopened_at(self) -> datetime | None: ...
    @property
    def first_responded_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def sla_response_deadline(self) -> datetime | None: ...
    @property
    def sla_resolution_deadline(self) -> datetime | None: ...


def sla_start(ticket: SlaTimes) -> datetime:
    """Deadlines run from creation, or from the last reopening (reopened_at) when there was one."""
    return ticket.reopened_at or ticket.created_at


def sla_status(ticket: SlaTimes, now: datetime, clock: Clock | None = None) -> SlaStatus | None:
    """`clock` is the ticket's (ticket_clock); without it, every minute counts."""
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
    measure = clock or WallClock()
    if any(_past_warning(measure, now, sla_start(ticket), d) for d in pending):
        return SlaStatus.WARNING
    return SlaStatus.ON_TRACK
