"""The one-click unsubscribe link of every e-mail of a switchable kind: signed, no sign-in."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.user import User
from src.services.notifications import links, preferences


async def unsubscribe(session: AsyncSession, token: str) -> str | None:
    """Turn that kind of message off for e-mail; the account's language, or None for a bad link
    (nothing changes then)."""
    read = links.read_unsubscribe_token(token)
    if read is None:
        return None
    user_id, kind = read
    user = await session.scalar(select(User).where(User.id == user_id))
    if user is None:
        return None
    await preferences.stop_email(session, user.municipality_id, user.id, kind)
    return str(user.preferred_language)
