"""GET /tickets: every filter, every sort, paging, search escaping, scopes and refusals.

Expected results are computed here in plain Python from the rows the test inserted, never by the
code under test.
"""

import math
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text

from src.models.enums import SEVERITY_RANK, STATUS_RANK, TicketSeverity, TicketStatus
from src.models.user import UserRole
from src.schemas.ticket_query import TicketListParams
from src.services.principal import Principal
from src.services.read_model import ticket_query
from tests.api.ticket_helpers import principal, statements_sent

API = "/api/v1/tickets"
BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 10:00 in Johannesburg
CATEGORIES = ["water", "roads", "electricity", "waste", "sanitation", "other"]
STATUSES = [s.value for s in TicketStatus]
SEVERITIES = [s.value for s in TicketSeverity]
SPECIAL = {
    3: "Meter reads 100% of nothing",
    4: "Meter reads 1000 of something",
    5: "Drain a_b blocked",
    8: "Drain axb blocked",
    9: "Path C:\\water\\pipe leaks",
    10: "Path C:/water/pipe leaks",
}


async def _dataset(factory, world, other):
    """24 tickets across categories, statuses, severities, wards, teams and days (two share a
    creation time), two GBV reports, and look-alikes in another municipality."""
    rows = []
    for i in range(24):
        created = BASE - timedelta(hours=5 * i) if i != 7 else BASE - timedelta(hours=30)  # 6 and 7 tie
        status = STATUSES[i % 5]
        team = world.teams["water"].id if i % 4 == 0 else world.teams["roads"].id if i % 4 == 1 else None
        rows.append(
            await factory.ticket(
                world.municipality,
                category=CATEGORIES[i % 6],
                status=status,
                severity=SEVERITIES[(i * 3) % 4],
                description=SPECIAL.get(i, f"Issue {i} near the Main Road clinic"),
                ward_id=world.wards[i % 3].id if i % 3 < 2 else None,
                assigned_team_id=team,
                assigned_to=world.field_worker.id if i == 13 else None,
                reporter_id=world.citizen.id if i % 5 == 0 else None,
                created_at=created,
                updated_at=created + timedelta(minutes=(i * 7) % 24),
                resolved_at=created + timedelta(hours=1) if status in ("resolved", "closed") else None,
                closed_at=created + timedelta(hours=2) if status == "closed" else None,
                sla_resolution_deadline=None if i % 6 == 0 else created + timedelta(hours=(i * 5) % 7),
            )
        )
    gbv = [
        await factory.ticket(
            world.municipality,
            category="gbv",
            description="Issue reported at the Main Road clinic",
            created_at=BASE - timedelta(hours=h),
            reporter_id=world.citizen.id if h == 1 else None,
            assigned_team_id=world.teams["gbv"].id,
        )
        for h in (1, 2)
    ]
    foreign = [
        await factory.ticket(
            other.municipality, description="Issue 1 near the Main Road clinic", created_at=BASE - timedelta(hours=h)
        )
        for h in (1, 2)
    ]
    return rows, gbv, foreign


def _ids(tickets) -> list[str]:
    return [str(t.id) for t in tickets]


async def _all(client, actor, **query) -> dict:
    r = await client.get(API, params={"page_size": 200, **query}, headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _default_order(tickets):
    return sorted(tickets, key=lambda t: (t.created_at, t.id), reverse=True)


async def test_anonymous_is_refused(client, world):
    r = await client.get(API)
    assert r.status_code == 401


async def test_manager_sees_every_non_sensitive_ticket_of_the_municipality_newest_first(client, factory, world, other):
    rows, _gbv, _foreign = await _dataset(factory, world, other)
    body = await _all(client, world.manager)
    assert [t["id"] for t in body["tickets"]] == _ids(_default_order(rows))
    assert body["total"] == 24 and body["page"] == 0 and body["page_size"] == 200 and body["page_count"] == 1
    assert body["total_exact"] is True
    first = body["tickets"][0]
    assert first["tracking_number"] == rows[0].tracking_number and first["category"] == "water"
    assert first["created_at"].startswith("2026-03-02T08:00:00")


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ({"status": "escalated"}, lambda t, w: t.status == "escalated"),
        ({"category": "roads"}, lambda t, w: t.category == "roads"),
        ({"severity": "critical"}, lambda t, w: t.severity == "critical"),
        ({"ward": 0}, lambda t, w: t.ward_id == w.wards[0].id),
        ({"ward": 1}, lambda t, w: t.ward_id == w.wards[1].id),
        ({"team_id": "water"}, lambda t, w: t.assigned_team_id == w.teams["water"].id),
        ({"assigned_team_id": "roads"}, lambda t, w: t.assigned_team_id == w.teams["roads"].id),
        ({"status": "open", "category": "water"}, lambda t, w: t.status == "open" and t.category == "water"),
        (
            {"status": "closed", "ward": 1, "severity": "high"},
            lambda t, w: t.status == "closed" and t.ward_id == w.wards[1].id and t.severity == "high",
        ),
    ],
)
async def test_each_filter_keeps_exactly_the_matching_tickets(client, factory, world, other, query, keep):
    rows, _, _ = await _dataset(factory, world, other)
    params = dict(query)
    if "ward" in params:
        params["ward_id"] = str(world.wards[params.pop("ward")].id)
    for key in ("team_id", "assigned_team_id"):
        if key in params:
            params[key] = str(world.teams[params[key]].id)
    expected = _ids(_default_order([t for t in rows if keep(t, world)]))
    body = await _all(client, world.manager, **params)
    assert [t["id"] for t in body["tickets"]] == expected
    assert body["total"] == len(expected)
    assert expected or query == {"status": "closed", "ward": 1, "severity": "high"}


