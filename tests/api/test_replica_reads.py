"""Reads served by a real streaming replica, with read-your-writes (src/core/replica.py).

Which server answered is seen two ways: the statements each engine sent (a listener on the
engines, nothing in the application), and what the answer holds while the replica's replay is
paused (a ticket written after the pause exists only on the primary).
"""

import logging
import os
import pwd
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

import src.core.database as database_module
from src.core.database import Database, set_database
from tests.conftest import TABLES
from tests.factories import Factory
from tests.replica_server import ReplicaPair, find_bindir
from tests.web.helpers import form_token, sign_in

BINDIR = find_bindir()
DATABASE = "khanyisa_replica_test"
LOGGER = "khanyisa.replica"


def _why_not() -> str | None:
    if BINDIR is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) on this machine"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' system user to run the servers"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")


@pytest.fixture(scope="session")
def pair() -> Iterator[ReplicaPair]:
    from alembic import command
    from alembic.config import Config

    assert BINDIR is not None
    servers = ReplicaPair(BINDIR)
    try:
        servers.build()
        with servers.primary.connect() as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        cfg = Config("alembic.ini")
        cfg.attributes["database_url"] = servers.primary.url(DATABASE)
        command.upgrade(cfg, "head")
        servers.wait_for_replay(DATABASE)
        yield servers
    finally:
        servers.remove()


@pytest.fixture
async def rdb(pair: ReplicaPair) -> AsyncIterator[Database]:
    """The application's database for one test: the pair's primary, and its replica for reads."""
    database = Database(pair.primary.url(DATABASE), pair.replica.url(DATABASE), pool_size=4, max_lag_seconds=30)
    previous = database_module._db
    set_database(database)
    try:
        yield database
    finally:
        set_database(previous)
        await database.dispose()
        if not pair.replica.is_running():
            pair.replica.start()
        with pair.replica.connect(DATABASE) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
        with pair.primary.connect(DATABASE) as conn:
            conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        pair.wait_for_replay(DATABASE)


@pytest.fixture
async def rclient(rdb: Database) -> AsyncIterator[httpx.AsyncClient]:
    from src.main import app

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture
async def rworld(rdb: Database, pair: ReplicaPair):
    factory = Factory(rdb)
    world = await factory.world()
    world.factory = factory  # type: ignore[attr-defined]
    await factory.ticket(world.municipality, description="Leaking meter at the clinic")
    pair.wait_for_replay(DATABASE)
    return world


@contextmanager
def served_by(db: Database) -> Iterator[dict[str, list[str]]]:
    """The statements each server received while the block ran."""
    assert db.replica is not None
    sent: dict[str, list[str]] = {"primary": [], "replica": []}
    engines = {"primary": db.engine.sync_engine, "replica": db.replica.engine.sync_engine}
    listeners = {}
    for name, engine in engines.items():

        def record(conn, cursor, statement, *args, _name=name) -> None:
            sent[_name].append(statement)

        listeners[name] = record
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for name, engine in engines.items():
            event.remove(engine, "before_cursor_execute", listeners[name])


def reads_tickets(statements: list[str]) -> bool:
    return any(
        re.search(r"\b(tickets|ticket_\w*tallies|ticket_hours)\b", s) and "set_config" not in s for s in statements
    )


async def descriptions(client: httpx.AsyncClient, actor) -> set[str]:
    r = await client.get("/api/v1/tickets", headers=actor.headers)
    assert r.status_code == 200, r.text
    return {t["description"] for t in r.json()["tickets"]}


async def test_the_replica_is_a_streaming_replica(rdb: Database) -> None:
    assert rdb.replica is not None
    async with rdb.replica.engine.connect() as conn:
        assert await conn.scalar(text("SELECT pg_is_in_recovery()")) is True
        assert await conn.scalar(text("SELECT status FROM pg_stat_wal_receiver")) == "streaming"
    async with rdb.engine.connect() as conn:
        assert await conn.scalar(text("SELECT pg_is_in_recovery()")) is False


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets",
        "/api/v1/tickets?status=open&sort_by=severity",
        "/api/v1/dashboard/metrics",
        "/api/v1/dashboard/volume",
        "/api/v1/dashboard/sla",
        "/api/v1/dashboard/workload",
        "/api/v1/dashboard/trends?days=7",
        "/api/v1/export/tickets.csv",
        "/api/v1/export/tickets.xlsx",
    ],
)
async def test_list_dashboard_and_export_read_on_the_replica(rclient, rdb, rworld, path) -> None:
    with served_by(rdb) as sent:
        r = await rclient.get(path, headers=rworld.manager.headers)
    assert r.status_code == 200, r.text
    assert reads_tickets(sent["replica"]), sent
    assert not reads_tickets(sent["primary"]), sent["primary"]
    if path == "/api/v1/tickets":
        assert [t["description"] for t in r.json()["tickets"]] == ["Leaking meter at the clinic"]


