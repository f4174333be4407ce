"""Shared steps of the data-subject tests: consents as registration records them, erasure, snapshots."""

from sqlalchemy import select, text

from src.models.user import Consent, User
from src.services import consent_service
from tests.factories import PASSWORD

API = "/api/v1"
ME = f"{API}/me"


async def give_consents(db, actor) -> None:
    """The two consents registration records (terms, special information)."""
    async with db.system_session() as s:
        user = await s.scalar(select(User).where(User.id == actor.id))
        await consent_service.record_at_registration(s, user)


async def consents_of(db, actor) -> list[tuple[str, bool]]:
    async with db.system_session() as s:
        rows = await s.scalars(select(Consent).where(Consent.user_id == actor.id).order_by(Consent.purpose))
        return [(c.purpose.value, c.withdrawn_at is None) for c in rows]


async def erase_me(client, actor, password: str = PASSWORD):
    return await client.post(f"{ME}/erase", json={"password": password}, headers=actor.headers)


async def erase_user(client, actor, user_id):
    return await client.post(f"{API}/users/{user_id}/erase", headers=actor.headers)


async def user_row(db, user_id) -> User:
    async with db.system_session() as s:
        return (await s.execute(select(User).where(User.id == user_id))).scalar_one()


async def snapshot(db, sql: str) -> list[tuple]:
    """Rows as the owner sees them (no row-level security), to compare before and after."""
    async with db.system_session() as s:
        return [tuple(r) for r in (await s.execute(text(sql))).all()]
