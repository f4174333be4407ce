"""Data-subject access: everything the platform holds about the caller, as one JSON document.

Profile, consents, their reports with the history they may see (a resident sees the citizen
view of src/services/citizen_view.py; the text of a sensitive report is opened for its reporter),
the reports they follow, notification settings, every session (ended ones too), and who received
their sensitive reports, by role and time only: each `viewed_sensitive` event on them and each
access record (src/services/access_records.py) that carried them.

A person's own reports are few, so each is read with its detail and history as a ticket's page
reads it. Staff reading their own sensitive report are recorded as on its page.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import EventKind
from src.models.session import UserSession
from src.models.ticket import Ticket, TicketEvent, TicketFollower
from src.models.user import User
from src.schemas.data_subject import (
    FollowData,
    MyData,
    ProfileData,
    SensitiveRead,
    SessionData,
)
from src.services import access, access_records, consent_service
from src.services.principal import Principal
from src.services.ticket_events import record_event
from src.services.ticket_service import detail_response

OPENED = "opened"


def notification_settings(p: Principal) -> dict[str, Any]:
    """The caller's notification settings. None are kept yet: this is where they will be read."""
    return {}


async def my_data(session: AsyncSession, p: Principal) -> MyData:
    tickets = list(await session.scalars(access.reported_tickets(p.municipality_id, p.id)))
    reports = []
    for ticket in tickets:
        if access.logs_sensitive_read(p, ticket):
            await record_event(session, ticket, EventKind.VIEWED_SENSITIVE, p.id)
        reports.append(await detail_response(session, ticket, p))
    return MyData(
        profile=await _profile(session, p),
        consents=[
            consent_service.response(c) for c in await consent_service.list_consents(session, p.municipality_id, p.id)
        ],
        reports=reports,
        follows=await _follows(session, p),
        notification_settings=notification_settings(p),
        sessions=await _sessions(session, p),
        sensitive_reads=await _sensitive_reads(session, p, [t for t in tickets if t.is_sensitive]),
    )


async def _profile(session: AsyncSession, p: Principal) -> ProfileData:
    user = (
        await session.execute(select(User).where(User.municipality_id == p.municipality_id, User.id == p.id))
    ).scalar_one()
    return ProfileData(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        phone=user.phone,
        role=user.role,
        municipality_id=user.municipality_id,
        municipality_code=p.municipality_code,
        ward_id=user.ward_id,
        team_id=user.team_id,
        preferred_language=user.preferred_language,
        is_active=user.is_active,
        totp_enabled=user.totp_enabled,
        created_at=user.created_at,
    )


async def _follows(session: AsyncSession, p: Principal) -> list[FollowData]:
    rows = await session.execute(
        select(TicketFollower.ticket_id, TicketFollower.created_at)
        .where(TicketFollower.municipality_id == p.municipality_id, TicketFollower.user_id == p.id)
        .order_by(TicketFollower.created_at, TicketFollower.ticket_id)
    )
    return [FollowData(ticket_id=tid, followed_at=at) for tid, at in rows]


async def _sessions(session: AsyncSession, p: Principal) -> list[SessionData]:
    rows = await session.scalars(
        select(UserSession).where(access.own_sessions(p)).order_by(UserSession.created_at, UserSession.id)
    )
    return [SessionData.model_validate(r) for r in rows]


async def _sensitive_reads(session: AsyncSession, p: Principal, tickets: list[Ticket]) -> list[SensitiveRead]:
    """Who received the caller's sensitive reports: roles and times, never names."""
    if not tickets:
        return []
    numbers = {t.id: t.tracking_number for t in tickets}
    ids = list(numbers)
    opened = await session.execute(
        select(TicketEvent.ticket_id, TicketEvent.created_at, User.role)
        .join(User, (User.municipality_id == TicketEvent.municipality_id) & (User.id == TicketEvent.actor_id))
        .where(
            TicketEvent.municipality_id == p.municipality_id,
            TicketEvent.ticket_id.in_(ids),
            TicketEvent.kind == EventKind.VIEWED_SENSITIVE,
        )
    )
    reads = [
        SensitiveRead(ticket_id=tid, tracking_number=numbers[tid], role=role, at=at, how=OPENED)
        for tid, at, role in opened
    ]
    for role, at, answer, tid in await access_records.records_touching(p.municipality_id, ids):
        reads.append(SensitiveRead(ticket_id=tid, tracking_number=numbers[tid], role=role, at=at, how=answer))
    return sorted(reads, key=lambda r: (r.at, str(r.ticket_id), r.how))