@pytest.mark.parametrize("path", ["/tickets", "/fragments/tickets", "/dashboard", "/fragments/dashboard"])
async def test_list_and_dashboard_pages_read_on_the_replica(rclient, rdb, rworld, path) -> None:
    sign_in(rclient, rworld.manager)
    with served_by(rdb) as sent:
        r = await rclient.get(path)
    assert r.status_code == 200, r.text
    assert reads_tickets(sent["replica"]), sent
    assert not reads_tickets(sent["primary"]), sent["primary"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/public/summary",
        "/api/v1/public/municipalities/{code}/stats",
        "/open311/v2/requests.json?jurisdiction_id={code}",
    ],
)
async def test_public_figures_and_open311_read_on_the_replica(rclient, rdb, rworld, path) -> None:
    from src.services import public_cache

    public_cache.clear()
    with served_by(rdb) as sent:
        r = await rclient.get(path.format(code=rworld.municipality.code))
    public_cache.clear()
    assert r.status_code == 200, r.text
    assert reads_tickets(sent["replica"]), sent
    assert not reads_tickets(sent["primary"]), sent["primary"]


async def test_ticket_detail_and_history_read_on_the_primary(rclient, rdb, rworld) -> None:
    r = await rclient.get("/api/v1/tickets", headers=rworld.manager.headers)
    ticket_id = r.json()["tickets"][0]["id"]
    for path in (f"/api/v1/tickets/{ticket_id}", f"/api/v1/tickets/{ticket_id}/history"):
        with served_by(rdb) as sent:
            r = await rclient.get(path, headers=rworld.manager.headers)
        assert r.status_code == 200, r.text
        assert sent["replica"] == [] and reads_tickets(sent["primary"])


async def test_own_write_is_read_at_once_while_replay_is_paused(rclient, rdb, rworld, pair) -> None:
    with pair.replica.connect(DATABASE) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    r = await rclient.post(
        "/api/v1/tickets",
        json={"category": "water", "description": "Hydrant open on Church Street"},
        headers=rworld.manager.headers,
    )
    assert r.status_code == 201, r.text

    with served_by(rdb) as sent:  # the writer reads from the primary: the replica has not replayed it
        assert await descriptions(rclient, rworld.manager) == {
            "Leaking meter at the clinic",
            "Hydrant open on Church Street",
        }
    assert not reads_tickets(sent["replica"]) and reads_tickets(sent["primary"])

    with served_by(rdb) as sent:  # everybody else still reads the replica, a moment behind
        assert await descriptions(rclient, rworld.admin) == {"Leaking meter at the clinic"}
    assert reads_tickets(sent["replica"]) and not reads_tickets(sent["primary"])

    with pair.replica.connect(DATABASE) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    pair.wait_for_replay(DATABASE)
    with served_by(rdb) as sent:  # once replayed, the writer is back on the replica
        assert await descriptions(rclient, rworld.manager) == {
            "Leaking meter at the clinic",
            "Hydrant open on Church Street",
        }
    assert reads_tickets(sent["replica"]) and not reads_tickets(sent["primary"])


async def test_own_report_on_the_pages_is_read_at_once_while_replay_is_paused(rclient, rdb, rworld, pair) -> None:
    """The same with the cookie session of the pages: a resident's new report is on their list."""
    sign_in(rclient, rworld.citizen)
    csrf = await form_token(rclient, "/reports")
    with pair.replica.connect(DATABASE) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    r = await rclient.post(
        "/reports",
        data={
            "csrf_token": csrf,
            "category": "roads",
            "description": "Pothole by the school gate",
            "severity": "medium",
        },
    )
    assert r.status_code == 303, r.text
    with served_by(rdb) as sent:
        page = await rclient.get(r.headers["location"])
    assert page.status_code == 200 and "Pothole by the school gate" in page.text
    assert not reads_tickets(sent["replica"]) and reads_tickets(sent["primary"])


async def test_a_stopped_replica_degrades_to_the_primary_with_one_log_line(rclient, rdb, rworld, pair, caplog) -> None:
    assert rdb.replica is not None
    pair.replica.stop()
    caplog.set_level(logging.WARNING, logger=LOGGER)
    for _ in range(3):
        with served_by(rdb) as sent:
            assert await descriptions(rclient, rworld.manager) == {"Leaking meter at the clinic"}
        assert reads_tickets(sent["primary"])
    r = await rclient.get("/api/v1/dashboard/metrics", headers=rworld.manager.headers)
    assert r.status_code == 200 and r.json()["total_open"] == 1
    skipped = [rec.getMessage() for rec in caplog.records if rec.name == LOGGER]
    assert len(skipped) == 1 and "does not answer" in skipped[0], skipped

    assert await rdb.replica.check() is False  # still down: checked again, not logged again
    assert len([rec for rec in caplog.records if rec.name == LOGGER]) == 1

    pair.replica.start()
    pair.wait_for_replay(DATABASE)
    rdb.replica.recheck_seconds = 0  # due at once: the next read starts the background check
    with served_by(rdb) as sent:
        assert await descriptions(rclient, rworld.manager) == {"Leaking meter at the clinic"}
    assert reads_tickets(sent["primary"]) and rdb.replica.recheck_task is not None
    assert await rdb.replica.recheck_task is True
    assert "healthy again" in caplog.records[-1].getMessage()
    with served_by(rdb) as sent:
        assert await descriptions(rclient, rworld.manager) == {"Leaking meter at the clinic"}
    assert reads_tickets(sent["replica"]) and not reads_tickets(sent["primary"])


