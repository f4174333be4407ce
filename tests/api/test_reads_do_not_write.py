"""Reading never changes tickets or anything derived from them, and never takes a lock that a
ticket write waits for: every GET route of the app, as every role and anonymously.

Routes are enumerated from the app, so a new GET route is covered as soon as it exists (or the
test fails until its path parameters have a value here, or it is excluded with a reason).

* Changes: a checksum of every table of the schema before and after each request, except the
  audit records a GET may write (the `viewed_sensitive` events of a sensitive ticket's detail).
* Locks: after every statement the request sends, while its transaction is still open, a real
  ticket write (an update of every ticket, which also moves the tallies, and an insert) runs on
  another connection with a lock timeout. It fails only by waiting for a lock, so it fails exactly
  when the request holds something a ticket write waits for, however fast the machine; the
  request's table and advisory locks are also read from pg_locks.
"""

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.routing import iter_route_contexts
from PIL import Image
from psycopg import sql
from sqlalchemy import event

from src.main import app
from src.models.user import UserRole
from tests.api.ticket_helpers import report

EXCLUDED = {
    "/openapi.json": "the API's description, built from the code: no database",
    "/docs": "the interactive documentation page: no database",
    "/docs/oauth2-redirect": "part of the documentation page: no database",
    "/api/v1/dashboard/events": "a Server-Sent Events stream that stays open; it LISTENs and reads no table",
}
AUDIT_TABLES: dict[str, str] = {
    "sessions": "server-side sessions record their use",
    "sensitive_access_records": "list and search answers carrying sensitive tickets are accounted for",
}
AUDIT_EVENTS = ["viewed_sensitive"]

# More than one request for the routes whose query changes what they read.
QUERIES = {
    "/api/v1/tickets": [
        "",
        "?status=open&category=water&sort_by=severity",
        "?sort_by=sla_resolution_deadline&page=1&page_size=1",
    ],
    "/tickets": ["", "?status=open&sort_by=status"],
    "/api/v1/dashboard/trends": ["?days=30"],
    "/api/v1/dashboard/metrics": ["", "?created_from=2026-01-01T00:00:00"],
}
SEARCHES = {
    "/api/v1/tickets": ["?search=pipe", "?search=pipe&sort_by=status"],
    "/tickets": ["?search=pipe"],
    "/fragments/tickets": ["?search=pipe"],
    "/api/v1/export/tickets.csv": ["?search=pipe"],
}
CONFLICTING_TABLE_LOCKS = ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
HELD_LOCKS = """
    SELECT locktype, mode, coalesce(relation::regclass::text, objid::text) FROM pg_locks
    WHERE pid = %s AND granted AND (locktype = 'advisory' OR (locktype = 'relation' AND mode = ANY(%s)))
"""
# A ticket write as the service makes them: rows and tallies change, a ticket is added.
TICKET_WRITE = [
    "SET LOCAL lock_timeout = '200ms'",
    "UPDATE tickets SET severity = CASE WHEN severity = 'low' THEN 'medium' ELSE 'low' END, updated_at = now()",
    """INSERT INTO tickets (municipality_id, tracking_number, category, description, is_sensitive, created_at, updated_at)
       SELECT municipality_id, 'TKT-20260101-FFFFFF', 'water', 'probe', false, now(), now() FROM tickets LIMIT 1""",
]


def get_paths() -> list[str]:
    paths = {c.path for c in iter_route_contexts(app.routes) if c.path and "GET" in (getattr(c, "methods", None) or ())}
    return sorted(p for p in paths if p not in EXCLUDED)


def snapshot(dsn: str) -> dict[str, str]:
    """A checksum of every table but the audit records."""
    sums = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        for table in tables:
            if table in AUDIT_TABLES:
                continue
            where = sql.SQL(" WHERE kind <> ALL(%s)") if table == "ticket_events" else sql.SQL("")
            query = sql.SQL("SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {} x{}").format(
                sql.Identifier(table), where
            )
            sums[table] = conn.execute(query, (AUDIT_EVENTS,) if table == "ticket_events" else None).fetchone()[0]  # type: ignore[index]
    return sums


def ticket_write_waits(dsn: str) -> str | None:
    """Why a ticket write cannot proceed right now, or None when it can (it is rolled back)."""
    with psycopg.connect(dsn) as conn:
        try:
            for statement in TICKET_WRITE:
                conn.execute(statement)
        except psycopg.errors.LockNotAvailable as exc:
            return str(exc).strip()
        finally:
            conn.rollback()
    return None


@contextmanager
def lock_watch(db, dsn: str) -> Iterator[list[str]]:
    """Problems seen after each statement the application sends, while its transaction is open."""
    problems: list[str] = []

    def check(conn, cursor, statement, *args) -> None:
        pid = conn.connection.dbapi_connection._connection.get_server_pid()
        with psycopg.connect(dsn, autocommit=True) as watcher:
            held = watcher.execute(HELD_LOCKS, (pid, list(CONFLICTING_TABLE_LOCKS))).fetchall()
        problems.extend(f"{kind} {mode} on {what} after: {statement[:120]}" for kind, mode, what in held)
        waits = ticket_write_waits(dsn)
        if waits:
            problems.append(f"a ticket write waits ({waits}) after: {statement[:120]}")

    event.listen(db.engine.sync_engine, "after_cursor_execute", check)
    try:
        yield problems
    finally:
        event.remove(db.engine.sync_engine, "after_cursor_execute", check)