async def test_created_range_is_inclusive_from_exclusive_to_and_local_without_an_offset(client, factory, world, other):
    rows, _, _ = await _dataset(factory, world, other)
    cut = BASE - timedelta(hours=10)  # rows[2] was created exactly then
    local = cut.astimezone(ZoneInfo("Africa/Johannesburg")).replace(tzinfo=None)  # the same instant, no offset
    for value in (cut.isoformat(), local.isoformat()):
        after = await _all(client, world.manager, created_from=value)
        assert [t["id"] for t in after["tickets"]] == _ids(_default_order([t for t in rows if t.created_at >= cut]))
        before = await _all(client, world.manager, created_to=value)
        assert [t["id"] for t in before["tickets"]] == _ids(_default_order([t for t in rows if t.created_at < cut]))
        assert after["total"] + before["total"] == 24
    day = await _all(client, world.manager, created_from="2026-03-01", created_to="2026-03-02")
    start = datetime(2026, 2, 28, 22, 0, tzinfo=UTC)  # local midnight
    expected = [t for t in rows if start <= t.created_at < start + timedelta(days=1)]
    assert [t["id"] for t in day["tickets"]] == _ids(_default_order(expected)) and expected


@pytest.mark.parametrize(
    ("term", "matches"),
    [
        ("100%", [3]),  # % is a literal percent sign, not "anything"
        ("a_b", [5]),  # _ is a literal underscore, not "any character"
        ("C:\\water", [9]),  # \ is a literal backslash
        ("MAIN road CLINIC", [i for i in range(24) if i not in SPECIAL]),  # case-insensitive
        ("xylophone", []),
    ],
)
async def test_search_is_a_case_insensitive_substring_with_literal_wildcards(
    client, factory, world, other, term, matches
):
    rows, _, _ = await _dataset(factory, world, other)
    body = await _all(client, world.manager, search=term)
    assert [t["id"] for t in body["tickets"]] == _ids(_default_order([rows[i] for i in matches]))
    assert body["total"] == len(matches) and body["total_exact"] is True


async def test_search_finds_tracking_numbers_in_any_case(client, factory, world, other):
    rows, _, _ = await _dataset(factory, world, other)
    target = rows[11]
    body = await _all(client, world.manager, search=target.tracking_number[-6:].lower())
    assert [t["id"] for t in body["tickets"]] == [str(target.id)]


async def test_search_respects_each_scope(client, factory, world, other):
    rows, gbv, _foreign = await _dataset(factory, world, other)
    word = "Main Road clinic"
    non_sensitive = [t for t in rows if t.description.endswith("Main Road clinic")]
    assert (await _all(client, world.manager, search=word))["total"] == len(non_sensitive)
    assert (await _all(client, world.admin, search=word))["total"] == len(non_sensitive)
    saps = await _all(client, world.saps_liaison, search=word)
    assert saps["tickets"] == []  # sensitive tickets match by tracking number only
    by_number = await _all(client, world.saps_liaison, search=gbv[0].tracking_number)
    assert [t["id"] for t in by_number["tickets"]] == _ids(gbv[:1])
    mine = await _all(client, world.citizen, search=word)
    expected = [t for t in rows if t.reporter_id == world.citizen.id and "Main Road clinic" in t.description]
    assert sorted(t["id"] for t in mine["tickets"]) == sorted(_ids(expected))
    assert (await _all(client, other.manager, search=word))["total"] == 2


