"""A person's own language: the one their pages and messages are written in."""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import Language
from src.models.user import User
from src.services.principal import Principal


async def set_own_language(session: AsyncSession, p: Principal, language: Language) -> None:
    """Anyone signed in may choose their own language (their record only, in their municipality)."""
    await session.execute(
        update(User)
        .where(User.municipality_id == p.municipality_id, User.id == p.id)
        .values(preferred_language=language)
    )
