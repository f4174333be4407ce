"""Rewriting the stored sensitive text of every ticket at once: sealing what was stored plain
(the migration that introduced sealing), opening it again (that migration's downgrade), and
re-wrapping every data key under the current master key (`khanyisa rotate-keys`).

Runs as the schema owner in one transaction on a synchronous connection. Events keep their
content: only the stored form of their `note` and `reason` changes, so the append-only trigger is
set aside for the duration of the transaction and restored before it commits.
"""

from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from src.core import sealing

TEXT_FIELDS = ("description", "address", "escalation_reason")
EVENT_FIELDS = ("note", "reason")
TICKETS = text(
    "SELECT id, description, address, escalation_reason FROM tickets WHERE is_sensitive ORDER BY id FOR UPDATE"
)
UPDATE_TICKET = text(
    "UPDATE tickets SET description = :description, address = :address, escalation_reason = :escalation_reason "
    "WHERE id = :id"
)
DROP_POINT = text("UPDATE tickets SET latitude = NULL, longitude = NULL WHERE is_sensitive AND latitude IS NOT NULL")
EVENTS = text(
    "SELECT id, data FROM ticket_events WHERE ticket_id = :ticket AND (data ? 'note' OR data ? 'reason') FOR UPDATE"
)
UPDATE_EVENT = text("UPDATE ticket_events SET data = :data WHERE id = :id").bindparams(bindparam("data", type_=JSONB))


class Mode(StrEnum):
    SEAL = "seal"
    REVEAL = "reveal"
    REWRAP = "rewrap"


def _transform(mode: Mode, description: str | None) -> Callable[[str], str]:
    if mode is Mode.REVEAL:
        return lambda v: sealing.reveal(v) or v
    if mode is Mode.REWRAP:
        return lambda v: sealing.rewrap(v) if sealing.is_sealed(v) else v
    key = (
        sealing.data_key_of(description)
        if description is not None and sealing.is_sealed(description)
        else sealing.new_data_key()
    )
    return lambda v: v if sealing.is_sealed(v) else key.seal(v)


def reseal(conn: Connection, mode: Mode) -> int:
    """Apply `mode` to every sensitive ticket and its events; the number of tickets."""
    conn.execute(text("ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_no_update"))
    tickets = conn.execute(TICKETS).all()
    for row in tickets:
        change = _transform(mode, row.description)
        values = {f: change(getattr(row, f)) if getattr(row, f) else getattr(row, f) for f in TEXT_FIELDS}
        conn.execute(UPDATE_TICKET, {"id": row.id, **values})
        for event_id, data in conn.execute(EVENTS, {"ticket": row.id}).all():
            new = {k: change(v) if k in EVENT_FIELDS and isinstance(v, str) and v else v for k, v in data.items()}
            if new != data:
                conn.execute(UPDATE_EVENT, {"id": event_id, "data": new})
    if mode is Mode.SEAL:
        conn.execute(DROP_POINT)
    conn.execute(text("ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_no_update"))
    return len(tickets)
