"""What a resident sees of their own report: its status, its dates and its public notes.

Staff names, internal notes and assignment reasons stay with the municipality. A "public note"
is the note given with a change of status to `resolved`: it is the answer the resident gets. A
resident also sees their own reopening (with their reason) and that a report was marked a
duplicate (with the other report's tracking number).
Every other note (a change to any other status, an escalation, an assignment's reason, a
comment) is internal. Staff read the whole trail. The web pages and the API apply the same rule,
through this module.
"""

from typing import Any

from src.models.enums import EventKind, TicketStatus
from src.models.user import UserRole
from src.schemas.ticket import TicketEventResponse
from src.services.principal import Principal

PUBLIC_KINDS = frozenset(
    {EventKind.CREATED, EventKind.STATUS_CHANGED, EventKind.ESCALATED, EventKind.REOPENED, EventKind.MARKED_DUPLICATE}
)
PUBLIC_NOTE_STATUS = TicketStatus.RESOLVED.value
HIDDEN_TICKET_FIELDS = ("assigned_to", "assigned_to_name", "escalation_reason")


def applies(p: Principal | None) -> bool:
    return p is not None and p.role is UserRole.CITIZEN


def _public_data(kind: EventKind, data: dict[str, Any]) -> dict[str, Any]:
    if kind is EventKind.CREATED:
        return {"category": data.get("category")}
    if kind is EventKind.STATUS_CHANGED:
        shown = {"from": data.get("from"), "to": data.get("to")}
        if data.get("to") == PUBLIC_NOTE_STATUS and data.get("note"):
            shown["note"] = data["note"]
        return shown
    if kind is EventKind.REOPENED:  # the resident's own action, in their own words
        return {key: data.get(key) for key in ("reason", "resolved_at", "from", "to")}
    if kind is EventKind.MARKED_DUPLICATE:  # which report it joined (or was joined by), nothing else
        shown = {"tracking_number": data.get("tracking_number")}
        if data.get("duplicate_of"):  # this report joined that one (else: that one joined this)
            shown["duplicate_of"] = data["duplicate_of"]
        return shown
    return {}


def history(p: Principal, events: list[TicketEventResponse]) -> list[TicketEventResponse]:
    """The events a resident may see, each keeping its number; actors other than the resident are unnamed."""
    return [
        e.model_copy(
            update={
                "data": _public_data(e.kind, e.data),
                "actor_id": e.actor_id if e.actor_id == p.id else None,
                "actor_name": e.actor_name if e.actor_id == p.id else None,
            }
        )
        for e in events
        if e.kind in PUBLIC_KINDS
    ]


def ticket_fields(p: Principal | None, fields: dict[str, Any]) -> dict[str, Any]:
    """A ticket's response fields as this caller may see them (unchanged for staff)."""
    if not applies(p):
        return fields
    return {**fields, **{name: None for name in HIDDEN_TICKET_FIELDS if name in fields}}
