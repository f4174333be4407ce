"""Server-side sessions: opened at sign-in, named by every token and cookie, ended on demand.

A session is checked on every request by the same statement that loads the user
(src/core/database.py, SIGNED_IN_USER). Ending one is a single UPDATE; the next request with its
token answers 401 and an open live-event stream closes at its next check.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.config import get_settings
from src.core.database import get_database
from src.core.errors import NotFound
from src.core.security import create_access_token
from src.models.session import UserSession
from src.models.user import User
from src.services import access
from src.services.principal import Principal

log = logging.getLogger("khanyisa.security")

MAX_ADDRESS = 45
MAX_USER_AGENT = 300
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Client:
    """Where a sign-in comes from, as the sessions list shows it."""

    address: str | None
    user_agent: str | None


async def open_session(session: AsyncSession, user: User, client: Client) -> tuple[str, int]:
    """Record a new session for `user` and return its access token and lifetime in seconds."""
    expires_at = datetime.now(UTC) + timedelta(minutes=get_settings().access_token_minutes)
    row = UserSession(
        municipality_id=user.municipality_id,
        user_id=user.id,
        expires_at=expires_at,
        address=(client.address or None) and client.address[:MAX_ADDRESS],
        user_agent=(client.user_agent or None) and client.user_agent[:MAX_USER_AGENT],
    )
    session.add(row)
    await session.flush()
    return create_access_token(user.id, user.municipality_id, user.role, row.id, expires_at)


async def list_sessions(session: AsyncSession, p: Principal) -> list[UserSession]:
    rows = await session.scalars(
        select(UserSession)
        .where(access.own_sessions(p), UserSession.ended_at.is_(None), UserSession.expires_at > datetime.now(UTC))
        .order_by(UserSession.last_used_at.desc(), UserSession.id)
    )
    return list(rows)


async def end_session(session: AsyncSession, p: Principal, session_id: uuid.UUID) -> None:
    """End one of the caller's own live sessions; anything else (another user's, ended) is a 404."""
    ended = await session.scalar(
        update(UserSession)
        .where(access.own_sessions(p), UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC))
        .returning(UserSession.id)
    )
    if ended is None:
        raise NotFound("Session not found.", "session_not_found")


async def end_current(session: AsyncSession, p: Principal) -> None:
    if p.session_id is not None:
        await end_session(session, p, p.session_id)


async def end_all(session: AsyncSession, municipality_id: uuid.UUID, user_id: uuid.UUID) -> int:
    """End every live session of a user (password, role, ward or team changed; deactivated)."""
    result = await session.execute(
        update(UserSession)
        .where(
            UserSession.municipality_id == municipality_id,
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=datetime.now(UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- use ------------------------------------------------------------------------------------

_SESSION_ALIVE = text(
    """
    SELECT 1 FROM sessions s
    JOIN users u ON u.municipality_id = s.municipality_id AND u.id = s.user_id
    JOIN municipalities m ON m.id = s.municipality_id
    WHERE s.id = :sid AND s.ended_at IS NULL AND s.expires_at > now() AND u.is_active AND m.is_active
    """
)

_TOUCH = text(
    "UPDATE sessions SET last_used_at = now() "
    "WHERE id = :sid AND ended_at IS NULL AND last_used_at < now() - interval '1 minute'"
)

_pending: set[asyncio.Task[None]] = set()


async def is_alive(session_id: uuid.UUID) -> bool:
    """For long-lived streams, which hold no transaction: one short query on the primary."""
    async with get_database().engine.connect() as conn:
        return (await conn.execute(_SESSION_ALIVE, {"sid": session_id})).first() is not None


def note_use(session_id: uuid.UUID, last_used_at: datetime) -> None:
    """Refresh `last_used_at` at most once a minute, off the request's own transaction.

    Done in a background task on its own connection: the request neither waits for it nor holds
    a row lock on the session (which a logout would then wait for), and a read-only request
    stays read-only. Losing an update (a crash) only makes "last used" a minute staler.
    """
    if datetime.now(UTC) - last_used_at < TOUCH_EVERY:
        return
    task = asyncio.get_running_loop().create_task(_touch(session_id))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _touch(session_id: uuid.UUID) -> None:
    try:
        async with get_database().engine.begin() as conn:
            await conn.execute(_TOUCH, {"sid": session_id})
    except Exception as exc:
        log.warning("could not record a session's use (%s)", exc.__class__.__name__)


async def settle() -> None:
    """Wait for pending `last_used_at` refreshes (tests, shutdown)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
