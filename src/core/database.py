"""Engines, sessions and the per-transaction tenant context that row-level security reads."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from src.core.config import get_settings
from src.core.replica import RECORD_WRITE, Replica

APP_ROLE = "khanyisa_app"
REPLICA_CONNECT_TIMEOUT = 3  # seconds: a replica that does not accept a connection by then is skipped


def async_url(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _engine(url: str, **options: Any) -> AsyncEngine:
    """An engine whose pool hands out only connections that are still open, without a round trip.

    `pool_pre_ping` would ask the server before every checkout (BEGIN, an empty query, ROLLBACK:
    three round trips, as many as /health needs for its own work). A connection the server
    closed (a restart, an idle timeout, pg_terminate_backend) is already known to the driver as
    closed, so checking that flag catches the same cases for free; the pool then opens a new
    connection. A connection that dies mid-request fails that request, as it would after a ping.
    """
    engine = create_async_engine(async_url(url), hide_parameters=True, **options)  # no SQL values in any log

    @event.listens_for(engine.sync_engine, "checkout")
    def _still_open(dbapi_connection: object, record: ConnectionPoolEntry, proxy: object) -> None:
        if record.driver_connection is None or record.driver_connection.is_closed():
            raise DisconnectionError("the server closed this pooled connection")

    return engine


@dataclass(frozen=True)
class TenantContext:
    """Who the transaction runs for: row-level security keys on these three settings."""

    municipality_id: uuid.UUID
    role: str
    user_id: uuid.UUID | None = None


class Database:
    def __init__(
        self, url: str, read_url: str | None = None, pool_size: int = 10, max_lag_seconds: float = 30.0
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = _engine(url, pool_size=pool_size, max_overflow=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # The replica's pool pings no more than the primary's: a dead connection fails the tenant
        # pin, which already falls back to the primary.
        self.replica: Replica | None = (
            Replica(
                _engine(
                    read_url,
                    pool_size=pool_size,
                    max_overflow=pool_size,
                    connect_args={"timeout": REPLICA_CONNECT_TIMEOUT},
                    execution_options={"postgresql_readonly": True},
                ),
                max_lag_seconds,
            )
            if read_url
            else None
        )

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica is not None:
            await self.replica.dispose()

    @asynccontextmanager
    async def system_session(self) -> AsyncIterator[AsyncSession]:
        """A transaction as the schema owner, outside any tenant: for sign-in, the sweep and the CLI."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def tenant_session(self, ctx: TenantContext) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session, session.begin():
            await enter_tenant(session, ctx)
            yield session

    @asynccontextmanager
    async def replica_session(self, ctx: TenantContext, after: str | None) -> AsyncIterator[AsyncSession | None]:
        """A read-only transaction on the replica for a caller whose latest write is at `after`,
        or None when the primary must serve (no replica, unhealthy, lagging, or not caught up)."""
        if self.replica is None:
            yield None
            return
        user = str(ctx.user_id) if ctx.user_id else ""
        async with self.replica.session(str(ctx.municipality_id), ctx.role, user, after) as session:
            yield session

    @asynccontextmanager
    async def read_session(self, ctx: TenantContext, after: str | None) -> AsyncIterator[AsyncSession]:
        """A transaction for reads that tolerate a moment's lag: the replica when it may serve, else the primary."""
        async with self.replica_session(ctx, after) as session:
            if session is not None:
                yield session
                return
        async with self.tenant_session(ctx) as session:
            yield session

    @asynccontextmanager
    async def anonymous_read_session(self) -> AsyncIterator[AsyncSession]:
        """A transaction for anonymous reads (public figures, Open311), not yet pinned to a
        municipality: the replica when it may serve, else the primary. The caller pins one."""
        if self.replica is not None:
            async with self.replica.session(None, "", "", None) as session:
                if session is not None:
                    yield session
                    return
        async with self.system_session() as session:
            yield session

    async def record_write(self, session: AsyncSession) -> None:
        """Record, as the last statement of a write transaction, where its change ends in the WAL,
        so the writer's next reads avoid a replica that has not replayed it. Needed only with a replica."""
        if self.replica is not None:
            await session.execute(RECORD_WRITE)


async def enter_tenant(session: AsyncSession, ctx: TenantContext) -> None:
    """Pin the tenant and drop to the non-owner role for the rest of this transaction.

    One round trip: `set_config('role', ..., true)` is `SET LOCAL ROLE`, so row-level security
    applies even when the connection's own user is a superuser or owns the tables.
    """
    await session.execute(
        text(
            "SELECT set_config('app.municipality_id', :m, true), set_config('app.role', :r, true), "
            "set_config('app.user_id', :u, true), set_config('role', :app_role, true)"
        ),
        {
            "m": str(ctx.municipality_id),
            "r": ctx.role,
            "u": str(ctx.user_id) if ctx.user_id else "",
            "app_role": APP_ROLE,
        },
    )


SIGNED_IN_USER = text(
    """
    SELECT u.id, u.municipality_id, u.email, u.full_name, u.role, u.ward_id, u.team_id, u.preferred_language,
           m.code AS municipality_code, m.timezone, w.lsn::text AS last_write_lsn, s.last_used_at,
           set_config('app.municipality_id', u.municipality_id::text, true),
           set_config('app.role', u.role, true),
           set_config('app.user_id', u.id::text, true),
           set_config('role', :app_role, true)
    FROM sessions s
    JOIN users u ON u.municipality_id = s.municipality_id AND u.id = s.user_id
    JOIN municipalities m ON m.id = u.municipality_id
    LEFT JOIN user_write_positions w ON w.user_id = u.id
    WHERE s.id = :session_id AND s.user_id = :user_id AND s.municipality_id = :municipality_id
      AND s.ended_at IS NULL AND s.expires_at > now() AND u.is_active AND m.is_active
    """
)


async def enter_as_signed_in_user(
    session: AsyncSession, user_id: uuid.UUID, municipality_id: uuid.UUID, session_id: uuid.UUID
):
    """Load the live session a verified token names with its active user and, in the same round
    trip, pin the tenant to that user's record (its current role, not the token's) and drop to
    the non-owner role. The session is found by its primary key, so ending it (logout, password
    change, deactivation) refuses the token from the next request on at no extra cost.

    The one row is read as the owner (the tenant is not pinned yet), by the signed claims alone.
    It carries the WAL position of the user's latest write, which decides whether a replica may
    serve their reads (src/core/replica.py).
    No row means no pinning: the caller must refuse the request, which rolls the transaction back.
    """
    # On the session's connection (same transaction): a Core statement skips the ORM's result layer.
    connection = await session.connection()
    result = await connection.execute(
        SIGNED_IN_USER,
        {"user_id": user_id, "municipality_id": municipality_id, "session_id": session_id, "app_role": APP_ROLE},
    )
    return result.first()


_db: Database | None = None


def get_database() -> Database:
    global _db
    if _db is None:
        settings = get_settings()
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        _db = Database(
            settings.database_url,
            settings.database_read_url,
            settings.db_pool_size,
            settings.read_replica_max_lag_seconds,
        )
    return _db


def set_database(db: Database | None) -> None:
    global _db
    _db = db
