"""SLA policies: the whole set of a municipality, replaced at once by PUT.

A null category or severity means "any"; the most specific policy wins.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, RootModel, model_validator

from src.models.enums import SlaClock, TicketCategory, TicketSeverity, default_clock
from src.schemas.common import ORM, Strict

MAX_HOURS = Decimal(8760)  # one year: a longer deadline is a typo, not a service level
# Every (category|any) x (severity|any) pair: the most distinct policies a set can hold.
MAX_POLICIES = (len(TicketCategory) + 1) * (len(TicketSeverity) + 1)

MIN_HOURS = Decimal("0.0001")  # the precision the database keeps


def _to_storage_precision(hours: Decimal) -> Decimal:
    return hours.quantize(MIN_HOURS, rounding=ROUND_HALF_UP)


Hours = Annotated[
    Decimal, Field(ge=MIN_HOURS, le=MAX_HOURS, allow_inf_nan=False), AfterValidator(_to_storage_precision)
]


class SlaPolicyItem(Strict):
    category: TicketCategory | None = None
    severity: TicketSeverity | None = None
    response_hours: Hours
    resolution_hours: Hours
    clock: SlaClock | None = None  # omitted: 24x7 for a critical policy, business hours otherwise

    @model_validator(mode="after")
    def _response_within_resolution(self) -> "SlaPolicyItem":
        if self.response_hours > self.resolution_hours:
            raise ValueError("response_hours may not exceed resolution_hours")
        return self

    @property
    def effective_clock(self) -> SlaClock:
        return self.clock or default_clock(self.severity)


class SlaPolicySet(RootModel[Annotated[list[SlaPolicyItem], Field(max_length=MAX_POLICIES)]]):
    """The body of PUT: a bare JSON array holding at most one policy per (category, severity)."""

    @model_validator(mode="after")
    def _one_policy_per_scope(self) -> "SlaPolicySet":
        seen: set[tuple[str | None, str | None]] = set()
        for p in self.root:
            key = (p.category, p.severity)
            if key in seen:
                raise ValueError(f"more than one policy for category={p.category} severity={p.severity}")
            seen.add(key)
        return self


class SlaPolicyResponse(ORM):
    id: uuid.UUID
    category: TicketCategory | None
    severity: TicketSeverity | None
    response_hours: float
    resolution_hours: float
    clock: SlaClock
