"""Which team a ticket goes to."""

import uuid

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import TicketCategory
from src.models.team import Team, TeamWard


async def route(
    session: AsyncSession, municipality_id: uuid.UUID, category: str, ward_id: uuid.UUID | None
) -> Team | None:
    """A team of the category serving the ward, else one serving the whole municipality, else none.

    GBV goes only to SAPS teams and nothing else does; ties go to the oldest team so routing is stable.
    """
    serves_any_ward = exists().where(TeamWard.team_id == Team.id, TeamWard.municipality_id == Team.municipality_id)
    base = (
        select(Team)
        .where(
            Team.municipality_id == municipality_id,
            Team.category == category,
            Team.is_active.is_(True),
            Team.is_saps.is_(category == TicketCategory.GBV),
        )
        .order_by(Team.created_at, Team.id)
        .limit(1)
    )
    if ward_id is not None:
        serves_ward = exists().where(
            TeamWard.team_id == Team.id, TeamWard.municipality_id == Team.municipality_id, TeamWard.ward_id == ward_id
        )
        team = await session.scalar(base.where(serves_ward))
        if team is not None:
            return team
    return await session.scalar(base.where(~serves_any_ward))
