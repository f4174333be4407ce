import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from src.core.sealing import reveal
from src.models.enums import EventKind, Language, SlaClock, SlaStatus, TicketCategory, TicketSeverity, TicketStatus
from src.schemas.common import ORM, Strict

Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class TicketCreate(Strict):
    category: TicketCategory
    description: Description
    severity: TicketSeverity = TicketSeverity.MEDIUM
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    ward_id: uuid.UUID | None = None
    language: Language = Language.EN


class StatusChange(Strict):
    status: TicketStatus
    note: Note | None = None


class AssignRequest(Strict):
    team_id: uuid.UUID | None = None
    assigned_to: uuid.UUID | None = None
    reason: Note | None = None


class TicketResponse(ORM):
    id: uuid.UUID
    tracking_number: str
    category: TicketCategory
    description: str
    severity: TicketSeverity
    status: TicketStatus
    is_sensitive: bool
    address: str | None
    latitude: float | None
    longitude: float | None
    ward_id: uuid.UUID | None
    reporter_id: uuid.UUID | None
    assigned_team_id: uuid.UUID | None
    assigned_to: uuid.UUID | None
    language: Language
    created_at: datetime
    updated_at: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    escalation_reason: str | None
    sla_response_deadline: datetime | None
    sla_resolution_deadline: datetime | None
    sla_clock: SlaClock | None  # the clock the deadlines were computed on (null: before clocks, 24x7)
    followers: int  # residents following it, its reporter not counted
    duplicate_of: uuid.UUID | None
    reopened_at: datetime | None

    # A sensitive ticket's text is stored sealed (src/core/sealing.py); whoever may read the row reads it plain.
    @field_validator("description", "address", "escalation_reason", mode="before")
    @classmethod
    def reveal_sealed_text(cls, value: Any) -> Any:
        return reveal(value) if isinstance(value, str) else value


class TicketEventResponse(ORM):
    number: int  # 1, 2, 3 ... within the ticket
    ticket_id: uuid.UUID
    actor_id: uuid.UUID | None
    actor_name: str | None = None
    kind: EventKind
    data: dict[str, Any]
    created_at: datetime

    @field_validator("data", mode="before")
    @classmethod
    def reveal_sealed_notes(cls, data: Any) -> Any:
        return {k: reveal(v) if isinstance(v, str) else v for k, v in data.items()} if isinstance(data, dict) else data


class TicketDetailResponse(TicketResponse):
    sla_status: SlaStatus | None
    history: list[TicketEventResponse]
    assigned_team_name: str | None
    assigned_to_name: str | None
    ward_code: str | None = None
    ward_name: str | None = None
    reporter_name: str | None = None


class PaginatedTicketResponse(ORM):
    tickets: list[TicketResponse]
    total: int
    page: int
    page_size: int
    page_count: int
    total_exact: bool = True  # false when a search's count stopped at its cap: `total` is then a lower bound
