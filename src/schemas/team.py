"""Teams: `{name, category, ward_ids, is_saps, manager_id?, is_active}`.

The rules that need the database (wards and manager of this municipality, SAPS teams take
exactly the GBV category) are checked by team_service so they hold for create and update alike.
"""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from src.models.enums import TicketCategory
from src.schemas.common import ORM, Name, Strict, omitted

MAX_WARDS = 1000


def _distinct(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """A ward listed twice is still one ward served."""
    return list(dict.fromkeys(ids))


WardIds = Annotated[list[uuid.UUID], Field(max_length=MAX_WARDS), AfterValidator(_distinct)]


class TeamCreate(Strict):
    name: Name
    category: TicketCategory
    ward_ids: WardIds = Field(default_factory=list)
    is_saps: bool = False
    manager_id: uuid.UUID | None = None
    is_active: bool = True


class TeamUpdate(Strict):
    """Only the fields sent change; `manager_id: null` removes the manager; other nulls are a 422."""

    name: Name = omitted()
    category: TicketCategory = omitted()
    ward_ids: WardIds = omitted()
    is_saps: bool = omitted()
    manager_id: uuid.UUID | None = None
    is_active: bool = omitted()


class TeamResponse(ORM):
    id: uuid.UUID
    name: str
    category: TicketCategory
    ward_ids: list[uuid.UUID]
    is_saps: bool
    manager_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
