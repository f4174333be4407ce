"""After a report: marking it a duplicate of another (its people follow the original instead) and
its reporter reopening it when the fix did not hold."""

import uuid
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.core import timesource
from src.core.errors import Conflict
from src.models.enums import OPEN_SET, EventKind, TicketStatus
from src.models.ticket import Ticket, TicketFollower
from src.schemas.citizen import DuplicateOf, Reopen
from src.schemas.ticket import TicketDetailResponse
from src.services import access
from src.services.live_publish import TICKET_UPDATED, publish_ticket_event
from src.services.principal import Principal
from src.services.sla import deadlines_for
from src.services.ticket_actions import apply_transition, stamp_response
from src.services.ticket_events import record_event
from src.services.ticket_service import detail_response, load_ticket

REOPEN_WINDOW = timedelta(days=14)


async def mark_duplicate(
    session: AsyncSession, p: Principal, ticket_id: uuid.UUID, body: DuplicateOf
) -> TicketDetailResponse:
    """Close `ticket_id` as a duplicate of `body.ticket_id`; its reporter and followers follow the
    original from now on. Both are locked in id order, so two crossing requests cannot deadlock."""
    access.require_role(p, access.STATUS_CHANGERS)
    if body.ticket_id == ticket_id:
        raise Conflict("A ticket cannot be a duplicate of itself.", "same_ticket")
    locked = {}
    for tid in sorted((ticket_id, body.ticket_id)):
        locked[tid] = await load_ticket(session, p, tid, access.Purpose.CHANGE, for_update=True)
    duplicate, original = locked[ticket_id], locked[body.ticket_id]
    access.ensure_can_change_status(p, duplicate, TicketStatus.CLOSED)
    if duplicate.is_sensitive != original.is_sensitive:
        raise Conflict(
            "A GBV report and an ordinary report cannot be duplicates of each other.", "sensitivity_mismatch"
        )
    if duplicate.category != original.category:
        raise Conflict("Only a ticket of the same category can be a duplicate.", "category_mismatch")
    if duplicate.status is TicketStatus.CLOSED:
        raise Conflict("This ticket is already closed.", "invalid_transition")
    if original.duplicate_of is not None:
        raise Conflict(
            "That ticket is itself a duplicate; mark this one a duplicate of its original.", "original_is_duplicate"
        )

    now = timesource.current_time()
    previous = TicketStatus(duplicate.status)
    if previous in OPEN_SET:
        duplicate.resolved_at = now
    duplicate.status, duplicate.closed_at, duplicate.updated_at = TicketStatus.CLOSED, now, now
    duplicate.duplicate_of = original.id
    stamp_response(duplicate, now)
    await session.flush()
    # The duplicate's event first: its notifications go to its people while they still follow it.
    await record_event(
        session,
        duplicate,
        EventKind.MARKED_DUPLICATE,
        p.id,
        duplicate_of=original.id,
        tracking_number=original.tracking_number,
        **{"from": previous.value, "to": "closed"},
    )
    moved = await _move_followers(session, p, duplicate, original)
    await record_event(
        session,
        original,
        EventKind.MARKED_DUPLICATE,
        p.id,
        duplicate=duplicate.id,
        tracking_number=duplicate.tracking_number,
        followers_added=moved,
    )
    await session.refresh(duplicate)
    await publish_ticket_event(session, TICKET_UPDATED, duplicate)
    return await detail_response(session, duplicate, p)


async def _move_followers(session: AsyncSession, p: Principal, duplicate: Ticket, original: Ticket) -> int:
    """The duplicate's reporter and followers follow the original (its own reporter excepted)."""
    people = set(
        await session.scalars(
            select(TicketFollower.user_id).where(
                TicketFollower.municipality_id == p.municipality_id, TicketFollower.ticket_id == duplicate.id
            )
        )
    )
    if duplicate.reporter_id is not None:
        people.add(duplicate.reporter_id)
    people.discard(original.reporter_id)
    await session.execute(
        delete(TicketFollower).where(
            TicketFollower.municipality_id == p.municipality_id, TicketFollower.ticket_id == duplicate.id
        )
    )
    if not people:
        return 0
    added = await session.scalars(
        pg_insert(TicketFollower)
        .values(
            [{"municipality_id": p.municipality_id, "ticket_id": original.id, "user_id": u} for u in sorted(people)]
        )
        .on_conflict_do_nothing()
        .returning(TicketFollower.user_id)
    )
    return len(list(added))


def may_reopen(p: Principal, ticket: Ticket | TicketDetailResponse) -> bool:
    """Whether the page offers the reporter to reopen (the service decides again on the request)."""
    return (
        ticket.reporter_id == p.id
        and ticket.status is TicketStatus.RESOLVED
        and ticket.resolved_at is not None
        and timesource.current_time() - ticket.resolved_at <= REOPEN_WINDOW
    )


async def reopen(session: AsyncSession, p: Principal, ticket_id: uuid.UUID, body: Reopen) -> TicketDetailResponse:
    """The reporter, within 14 days of the resolution: open again, with deadlines counted afresh
    from now. The first response stays: the ticket was answered, and its response SLA met or not."""
    ticket = await load_ticket(session, p, ticket_id, access.Purpose.DETAIL, for_update=True)
    access.ensure_reporter(p, ticket)
    if ticket.status is not TicketStatus.RESOLVED or ticket.resolved_at is None:
        raise Conflict("Only a resolved ticket can be reopened.", "invalid_transition")
    now = timesource.current_time()
    if now - ticket.resolved_at > REOPEN_WINDOW:
        raise Conflict(
            "A ticket can be reopened within 14 days of its resolution; report it again.", "reopen_window_closed"
        )
    deadlines = await deadlines_for(session, ticket.municipality_id, p.timezone, ticket.category, ticket.severity, now)
    resolved_at = ticket.resolved_at
    apply_transition(ticket, TicketStatus.OPEN, now, None)
    ticket.reopened_at = now
    ticket.sla_response_deadline, ticket.sla_resolution_deadline = deadlines.response, deadlines.resolution
    ticket.sla_clock = deadlines.clock
    ticket.response_breach_logged_at = ticket.resolution_breach_logged_at = None
    await session.flush()
    await record_event(
        session,
        ticket,
        EventKind.REOPENED,
        p.id,
        reason=body.reason,
        resolved_at=resolved_at.isoformat(),
        **{"from": "resolved", "to": "open"},
    )
    await publish_ticket_event(session, TICKET_UPDATED, ticket)
    return await detail_response(session, ticket, p)
