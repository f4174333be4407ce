"""Every signed-in request runs as the non-owner role, pinned to the user's record."""

import pytest
from sqlalchemy import text, update

from src.api.deps import load_principal
from src.core.errors import Unauthorized
from src.models import User


async def _session_facts(session):
    row = (
        await session.execute(
            text("SELECT current_user, current_setting('app.role', true), current_setting('app.municipality_id', true)")
        )
    ).one()
    return tuple(row)


async def test_a_request_runs_as_the_app_role_with_the_records_role(db, world):
    async with db.system_session() as s:  # demoted after signing in: the record wins over the token
        await s.execute(update(User).where(User.id == world.manager.id).values(role="citizen"))
    async with db.sessionmaker() as session, session.begin():
        p = await load_principal(session, world.manager.token)
        assert p.role.value == "citizen"
        assert await _session_facts(session) == ("khanyisa_app", "citizen", str(world.municipality.id))


async def test_a_refused_token_pins_nothing(db, world):
    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == world.admin.id).values(is_active=False))
    async with db.sessionmaker() as session, session.begin():
        with pytest.raises(Unauthorized):
            await load_principal(session, world.admin.token)
        user, role, _ = await _session_facts(session)
        assert user != "khanyisa_app" and not role
