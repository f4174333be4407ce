"""Retention: residents whose reports were all closed more than RETENTION_YEARS ago are anonymised
(by the erasure code), through the service, `khanyisa retention`, and the daily run in `serve`."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from src.core import lifespan, sealing
from src.models.user import UserRole
from src.services import retention
from src.services.erasure import ERASED_NAME, ERASED_TEXT
from tests.api.privacy_helpers import snapshot, user_row
from tests.test_cli import cli

YEAR = timedelta(days=365.25)


async def _closed(factory, world, reporter, years_ago: float, **values):
    at = datetime.now(UTC) - YEAR * years_ago
    return await factory.ticket(
        world.municipality,
        reporter_id=reporter.id,
        status="closed",
        created_at=at - timedelta(days=10),
        resolved_at=at - timedelta(days=1),
        closed_at=at,
        **values,
    )


async def _people(factory, world):
    """Who retention takes (`old`, `old_gbv`) and who it leaves (everyone else)."""
    mun = world.municipality
    p = {
        name: await factory.user(mun, UserRole.CITIZEN)
        for name in ("old", "old_gbv", "recent", "mixed", "open", "none")
    }
    await _closed(factory, world, p["old"], 6, description="Blocked drain at 4 Reed Street", address="4 Reed Street")
    await _closed(factory, world, p["old"], 7)
    sealed = sealing.new_data_key().seal
    await _closed(factory, world, p["old_gbv"], 6, category="gbv", description=sealed("Old GBV report"))
    await _closed(factory, world, p["recent"], 4)
    await _closed(factory, world, p["mixed"], 6)
    await _closed(factory, world, p["mixed"], 4)  # a ticket closed more recently
    await _closed(factory, world, p["open"], 6)
    await factory.ticket(mun, reporter_id=p["open"].id, status="open")
    p["staff"] = world.manager  # staff are never retention-erased
    await _closed(factory, world, world.manager, 6)
    p["resolved"] = await factory.user(mun, UserRole.CITIZEN)
    await factory.ticket(  # resolved long ago but never closed: not closed, so kept
        mun, reporter_id=p["resolved"].id, status="resolved", resolved_at=datetime.now(UTC) - YEAR * 6
    )
    return p


async def _names(db, people) -> dict[str, str]:
    return {name: (await user_row(db, actor.id)).full_name for name, actor in people.items()}


async def test_retention_anonymises_only_reporters_past_it(db, factory, world):
    people = await _people(factory, world)
    before = await _names(db, people)
    assert await retention.run_retention(db, years=5) == 2
    after = await _names(db, people)
    assert {n for n in people if after[n] == ERASED_NAME} == {"old", "old_gbv"}
    assert {n: after[n] for n in people if n not in ("old", "old_gbv")} == {
        n: before[n] for n in people if n not in ("old", "old_gbv")
    }
    rows = await snapshot(
        db, "SELECT description, address, reporter_id FROM tickets WHERE created_at < now() - interval '5 years'"
    )
    kept = [r for r in rows if r[2] is not None]
    assert len(kept) == 3  # mixed, open and the manager keep their old ones (recent's is newer)
    texts = sorted(sealing.reveal(r[0]) for r in rows if r[2] is None)
    assert texts == [ERASED_TEXT] * 3
    assert await retention.run_retention(db, years=5) == 0  # nobody is erased twice
    # With a shorter period, those whose latest closure is 4 years old go too (not the open one's reporter).
    assert await retention.run_retention(db, years=3) == 2
    after = await _names(db, people)
    assert {n for n in people if after[n] == ERASED_NAME} == {"old", "old_gbv", "recent", "mixed"}


async def test_concurrent_runs_do_the_work_once(db, factory, world):
    await _people(factory, world)
    results = await asyncio.gather(*(retention.run_retention(db, years=5) for _ in range(3)))
    assert sorted(results)[-1] == 2 and sum(results) == 2


async def test_the_command_prints_how_many_people_it_anonymised(db, database_url, factory, world):
    people = await _people(factory, world)
    key = sealing._b64(sealing.current_key().key)
    r = await cli(database_url, "retention", DATA_ENCRYPTION_KEY=key, RETENTION_YEARS="5")
    assert r.code == 0, r.err
    assert r.out.strip() == "2 people anonymised"
    assert (await user_row(db, people["old"].id)).erased_at is not None
    assert (await user_row(db, people["recent"].id)).erased_at is None
    again = await cli(database_url, "retention", DATA_ENCRYPTION_KEY=key)
    assert (again.code, again.out.strip()) == (0, "0 people anonymised")


async def test_the_daily_run_works_and_survives_failures(db, factory, world, monkeypatch, caplog):
    people = await _people(factory, world)

    async def erased() -> list[bool]:
        return [(await user_row(db, people[n].id)).erased_at is not None for n in ("old", "old_gbv", "recent")]

    task = asyncio.create_task(lifespan._retention_daily(first_delay=0, every=3600))
    try:
        for _ in range(1200):  # a busy machine may take a while; the run itself is two people
            if (await erased())[:2] == [True, True]:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert await erased() == [True, True, False]

    calls = []

    async def failing(db_, *args, **kwargs):
        calls.append(1)
        raise RuntimeError(f"cannot reach {people['recent'].user.email}")

    monkeypatch.setattr(retention, "run_retention", failing)
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(lifespan._retention_daily(first_delay=0, every=0.01))
    try:
        for _ in range(3000):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert len(calls) >= 3  # each failure is followed by the next run
    assert "retention run failed (RuntimeError)" in caplog.text
    assert people["recent"].user.email not in caplog.text  # the failure is logged without its data
