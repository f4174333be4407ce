"""Before a new report: the open reports nearby, and following one instead of reporting it again."""

import uuid

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict
from src.models.enums import OPEN_SET, SERVICE_CATEGORIES, TicketCategory, TicketStatus
from src.models.ticket import NearbyRadius, Ticket, TicketFollower
from src.schemas.citizen import DEFAULT_RADIUS_M, FollowState, NearbyQuery, NearbyReport, RadiusItem, RadiusSet
from src.services import access
from src.services.principal import Principal

NEARBY_LIMIT = 5


async def radius_for(session: AsyncSession, municipality_id: uuid.UUID, category: TicketCategory) -> int:
    found = await session.scalar(
        select(NearbyRadius.radius_m).where(
            NearbyRadius.municipality_id == municipality_id, NearbyRadius.category == category
        )
    )
    return found or DEFAULT_RADIUS_M


async def nearby(session: AsyncSession, p: Principal, q: NearbyQuery) -> list[NearbyReport]:
    access.require_role(p, access.REPORTER_ROLES)
    radius = await radius_for(session, p.municipality_id, q.category)
    rows = (
        await session.execute(access.open_reports_near(p, q.category, q.latitude, q.longitude, radius, NEARBY_LIMIT))
    ).all()
    reports = [NearbyReport(**{**row._mapping, "distance_m": round(row.distance_m, 1)}) for row in rows]
    if reports and p.role is not access.CITIZEN:
        # staff read the text of those they may see, through the one door
        ids = [r.id for r in reports]
        texts: dict[uuid.UUID, str] = dict(
            (
                await session.execute(
                    access.visible_tickets(p).with_only_columns(Ticket.id, Ticket.description).where(Ticket.id.in_(ids))
                )
            ).all()
        )
        reports = [r.model_copy(update={"description": texts.get(r.id)}) for r in reports]
    return reports


async def follow(session: AsyncSession, p: Principal, ticket_id: uuid.UUID) -> FollowState:
    access.require_role(p, access.FOLLOWERS)
    ticket = (await session.execute(access.followable_ticket(ticket_id))).first()
    if ticket is None:
        raise access.not_found()
    if ticket.reporter_id == p.id:
        raise Conflict("You reported this ticket; you hear of its changes already.", "own_report")
    if TicketStatus(ticket.status) not in OPEN_SET:
        raise Conflict("This ticket is already resolved; report the problem again if it is back.", "not_open")
    await session.execute(
        pg_insert(TicketFollower)
        .values(municipality_id=p.municipality_id, ticket_id=ticket_id, user_id=p.id)
        .on_conflict_do_nothing()
    )
    return await _state(session, ticket_id, True)


async def unfollow(session: AsyncSession, p: Principal, ticket_id: uuid.UUID) -> FollowState:
    access.require_role(p, access.FOLLOWERS)
    if (await session.execute(access.followable_ticket(ticket_id))).first() is None:
        raise access.not_found()
    await session.execute(
        delete(TicketFollower).where(
            TicketFollower.municipality_id == p.municipality_id,
            TicketFollower.ticket_id == ticket_id,
            TicketFollower.user_id == p.id,
        )
    )
    return await _state(session, ticket_id, False)


async def _state(session: AsyncSession, ticket_id: uuid.UUID, following: bool) -> FollowState:
    row = (await session.execute(access.followable_ticket(ticket_id))).one()
    return FollowState(id=ticket_id, following=following, followers=row.followers)


async def radii(session: AsyncSession, p: Principal) -> list[RadiusItem]:
    rows = dict(
        (
            await session.execute(
                select(NearbyRadius.category, NearbyRadius.radius_m).where(
                    NearbyRadius.municipality_id == p.municipality_id
                )
            )
        ).all()
    )
    return [RadiusItem(category=c, radius_m=rows.get(c, DEFAULT_RADIUS_M)) for c in SERVICE_CATEGORIES]


async def replace_radii(session: AsyncSession, p: Principal, body: RadiusSet) -> list[RadiusItem]:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"nearby_radius:{p.municipality_id}"}
    )
    await session.execute(delete(NearbyRadius).where(NearbyRadius.municipality_id == p.municipality_id))
    for item in body.root:
        session.add(NearbyRadius(municipality_id=p.municipality_id, category=item.category, radius_m=item.radius_m))
    await session.flush()
    return await radii(session, p)
