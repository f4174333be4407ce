"""The one-click unsubscribe link of every e-mail of a switchable kind: signed, no sign-in."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.notification import SWITCHABLE_KINDS, Notification, NotificationKind
from src.models.user import User
from src.services.notifications import links, preferences


async def unsubscribe(session: AsyncSession, token: str) -> str | None:
    """Turn that kind of message off for e-mail; the account's language, or None for a bad link
    (nothing changes then)."""
    notification_id = links.read_unsubscribe_token(token)
    if notification_id is None:
        return None
    row = (
        await session.execute(
            select(Notification.kind, User)
            .join(User, (User.municipality_id == Notification.municipality_id) & (User.id == Notification.recipient_id))
            .where(Notification.id == notification_id)
        )
    ).first()
    if row is None or NotificationKind(row.kind) not in SWITCHABLE_KINDS:
        return None
    user = row.User
    await preferences.stop_email(session, user.municipality_id, user.id, NotificationKind(row.kind))
    return str(user.preferred_language)
