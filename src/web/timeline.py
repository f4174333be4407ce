"""A ticket's history as sentences for its timeline.

What residents read is translated into the page's language (src/web/language.py); what only
staff read (who routed it where, and why) stays in English.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from src.core.i18n import N_
from src.models.enums import EventKind
from src.schemas.ticket import TicketEventResponse
from src.web.formatting import CATEGORY_LABELS, STATUS_LABELS, label
from src.web.language import gettext as _

KIND_TITLES = {
    EventKind.CREATED: N_("Reported"),
    EventKind.STATUS_CHANGED: N_("Status changed"),
    EventKind.ASSIGNED: N_("Assigned"),
    EventKind.ESCALATED: N_("Escalated"),
    EventKind.SLA_BREACHED: N_("Deadline missed"),
    EventKind.COMMENTED: N_("Comment"),
    EventKind.VIEWED_SENSITIVE: N_("Viewed"),
    EventKind.MARKED_DUPLICATE: N_("Duplicate"),
    EventKind.REOPENED: N_("Reopened"),
}
DEADLINES_PASSED = {
    "response": N_("The response deadline passed."),
    "resolution": N_("The resolution deadline passed."),
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
    """Residents see what happened; staff also see who did it and to whom it went.

    Called while a page is rendered in its language (`language.speaking`), as `render` does."""
    d = event.data or {}
    kind = EventKind(event.kind)
    text = ""
    if kind is EventKind.CREATED:
        text = _("Reported as %(category)s.") % {"category": _(label(CATEGORY_LABELS, d.get("category")))}
    elif kind is EventKind.STATUS_CHANGED:
        old, new = _(label(STATUS_LABELS, d.get("from"))), _(label(STATUS_LABELS, d.get("to")))
        text = _("From %(old)s to %(new)s.") % {"old": old, "new": new}
        if d.get("note"):  # residents receive only the public note (src/services/citizen_view.py)
            text += " " + _("Note: %(note)s") % {"note": d["note"]}
    elif kind is EventKind.ASSIGNED:
        if staff:
            team = _name(teams, d.get("to_team_id"), "no team")
            person = _name(people, d.get("to_user_id"), "")
            text = f"To {team}" + (f", {person}" if person else "") + "."
            text += " (automatic routing)" if d.get("automatic") else ""
            if d.get("reason"):
                text += f" Reason: {d['reason']}"
        else:
            text = _("Passed to the team that handles it.")
    elif kind is EventKind.ESCALATED:
        text = _("Escalated to the team's manager.") + (f" {d['reason']}" if staff and d.get("reason") else "")
    elif kind is EventKind.SLA_BREACHED:
        which = str(d.get("deadline") or d.get("kind") or "")
        if which in DEADLINES_PASSED:
            text = _(DEADLINES_PASSED[which])
        else:
            text = f"The {which.replace('_', ' ')} deadline passed." if which else _("A deadline passed.")
    elif kind is EventKind.COMMENTED:
        text = str(d.get("note") or d.get("text") or "")
    elif kind is EventKind.VIEWED_SENSITIVE:
        text = _("Opened this report.")
    elif kind is EventKind.MARKED_DUPLICATE:
        number = {"tracking_number": d.get("tracking_number")}
        if d.get("duplicate_of"):
            text = _("Already reported as %(tracking_number)s: you now follow that report.") % number
        else:
            text = _("%(tracking_number)s reported the same problem; its people now follow this report.") % number
    elif kind is EventKind.REOPENED:
        text = _("Reopened: %(reason)s") % {"reason": d["reason"]} if d.get("reason") else _("Reopened.")
    if staff:
        actor = event.actor_name or (_("System") if event.actor_id is None else "A former user")
    else:
        own = kind in (EventKind.CREATED, EventKind.REOPENED)
        actor = _("You") if own else (_("Municipality") if event.actor_id else _("System"))
    return Entry(kind.value, event.number, _(KIND_TITLES[kind]), text, actor, event.created_at)


@dataclass(frozen=True)
class Timeline:
    """A ticket's history, described as the page iterates it: in the page's language."""

    events: list[TicketEventResponse]
    teams: dict[uuid.UUID, str]
    people: dict[uuid.UUID, str]
    staff: bool

    def __iter__(self) -> Iterator[Entry]:
        return (describe(e, self.teams, self.people, self.staff) for e in self.events)
