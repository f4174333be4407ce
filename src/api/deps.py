"""Typed dependencies: the unit of work, the signed-in principal, role gates."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.client_address import client_address
from src.core.database import enter_as_signed_in_user, get_database
from src.core.errors import Forbidden, Unauthorized
from src.core.security import decode_access_token
from src.models.user import UserRole
from src.services import session_service
from src.services.principal import Principal

SESSION_COOKIE = "khanyisa_session"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit when the endpoint returns, roll back when it raises.

    Used with scope="function" so the commit happens before the response is sent: a client
    that sees 201 can rely on the row being there. A signed-in caller's write request ends by
    recording its WAL position, so that caller's next reads wait for a replica to replay it.
    """
    db = get_database()
    async with db.sessionmaker() as session, session.begin():
        yield session
        if request.method not in SAFE_METHODS and getattr(request.state, "principal", None) is not None:
            await db.record_write(session)


SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


def bearer_token(request: Request, header_token: str | None) -> str | None:
    return header_token or request.cookies.get(SESSION_COOKIE)


async def load_principal(session: AsyncSession, token: str | None) -> Principal:
    """Validate the token fully, re-load the user and pin the tenant for this transaction."""
    claims = decode_access_token(token) if token else None
    if claims is None:
        raise Unauthorized("Missing or invalid access token.", "invalid_token")
    row = await enter_as_signed_in_user(session, claims.user_id, claims.municipality_id, claims.session_id)
    if row is None:
        raise Unauthorized("This session has ended or the account is not active.", "invalid_token")
    session_service.note_use(claims.session_id, row.last_used_at)
    return Principal(
        id=row.id,
        municipality_id=row.municipality_id,
        municipality_code=row.municipality_code,
        timezone=row.timezone,
        role=UserRole(row.role),
        email=row.email,
        full_name=row.full_name,
        ward_id=row.ward_id,
        team_id=row.team_id,
        last_write_lsn=row.last_write_lsn,
        session_id=claims.session_id,
        language=row.preferred_language,
    )


async def get_current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    request.state.principal = await load_principal(session, bearer_token(request, token))
    return request.state.principal


CurrentUser = Annotated[Principal, Depends(get_current_user, scope="function")]


def request_client(request: Request) -> session_service.Client:
    """Where a sign-in comes from, as the user's sessions list will show it."""
    return session_service.Client(client_address(request.scope), request.headers.get("user-agent"))


@dataclass(frozen=True)
class Reading:
    """The signed-in caller and the transaction their lag-tolerant reads run in."""

    principal: Principal
    session: AsyncSession


@asynccontextmanager
async def open_reading(token: str | None) -> AsyncIterator[Reading]:
    """For the reads a replica may serve (the list, dashboard figures): the caller is loaded on the
    primary, so sign-in and its checks never see stale rows, then read on the replica when it may
    serve them (src/core/replica.py), else on the primary.

    With a replica in use, the caller is loaded outside any transaction (one statement, no BEGIN or
    COMMIT) and that connection goes back to the pool at once: the request then costs one round
    trip more than on the primary alone, the replica's tenant pin, which also decides.
    """
    db = get_database()
    if db.replica is None or not db.replica.usable():
        async with db.sessionmaker() as session, session.begin():  # as every request: one transaction
            yield Reading(await load_principal(session, token), session)
        return
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(bind=conn) as auth:
            principal = await load_principal(auth, token)
    async with db.replica_session(principal.tenant, principal.last_write_lsn) as replica:
        if replica is not None:
            yield Reading(principal, replica)
            return
    async with db.tenant_session(principal.tenant) as session:
        yield Reading(principal, session)


async def get_reading(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> AsyncIterator[Reading]:
    async with open_reading(bearer_token(request, token)) as reading:
        yield reading


ReadingDep = Annotated[Reading, Depends(get_reading, scope="function")]


async def get_reader(reading: ReadingDep) -> Principal:
    return reading.principal


async def get_read_db(reading: ReadingDep) -> AsyncSession:
    return reading.session


Reader = Annotated[Principal, Depends(get_reader, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_db, scope="function")]


def require_role(*roles: UserRole, reading: bool = False) -> Callable[..., object]:
    """A role gate over the signed-in caller; `reading=True` for routes that read with `ReadSessionDep`."""

    async def gate(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise Forbidden()
        return user

    async def reading_gate(user: Reader) -> Principal:
        if user.role not in roles:
            raise Forbidden()
        return user

    return reading_gate if reading else gate


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None
