"""Which text of a ticket is sealed (src/core/sealing.py), and sealing it before it is stored.

The free text of a sensitive ticket (description, address, escalation reason, and the `note` and
`reason` of its events) is sealed before any statement carries it, so the plaintext never reaches
the database, its indexes, NOTIFY payloads or a logged parameter. Responses open it again
(src/schemas/ticket.py) for whoever row-level security lets read the row.
"""

from typing import Any

from src.core import sealing
from src.models.ticket import Ticket

TICKET_TEXT = ("description", "address", "escalation_reason")
EVENT_TEXT = ("note", "reason")


def data_key(ticket: Ticket) -> sealing.DataKey:
    """The ticket's data key, from its sealed description (every sensitive ticket has one)."""
    if sealing.is_sealed(ticket.description):
        return sealing.data_key_of(ticket.description)
    return sealing.new_data_key()


def protect(ticket: Ticket, text: str | None) -> str | None:
    if text is None or not ticket.is_sensitive or sealing.is_sealed(text):
        return text
    return data_key(ticket).seal(text)


def protect_event_data(ticket: Ticket, data: dict[str, Any]) -> dict[str, Any]:
    if not ticket.is_sensitive:
        return data
    return {k: protect(ticket, v) if k in EVENT_TEXT and isinstance(v, str) else v for k, v in data.items()}
