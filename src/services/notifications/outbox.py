"""Writing the outbox, in the transaction of the change it announces.

Ticket events are announced from one place, `record_event` (src/services/ticket_events.py),
which calls `announce_event` for every event it appends. One statement per event picks the
recipients (the reporter; for most kinds also the followers), their channels (their preferences,
by default e-mail; e-mail only to a verified address, SMS only to a phone) and their language.
The unique constraint (change, recipient, channel) makes a second write of the same change a
no-op."""

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import EventKind, TicketStatus
from src.models.notification import Channel, NotificationKind
from src.models.ticket import Ticket, TicketEvent
from src.models.user import User

DEFAULT_CHANNELS = (Channel.EMAIL,)

ANNOUNCE = text(
    """
    INSERT INTO notifications (municipality_id, recipient_id, channel, kind, ticket_id, event_id, language)
    SELECT u.municipality_id, u.id, c.channel, :kind, :ticket_id, :event_id, u.preferred_language
    FROM users u
    CROSS JOIN LATERAL unnest(coalesce(
        (SELECT p.channels FROM notification_preferences p WHERE p.user_id = u.id AND p.kind = :kind),
        CAST(:default_channels AS varchar[]))) AS c(channel)
    WHERE u.municipality_id = :municipality_id AND u.is_active
      AND (u.id = :reporter_id
           OR (:with_followers AND u.id IN (SELECT f.user_id FROM ticket_followers f
                                            WHERE f.municipality_id = :municipality_id AND f.ticket_id = :ticket_id)))
      AND ((c.channel = 'email' AND u.email_verified_at IS NOT NULL) OR (c.channel = 'sms' AND u.phone IS NOT NULL))
    ON CONFLICT DO NOTHING
    """
)


def kind_for(event: EventKind, data: dict[str, Any]) -> NotificationKind | None:
    """What residents hear of an event, if anything."""
    if event is EventKind.CREATED:
        return NotificationKind.REPORT_RECEIVED
    if event is EventKind.STATUS_CHANGED:
        return NotificationKind.RESOLVED if data.get("to") == TicketStatus.RESOLVED else NotificationKind.STATUS_CHANGED
    if event is EventKind.ESCALATED:  # the sweep's change of status
        return NotificationKind.STATUS_CHANGED
    if event is EventKind.MARKED_DUPLICATE and data.get("duplicate_of"):  # not the original's own event
        return NotificationKind.MARKED_DUPLICATE
    if event is EventKind.REOPENED:
        return NotificationKind.REOPENED
    return None


async def announce_event(session: AsyncSession, ticket: Ticket, event: TicketEvent) -> None:
    kind = kind_for(EventKind(event.kind), event.data)
    if kind is None:
        return
    await session.execute(
        ANNOUNCE,
        {
            "kind": kind.value,
            "ticket_id": ticket.id,
            "event_id": event.id,
            "municipality_id": ticket.municipality_id,
            "reporter_id": ticket.reporter_id,
            "with_followers": kind is not NotificationKind.REPORT_RECEIVED,
            "default_channels": [c.value for c in DEFAULT_CHANNELS],
        },
    )


ACCOUNT_MESSAGE = text(
    """
    INSERT INTO notifications (municipality_id, recipient_id, channel, kind, account_token_id, language)
    VALUES (:municipality_id, :recipient_id, 'email', :kind, :token_id, :language)
    ON CONFLICT DO NOTHING
    """
)


async def announce_account_message(
    session: AsyncSession, user: User, kind: NotificationKind, token_id: uuid.UUID
) -> None:
    """An account e-mail (verification, account exists, password reset): always e-mail, to any
    address, verified or not, whatever the preferences."""
    await session.execute(
        ACCOUNT_MESSAGE,
        {
            "municipality_id": user.municipality_id,
            "recipient_id": user.id,
            "kind": kind.value,
            "token_id": token_id,
            "language": user.preferred_language,
        },
    )
