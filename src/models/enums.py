"""Domain vocabularies, shared by models, schemas and queries."""

from enum import StrEnum


class TicketCategory(StrEnum):
    WATER = "water"
    ROADS = "roads"
    ELECTRICITY = "electricity"
    WASTE = "waste"
    SANITATION = "sanitation"
    GBV = "gbv"
    OTHER = "other"


SERVICE_CATEGORIES: tuple[TicketCategory, ...] = tuple(c for c in TicketCategory if c is not TicketCategory.GBV)


class TicketSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK = {s: i for i, s in enumerate(TicketSeverity)}


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


STATUS_RANK = {s: i for i, s in enumerate(TicketStatus)}
OPEN_SET = frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.ESCALATED})
RESOLVED_SET = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})

ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.ESCALATED, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.OPEN, TicketStatus.ESCALATED, TicketStatus.RESOLVED}),
    TicketStatus.ESCALATED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.OPEN}),
    TicketStatus.CLOSED: frozenset(),
}


class EventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    SLA_BREACHED = "sla_breached"
    COMMENTED = "commented"
    VIEWED_SENSITIVE = "viewed_sensitive"
    MARKED_DUPLICATE = "marked_duplicate"
    REOPENED = "reopened"


class Language(StrEnum):
    EN = "en"
    ZU = "zu"
    AF = "af"


class SlaStatus(StrEnum):
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED_RESPONSE = "breached_response"
    BREACHED_RESOLUTION = "breached_resolution"


class SlaClock(StrEnum):
    """`24x7` counts every minute; `business` only the municipality's working hours."""

    ALWAYS = "24x7"
    BUSINESS = "business"


def default_clock(severity: "TicketSeverity | None") -> SlaClock:
    """Business hours for every severity but critical."""
    return SlaClock.ALWAYS if severity is TicketSeverity.CRITICAL else SlaClock.BUSINESS
