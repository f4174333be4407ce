"""Shared steps of the administration services: loading a record of the caller's municipality,
and turning a uniqueness violation into a 409 with a precise code.

Uniqueness is left to the database's constraints rather than checked first: it is race-free,
and it is the only way to see an email taken in another municipality, which row-level security
hides from this transaction.
"""

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict, NotFound
from src.models.base import Base
from src.services.principal import Principal

M = TypeVar("M", bound=Base)


def constraint_name(exc: IntegrityError) -> str | None:
    """The violated constraint, from asyncpg (the cause of the DBAPI error) or psycopg (diag)."""
    orig: Any = exc.orig
    name = getattr(getattr(orig, "__cause__", None), "constraint_name", None)
    return name or getattr(getattr(orig, "diag", None), "constraint_name", None)


async def flush_or_conflict(session: AsyncSession, conflicts: Mapping[str, Conflict]) -> None:
    """Flush; a violation of one of `conflicts`' constraints becomes that 409.

    Any other integrity error propagates (the error handler answers a generic 409). The
    transaction is unusable afterwards, which is fine: the request fails and rolls back.
    """
    try:
        await session.flush()
    except IntegrityError as exc:
        conflict = conflicts.get(constraint_name(exc) or "")
        if conflict is not None:
            raise conflict from None
        raise


async def get_owned(session: AsyncSession, model: type[M], p: Principal, record_id: uuid.UUID, kind: str) -> M:
    """A record of the caller's municipality, or 404 (foreign records do not exist for them)."""
    found = await session.scalar(
        select(model).where(model.__table__.c.id == record_id, model.__table__.c.municipality_id == p.municipality_id)
    )
    if found is None:
        raise NotFound(f"{kind} not found.")
    return found
