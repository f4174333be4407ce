"""SLA deadlines (from the most specific policy) and a ticket's SLA status (SPEC §2, §2.1)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import OPEN_SET, RESOLVED_SET, SlaStatus, TicketStatus
from src.models.sla_policy import SlaPolicy
from src.models.ticket import Ticket

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


def _past_warning(now: datetime, created_at: datetime, deadline: datetime) -> bool:
    return (now - created_at) >= (deadline - created_at) * WARNING_FRACTION


def sla_status(ticket: Ticket, now: datetime) -> SlaStatus | None:
    response, resolution = ticket.sla_response_deadline, ticket.sla_resolution_deadline
    if response is None and resolution is None:
        return None
    status = TicketStatus(ticket.status)
    if status in RESOLVED_SET:
        if resolution is not None and ticket.resolved_at is not None and ticket.resolved_at > resolution:
            return SlaStatus.BREACHED_RESOLUTION
        return None
    assert status in OPEN_SET
    if resolution is not None and now > resolution:
        return SlaStatus.BREACHED_RESOLUTION
    awaiting_response = ticket.first_responded_at is None
    if awaiting_response and response is not None and now > response:
        return SlaStatus.BREACHED_RESPONSE
    pending = [d for d in (response if awaiting_response else None, resolution) if d is not None]
    if any(_past_warning(now, ticket.created_at, d) for d in pending):
        return SlaStatus.WARNING
    return SlaStatus.ON_TRACK
