"""Ticket changes announced to every server process through PostgreSQL NOTIFY.

NOTIFY is transactional: listeners hear it only once the change commits, and never for a
rolled-back one. Sensitive tickets are never announced.
"""

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.ticket import Ticket

CHANNEL = "ticket_events"
TICKET_CREATED = "ticket_created"
TICKET_UPDATED = "ticket_updated"
TICKET_ASSIGNED = "ticket_assigned"
TICKET_ESCALATED = "ticket_escalated"


def event_payload(event: str, ticket: Ticket) -> dict[str, str | None]:
    return {
        "event": event,
        "municipality_id": str(ticket.municipality_id),
        "id": str(ticket.id),
        "tracking_number": ticket.tracking_number,
        "status": str(ticket.status),
        "category": str(ticket.category),
        "ward_id": str(ticket.ward_id) if ticket.ward_id else None,
        "assigned_team_id": str(ticket.assigned_team_id) if ticket.assigned_team_id else None,
    }


async def publish_ticket_event(session: AsyncSession, event: str, ticket: Ticket) -> None:
    if ticket.is_sensitive:
        return
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CHANNEL, "payload": json.dumps(event_payload(event, ticket))},
    )