def _sort_key(name: str):
    return {
        "created_at": lambda t: (t.created_at, t.id),
        "updated_at": lambda t: (t.updated_at, t.id),
        "status": lambda t: (STATUS_RANK[TicketStatus(t.status)], t.id),
        "severity": lambda t: (SEVERITY_RANK[TicketSeverity(t.severity)], t.id),
        "category": lambda t: (t.category, t.id),
        # PostgreSQL sorts NULL above every value: last ascending, first descending
        "sla_resolution_deadline": lambda t: (
            t.sla_resolution_deadline is None,
            t.sla_resolution_deadline or BASE,
            t.id,
        ),
    }[name]


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(
    "sort_by", ["created_at", "updated_at", "status", "severity", "category", "sla_resolution_deadline"]
)
async def test_every_sort_key_in_both_directions_with_ties_by_id(client, factory, world, other, sort_by, order):
    rows, _, _ = await _dataset(factory, world, other)
    body = await _all(client, world.manager, sort_by=sort_by, sort_order=order)
    expected = sorted(rows, key=_sort_key(sort_by), reverse=order == "desc")
    assert [t["id"] for t in body["tickets"]] == _ids(expected)


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(
    ("field", "value"), [("status", "escalated"), ("status", "closed"), ("severity", "high"), ("severity", "low")]
)
async def test_a_filter_on_the_sort_key_keeps_the_order_total_and_pages(
    client, factory, world, other, field, value, order
):
    """Filtered and sorted by the same status (severity), the rows are read by its rank: the same
    rows, in id order, counted exactly, on the first page and on later ones."""
    rows, _, _ = await _dataset(factory, world, other)
    expected = _ids(
        sorted((t for t in rows if getattr(t, field) == value), key=_sort_key(field), reverse=order == "desc")
    )
    query = {field: value, "sort_by": field, "sort_order": order}
    body = await _all(client, world.manager, **query)
    assert [t["id"] for t in body["tickets"]] == expected and body["total"] == len(expected) > 1
    paged = []
    for page in range(len(expected)):
        r = await client.get(API, params={**query, "page": page, "page_size": 1}, headers=world.manager.headers)
        assert r.json()["total"] == len(expected)
        paged += [t["id"] for t in r.json()["tickets"]]
    assert paged == expected


async def test_an_unknown_sort_key_falls_back_to_created_at(client, factory, world, other):
    rows, _, _ = await _dataset(factory, world, other)
    body = await _all(client, world.manager, sort_by="tracking_number; DROP TABLE tickets", sort_order="asc")
    assert [t["id"] for t in body["tickets"]] == _ids(sorted(rows, key=_sort_key("created_at")))


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_pages_are_disjoint_and_cover_the_total(client, factory, world, other, order):
    rows, _, _ = await _dataset(factory, world, other)
    expected = _ids(sorted(rows, key=_sort_key("created_at"), reverse=order == "desc"))
    seen: list[str] = []
    for page in range(9):
        r = await client.get(
            API, params={"page": page, "page_size": 3, "sort_order": order}, headers=world.manager.headers
        )
        body = r.json()
        assert body["total"] == 24 and body["page_count"] == math.ceil(24 / 3) and body["page"] == page
        seen += [t["id"] for t in body["tickets"]]
    assert seen == expected  # in order, each exactly once; page 8 is past the end and empty
    beyond = (await client.get(API, params={"page": 40, "page_size": 7}, headers=world.manager.headers)).json()
    assert beyond["tickets"] == [] and beyond["total"] == 24 and beyond["page_count"] == 4


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": 0},
        {"page_size": 201},
        {"page": -1},
        {"page": "x"},
        {"status": "lost"},
        {"category": "crime"},
        {"severity": "urgent"},
        {"ward_id": "not-a-uuid"},
        {"team_id": "123"},
        {"created_from": "yesterday"},
        {"created_to": "2026-13-45"},
        {"sort_order": "sideways"},
        {"search": "x" * 201},
        {"search": "a\x00b"},
        {"created_from": "0001-01-01T00:00:00"},
    ],
)
async def test_bad_inputs_are_422(client, world, query):
    r = await client.get(API, params=query, headers=world.manager.headers)
    assert r.status_code == 422, (query, r.text)


async def test_roles_see_their_scope(client, factory, world, other):
    rows, gbv, _ = await _dataset(factory, world, other)
    saps = await _all(client, world.saps_liaison)
    assert [t["id"] for t in saps["tickets"]] == _ids(_default_order(gbv)) and saps["total"] == 2
    councillor = await _all(client, world.ward_councillor)
    assert [t["id"] for t in councillor["tickets"]] == _ids(
        _default_order([t for t in rows if t.ward_id == world.ward.id])
    )
    worker = await _all(client, world.field_worker)
    mine = [t for t in rows if t.assigned_team_id == world.teams["water"].id or t.assigned_to == world.field_worker.id]
    assert [t["id"] for t in worker["tickets"]] == _ids(_default_order(mine)) and worker["total"] == len(mine)
    citizen = await _all(client, world.citizen)
    reported = [t for t in [*rows, *gbv] if t.reporter_id == world.citizen.id]
    assert [t["id"] for t in citizen["tickets"]] == _ids(_default_order(reported))
    assert (await _all(client, other.manager))["total"] == 2


