"""Open311 GeoReport v2 (docs/open311.md): services, requests and their updates, as plain rows.

Everything here runs in a transaction pinned by `jurisdiction.enter_municipality` (the public
role: row-level security shows no sensitive row), and every ticket read starts from the access
policy's public conditions as well. Nothing personal leaves: no reporter, no staff name, no
internal note; descriptions have e-mail addresses and phone numbers masked.
"""

import re
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from src.models.enums import OPEN_SET, SERVICE_CATEGORIES, EventKind, Language, TicketCategory, TicketStatus
from src.models.team import Team
from src.models.ticket import Ticket, TicketEvent
from src.schemas.open311 import NewRequest, RequestQuery
from src.schemas.ticket import TicketCreate
from src.services import access, ticket_service
from src.services.jurisdiction import Jurisdiction

SERVICES: dict[TicketCategory, tuple[str, str, str, str]] = {
    # code: (name, description, keywords, group)
    TicketCategory.WATER: (
        "Water",
        "Burst pipes, leaks, no water, water quality.",
        "water,leak,pipe,meter",
        "Utilities",
    ),
    TicketCategory.ROADS: (
        "Roads",
        "Potholes, traffic lights, road signs, storm drains.",
        "pothole,road,traffic light,drain",
        "Streets",
    ),
    TicketCategory.ELECTRICITY: (
        "Electricity",
        "Outages, street lights, damaged cables and transformers.",
        "power,outage,street light,cable",
        "Utilities",
    ),
    TicketCategory.WASTE: (
        "Waste",
        "Missed collections, illegal dumping, overflowing bins.",
        "refuse,dumping,bins,collection",
        "Environment",
    ),
    TicketCategory.SANITATION: (
        "Sanitation",
        "Sewage spills, blocked drains and toilets.",
        "sewage,toilet,blocked drain",
        "Utilities",
    ),
    TicketCategory.OTHER: ("Other", "Anything else the municipality should know about.", "other", "General"),
}

# Masked in every description that leaves through Open311: e-mail addresses, and phone numbers as
# people write them: a national number (0 and nine digits) or an international one (+ and 9 to 15
# digits), grouped by spaces, dashes, dots or brackets. Dates and tracking numbers do not start so.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[\s().-]{0,2}\d){8,14}|\(?0\d(?:[\s().-]{0,2}\d){8})(?!\d)")
STATUS_WORDS = {
    TicketStatus.OPEN: "Open again",
    TicketStatus.IN_PROGRESS: "In progress",
    TicketStatus.ESCALATED: "Escalated",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}


def mask(text: str) -> str:
    return PHONE.sub("[phone removed]", EMAIL.sub("[email removed]", text))


def open311_status(status: str) -> str:
    return "open" if TicketStatus(status) in OPEN_SET else "closed"


def services() -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.value,
            "service_name": SERVICES[c][0],
            "description": SERVICES[c][1],
            "metadata": False,
            "type": "realtime",
            "keywords": SERVICES[c][2],
            "group": SERVICES[c][3],
        }
        for c in SERVICE_CATEGORIES
    ]


def service_definition(category: TicketCategory) -> dict[str, Any]:
    return {"service_code": category.value, "attributes": []}


def _request_columns() -> tuple[Any, ...]:
    t = Ticket
    return (
        t.tracking_number,
        t.status,
        t.category,
        t.description,
        t.created_at,
        t.updated_at,
        t.sla_resolution_deadline,
        t.address,
        t.latitude,
        t.longitude,
        Team.name.label("team_name"),
    )


def _with_team(query: Any) -> Any:
    return query.outerjoin(
        Team, and_(Team.municipality_id == Ticket.municipality_id, Team.id == Ticket.assigned_team_id)
    )


def _request(row: Any) -> dict[str, Any]:
    category = TicketCategory(row.category)
    return {
        "service_request_id": row.tracking_number,
        "status": open311_status(row.status),
        "status_notes": None,
        "service_name": SERVICES[category][0],
        "service_code": category.value,
        "description": mask(row.description),
        "agency_responsible": row.team_name,
        "service_notice": None,
        "requested_datetime": row.created_at,
        "updated_datetime": row.updated_at,
        "expected_datetime": row.sla_resolution_deadline,
        "address": row.address,
        "address_id": None,
        "zipcode": None,
        "lat": row.latitude,
        "long": row.longitude,
        "media_url": None,
    }


