"""Rewriting the stored sensitive text of every ticket at once: sealing what was stored plain
(the migration that introduced sealing), opening it again (that migration's downgrade), and
re-wrapping every data key under the current master key (`khanyisa rotate-keys`).

Runs as the schema owner in one transaction on a synchronous connection. Events keep their
content: only the stored form of their `note` and `reason` changes, so the append-only trigger is
set aside for the duration of the transaction and restored before it commits.
"""

import uuid
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from src.core import sealing

TEXT_FIELDS = ("description", "address", "escalation_reason")
EVENT_FIELDS = ("note", "reason")
BATCH = 1000  # tickets read, and written back, per round trip
TICKETS = text(
    "SELECT id, municipality_id, description, address, escalation_reason FROM tickets "
    "WHERE is_sensitive AND id > :after ORDER BY id LIMIT :limit FOR UPDATE"
)
UPDATE_TICKET = text(
    "UPDATE tickets SET description = :description, address = :address, escalation_reason = :escalation_reason "
    "WHERE id = :id"
)
DROP_POINT = text("UPDATE tickets SET latitude = NULL, longitude = NULL WHERE is_sensitive AND latitude IS NOT NULL")
# Both arrays, so the (municipality_id, ticket_id) index serves the lookup.
EVENTS = text(
    "SELECT id, ticket_id, data FROM ticket_events "
    "WHERE municipality_id = ANY(:municipalities) AND ticket_id = ANY(:tickets) "
    "AND (data ? 'note' OR data ? 'reason') ORDER BY id FOR UPDATE"
).bindparams(
    bindparam("municipalities", type_=ARRAY(UUID(as_uuid=True))), bindparam("tickets", type_=ARRAY(UUID(as_uuid=True)))
)
UPDATE_EVENT = text("UPDATE ticket_events SET data = :data WHERE id = :id").bindparams(bindparam("data", type_=JSONB))
FIRST_ID = uuid.UUID(int=0)


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
    """Apply `mode` to every sensitive ticket and its events; the number of tickets.

    Tickets are read in batches of `BATCH` in id order, their events with one query per batch,
    and each batch is written back with one executemany per table; all in the caller's one
    transaction."""
    conn.execute(text("ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_no_update"))
    after, count = FIRST_ID, 0
    while True:
        tickets = conn.execute(TICKETS, {"after": after, "limit": BATCH}).all()
        if not tickets:
            break
        count += len(tickets)
        after = tickets[-1].id
        changes = {row.id: _transform(mode, row.description) for row in tickets}
        conn.execute(
            UPDATE_TICKET,
            [
                {
                    "id": row.id,
                    **{
                        f: changes[row.id](getattr(row, f)) if getattr(row, f) else getattr(row, f) for f in TEXT_FIELDS
                    },
                }
                for row in tickets
            ],
        )
        events = conn.execute(
            EVENTS, {"municipalities": sorted({row.municipality_id for row in tickets}), "tickets": list(changes)}
        ).all()
        updates = []
        for event_id, ticket_id, data in events:
            change = changes[ticket_id]
            new = {k: change(v) if k in EVENT_FIELDS and isinstance(v, str) and v else v for k, v in data.items()}
            if new != data:
                updates.append({"id": event_id, "data": new})
        if updates:
            conn.execute(UPDATE_EVENT, updates)
    if mode is Mode.SEAL:
        conn.execute(DROP_POINT)
    conn.execute(text("ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_no_update"))
    return count
