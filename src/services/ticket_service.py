"""Reporting a ticket and reading one. Changes live in ticket_actions."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from src.core import sealing, timesource
from src.core.errors import Invalid
from src.models.enums import EventKind, TicketCategory
from src.models.municipality import Municipality
from src.models.team import Team
from src.models.ticket import Ticket
from src.models.user import User
from src.models.ward import Ward
from src.schemas.ticket import TicketCreate, TicketDetailResponse, TicketEventResponse, TicketResponse
from src.services import access, citizen_view, consent_service
from src.services.live_publish import TICKET_CREATED, publish_ticket_event
from src.services.principal import Principal
from src.services.routing import route
from src.services.sla import deadlines_for, sla_status, ticket_clock
from src.services.ticket_events import history, record_event
from src.services.tracking import tracking_number

TRACKING_ATTEMPTS = 8


async def ward_for_report(session: AsyncSession, municipality_id: uuid.UUID, body: TicketCreate) -> uuid.UUID | None:
    """The ward whose boundary holds the point, else the ward the reporter named, else none."""
    from src.services.geo import contains

    if body.latitude is not None and body.longitude is not None:
        wards = await session.execute(
            select(Ward.id, Ward.boundary)
            .where(Ward.municipality_id == municipality_id, Ward.boundary.is_not(None))
            .order_by(Ward.code)
        )
        for ward_id, boundary in wards:
            if contains(boundary, body.longitude, body.latitude):
                return ward_id
    if body.ward_id is None:
        return None
    found = await session.scalar(
        select(Ward.id).where(Ward.municipality_id == municipality_id, Ward.id == body.ward_id)
    )
    if found is None:
        raise Invalid("That ward does not exist in your municipality.", "invalid_ward")
    return found


async def create_ticket(session: AsyncSession, p: Principal, body: TicketCreate) -> TicketResponse:
    access.require_role(p, access.REPORTER_ROLES)
    await consent_service.ensure_may_report(session, p, body.category)
    ticket = await report_ticket(session, p.municipality_id, p.timezone, body, reporter_id=p.id)
    return TicketResponse.model_validate(ticket)


async def report_ticket(
    session: AsyncSession,
    municipality_id: uuid.UUID,
    timezone: str,
    body: TicketCreate,
    *,
    reporter_id: uuid.UUID | None,
    **event_data: Any,
) -> Ticket:
    """Every channel reports through here (the API, the pages, Open311): ward, SLA deadlines,
    routing, the `created` event and the live event after commit. A report without a reporter
    (another system's, through Open311) is the system's: its event has no actor."""
    if (body.latitude is None) != (body.longitude is None):
        raise Invalid("Give both latitude and longitude, or neither.", "incomplete_location")
    ward_id = await ward_for_report(session, municipality_id, body)
    now = timesource.current_time()
    deadlines = await deadlines_for(session, municipality_id, timezone, body.category, body.severity, now)
    team = await route(session, municipality_id, body.category, ward_id)
    sensitive = body.category is TicketCategory.GBV
    # Sensitive text is sealed before it leaves for the database; the point is kept only as its ward.
    seal = sealing.new_data_key().seal if sensitive else (lambda text: text)
    values = dict(
        municipality_id=municipality_id,
        category=body.category,
        description=seal(body.description),
        severity=body.severity,
        status="open",
        is_sensitive=sensitive,
        address=seal(body.address) if body.address else None,
        latitude=None if sensitive else body.latitude,
        longitude=None if sensitive else body.longitude,
        ward_id=ward_id,
        reporter_id=reporter_id,
        assigned_team_id=team.id if team else None,
        language=body.language,
        created_at=now,
        updated_at=now,
        sla_response_deadline=deadlines.response,
        sla_resolution_deadline=deadlines.resolution,
        sla_clock=deadlines.clock,
    )
    ticket = await _insert_with_unique_tracking(session, values, timezone, now)
    await record_event(
        session,
        ticket,
        EventKind.CREATED,
        reporter_id,
        category=ticket.category,
        severity=ticket.severity,
        ward_id=ticket.ward_id,
        assigned_team_id=ticket.assigned_team_id,
        **event_data,
    )
    await publish_ticket_event(session, TICKET_CREATED, ticket)
    return ticket


async def _insert_with_unique_tracking(session: AsyncSession, values: dict, timezone: str, now: datetime) -> Ticket:
    """A random suffix can collide; each attempt runs in a savepoint so a collision costs a retry, not the request."""
    for attempt in range(TRACKING_ATTEMPTS):
        ticket = Ticket(tracking_number=tracking_number(now, timezone), **values)
        try:
            async with session.begin_nested():
                session.add(ticket)
                await session.flush()
        except IntegrityError as exc:
            if "tracking_number" not in str(exc.orig) or attempt == TRACKING_ATTEMPTS - 1:
                raise
            continue
        await session.refresh(ticket)
        return ticket
    raise AssertionError("unreachable")


async def load_ticket(
    session: AsyncSession, p: Principal, ticket_id: uuid.UUID, purpose: access.Purpose, *, for_update: bool = False
) -> Ticket:
    query = access.visible_tickets(p, purpose).where(Ticket.id == ticket_id)
    if for_update:
        query = query.with_for_update()
    ticket = await session.scalar(query)
    if ticket is None:
        raise access.not_found()
    return ticket


async def _open_for_reading(session: AsyncSession, p: Principal, ticket_id: uuid.UUID) -> Ticket:
    ticket = await load_ticket(session, p, ticket_id, access.Purpose.DETAIL)
    if access.logs_sensitive_read(p, ticket):
        await record_event(session, ticket, EventKind.VIEWED_SENSITIVE, p.id)
    return ticket


async def get_ticket_detail(session: AsyncSession, p: Principal, ticket_id: uuid.UUID) -> TicketDetailResponse:
    ticket = await _open_for_reading(session, p, ticket_id)
    return await detail_response(session, ticket, p)


async def get_ticket_history(session: AsyncSession, p: Principal, ticket_id: uuid.UUID) -> list[TicketEventResponse]:
    ticket = await _open_for_reading(session, p, ticket_id)
    return await history(session, ticket, p)


async def detail_response(
    session: AsyncSession, ticket: Ticket, viewer: Principal | None = None
) -> TicketDetailResponse:
    """The detail as `viewer` may see it: a resident sees the citizen view (src/services/citizen_view.py)."""
    fields = {**TicketResponse.model_validate(ticket).model_dump(), **await _names(session, ticket)}
    clock = await ticket_clock(session, ticket, await _timezone(session, ticket))
    return TicketDetailResponse(
        **citizen_view.ticket_fields(viewer, fields),
        sla_status=sla_status(ticket, timesource.current_time(), clock),
        history=await history(session, ticket, viewer),
    )


async def _timezone(session: AsyncSession, ticket: Ticket) -> str:
    found = await session.scalar(select(Municipality.timezone).where(Municipality.id == ticket.municipality_id))
    return found or "Africa/Johannesburg"


async def _names(session: AsyncSession, ticket: Ticket) -> dict[str, str | None]:
    mid = ticket.municipality_id
    team = (
        await session.scalar(select(Team.name).where(Team.municipality_id == mid, Team.id == ticket.assigned_team_id))
        if ticket.assigned_team_id
        else None
    )
    people = {}
    ids = [i for i in (ticket.assigned_to, ticket.reporter_id) if i]
    if ids:
        rows = await session.execute(
            select(User.id, User.full_name).where(User.municipality_id == mid, User.id.in_(ids))
        )
        people = {uid: name for uid, name in rows}
    ward = (
        (
            await session.execute(
                select(Ward.code, Ward.name).where(Ward.municipality_id == mid, Ward.id == ticket.ward_id)
            )
        ).first()
        if ticket.ward_id
        else None
    )
    return {
        "assigned_team_name": team,
        "assigned_to_name": people.get(ticket.assigned_to) if ticket.assigned_to else None,
        "reporter_name": people.get(ticket.reporter_id) if ticket.reporter_id else None,
        "ward_code": ward.code if ward else None,
        "ward_name": ward.name if ward else None,
    }
