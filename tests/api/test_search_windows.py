"""GET /tickets: counts capped at 1,000 for searches, bounded result windows, short searches refused.

Real rows throughout (inserted in bulk as the schema owner); every expected value is computed
here from the rows themselves. The search reaches its answer by one of several routes (a walk of
the list's order, the trigram candidates, both, every match); `ROUTES` lowers the thresholds that
choose between them so each route runs on a small data set, and the answers must be identical.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from src.models.enums import SEVERITY_RANK, STATUS_RANK, TicketSeverity, TicketStatus
from src.services.read_model import ticket_search
from tests.api.ticket_helpers import API, principal, statements_sent

BASE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SEVERITIES = ["low", "medium", "high", "critical"]
OPEN_STATUSES = ["open", "in_progress", "escalated"]
INSERT = text(
    """
    INSERT INTO tickets (municipality_id, tracking_number, category, description, is_sensitive, status, severity,
                         ward_id, assigned_team_id, created_at, updated_at)
    SELECT :m, 'TKT-20260504-' || upper(lpad(to_hex(:first + i), 6, '0')), 'water', :description, false,
           (ARRAY['open','in_progress','escalated'])[1 + i % 3], (ARRAY['low','medium','high','critical'])[1 + (i * 7) % 4],
           CASE WHEN i % 2 = 0 THEN CAST(:ward AS uuid) END, CASE WHEN i % 3 = 0 THEN CAST(:team AS uuid) END,
           CAST(:base AS timestamptz) - i * interval '1 minute' - (i % 5) * interval '7 seconds', CAST(:base AS timestamptz) - i * interval '1 minute'
    FROM generate_series(1, :n) AS i
    """
)
# name -> thresholds of ticket_search: which route a search takes on a small data set.
ROUTES = {
    "walk": {},  # the defaults: a dense term is found by walking the list's order
    "gather": {"PROBE_ROWS": 1, "DENSE": 10**9, "GATHER": 100_000},  # every match from the trigram candidates
    "candidates, then a counting walk": {
        "PROBE_ROWS": 1,
        "DENSE": 10**9,
        "GATHER": 3,
    },  # too few candidates visible: walk counts
    "counted by candidates": {
        "PROBE_ROWS": 1,
        "DENSE": 10**9,
        "GATHER": 1_001,
    },  # over 1,000 visible: only the page is walked
    "every match": {"PROBE_ROWS": 1, "DENSE": 10**9, "GATHER": 3, "WALK_WINDOW": 2},  # the walk falls short: gather all
}


_inserted = [0]  # tracking numbers are unique across municipalities: one sequence for every bulk insert


async def bulk(db, world, n: int, description: str, base: datetime = BASE) -> None:
    async with db.system_session() as s:
        await s.execute(
            INSERT,
            {
                "m": world.municipality.id,
                "first": _inserted[0],
                "description": description,
                "ward": world.ward.id,
                "team": world.teams["water"].id,
                "base": base,
                "n": n,
            },
        )
    _inserted[0] += n


async def visible(db, world) -> list:
    async with db.system_session() as s:
        return list(
            (
                await s.execute(
                    text(
                        "SELECT id, description, tracking_number, created_at, severity, status, ward_id, assigned_team_id,"
                        " is_sensitive, reporter_id, assigned_to FROM tickets WHERE municipality_id = :m"
                    ),
                    {"m": world.municipality.id},
                )
            ).all()
        )


def order(rows, sort_by: str = "created_at", desc: bool = True) -> list[str]:
    key = {
        "created_at": lambda t: (t.created_at, t.id),
        "severity": lambda t: (SEVERITY_RANK[TicketSeverity(t.severity)], t.id),
        "status": lambda t: (STATUS_RANK[TicketStatus(t.status)], t.id),
    }[sort_by]
    return [str(t.id) for t in sorted(rows, key=key, reverse=desc)]


def matching(rows, term: str) -> list:
    return [t for t in rows if term.lower() in t.description.lower() or term.lower() in t.tracking_number.lower()]


async def get(client, actor, **query):
    return await client.get(API, params=query, headers=actor.headers)


async def body(client, actor, **query) -> dict:
    r = await get(client, actor, **query)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(params=list(ROUTES))
def route(request, monkeypatch) -> str:
    for name, value in ROUTES[request.param].items():
        monkeypatch.setattr(ticket_search, name, value)
    return request.param


async def test_a_search_counts_to_1000_then_says_more(client, db, world, other, route):
    await bulk(db, world, 1_001, "Leaking tap at the corner")
    await bulk(db, world, 40, "Pothole on the bridge", base=BASE - timedelta(days=2))
    await bulk(db, other, 5, "Leaking tap elsewhere")
    expected = order(matching(await visible(db, world), "leaking"))
    assert len(expected) == 1_001
    with statements_sent(db) as sent:
        first = await body(client, world.manager, search="LEAKING")
    assert first["total"] == 1_000 and first["total_exact"] is False and first["page_count"] == 20
    assert [t["id"] for t in first["tickets"]] == expected[:50]
    assert any("ticket_search_ids" in s for s in sent) is (route != "walk")
    last = await body(client, world.manager, search="leaking", page=19)
    assert [t["id"] for t in last["tickets"]] == expected[950:1_000] and last["total_exact"] is False
    small = await body(client, world.manager, search="leaking", page=142, page_size=7)  # starts at match 994
    assert [t["id"] for t in small["tickets"]] == expected[994:1_000]  # never past match 1,000
    r = await get(client, world.manager, search="leaking", page=20)
    assert r.status_code == 422 and r.json()["code"] == "page_too_deep"
    assert "export" in r.json()["detail"] and "1,000" in r.json()["detail"]


async def test_exactly_1000_matches_are_an_exact_total(client, db, world, route):
    await bulk(db, world, 1_000, "Leaking tap at the corner")
    await bulk(db, world, 30, "Pothole on the bridge")
    got = await body(client, world.manager, search="leaking", page=19)
    assert got["total"] == 1_000 and got["total_exact"] is True and got["page_count"] == 20
    assert [t["id"] for t in got["tickets"]] == order(matching(await visible(db, world), "leaking"))[950:]
    rare = await body(client, world.manager, search="pothole", sort_by="severity", sort_order="asc", page_size=200)
    assert rare["total"] == 30 and rare["total_exact"] is True
    assert [t["id"] for t in rare["tickets"]] == order(matching(await visible(db, world), "pothole"), "severity", False)


@pytest.mark.parametrize(("sort_by", "desc"), [("created_at", True), ("severity", False), ("status", True)])
async def test_pages_of_every_route_are_disjoint_stable_and_cover_the_matches(client, db, world, route, sort_by, desc):
    await bulk(db, world, 23, "Burst pipe near the clinic")
    await bulk(db, world, 17, "Streetlight out")
    expected = order(matching(await visible(db, world), "pipe"), sort_by, desc)
    seen: list[str] = []
    for page in range(5):
        got = await body(
            client,
            world.manager,
            search="pipe",
            sort_by=sort_by,
            sort_order="desc" if desc else "asc",
            page=page,
            page_size=6,
        )
        assert got["total"] == 23 and got["total_exact"] is True and got["page_count"] == 4
        seen += [t["id"] for t in got["tickets"]]
    assert seen == expected


async def test_every_role_searches_within_its_scope(client, db, factory, world, other, route):
    await bulk(db, world, 12, "Leaking meter box")
    await bulk(db, world, 4, "Pothole")
    for reporter in (world.citizen.id, None):
        await factory.ticket(
            world.municipality,
            category="gbv",
            description="Threats after the leaking pipe report",
            reporter_id=reporter,
            assigned_team_id=world.teams["gbv"].id,
            created_at=BASE,
        )
    await factory.ticket(
        world.municipality,
        description="Leaking tap reported by phone",
        reporter_id=world.citizen.id,
        created_at=BASE - timedelta(days=9),
    )
    await factory.ticket(
        world.municipality,
        description="Leaking valve",
        assigned_to=world.field_worker.id,
        created_at=BASE - timedelta(days=8),
    )
    await bulk(db, other, 3, "Leaking tap elsewhere")
    everything = await visible(db, world)
    # Sensitive tickets match by tracking number only, never by their (sealed) description.
    rows = [t for t in matching(everything, "leaking") if not t.is_sensitive]
    plain = rows
    scopes = {
        "manager": plain,
        "admin": plain,
        "ward_councillor": [t for t in plain if t.ward_id == world.ward.id],
        "field_worker": [
            t for t in plain if t.assigned_team_id == world.teams["water"].id or t.assigned_to == world.field_worker.id
        ],
        "saps_liaison": [],
        "citizen": [t for t in rows if t.reporter_id == world.citizen.id],
    }
    for role, expected in scopes.items():
        got = await body(client, getattr(world, role), search="leaking", page_size=200)
        assert [t["id"] for t in got["tickets"]] == order(expected), role
        assert got["total"] == len(expected) and (expected or role == "saps_liaison"), role
    gbv = next(t for t in everything if t.is_sensitive and t.reporter_id == world.citizen.id)
    for role in ("saps_liaison", "citizen"):
        got = await body(client, getattr(world, role), search=gbv.tracking_number.lower())
        assert [t["id"] for t in got["tickets"]] == [str(gbv.id)], role
    assert (await body(client, other.manager, search="leaking"))["total"] == 3
    r = await get(client, world.ward_councillor, search="leaking", ward_id=str(world.wards[1].id))
    assert r.status_code == 403 and r.json()["code"] == "ward_forbidden"
    assert (await client.get(API, params={"search": "leaking"})).status_code == 401


@pytest.mark.parametrize("term", ["ab", "  ab  ", "a%", "é"])
async def test_a_search_shorter_than_three_characters_is_refused(client, db, world, term):
    await bulk(db, world, 3, "Leaking tap")
    before = await visible(db, world)
    r = await get(client, world.manager, search=term)
    assert r.status_code == 422 and r.json()["code"] == "search_too_short"
    assert "3 characters" in r.json()["detail"]
    assert await visible(db, world) == before
    assert (await body(client, world.manager, search="  tap  "))["total"] == 3  # trimmed, then long enough
    assert (await body(client, world.manager, search="   "))["total"] == 3  # blank: no search at all


async def test_literal_wildcards_through_every_route(client, db, world, route):
    for description in (
        "Meter reads 100% today",
        "Meter reads 1000 today",
        "Drain a_b blocked",
        "Drain axb blocked",
        "Path C:\\water\\pipe",
        "Path C:/water/pipe",
    ):
        await bulk(db, world, 2, description)
    for term, expected in (
        ("100%", "Meter reads 100% today"),
        ("a_b", "Drain a_b blocked"),
        ("C:\\water", "Path C:\\water\\pipe"),
    ):
        got = await body(client, world.manager, search=term)
        assert got["total"] == 2 and {t["description"] for t in got["tickets"]} == {expected}, term


async def test_the_list_pages_through_its_first_10000_rows_only(client, db, world):
    await bulk(db, world, 10_050, "Burst pipe")
    rows = await visible(db, world)
    newest = order(rows)
    last = await body(client, world.manager, page=199)
    assert [t["id"] for t in last["tickets"]] == newest[9_950:10_000]
    assert last["total"] == 10_050 and last["total_exact"] is True and last["page_count"] == 201
    by_severity = await body(client, world.manager, page=49, page_size=200, sort_by="severity", sort_order="asc")
    assert [t["id"] for t in by_severity["tickets"]] == order(rows, "severity", False)[9_800:10_000]
    for query in ({"page": 200}, {"page": 50, "page_size": 200}, {"page": 10_000_000}):
        r = await get(client, world.manager, **query)
        assert r.status_code == 422 and r.json()["code"] == "page_too_deep", query
        assert "10,000" in r.json()["detail"] and "export" in r.json()["detail"]
    open_only = await body(client, world.manager, status="open", page=9, page_size=200)
    assert open_only["total"] == sum(1 for t in rows if t.status == "open")


async def test_the_index_function_returns_only_the_callers_municipality(db, world, other):
    await bulk(db, world, 3, "Leaking tap")
    await bulk(db, other, 2, "Leaking tap", base=BASE - timedelta(days=1))
    for w, n in ((world, 3), (other, 2)):
        async with db.tenant_session(principal(w.manager).tenant) as s:
            ids = (await s.execute(text("SELECT * FROM ticket_search_ids('%leak%', '%leak%', 100)"))).scalars().all()
            mine = (
                await s.execute(text("SELECT count(*) FROM tickets WHERE id = ANY(:ids)"), {"ids": list(ids)})
            ).scalar_one()
        assert len(ids) == mine == n
    async with db.system_session() as s:  # outside any tenant: nothing
        assert (
            await s.execute(text("SELECT count(*) FROM ticket_search_ids('%leak%', '%leak%', 100)"))
        ).scalar_one() == 0


async def test_a_phrase_matches_as_written_not_word_by_word(client, db, world, route):
    """The index is asked with the words alone (any text between them); the exact phrase decides."""
    await bulk(db, world, 3, "Pothole on Park Street")
    await bulk(db, world, 4, "Pothole near the Park on Main Road")
    await bulk(db, world, 2, "Park pothole on the corner")
    got = await body(client, world.manager, search="pothole on park")
    assert got["total"] == 3 and {t["description"] for t in got["tickets"]} == {"Pothole on Park Street"}
    async with db.tenant_session(principal(world.manager).tenant) as s:  # the looser pattern never widens the answer
        loose = (
            await s.execute(text("SELECT count(*) FROM ticket_search_ids('%pothole on park%', '%', 100)"))
        ).scalar_one()
    assert loose == 3
