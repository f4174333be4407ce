"""Reads served by a streaming replica (`DATABASE_READ_URL`), with read-your-writes.

A read transaction goes to the replica only when three things hold, all answered by the one
statement that also pins the tenant there (so choosing costs no round trip of its own):

* the replica answers;
* it is at most `READ_REPLICA_MAX_LAG_SECONDS` behind;
* it has replayed the caller's latest write. Each write request records the WAL position of its
  end in `user_write_positions` inside its own transaction (migration 0008), so the row becomes
  visible wherever the write does. Sign-in reads the caller's position on the primary; the
  replica serves them once its copy of that row has reached the same position.

Otherwise the primary serves the read, and nobody sees an error. A replica that does not answer
or lags is skipped by every request of this process, with one log line, until a background
check finds it healthy again (at most every `recheck_seconds`, started by the next read).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

log = logging.getLogger("khanyisa.replica")

APP_ROLE = "khanyisa_app"
RECHECK_SECONDS = 10.0

# Lag is the age of the last replayed transaction while WAL waits to be replayed; a replica that
# has replayed all it received is not lagging, however long ago the primary last wrote.
LAG = """CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END"""

HEALTH = text(f"SELECT {LAG} AS lag_seconds")

# An anonymous reader (public figures, Open311) has no writes to wait for, and pins its
# municipality itself once it has looked up the code.
ANONYMOUS_CHECK = text(f"SELECT {LAG} AS lag_seconds, true AS caught_up")

# Evaluated as the connection's own user, before the role drop takes effect (privileges are checked
# when the statement starts), so the position row is readable here and nowhere else in the request.
PIN_AND_CHECK = text(
    f"""
    SELECT {LAG} AS lag_seconds,
           CAST(:after AS text) IS NULL OR coalesce(
             (SELECT w.lsn FROM user_write_positions w WHERE w.user_id = CAST(CAST(:u AS text) AS uuid))
               >= CAST(CAST(:after AS text) AS pg_lsn), false) AS caught_up,
           set_config('app.municipality_id', :m, true), set_config('app.role', :r, true),
           set_config('app.user_id', :u, true), set_config('role', :app_role, true)
    """
)

# The last statement of a write request's transaction (after it dropped to the application role).
RECORD_WRITE = text(
    """
    INSERT INTO user_write_positions AS w (user_id, lsn) VALUES (app_user_id(), pg_current_wal_insert_lsn())
    ON CONFLICT (user_id) DO UPDATE SET lsn = greatest(w.lsn, excluded.lsn), written_at = now()
    """
)

# Failures that mean "the replica cannot serve now", not a fault of the request.
UNAVAILABLE = (OSError, SQLAlchemyError, TimeoutError)


class Replica:
    def __init__(self, engine: AsyncEngine, max_lag_seconds: float, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.max_lag_seconds = max_lag_seconds
        self.recheck_seconds = recheck_seconds
        self.skipped_since: float | None = None  # monotonic time it was last found unusable
        self.recheck_task: asyncio.Task[bool] | None = None  # the background check under way, if any

    @property
    def in_use(self) -> bool:
        return self.skipped_since is None

    def usable(self) -> bool:
        """Whether to try the replica now; when it is skipped, starts a re-check once one is due."""
        if self.skipped_since is None:
            return True
        self._schedule_recheck()
        return False

    @asynccontextmanager
    async def session(
        self, municipality_id: str | None, role: str, user_id: str, after: str | None
    ) -> AsyncIterator[AsyncSession | None]:
        """A read-only transaction on the replica, pinned to the tenant (none for an anonymous
        reader, who pins one by code), or None: the primary serves."""
        session = await self._open(municipality_id, role, user_id, after)
        if session is None:
            yield None
            return
        try:
            yield session
            await session.commit()
        finally:
            await session.close()

    async def _open(
        self, municipality_id: str | None, role: str, user_id: str, after: str | None
    ) -> AsyncSession | None:
        if not self.in_use:
            self._schedule_recheck()
            return None
        session = self.sessionmaker()
        params = {"m": municipality_id, "r": role, "u": user_id, "after": after, "app_role": APP_ROLE}
        try:
            check = PIN_AND_CHECK if municipality_id is not None else ANONYMOUS_CHECK
            row = (await session.execute(check, params if municipality_id is not None else {})).one()
        except UNAVAILABLE as exc:
            await _discard(session)
            self.skip(_failure(exc))
            return None
        if row.lag_seconds > self.max_lag_seconds:
            await _discard(session)
            self.skip(f"it is {row.lag_seconds:.0f} s behind (limit {self.max_lag_seconds:g} s)")
            return None
        if not row.caught_up:  # the caller's own latest write is not there yet
            await _discard(session)
            return None
        return session

    def skip(self, reason: str) -> None:
        if self.skipped_since is None:
            log.warning(
                "read replica skipped: %s; reads go to the primary until it is healthy again (checked every %g s)",
                reason,
                self.recheck_seconds,
            )
        self.skipped_since = time.monotonic()

    async def check(self) -> bool:
        """Whether the replica answers and is within the lag limit; puts it back in use when it is."""
        try:
            async with self.engine.connect() as conn:
                lag = (await conn.execute(HEALTH)).scalar_one()
        except UNAVAILABLE as exc:
            self.skip(_failure(exc))
            return False
        if lag > self.max_lag_seconds:
            self.skip(f"it is {lag:.0f} s behind (limit {self.max_lag_seconds:g} s)")
            return False
        if self.skipped_since is not None:
            log.warning("read replica healthy again: reads go to it")
        self.skipped_since = None
        return True

    def _schedule_recheck(self) -> None:
        due = self.skipped_since is not None and time.monotonic() - self.skipped_since >= self.recheck_seconds
        if due and (self.recheck_task is None or self.recheck_task.done()):
            self.recheck_task = asyncio.get_running_loop().create_task(self.check())

    async def dispose(self) -> None:
        if self.recheck_task is not None:
            self.recheck_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.recheck_task
        await self.engine.dispose()


def _failure(exc: BaseException) -> str:
    """What went wrong, in one line: a refused connection, or e.g. a replica of another schema."""
    lost = getattr(exc, "connection_invalidated", False) or isinstance(getattr(exc, "orig", None), OSError)
    if lost or isinstance(exc, OSError | TimeoutError):
        return f"it does not answer ({type(exc).__name__})"
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"it cannot serve reads ({type(exc).__name__}: {detail[0][:200] if detail else ''})"


async def _discard(session: AsyncSession) -> None:
    with contextlib.suppress(*UNAVAILABLE):
        await session.close()