async def test_a_councillor_is_held_to_their_ward(client, factory, world, other):
    rows, _, _ = await _dataset(factory, world, other)
    own = await _all(client, world.ward_councillor, ward_id=str(world.ward.id), status="open")
    assert [t["id"] for t in own["tickets"]] == _ids(
        _default_order([t for t in rows if t.ward_id == world.ward.id and t.status == "open"])
    )
    for ward in (world.wards[1].id, other.ward.id, uuid.uuid4()):
        r = await client.get(API, params={"ward_id": str(ward)}, headers=world.ward_councillor.headers)
        assert r.status_code == 403 and r.json()["code"] == "ward_forbidden"


async def test_a_councillor_without_a_ward_is_refused(db, world):
    """The database insists councillors have a ward, so this state is built in memory."""
    u = world.ward_councillor.user
    p = Principal(
        u.id,
        u.municipality_id,
        world.municipality.code,
        "Africa/Johannesburg",
        UserRole.WARD_COUNCILLOR,
        u.email,
        u.full_name,
        None,
        None,
    )
    from src.core.errors import Forbidden

    async with db.tenant_session(p.tenant) as session:
        with pytest.raises(Forbidden) as refused:
            await ticket_query.list_tickets(session, p, TicketListParams())
    assert refused.value.code == "no_ward"


async def test_managers_may_filter_any_ward_of_their_municipality_only(client, factory, world, other):
    await _dataset(factory, world, other)
    assert (await _all(client, world.manager, ward_id=str(other.ward.id)))["total"] == 0


async def test_totals_follow_direct_updates(client, factory, world, other, db):
    rows, _, _ = await _dataset(factory, world, other)
    async with db.system_session() as s:
        await s.execute(
            text(
                "UPDATE tickets SET status = 'closed', closed_at = now(), resolved_at = coalesce(resolved_at, now())"
                " WHERE municipality_id = :m AND status = 'open'"
            ),
            {"m": world.municipality.id},
        )
        await s.execute(text("DELETE FROM tickets WHERE id = :id"), {"id": rows[0].id})  # was open, now closed
    closed = await _all(client, world.manager, status="closed")
    assert closed["total"] == len(closed["tickets"]) == sum(1 for t in rows if t.status in ("open", "closed")) - 1
    assert (await _all(client, world.manager, status="open"))["total"] == 0
    assert (await _all(client, world.manager))["total"] == 23
    async with db.system_session() as s:
        assert (await s.execute(text("SELECT count(*) FROM ticket_tallies_drift()"))).scalar_one() == 0


async def test_the_export_query_matches_the_list(db, factory, world, other):
    await _dataset(factory, world, other)
    p = principal(world.manager, world.municipality.code)
    params = TicketListParams(search="main road", sort_by="severity", sort_order="asc", category="water")
    async with db.tenant_session(p.tenant) as session:
        listed = await ticket_query.list_tickets(session, p, params.model_copy(update={"page_size": 200}))
        exported = (await session.scalars(ticket_query.filtered_tickets(p, params))).all()
    assert [t.id for t in exported] == [t.id for t in listed.tickets] and exported


async def test_a_full_page_is_one_or_two_queries(client, factory, world, other, db):
    await _dataset(factory, world, other)
    with statements_sent(db) as statements:
        await _all(client, world.manager)
    ticket_queries = [s for s in statements if "tickets" in s and "users" not in s]
    assert len(ticket_queries) == 1, ticket_queries


@pytest.mark.parametrize(
    ("actor", "query"),
    [
        ("manager", {}),
        ("manager", {"status": "escalated", "category": "water"}),
        ("ward_councillor", {"sort_by": "severity"}),
    ],
)
async def test_the_list_statement_is_sent_without_parameters(client, factory, world, other, db, actor, query):
    """The policy's values (from the session record) and the known sets are written into the SQL,
    so PostgreSQL plans the statement once per text instead of at every execution."""
    await _dataset(factory, world, other)
    user = getattr(world, actor)
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, *args) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await _all(client, user, **query)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    [(sql, parameters)] = [(s, p) for s, p in seen if "FROM tickets" in s]
    assert not parameters, parameters
    assert str(user.user.municipality_id) in sql
    if actor == "ward_councillor":
        assert str(user.user.ward_id) in sql
