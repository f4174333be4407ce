"""Dashboard figures and their query parameters."""

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator

from src.models.enums import TicketCategory
from src.schemas.ticket_query import representable


class DashboardFilters(BaseModel):
    """Optional scope of every figure: a ward (a councillor's own is enforced) and a created range.

    `created_from` is inclusive, `created_to` exclusive; without an offset, the municipality's time.
    """

    model_config = ConfigDict(extra="ignore")

    ward_id: uuid.UUID | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None

    @field_validator("created_from", "created_to")
    @classmethod
    def _representable(cls, value: dt.datetime | None) -> dt.datetime | None:
        return representable(value)


class TrendParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    days: int = Field(default=30, ge=1, le=366)
    ward_id: uuid.UUID | None = None


class DashboardMetrics(BaseModel):
    total_open: int
    total_resolved: int
    sla_compliance_percent: float | None
    avg_response_hours: float | None
    sla_breaches: int
    reopened: int  # tickets in scope reopened by their reporter during the period


class CategoryVolume(BaseModel):
    category: TicketCategory
    open: int
    resolved: int


class SlaCompliance(BaseModel):
    response_compliance_percent: float | None
    resolution_compliance_percent: float | None
    total_with_sla: int
    response_breaches: int
    resolution_breaches: int


class TeamWorkload(BaseModel):
    team_id: uuid.UUID
    team_name: str
    open_count: int
    total_count: int


class TrendDay(BaseModel):
    date: dt.date
    created: int
    resolved: int
