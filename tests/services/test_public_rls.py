"""Anonymous reads run pinned to one municipality with the public role: row-level security alone,
with no application filter at all, then shows that municipality's non-sensitive rows only."""

from sqlalchemy import text

from src.services.jurisdiction import enter_municipality


async def test_the_public_role_sees_only_non_sensitive_rows_of_its_municipality(db, factory, world, other):
    mine = await factory.ticket(world.municipality, category="water")
    gbv = await factory.ticket(world.municipality, category="gbv")
    await factory.ticket(other.municipality, category="water")
    async with db.system_session() as s:
        for t in (mine, gbv):
            await s.execute(
                text("INSERT INTO ticket_events (municipality_id, ticket_id, kind) VALUES (:m, :t, 'created')"),
                {"m": t.municipality_id, "t": t.id},
            )
    async with db.anonymous_read_session() as s:
        j = await enter_municipality(s, world.municipality.code.lower())
        assert j.id == world.municipality.id
        tickets = (await s.execute(text("SELECT id FROM tickets"))).scalars().all()
        events = (await s.execute(text("SELECT ticket_id FROM ticket_events"))).scalars().all()
        role = await s.scalar(text("SELECT current_user"))
    assert tickets == [mine.id] and events == [mine.id]
    assert role == "khanyisa_app"  # not the owner: RLS applies


async def test_an_unknown_code_pins_nothing(db):
    import pytest

    from src.core.errors import NotFound

    async with db.anonymous_read_session() as s:
        with pytest.raises(NotFound):
            await enter_municipality(s, "NOPE")
        assert await s.scalar(text("SELECT current_setting('app.municipality_id', true)")) in (None, "")
