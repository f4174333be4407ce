"""Remembered search terms (migration 0003): exact totals and pages for common words, kept by triggers.

A search that matches at least `ticket_query.REMEMBER_FROM` tickets is remembered by its
municipality and counted from then on by the term tallies. Lowered here so that a handful of
tickets is "common". Every expected figure is computed in Python from the rows themselves.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import select, text

from src.models.ticket import Ticket
from src.services import ticket_query
from tests.api.ticket_helpers import API, assign, principal, report, set_status, statements_sent

BASE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WORD = "Leak"
STATUSES = ["open", "in_progress", "escalated", "resolved", "closed"]


@pytest.fixture(autouse=True)
def _common_from_three(monkeypatch):
    monkeypatch.setattr(ticket_query, "REMEMBER_FROM", 3)
    monkeypatch.setattr(ticket_query, "REMEMBER_AFTER", 3600.0)  # never for being slow, unless a test says so


async def _dataset(factory, world, other):
    """30 tickets, 25 of them mentioning a leak (in several spellings), across statuses,
    categories, wards and teams; two GBV reports mentioning one; a look-alike elsewhere."""
    for i in range(30):
        text_ = ["Water leak at the corner", "LEAKING meter box", "The pipe leaks", "Pothole"][i % 4] if i < 26 else "Pothole"
        if i % 4 == 3 and i < 20:
            text_ = "Sewage leakage near the school"
        await factory.ticket(
            world.municipality,
            category=["water", "roads", "sanitation"][i % 3],
            status=STATUSES[i % 5],
            severity=["low", "medium", "high", "critical"][i % 4],
            description=text_,
            ward_id=world.wards[i % 2].id if i % 5 else None,
            assigned_team_id=world.teams["water"].id if i % 3 == 0 else None,
            created_at=BASE - timedelta(hours=i),
            resolved_at=BASE if STATUSES[i % 5] in ("resolved", "closed") else None,
            closed_at=BASE if STATUSES[i % 5] == "closed" else None,
        )
    for h in (1, 2):
        await factory.ticket(world.municipality, category="gbv", description="Threats after the leak was reported",
                             assigned_team_id=world.teams["gbv"].id, created_at=BASE - timedelta(minutes=h))
    await factory.ticket(other.municipality, description="Leak in the road", created_at=BASE)


async def _tickets(db, municipality) -> list[Ticket]:
    async with db.system_session() as s:
        return list((await s.scalars(select(Ticket).where(Ticket.municipality_id == municipality.id))).all())


def _matching(rows, term=WORD, **equal):
    return [
        t for t in rows
        if (term.lower() in t.description.lower() or term.lower() in t.tracking_number.lower())
        and all(getattr(t, k) == v for k, v in equal.items())
    ]


def _newest_first(rows) -> list[str]:
    return [str(t.id) for t in sorted(rows, key=lambda t: (t.created_at, t.id), reverse=True)]


async def _list(client, actor, **query) -> dict:
    r = await client.get(API, params={"page_size": 200, **query}, headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _remembered(db) -> list[tuple[str, str]]:
    async with db.system_session() as s:
        return [tuple(r) for r in (await s.execute(text(
            "SELECT m.code, s.term FROM search_terms s JOIN municipalities m ON m.id = s.municipality_id ORDER BY s.remembered_at"
        ))).all()]


async def _drift(db) -> int:
    async with db.system_session() as s:
        return (await s.execute(text("SELECT count(*) FROM search_term_tallies_drift()"))).scalar_one()


async def test_a_common_term_is_remembered_and_answers_the_same(client, db, factory, world, other):
    await _dataset(factory, world, other)
    rows = await _tickets(db, world.municipality)
    visible = [t for t in rows if not t.is_sensitive]
    first = await _list(client, world.manager, search=WORD)
    assert await _remembered(db) == [(world.municipality.code, WORD)]
    again = await _list(client, world.manager, search=WORD)
    assert again == first
    assert first["total"] == len(_matching(visible)) == 25
    assert [t["id"] for t in first["tickets"]] == _newest_first(_matching(visible))
    assert await _drift(db) == 0


async def test_a_rare_term_is_not_remembered(client, db, factory, world, other):
    await _dataset(factory, world, other)
    one = (await _tickets(db, world.municipality))[4]
    assert (await _list(client, world.manager, search=one.tracking_number.lower()))["total"] == 1
    assert (await _list(client, world.manager, search="xylophone"))["total"] == 0
    assert await _remembered(db) == []


@pytest.mark.parametrize(
    "query",
    [{}, {"status": "open"}, {"category": "water"}, {"severity": "high"}, {"team_id": "water"}, {"ward_id": 1},
     {"status": "closed", "category": "roads"}, {"created_from": "2026-05-04T00:00:00"}],
)
async def test_remembered_totals_are_exact_under_every_filter(client, db, factory, world, other, query):
    await _dataset(factory, world, other)
    await _list(client, world.manager, search=WORD)  # remembered from here on
    equal = {}
    params = dict(query)
    if "team_id" in query:
        params["team_id"] = str(world.teams["water"].id)
        equal["assigned_team_id"] = world.teams["water"].id
    if "ward_id" in query:
        params["ward_id"] = str(world.wards[1].id)
        equal["ward_id"] = world.wards[1].id
    for key in ("status", "category", "severity"):
        if key in query:
            equal[key] = query[key]
    rows = [t for t in await _tickets(db, world.municipality) if not t.is_sensitive]
    if "created_from" in query:
        rows = [t for t in rows if t.created_at >= datetime(2026, 5, 3, 22, 0, tzinfo=UTC)]
    expected = _matching(rows, **equal)
    body = await _list(client, world.manager, search=WORD, **params)
    assert body["total"] == len(expected)
    assert [t["id"] for t in body["tickets"]] == _newest_first(expected)


async def test_each_scope_counts_only_what_it_may_see(client, db, factory, world, other):
    await _dataset(factory, world, other)
    await _list(client, world.admin, search=WORD)
    rows = await _tickets(db, world.municipality)
    plain = [t for t in rows if not t.is_sensitive]
    assert (await _list(client, world.manager, search=WORD))["total"] == len(_matching(plain))
    councillor = await _list(client, world.ward_councillor, search=WORD)
    assert councillor["total"] == len(_matching(plain, ward_id=world.ward.id)) > 0
    saps = await _list(client, world.saps_liaison, search=WORD)
    assert saps["total"] == 2 and saps["tickets"][0]["category"] == "gbv"
    field = await _list(client, world.field_worker, search=WORD)
    assert field["total"] == len(_matching(plain, assigned_team_id=world.teams["water"].id))
    assert (await _list(client, other.manager, search=WORD))["total"] == 1  # its own look-alike only
    r = await client.get(API, params={"search": WORD, "ward_id": str(world.wards[1].id)}, headers=world.ward_councillor.headers)
    assert r.status_code == 403 and r.json()["code"] == "ward_forbidden"


async def test_totals_follow_every_change_made_through_the_api(client, db, factory, world, other):
    await _dataset(factory, world, other)
    await _list(client, world.manager, search=WORD)
    made = await report(client, world.citizen, description="Another leak by the bridge", ward_id=str(world.ward.id))
    await report(client, world.citizen, description="Street light out")
    await assign(client, world.manager, made["id"], team_id=world.teams["roads"].id)
    await set_status(client, world.manager, made["id"], "in_progress")
    await set_status(client, world.manager, made["id"], "resolved")
    rows = [t for t in await _tickets(db, world.municipality) if not t.is_sensitive]
    for query, equal in [
        ({}, {}),
        ({"status": "resolved"}, {"status": "resolved"}),
        ({"team_id": str(world.teams["roads"].id)}, {"assigned_team_id": world.teams["roads"].id}),
        ({"ward_id": str(world.ward.id)}, {"ward_id": world.ward.id}),
    ]:
        body = await _list(client, world.manager, search=WORD, **query)
        assert body["total"] == len(_matching(rows, **equal)), query
        assert [t["id"] for t in body["tickets"]] == _newest_first(_matching(rows, **equal))
    assert _matching(rows, status="resolved", assigned_team_id=world.teams["roads"].id)[0].id.hex == made["id"].replace("-", "")
    async with db.system_session() as s:  # a direct change, outside the application
        await s.execute(text("UPDATE tickets SET description = 'Fixed: no more trouble' WHERE municipality_id = :m"
                             " AND description = 'The pipe leaks'"), {"m": world.municipality.id})
    rows = [t for t in await _tickets(db, world.municipality) if not t.is_sensitive]
    assert (await _list(client, world.manager, search=WORD))["total"] == len(_matching(rows))
    assert await _drift(db) == 0


@pytest.mark.parametrize("page_size", [1, 3, 7])
@pytest.mark.parametrize("sort", [("created_at", "desc"), ("severity", "asc"), ("status", "desc")])
async def test_pages_of_a_remembered_term_are_disjoint_and_cover_the_total(client, db, factory, world, other, page_size, sort):
    await _dataset(factory, world, other)
    await _list(client, world.manager, search=WORD)
    sort_by, order = sort
    seen: list[str] = []
    first = await _list(client, world.manager, search=WORD, sort_by=sort_by, sort_order=order, page_size=page_size)
    for page in range(first["page_count"] + 1):
        body = await _list(client, world.manager, search=WORD, sort_by=sort_by, sort_order=order,
                           page_size=page_size, page=page)
        assert body["total"] == first["total"] == 25
        seen += [t["id"] for t in body["tickets"]]
    assert len(seen) == len(set(seen)) == 25
    whole = await _list(client, world.manager, search=WORD, sort_by=sort_by, sort_order=order)
    assert seen == [t["id"] for t in whole["tickets"]]


async def test_a_dense_page_walks_the_list_order_instead_of_gathering_every_match(client, db, factory, world, other, monkeypatch):
    await _dataset(factory, world, other)
    await _list(client, world.manager, search=WORD)
    with statements_sent(db) as walked:
        dense = await _list(client, world.manager, search=WORD, page_size=2)
    monkeypatch.setattr(ticket_query, "WALK_WINDOW", 8)  # 2 rows expected per page, 4x that exceeds the window
    with statements_sent(db) as gathered:
        again = await _list(client, world.manager, search=WORD, page_size=2)
    assert dense == again and dense["total"] == 25 and len(dense["tickets"]) == 2
    assert any("search_term_status_tallies" in s for s in walked)
    assert not any("tickets_searchable" in s for s in walked)  # walked tickets in the list's order
    assert any("tickets_searchable" in s for s in gathered)  # gathered the matches through the search view


async def test_matches_beyond_the_walk_window_are_gathered_instead(client, db, factory, world, other, monkeypatch):
    """Matches bunched far back in the order: the bounded walk comes back short, the page is gathered."""
    await _dataset(factory, world, other)
    await _list(client, world.manager, search="pothole")  # the five oldest-but-one tickets, and the oldest
    monkeypatch.setattr(ticket_query, "WALK_SHARE", 0)  # always try the walk first
    monkeypatch.setattr(ticket_query, "WALK_WINDOW", 10)  # the ten newest tickets: none of them matches
    rows = [t for t in await _tickets(db, world.municipality) if not t.is_sensitive]
    expected = _newest_first(_matching(rows, "pothole"))
    with statements_sent(db) as sent:
        first = await _list(client, world.manager, search="pothole", page_size=2)
        last = await _list(client, world.manager, search="pothole", page_size=2, page=2)
    assert first["total"] == last["total"] == len(expected) == 5
    assert [t["id"] for t in first["tickets"]] == expected[:2] and [t["id"] for t in last["tickets"]] == expected[4:]
    assert sum("walked" in s for s in sent) == 2 and sum("tickets_searchable" in s for s in sent) == 2
    monkeypatch.setattr(ticket_query, "WALK_WINDOW", 64_000)
    with statements_sent(db) as sent:
        assert (await _list(client, world.manager, search="pothole", page_size=2))["tickets"] == first["tickets"]
    assert not any("tickets_searchable" in s for s in sent)  # a window holding them: walked alone


async def test_the_oldest_term_is_forgotten_beyond_the_limit(client, db, factory, world, other, monkeypatch):
    monkeypatch.setattr(ticket_query, "REMEMBERED_PER_MUNICIPALITY", 2)
    await _dataset(factory, world, other)
    for term in ("leak", "pothole", "LEAKING"):
        await _list(client, world.manager, search=term)
    assert await _remembered(db) == [(world.municipality.code, "pothole"), (world.municipality.code, "LEAKING")]
    rows = [t for t in await _tickets(db, world.municipality) if not t.is_sensitive]
    for term in ("leak", "pothole", "LEAKING", "leak"):
        assert (await _list(client, world.manager, search=term))["total"] == len(_matching(rows, term)), term
    assert await _drift(db) == 0


INSERT_MATCH = (
    "INSERT INTO tickets (municipality_id, tracking_number, category, description, is_sensitive, created_at,"
    " updated_at) VALUES (%s, 'TKT-20260504-FFFFFF', 'water', 'A leak reported meanwhile', false, %s, %s)"
)


async def test_a_search_never_waits_for_a_write_in_flight(client, db, factory, world, other, sync_dsn):
    """A writer holds its municipality's lock shared until it commits: the search answers at once,
    exactly, without remembering; the next search after the commit remembers the term."""
    await _dataset(factory, world, other)
    writer = await psycopg.AsyncConnection.connect(sync_dsn)
    try:
        await writer.execute(INSERT_MATCH, (world.municipality.id, BASE, BASE))
        during = await asyncio.wait_for(_list(client, world.manager, search=WORD), timeout=5)
        assert await _remembered(db) == []
        await writer.commit()
    finally:
        await writer.close()
    rows = [t for t in await _tickets(db, world.municipality) if not t.is_sensitive]
    assert during["total"] == len(_matching(rows)) - 1 == 25  # the uncommitted ticket is not seen yet
    assert (await _list(client, world.manager, search=WORD))["total"] == 26
    assert await _remembered(db) == [(world.municipality.code, WORD)]
    assert (await _list(client, world.manager, search=WORD))["total"] == 26
    assert await _drift(db) == 0


async def test_a_write_made_while_a_term_is_counted_is_counted_once(client, db, factory, world, other, sync_dsn):
    """While a term is being counted the writers of that municipality wait, then their triggers
    see the new term: each write is counted exactly once."""
    await _dataset(factory, world, other)
    counter = await psycopg.AsyncConnection.connect(sync_dsn)
    writer = await psycopg.AsyncConnection.connect(sync_dsn)
    try:
        await counter.execute("SELECT set_config('app.municipality_id', %s, true)", (str(world.municipality.id),))
        assert (await (await counter.execute("SELECT search_term_remember(%s, 10)", (WORD,))).fetchone())[0] is True

        async def write() -> None:
            await writer.execute(INSERT_MATCH, (world.municipality.id, BASE, BASE))
            await writer.commit()

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.5)
        assert not writing.done()  # held at the lock while the term's first count is uncommitted
        await counter.commit()
        await asyncio.wait_for(writing, timeout=5)
    finally:
        await counter.close()
        await writer.close()
    assert (await _list(client, world.manager, search=WORD))["total"] == 26
    assert await _drift(db) == 0


async def test_row_level_security_guards_the_terms_and_their_counts(client, db, factory, world, other):
    await _dataset(factory, world, other)
    await _list(client, world.manager, search=WORD)
    await _list(client, other.manager, search="leak")  # 1 match: not remembered
    async with db.tenant_session(principal(other.manager).tenant) as s:
        assert (await s.execute(text("SELECT count(*) FROM search_terms"))).scalar_one() == 0
        assert (await s.execute(text("SELECT count(*) FROM search_term_tallies"))).scalar_one() == 0
        with pytest.raises(Exception, match="permission denied"):
            await s.execute(text("INSERT INTO search_terms (municipality_id, term, pattern) VALUES (:m, 'x', '%x%')"),
                            {"m": world.municipality.id})
    sums = "SELECT coalesce(sum(n), 0) FROM search_term_status_tallies WHERE is_sensitive"
    async with db.tenant_session(principal(world.manager).tenant) as s:
        assert (await s.execute(text(sums))).scalar_one() == 0  # GBV counts hidden from managers
    async with db.tenant_session(principal(world.saps_liaison).tenant) as s:
        assert (await s.execute(text(sums))).scalar_one() == 2


async def test_remembering_refuses_a_transaction_without_a_municipality(db):
    async with db.system_session() as s:
        with pytest.raises(Exception, match="out of range"):
            await s.execute(text("SELECT search_term_remember('leak', 10)"))


@pytest.mark.parametrize("role", ["manager", "admin", "ward_councillor", "saps_liaison", "field_worker"])
async def test_one_row_pages_of_each_scope_match_its_whole_list(client, db, factory, world, other, role):
    """Pages of one row walk the list's order (dense matches); together they are the whole list."""
    await _dataset(factory, world, other)
    await _list(client, world.manager, search=WORD)
    actor = getattr(world, role)
    whole = await _list(client, actor, search=WORD)
    paged: list[str] = []
    for page in range(whole["total"] + 1):
        body = await _list(client, actor, search=WORD, page_size=1, page=page)
        assert body["total"] == whole["total"]
        paged += [t["id"] for t in body["tickets"]]
    assert paged == [t["id"] for t in whole["tickets"]] and paged


async def test_a_slow_search_is_remembered_even_without_matches(client, db, factory, world, other, monkeypatch):
    """Words common apart but never together are costly to count; remembered, the answer is read
    from the term tallies, and a later ticket that matches is counted by the triggers."""
    monkeypatch.setattr(ticket_query, "REMEMBER_AFTER", 0.0)
    await _dataset(factory, world, other)
    phrase = "leak pothole"
    assert (await _list(client, world.manager, search=phrase))["total"] == 0
    assert await _remembered(db) == [(world.municipality.code, phrase)]
    assert (await _list(client, world.manager, search=phrase)) == {
        "tickets": [], "total": 0, "page": 0, "page_size": 200, "page_count": 0}
    made = await report(client, world.citizen, description="A LEAK POTHOLE combination")
    body = await _list(client, world.manager, search=phrase)
    assert body["total"] == 1 and [t["id"] for t in body["tickets"]] == [made["id"]]
    assert await _drift(db) == 0
