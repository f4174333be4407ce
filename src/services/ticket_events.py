"""The audit trail: one append-only event per change, written in the change's transaction,
with the notifications it causes."""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import EventKind
from src.models.ticket import Ticket, TicketEvent
from src.models.user import User
from src.schemas.ticket import TicketEventResponse
from src.services import citizen_view
from src.services.notifications.outbox import announce_event
from src.services.principal import Principal
from src.services.sensitive_text import protect_event_data


def jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def record_event(
    session: AsyncSession, ticket: Ticket, kind: EventKind, actor_id: uuid.UUID | None, **data: Any
) -> None:
    event = TicketEvent(
        municipality_id=ticket.municipality_id,
        ticket_id=ticket.id,
        actor_id=actor_id,
        kind=kind,
        data=protect_event_data(ticket, {k: jsonable(v) for k, v in data.items()}),
    )
    session.add(event)
    await session.flush()
    # Those who hear of the change are told in the same transaction (the outbox).
    await announce_event(session, ticket, event)


async def history(session: AsyncSession, ticket: Ticket, viewer: Principal | None = None) -> list[TicketEventResponse]:
    """Newest first; the identity column orders events written in one transaction.

    Each event carries its number within the ticket (1 for the report), never the trail's
    platform-wide sequence: gaps in that sequence would count other municipalities' activity.
    """
    number = func.row_number().over(order_by=TicketEvent.id).label("number")
    rows = await session.execute(
        select(TicketEvent, User.full_name, number)
        .outerjoin(User, (User.id == TicketEvent.actor_id) & (User.municipality_id == TicketEvent.municipality_id))
        .where(TicketEvent.municipality_id == ticket.municipality_id, TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id.desc())
    )
    events = [
        TicketEventResponse(
            number=n,
            ticket_id=e.ticket_id,
            actor_id=e.actor_id,
            actor_name=name,
            kind=EventKind(e.kind),
            data=e.data,
            created_at=e.created_at,
        )
        for e, name, n in rows
    ]
    return citizen_view.history(viewer, events) if viewer is not None and citizen_view.applies(viewer) else events
