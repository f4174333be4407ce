"""Nearby reports, following, duplicates and reopening."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, model_validator

from src.models.enums import SERVICE_CATEGORIES, TicketCategory, TicketStatus
from src.schemas.common import Strict

DEFAULT_RADIUS_M = 250


class NearbyQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    category: TicketCategory
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)


class NearbyReport(BaseModel):
    id: uuid.UUID
    tracking_number: str
    category: TicketCategory
    status: TicketStatus
    distance_m: float
    created_at: datetime
    followers: int
    description: str | None = None  # only for staff who may see the ticket


class RadiusItem(Strict):
    category: TicketCategory
    radius_m: int = Field(ge=10, le=5000)

    @model_validator(mode="after")
    def _not_gbv(self) -> "RadiusItem":
        if self.category not in SERVICE_CATEGORIES:
            raise ValueError("GBV reports are never shown as nearby reports")
        return self


class RadiusSet(RootModel[Annotated[list[RadiusItem], Field(max_length=len(SERVICE_CATEGORIES))]]):
    """PUT: the radii to set; a category left out returns to the default."""

    @model_validator(mode="after")
    def _each_once(self) -> "RadiusSet":
        cats = [r.category for r in self.root]
        if len(set(cats)) != len(cats):
            raise ValueError("each category may appear once")
        return self


class FollowState(BaseModel):
    id: uuid.UUID
    following: bool
    followers: int


class DuplicateOf(Strict):
    ticket_id: uuid.UUID


class Reopen(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class PhotoResponse(BaseModel):
    id: uuid.UUID
    url: str
    thumbnail_url: str
