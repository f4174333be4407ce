"""Reference data the pages' selectors need: wards, teams and assignable people.

Read inside the request's tenant transaction (row-level security applies); names only, no
ticket data, so no ticket filter is written here.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.team import Team
from src.models.user import User, UserRole
from src.models.ward import Ward
from src.services.principal import Principal


@dataclass(frozen=True)
class Option:
    id: uuid.UUID
    label: str
    group: str = ""


async def wards(session: AsyncSession, p: Principal) -> list[Option]:
    rows = await session.execute(
        select(Ward.id, Ward.code, Ward.name).where(Ward.municipality_id == p.municipality_id).order_by(Ward.code)
    )
    return [Option(i, f"{code} – {name}") for i, code, name in rows]


async def teams(
    session: AsyncSession, p: Principal, *, include_inactive: bool = False, saps: bool | None = None
) -> list[Option]:
    """SAPS teams for GBV work (by default: for SAPS liaisons), the municipal teams otherwise."""
    saps = p.role is UserRole.SAPS_LIAISON if saps is None else saps
    query = select(Team.id, Team.name, Team.is_active).where(
        Team.municipality_id == p.municipality_id, Team.is_saps.is_(saps)
    )
    if not include_inactive:
        query = query.where(Team.is_active)
    rows = await session.execute(query.order_by(Team.name))
    return [Option(i, name if active else f"{name} (inactive)") for i, name, active in rows]


async def names(session: AsyncSession, p: Principal, kind: type[Ward] | type[Team]) -> dict[uuid.UUID, str]:
    """Every ward code or team name of the municipality, for labelling rows by id."""
    column = Ward.code if kind is Ward else Team.name
    rows = await session.execute(select(kind.id, column).where(kind.municipality_id == p.municipality_id))
    return {key: value for key, value in rows}


async def assignees(session: AsyncSession, p: Principal, *, saps: bool) -> list[Option]:
    """Active members of SAPS teams (for GBV reports) or of the municipal teams, then the managers.

    The ticket service decides who may actually take which ticket; this only offers names.
    """
    rows = await session.execute(
        select(User.id, User.full_name, User.role, Team.name)
        .outerjoin(Team, (Team.municipality_id == User.municipality_id) & (Team.id == User.team_id))
        .where(
            User.municipality_id == p.municipality_id,
            User.is_active,
            User.role != UserRole.CITIZEN.value,
            or_(User.role == UserRole.MANAGER.value, and_(Team.id.is_not(None), Team.is_saps.is_(saps))),
        )
        .order_by(Team.name.nulls_last(), User.full_name)
    )
    return [Option(i, name, "Managers" if role == UserRole.MANAGER.value else team) for i, name, role, team in rows]


async def people(session: AsyncSession, p: Principal, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(User.id, User.full_name).where(User.municipality_id == p.municipality_id, User.id.in_(ids))
    )
    return {key: value for key, value in rows}
