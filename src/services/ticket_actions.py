"""Changing a ticket: status (the ticket lifecycle) and assignment."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict, Invalid
from src.models.enums import ALLOWED_TRANSITIONS, OPEN_SET, RESOLVED_SET, EventKind, TicketStatus
from src.models.team import Team
from src.models.ticket import Ticket
from src.models.user import User, UserRole
from src.schemas.ticket import AssignRequest, StatusChange, TicketDetailResponse
from src.services import access
from src.services.live_publish import TICKET_ASSIGNED, TICKET_ESCALATED, TICKET_UPDATED, publish_ticket_event
from src.services.principal import Principal
from src.services.routing import route
from src.services.sensitive_text import protect
from src.services.ticket_events import record_event
from src.services.ticket_service import detail_response, load_ticket


def apply_transition(ticket: Ticket, target: TicketStatus, now: datetime, note: str | None) -> TicketStatus:
    """Move a ticket and stamp the times the lifecycle defines; refuse what it does not allow."""
    current = TicketStatus(ticket.status)
    if target not in ALLOWED_TRANSITIONS[current]:
        raise Conflict(f"A ticket cannot move from {current.value} to {target.value}.", "invalid_transition")
    if current in OPEN_SET and target in RESOLVED_SET:
        ticket.resolved_at = now
    if current in RESOLVED_SET and target in OPEN_SET:
        ticket.resolved_at = None
    if target is TicketStatus.CLOSED:
        ticket.closed_at = now
    if target is TicketStatus.ESCALATED:
        ticket.escalated_at = now
        ticket.escalation_reason = note
    ticket.status = target
    ticket.updated_at = now
    return current


def stamp_response(ticket: Ticket, now: datetime) -> None:
    """The first user action that changes the status or names an assignee is the response."""
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now


async def change_status(
    session: AsyncSession, p: Principal, ticket_id: uuid.UUID, body: StatusChange
) -> TicketDetailResponse:
    access.require_role(p, access.STATUS_CHANGERS)
    ticket = await load_ticket(session, p, ticket_id, access.Purpose.CHANGE, for_update=True)
    access.ensure_can_change_status(p, ticket, body.status)
    now = datetime.now(UTC)
    previous = apply_transition(ticket, body.status, now, protect(ticket, body.note))
    stamp_response(ticket, now)
    await session.flush()
    await record_event(
        session,
        ticket,
        EventKind.STATUS_CHANGED,
        p.id,
        **{"from": previous.value, "to": body.status.value, "note": body.note},
    )
    live = TICKET_ESCALATED if body.status is TicketStatus.ESCALATED else TICKET_UPDATED
    await publish_ticket_event(session, live, ticket)
    return await detail_response(session, ticket, p)


async def assign_ticket(
    session: AsyncSession, p: Principal, ticket_id: uuid.UUID, body: AssignRequest
) -> TicketDetailResponse:
    access.require_role(p, access.ASSIGNERS)
    ticket = await load_ticket(session, p, ticket_id, access.Purpose.CHANGE, for_update=True)
    now = datetime.now(UTC)
    before_team, before_person = ticket.assigned_team_id, ticket.assigned_to
    automatic = body.team_id is None and body.assigned_to is None
    if automatic:
        team = await route(session, ticket.municipality_id, ticket.category, ticket.ward_id)
        ticket.assigned_team_id = team.id if team else None
        ticket.assigned_to = None
    else:
        team = await _team_for(session, p, ticket, body.team_id)
        if body.assigned_to is not None:
            await _check_assignee(session, p, body.assigned_to, team)
            stamp_response(ticket, now)
        ticket.assigned_team_id = team.id if team else None
        ticket.assigned_to = body.assigned_to
    ticket.updated_at = now
    await session.flush()
    await record_event(
        session,
        ticket,
        EventKind.ASSIGNED,
        p.id,
        from_team_id=before_team,
        to_team_id=ticket.assigned_team_id,
        from_user_id=before_person,
        to_user_id=ticket.assigned_to,
        reason=body.reason,
        automatic=automatic,
    )
    await publish_ticket_event(session, TICKET_ASSIGNED, ticket)
    return await detail_response(session, ticket, p)


async def _team_for(session: AsyncSession, p: Principal, ticket: Ticket, team_id: uuid.UUID | None) -> Team | None:
    """The named team, or the ticket's current one when only an assignee is given."""
    wanted = team_id or ticket.assigned_team_id
    if wanted is None:
        return None
    team = await session.scalar(select(Team).where(Team.municipality_id == p.municipality_id, Team.id == wanted))
    if team is None:
        raise Invalid("That team does not exist in your municipality.", "invalid_team")
    if team_id is not None:
        if not team.is_active:
            raise Invalid("That team is not active.", "inactive_team")
        access.ensure_team_fits_ticket(ticket, team.is_saps)
    return team


async def _check_assignee(session: AsyncSession, p: Principal, user_id: uuid.UUID, team: Team | None) -> None:
    """An assignee is an active member of the team, or an active manager of the municipality."""
    user = await session.scalar(select(User).where(User.municipality_id == p.municipality_id, User.id == user_id))
    ok = (
        user is not None
        and user.is_active
        and (user.role == UserRole.MANAGER.value or (team is not None and user.team_id == team.id))
    )
    if not ok:
        raise Invalid("The assignee must be an active member of the team or a manager.", "invalid_assignee")
