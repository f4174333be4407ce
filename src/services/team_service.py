"""Teams of the caller's municipality and the wards they serve.

Invariants every create and update leaves true (routing relies on them): a team is a SAPS
team exactly when its category is GBV; its wards and manager belong to its municipality; its
manager is an active manager or admin. A team with open tickets cannot change sides of the
SAPS line, or GBV reports would sit with a municipal team (or the reverse).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, delete, exists, func, insert, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict, Invalid
from src.models.enums import OPEN_SET, TicketCategory
from src.models.team import Team, TeamWard
from src.models.ticket import Ticket
from src.models.user import User, UserRole
from src.models.ward import Ward
from src.schemas.team import TeamCreate, TeamUpdate
from src.services import access
from src.services.admin_support import flush_or_conflict, get_owned
from src.services.principal import Principal

TEAM_MANAGER_ROLES = (UserRole.MANAGER, UserRole.ADMIN)


@dataclass(frozen=True)
class TeamView:
    id: uuid.UUID
    name: str
    category: str
    ward_ids: list[uuid.UUID]
    is_saps: bool
    manager_id: uuid.UUID | None
    is_active: bool
    created_at: datetime


def _conflicts() -> dict[str, Conflict]:
    return {"teams_municipality_id_name_key": Conflict("A team with this name already exists.", "team_name_taken")}


def _ward_ids_of_team() -> ScalarSelect[list[uuid.UUID] | None]:
    return (
        select(func.array_agg(aggregate_order_by(TeamWard.ward_id, TeamWard.ward_id)))
        .where(TeamWard.municipality_id == Team.municipality_id, TeamWard.team_id == Team.id)
        .correlate(Team)
        .scalar_subquery()
    )


def _view(team: Team, ward_ids: Sequence[uuid.UUID] | None) -> TeamView:
    return TeamView(
        id=team.id,
        name=team.name,
        category=team.category,
        ward_ids=list(ward_ids or []),
        is_saps=team.is_saps,
        manager_id=team.manager_id,
        is_active=team.is_active,
        created_at=team.created_at,
    )


async def list_teams(session: AsyncSession, p: Principal) -> list[TeamView]:
    rows = await session.execute(
        select(Team, _ward_ids_of_team()).where(Team.municipality_id == p.municipality_id).order_by(Team.name, Team.id)
    )
    return [_view(team, wards) for team, wards in rows]


async def get_team(session: AsyncSession, p: Principal, team_id: uuid.UUID) -> TeamView:
    team = await get_owned(session, Team, p, team_id, "Team")
    return await _load_view(session, team)


async def create_team(session: AsyncSession, p: Principal, body: TeamCreate) -> TeamView:
    await _check(session, p, body.category, body.is_saps, body.ward_ids, body.manager_id)
    team = Team(
        municipality_id=p.municipality_id,
        name=body.name,
        category=body.category.value,
        is_saps=body.is_saps,
        manager_id=body.manager_id,
        is_active=body.is_active,
    )
    session.add(team)
    await flush_or_conflict(session, _conflicts())
    await _set_wards(session, p, team.id, body.ward_ids)
    return await _load_view(session, team)


async def update_team(session: AsyncSession, p: Principal, team_id: uuid.UUID, body: TeamUpdate) -> TeamView:
    team = await get_owned(session, Team, p, team_id, "Team")
    sent = body.model_fields_set
    category = body.category if "category" in sent else TicketCategory(team.category)
    is_saps = body.is_saps if "is_saps" in sent else team.is_saps
    manager_id = body.manager_id if "manager_id" in sent else team.manager_id
    new_wards = body.ward_ids if "ward_ids" in sent else []
    check_manager = "manager_id" in sent and manager_id != team.manager_id
    await _check(session, p, category, is_saps, new_wards, manager_id if check_manager else None)
    if is_saps != team.is_saps and await _has_open_tickets(session, p, team.id):
        raise Conflict(
            "This team has open tickets; reassign them before moving it across the SAPS line.", "team_has_open_tickets"
        )
    team.category, team.is_saps, team.manager_id = category, is_saps, manager_id
    for field in sent & {"name", "is_active"}:
        setattr(team, field, getattr(body, field))
    await flush_or_conflict(session, _conflicts())
    if "ward_ids" in sent:
        await session.execute(
            delete(TeamWard).where(TeamWard.municipality_id == p.municipality_id, TeamWard.team_id == team.id)
        )
        await _set_wards(session, p, team.id, new_wards)
    return await _load_view(session, team)


async def _load_view(session: AsyncSession, team: Team) -> TeamView:
    wards = await session.scalar(
        select(func.array_agg(aggregate_order_by(TeamWard.ward_id, TeamWard.ward_id))).where(
            TeamWard.municipality_id == team.municipality_id, TeamWard.team_id == team.id
        )
    )
    return _view(team, wards)


async def _set_wards(session: AsyncSession, p: Principal, team_id: uuid.UUID, ward_ids: list[uuid.UUID]) -> None:
    if ward_ids:
        await session.execute(
            insert(TeamWard),
            [{"municipality_id": p.municipality_id, "team_id": team_id, "ward_id": w} for w in ward_ids],
        )


async def _check(
    session: AsyncSession,
    p: Principal,
    category: TicketCategory,
    is_saps: bool,
    ward_ids: list[uuid.UUID],
    manager_id: uuid.UUID | None,
) -> None:
    if is_saps != (category is TicketCategory.GBV):
        raise Invalid("SAPS teams handle GBV reports, and GBV reports go only to SAPS teams.", "saps_category")
    if ward_ids:
        known = await session.scalar(
            select(func.count()).where(Ward.municipality_id == p.municipality_id, Ward.id.in_(ward_ids))
        )
        if known != len(ward_ids):
            raise Invalid("One or more wards do not exist in this municipality.", "unknown_ward")
    if manager_id is not None:
        ok = await session.scalar(
            select(
                exists().where(
                    User.municipality_id == p.municipality_id,
                    User.id == manager_id,
                    User.is_active,
                    User.role.in_([r.value for r in TEAM_MANAGER_ROLES]),
                )
            )
        )
        if not ok:
            raise Invalid(
                "The team manager must be an active manager or admin of this municipality.", "invalid_manager"
            )


async def _has_open_tickets(session: AsyncSession, p: Principal, team_id: uuid.UUID) -> bool:
    """Through the access policy's detail scope, which for an administrator includes GBV tickets."""
    open_ones = access.visible_tickets(p, access.Purpose.DETAIL).where(
        Ticket.assigned_team_id == team_id, Ticket.status.in_([s.value for s in OPEN_SET])
    )
    return bool(await session.scalar(select(exists(open_ones))))
