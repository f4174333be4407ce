"""The ticket list's query parameters: filters, search, sort and paging.

Used as `Annotated[TicketListParams, Query()]` by the list and by the exports, so both read the
same parameters. Bad enum values, malformed UUIDs or datetimes and out-of-range paging are
422s; an unknown `sort_by` falls back to `created_at` as the specification asks.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from src.models.enums import TicketCategory, TicketSeverity, TicketStatus

MAX_SEARCH = 200
MAX_PAGE = 10_000_000


def representable(value: datetime | None) -> datetime | None:
    """Keep a day's margin from datetime's limits so moving to UTC can never overflow."""
    if value is not None and not (datetime(1, 1, 2) <= value.replace(tzinfo=None) <= datetime(9999, 12, 30)):
        raise ValueError("date is out of range")
    return value


class SortKey(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    STATUS = "status"
    SEVERITY = "severity"
    CATEGORY = "category"
    SLA_RESOLUTION_DEADLINE = "sla_resolution_deadline"
    FOLLOWERS = "followers"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class TicketListParams(BaseModel):
    """`created_from` is inclusive and `created_to` exclusive; a value without an offset is read
    in the municipality's timezone by the query service (the schema does not know the tenant)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: TicketStatus | None = None
    category: TicketCategory | None = None
    severity: TicketSeverity | None = None
    ward_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = Field(default=None, validation_alias=AliasChoices("team_id", "assigned_team_id"))
    search: str | None = Field(default=None, max_length=MAX_SEARCH)
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort_by: SortKey = SortKey.CREATED_AT
    sort_order: SortOrder = SortOrder.DESC
    page: int = Field(default=0, ge=0, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=200)

    @field_validator("sort_by", mode="before")
    @classmethod
    def _known_sort_or_default(cls, value: Any) -> Any:
        return value if value in tuple(SortKey) else SortKey.CREATED_AT

    @field_validator("search")
    @classmethod
    def _search_text(cls, value: str | None) -> str | None:
        """Blank means no search; a NUL character can never match and PostgreSQL refuses it."""
        if value is None:
            return None
        if "\x00" in value:
            raise ValueError("search must not contain NUL characters")
        value = value.strip()
        return value or None

    @field_validator("created_from", "created_to")
    @classmethod
    def _representable(cls, value: datetime | None) -> datetime | None:
        return representable(value)