async def list_requests(session: AsyncSession, j: Jurisdiction, q: RequestQuery) -> list[dict[str, Any]]:
    """Newest first. Tracking numbers, when given, override every other filter (as the
    specification says) but still only within this municipality's public tickets."""
    conds: list[ColumnElement[bool]] = access.public_ticket_conditions(j.id)
    if q.ids:
        conds.append(Ticket.tracking_number.in_(q.ids))
    else:
        conds += [Ticket.created_at >= q.start, Ticket.created_at <= q.end]
        if q.codes:
            conds.append(Ticket.category.in_([c.value for c in q.codes]))
        if q.statuses:
            conds.append(Ticket.status.in_([s.value for s in q.statuses]))
    query = (
        _with_team(select(*_request_columns()).where(*conds))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(q.page_size)
        .offset((q.page - 1) * q.page_size)
    )
    return [_request(r) for r in await session.execute(query)]


async def get_request(session: AsyncSession, j: Jurisdiction, tracking_number: str) -> dict[str, Any]:
    query = _with_team(
        select(*_request_columns()).where(
            *access.public_ticket_conditions(j.id), Ticket.tracking_number == tracking_number.upper()
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise access.not_found("Service request")
    return _request(row)


async def token(session: AsyncSession, j: Jurisdiction, value: str) -> dict[str, Any]:
    """Requests are created in real time: a token is the tracking number itself."""
    found = await session.scalar(
        select(Ticket.tracking_number).where(
            *access.public_ticket_conditions(j.id), Ticket.tracking_number == value.upper()
        )
    )
    if found is None:
        raise access.not_found("Token")
    return {"service_request_id": found, "token": found}


async def list_updates(session: AsyncSession, j: Jurisdiction, q: RequestQuery) -> list[dict[str, Any]]:
    """One update per status change (a user's, or the sweep's escalation), oldest first.

    `update_id` is the tracking number and the change's number within that ticket (1, 2, ...):
    stable, and it reveals nothing about other tickets.
    """
    e = TicketEvent
    earlier = aliased(TicketEvent)
    status_kinds = [EventKind.STATUS_CHANGED.value, EventKind.ESCALATED.value]
    number = (
        select(func.count())
        .where(
            earlier.municipality_id == e.municipality_id,
            earlier.ticket_id == e.ticket_id,
            earlier.kind.in_(status_kinds),
            earlier.id <= e.id,
        )
        .scalar_subquery()
    )
    query = (
        select(e.kind, e.data, e.created_at, Ticket.tracking_number, number.label("n"))
        .join(Ticket, and_(Ticket.municipality_id == e.municipality_id, Ticket.id == e.ticket_id))
        .where(
            *access.public_ticket_conditions(j.id),
            e.municipality_id == j.id,
            e.kind.in_(status_kinds),
            e.created_at >= q.start,
            e.created_at <= q.end,
        )
        .order_by(e.created_at, e.id)
        .limit(q.page_size)
        .offset((q.page - 1) * q.page_size)
    )
    updates = []
    for row in await session.execute(query):
        to = (
            TicketStatus.ESCALATED
            if row.kind == EventKind.ESCALATED.value
            else TicketStatus(row.data.get("to", "open"))
        )
        updates.append(
            {
                "update_id": f"{row.tracking_number}-{row.n}",
                "service_request_id": row.tracking_number,
                "status": open311_status(to),
                "updated_datetime": row.created_at,
                "description": f"Status: {STATUS_WORDS[to]}.",
                "media_url": None,
            }
        )
    return updates


async def create_request(session: AsyncSession, j: Jurisdiction, new: NewRequest, api_key_id: Any) -> dict[str, Any]:
    """A ticket exactly as POST /tickets makes one (ward, SLA, routing, events, live event), with
    no reporter: the posting system keeps its own relationship with its user. The key that
    posted it is recorded in the `created` event."""
    body = TicketCreate(
        category=new.service,
        description=new.description,
        address=new.address,
        latitude=new.latitude,
        longitude=new.longitude,
        language=Language.EN,
    )
    ticket = await ticket_service.report_ticket(
        session, j.id, j.timezone, body, reporter_id=None, channel="open311", api_key_id=api_key_id
    )
    deadline = ticket.sla_response_deadline
    notice = f"Expect a first response by {deadline.isoformat(timespec='minutes')}." if deadline else None
    return {"service_request_id": ticket.tracking_number, "service_notice": notice, "account_id": None}
