"""Engines, sessions and the per-transaction tenant context that row-level security reads."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from src.core.config import get_settings

APP_ROLE = "khanyisa_app"


def async_url(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@dataclass(frozen=True)
class TenantContext:
    """Who the transaction runs for: row-level security keys on these three settings."""

    municipality_id: uuid.UUID
    role: str
    user_id: uuid.UUID | None = None


class Database:
    def __init__(self, url: str, read_url: str | None = None, pool_size: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            async_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True
        )
        self.read_engine: AsyncEngine = (
            create_async_engine(async_url(read_url), pool_size=pool_size, pool_pre_ping=True, hide_parameters=True)
            if read_url
            else self.engine
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    @asynccontextmanager
    async def system_session(self) -> AsyncIterator[AsyncSession]:
        """A transaction as the schema owner, outside any tenant: for sign-in, the sweep and the CLI."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def tenant_session(self, ctx: TenantContext, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        maker = self.read_sessionmaker if read_only else self.sessionmaker
        async with maker() as session, session.begin():
            await enter_tenant(session, ctx)
            yield session


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
        {"m": str(ctx.municipality_id), "r": ctx.role, "u": str(ctx.user_id) if ctx.user_id else "", "app_role": APP_ROLE},
    )


SIGNED_IN_USER = text(
    """
    SELECT u.id, u.municipality_id, u.email, u.full_name, u.role, u.ward_id, u.team_id,
           m.code AS municipality_code, m.timezone, s.last_used_at,
           set_config('app.municipality_id', u.municipality_id::text, true),
           set_config('app.role', u.role, true),
           set_config('app.user_id', u.id::text, true),
           set_config('role', :app_role, true)
    FROM sessions s
    JOIN users u ON u.municipality_id = s.municipality_id AND u.id = s.user_id
    JOIN municipalities m ON m.id = u.municipality_id
    WHERE s.id = :session_id AND s.user_id = :user_id AND s.municipality_id = :municipality_id
      AND s.ended_at IS NULL AND s.expires_at > now() AND u.is_active AND m.is_active
    """
)


async def enter_as_signed_in_user(  # noqa: ANN201
    session: AsyncSession, user_id: uuid.UUID, municipality_id: uuid.UUID, session_id: uuid.UUID
):
    """Load the live session a verified token names with its active user and, in the same round
    trip, pin the tenant to that user's record (its current role, not the token's) and drop to
    the non-owner role. The session is found by its primary key, so ending it (logout, password
    change, deactivation) refuses the token from the next request on at no extra cost.

    The one row is read as the owner (the tenant is not pinned yet), by the signed claims alone.
    No row means no pinning: the caller must refuse the request, which rolls the transaction back.
    """
    result = await session.execute(
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
        _db = Database(settings.database_url, settings.database_read_url, settings.db_pool_size)
    return _db


def set_database(db: Database | None) -> None:
    global _db
    _db = db
