"""Typed dependencies: the unit of work, the signed-in principal, role gates."""

import uuid
from collections.abc import AsyncIterator, Callable
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


async def get_db() -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit when the endpoint returns, roll back when it raises.

    Used with scope="function" so the commit happens before the response is sent: a client
    that sees 201 can rely on the row being there.
    """
    async with get_database().sessionmaker() as session, session.begin():
        yield session


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
        session_id=claims.session_id,
    )


async def get_current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    return await load_principal(session, bearer_token(request, token))


CurrentUser = Annotated[Principal, Depends(get_current_user, scope="function")]


def request_client(request: Request) -> session_service.Client:
    """Where a sign-in comes from, as the user's sessions list will show it."""
    return session_service.Client(client_address(request.scope), request.headers.get("user-agent"))


def require_role(*roles: UserRole) -> Callable[..., object]:
    async def dependency(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise Forbidden()
        return user

    return dependency


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None
