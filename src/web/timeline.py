"""A ticket's history as sentences for its timeline."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from src.models.enums import EventKind
from src.schemas.ticket import TicketEventResponse
from src.web.formatting import CATEGORY_LABELS, STATUS_LABELS, label

KIND_TITLES = {
    EventKind.CREATED: "Reported",
    EventKind.STATUS_CHANGED: "Status changed",
    EventKind.ASSIGNED: "Assigned",
    EventKind.ESCALATED: "Escalated",
    EventKind.SLA_BREACHED: "Deadline missed",
    EventKind.COMMENTED: "Comment",
    EventKind.VIEWED_SENSITIVE: "Viewed",
    EventKind.MARKED_DUPLICATE: "Duplicate",
    EventKind.REOPENED: "Reopened",
}


@dataclass(frozen=True)
class Entry:
    kind: str
    number: int
    title: str
    text: str
    actor: str
    at: datetime


def _name(names: dict[uuid.UUID, str], raw: Any, fallback: str) -> str:
    try:
        return names.get(uuid.UUID(str(raw)), fallback) if raw else fallback
    except ValueError:
        return fallback


def describe(
    event: TicketEventResponse, teams: dict[uuid.UUID, str], people: dict[uuid.UUID, str], staff: bool
) -> Entry:
    """Residents see what happened; staff also see who did it and to whom it went."""
    d = event.data or {}
    kind = EventKind(event.kind)
    text = ""
    if kind is EventKind.CREATED:
        text = f"Reported as {label(CATEGORY_LABELS, d.get('category'))}."
    elif kind is EventKind.STATUS_CHANGED:
        text = f"From {label(STATUS_LABELS, d.get('from'))} to {label(STATUS_LABELS, d.get('to'))}."
        if d.get("note"):  # residents receive only the public note (src/services/citizen_view.py)
            text += f" Note: {d['note']}"
    elif kind is EventKind.ASSIGNED:
        if staff:
            team = _name(teams, d.get("to_team_id"), "no team")
            person = _name(people, d.get("to_user_id"), "")
            text = f"To {team}" + (f", {person}" if person else "") + "."
            text += " (automatic routing)" if d.get("automatic") else ""
            if d.get("reason"):
                text += f" Reason: {d['reason']}"
        else:
            text = "Passed to the team that handles it."
    elif kind is EventKind.ESCALATED:
        text = "Escalated to the team's manager." + (f" {d['reason']}" if staff and d.get("reason") else "")
    elif kind is EventKind.SLA_BREACHED:
        which = str(d.get("deadline") or d.get("kind") or "").replace("_", " ")
        text = f"The {which} deadline passed." if which else "A deadline passed."
    elif kind is EventKind.COMMENTED:
        text = str(d.get("note") or d.get("text") or "")
    elif kind is EventKind.VIEWED_SENSITIVE:
        text = "Opened this report."
    elif kind is EventKind.MARKED_DUPLICATE:
        if d.get("duplicate_of"):
            text = f"Already reported as {d.get('tracking_number')}: you now follow that report."
        else:
            text = f"{d.get('tracking_number')} reported the same problem; its people now follow this report."
    elif kind is EventKind.REOPENED:
        text = f"Reopened: {d.get('reason')}" if d.get("reason") else "Reopened."
    if staff:
        actor = event.actor_name or ("System" if event.actor_id is None else "A former user")
    else:
        own = kind in (EventKind.CREATED, EventKind.REOPENED)
        actor = "You" if own else ("Municipality" if event.actor_id else "System")
    return Entry(kind.value, event.number, KIND_TITLES[kind], text, actor, event.created_at)