def cases() -> list:
    out = [pytest.param(path, QUERIES.get(path, [""]), id=path) for path in get_paths()]
    out += [pytest.param(p, q, id=f"{p} searched") for p, q in SEARCHES.items()]
    return out


def concrete(path: str, queries: list[str], world, tickets: dict[str, str]) -> list[str]:
    values = {
        "ticket_id": [tickets["water"], tickets["gbv"]],
        "ward_id": [str(world.ward.id)],
        "team_id": [str(world.teams["water"].id)],
        "user_id": [str(world.field_worker.id)],
        "code": [world.municipality.code],
        "photo_id": [tickets["photo"]],
        # The links of e-mails: with a link that is not valid they change nothing. A valid one is
        # meant to act on a GET (unsubscribe, confirm an address: tests/api/test_accounts_by_email.py),
        # on preferences and accounts only, never on ticket data.
        "token": ["1.not-a-signed-link", "0" * 32 + ".not-a-signed-link"],
    }
    paths = [path]
    for name in re.findall(r"{(\w+)}", path):
        if name not in values:
            pytest.fail(f"give the path parameter {{{name}}} of {path} a value in {__name__}.concrete")
        paths = [p.replace(f"{{{name}}}", v) for p in paths for v in values[name]]
    return [p + q for p in paths for q in queries]


@pytest.fixture
async def scene(client, world, factory):
    """Tickets in several states, with history, and a GBV report only some roles may see."""
    water = await report(client, world.citizen, description="Burst pipe on Main Road")
    await factory.ticket(world.municipality, category="roads", status="in_progress", description="Pothole and pipe")
    resolved = datetime.now(UTC)
    await factory.ticket(
        world.municipality, category="electricity", status="resolved", ward_id=world.ward.id, resolved_at=resolved
    )
    gbv = await report(client, world.citizen, category="gbv", description="Threatened at home")
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(image, "PNG")
    r = await client.post(
        f"/api/v1/tickets/{water['id']}/photos",
        files={"file": ("pipe.png", image.getvalue(), "image/png")},
        headers=world.citizen.headers,
    )
    assert r.status_code == 201, r.text
    return {"water": water["id"], "gbv": gbv["id"], "photo": r.json()["id"]}


def test_every_get_route_is_covered_or_excluded_with_a_reason() -> None:
    paths = get_paths()
    assert "/api/v1/tickets" in paths and "/api/v1/dashboard/metrics" in paths and "/tickets" in paths
    all_gets = {c.path for c in iter_route_contexts(app.routes) if "GET" in (getattr(c, "methods", None) or ())}
    assert set(EXCLUDED) <= all_gets, set(EXCLUDED) - all_gets  # no stale exclusion


@pytest.mark.parametrize(("path", "queries"), cases())
async def test_a_get_changes_nothing_and_blocks_no_ticket_write(
    path, queries, client, db, sync_dsn, world, scene
) -> None:
    requests = concrete(path, queries, world, scene)
    before = snapshot(sync_dsn)
    for actor in [None, *(world.actors[role] for role in UserRole)]:
        headers = actor.headers if actor else {}
        for target in requests:
            with lock_watch(db, sync_dsn) as problems:
                r = await client.get(target, headers=headers)
            who = actor.user.role if actor else "anonymous"
            assert r.status_code < 500, (who, target, r.text)
            assert problems == [], (who, target, problems)
            after = snapshot(sync_dsn)
            changed = sorted(t for t in before if before[t] != after.get(t))
            assert changed == [], (who, target, changed)


async def test_the_checks_see_a_write_and_a_blocking_lock(db, sync_dsn, world, factory) -> None:
    """The harness itself: a changed row shows in the checksum, a held row lock blocks the probe."""
    ticket = await factory.ticket(world.municipality)
    before = snapshot(sync_dsn)
    assert ticket_write_waits(sync_dsn) is None
    with psycopg.connect(sync_dsn) as holder:
        holder.execute("SELECT 1 FROM tickets WHERE id = %s FOR UPDATE", (ticket.id,))
        assert "lock timeout" in (ticket_write_waits(sync_dsn) or "")
        holder.execute("UPDATE tickets SET description = 'changed' WHERE id = %s", (ticket.id,))
        holder.commit()
    assert snapshot(sync_dsn)["tickets"] != before["tickets"]
    with lock_watch(db, sync_dsn) as problems:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7)")
            await conn.exec_driver_sql("LOCK TABLE ticket_tallies IN SHARE MODE")
    assert any(p.startswith("advisory ExclusiveLock") for p in problems), problems
    assert any(p.startswith("relation ShareLock on ticket_tallies") for p in problems), problems
    assert any(p.startswith("a ticket write waits") for p in problems), problems