async def test_a_replica_beyond_the_lag_limit_is_skipped(rclient, rdb, rworld, pair, caplog) -> None:
    assert rdb.replica is not None
    with pair.replica.connect(DATABASE) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    await rworld.factory.ticket(rworld.municipality, description="Streetlight out on Pretorius Street")
    pair.wait_for_receipt(DATABASE)  # received, not replayed: the replica now lags

    with served_by(rdb) as sent:  # within the limit (30 s) the replica still serves, a moment behind
        assert await descriptions(rclient, rworld.manager) == {"Leaking meter at the clinic"}
    assert reads_tickets(sent["replica"])

    rdb.replica.max_lag_seconds = 0
    caplog.set_level(logging.WARNING, logger=LOGGER)
    for _ in range(2):
        with served_by(rdb) as sent:
            assert await descriptions(rclient, rworld.manager) == {
                "Leaking meter at the clinic",
                "Streetlight out on Pretorius Street",
            }
        assert reads_tickets(sent["primary"]) and not reads_tickets(sent["replica"])
    skipped = [rec.getMessage() for rec in caplog.records if rec.name == LOGGER]
    assert len(skipped) == 1 and "behind (limit 0 s)" in skipped[0], skipped

    with pair.replica.connect(DATABASE) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    pair.wait_for_replay(DATABASE)
    assert await rdb.replica.check() is True  # caught up: back in use


@pytest.mark.parametrize(
    ("read_database", "logged"),
    [
        (None, "it does not answer"),
        ("postgres", 'it cannot serve reads (ProgrammingError: relation "user_write_positions"'),
    ],
    ids=["nothing listens", "not a copy of the schema"],
)
async def test_a_read_url_that_cannot_serve_is_skipped_without_errors(
    db, client, world, caplog, read_database, logged
) -> None:
    """No streaming replica needed: a read URL where nothing listens, or a database without the schema."""
    read_url = (
        make_url(db.url).set(database=read_database).render_as_string(hide_password=False)
        if read_database
        else "postgresql://postgres@127.0.0.1:1/none"
    )
    broken = Database(db.url, read_url, pool_size=1)
    set_database(broken)
    sign_in(client, world.manager)  # the pages' cookie; the API reads the bearer token
    caplog.set_level(logging.WARNING, logger=LOGGER)
    try:
        for path in ("/api/v1/tickets", "/api/v1/dashboard/metrics", "/api/v1/export/tickets.csv", "/tickets"):
            r = await client.get(path, headers=world.manager.headers)
            assert r.status_code == 200, r.text
    finally:
        set_database(db)
        await broken.dispose()
    messages = [rec.getMessage() for rec in caplog.records if rec.name == LOGGER]
    assert len(messages) == 1 and messages[0].startswith(f"read replica skipped: {logged}"), messages


async def test_refusals_are_the_same_with_a_replica(rclient, rdb, rworld, pair) -> None:
    """The caller is loaded on the primary: a deactivation counts at once, even while the replica
    has not replayed it, and roles are checked as without a replica."""
    assert (await rclient.get("/api/v1/tickets")).status_code == 401
    assert (await rclient.get("/api/v1/tickets", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    r = await rclient.get("/api/v1/dashboard/metrics", headers=rworld.citizen.headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert (await rclient.get("/tickets")).status_code == 303  # the pages send an anonymous visitor to sign in

    with pair.replica.connect(DATABASE) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    with pair.primary.connect(DATABASE) as conn:
        conn.execute("UPDATE users SET is_active = false WHERE id = %s", (rworld.manager.id,))
    r = await rclient.get("/api/v1/tickets", headers=rworld.manager.headers)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert (await rclient.get("/api/v1/tickets", headers=rworld.admin.headers)).status_code == 200


async def test_a_sensitive_list_read_on_the_replica_is_accounted_for_on_the_primary(rclient, rdb, rworld, pair) -> None:
    gbv = await rworld.factory.ticket(rworld.municipality, category="gbv", description="Sensitive report")
    pair.wait_for_replay(DATABASE)
    with served_by(rdb) as sent:
        r = await rclient.get("/api/v1/tickets", headers=rworld.saps_liaison.headers)
    assert [t["id"] for t in r.json()["tickets"]] == [str(gbv.id)]
    assert reads_tickets(sent["replica"]) and not reads_tickets(sent["primary"])
    async with rdb.system_session() as s:
        rows = (await s.execute(text("SELECT user_id, answer, ticket_ids FROM sensitive_access_records"))).all()
    assert [tuple(row) for row in rows] == [(rworld.saps_liaison.user.id, "list", [gbv.id])]
