"""Access records: list and search answers that carry sensitive tickets are accounted for, once each."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.ticket_helpers import API, principal, report
from tests.web.helpers import sign_in

RECORDS = text(
    "SELECT municipality_id, user_id, role, answer, query, ticket_ids FROM sensitive_access_records ORDER BY id"
)


async def _records(db) -> list[tuple]:
    async with db.system_session() as s:
        return [tuple(r) for r in await s.execute(RECORDS)]


async def _gbv(client, world, n: int = 2) -> list[dict]:
    return [await report(client, world.citizen, category="gbv", description=f"Report {i}") for i in range(n)]


async def test_a_saps_list_writes_one_record_with_the_exact_ids(client, db, world, other):
    tickets = await _gbv(client, world)
    await report(client, world.citizen)  # a water report: not SAPS's, not in the record
    await _gbv(client, other, 1)  # another municipality's: never listed
    r = await client.get(API, params={"status": "open"}, headers=world.saps_liaison.headers)
    assert r.status_code == 200, r.text
    assert sorted(t["id"] for t in r.json()["tickets"]) == sorted(t["id"] for t in tickets)
    [(mun, user, role, answer, query, ids)] = await _records(db)
    assert (mun, user, role, answer, query) == (
        world.municipality.id,
        world.saps_liaison.user.id,
        "saps_liaison",
        "list",
        {"status": "open"},
    )
    assert sorted(str(i) for i in ids) == sorted(t["id"] for t in tickets)


async def test_a_saps_search_records_the_search_and_the_match(client, db, world):
    first, _second = await _gbv(client, world)
    term = first["tracking_number"]
    r = await client.get(API, params={"search": term}, headers=world.saps_liaison.headers)
    assert [t["id"] for t in r.json()["tickets"]] == [first["id"]]
    [(_, _, _, answer, query, ids)] = await _records(db)
    assert (answer, query, [str(i) for i in ids]) == ("search", {"search": term}, [first["id"]])


async def test_the_list_page_is_accounted_for_too(client, db, world):
    tickets = await _gbv(client, world)
    sign_in(client, world.saps_liaison)
    r = await client.get("/tickets")
    assert r.status_code == 200, r.text
    [(_, user, _, answer, _, ids)] = await _records(db)
    assert (user, answer) == (world.saps_liaison.user.id, "list")
    assert sorted(str(i) for i in ids) == sorted(t["id"] for t in tickets)


@pytest.mark.parametrize("who", ["manager", "admin", "ward_councillor", "field_worker"])
async def test_answers_without_sensitive_tickets_write_nothing(client, db, world, who):
    await _gbv(client, world)
    await report(client, world.citizen)
    actor = getattr(world, who)
    assert (await client.get(API, headers=actor.headers)).status_code == 200
    if who != "field_worker":
        assert (await client.get("/api/v1/export/tickets.csv", headers=actor.headers)).status_code == 200
    assert await _records(db) == []


async def test_empty_answers_and_the_reporter_write_nothing(client, db, world):
    await _gbv(client, world)
    assert (await client.get(API, params={"status": "closed"}, headers=world.saps_liaison.headers)).json()["total"] == 0
    assert (await client.get(API, headers=world.citizen.headers)).json()["total"] == 2  # their own reports
    assert (await client.get(API, params={"search": "x"}, headers=world.saps_liaison.headers)).status_code == 422
    assert await _records(db) == []


async def test_saps_may_not_export(client, db, world):
    await _gbv(client, world)
    assert (await client.get("/api/v1/export/tickets.csv", headers=world.saps_liaison.headers)).status_code == 403
    assert await _records(db) == []


async def test_records_are_append_only_for_the_application(client, db, world):
    await _gbv(client, world)
    await client.get(API, headers=world.saps_liaison.headers)
    for statement in ("UPDATE sensitive_access_records SET role = 'admin'", "DELETE FROM sensitive_access_records"):
        with pytest.raises(DBAPIError):
            async with db.tenant_session(principal(world.saps_liaison).tenant) as s:
                await s.execute(text(statement))
        with pytest.raises(DBAPIError):  # the trigger refuses the owner too
            async with db.system_session() as s:
                await s.execute(text(statement))
    assert len(await _records(db)) == 1


async def test_the_application_records_only_its_own_reads(db, world):
    forged = text(
        "INSERT INTO sensitive_access_records (municipality_id, user_id, role, answer, ticket_ids) "
        "VALUES (:m, :u, 'saps_liaison', 'list', ARRAY[gen_random_uuid()])"
    )
    with pytest.raises(DBAPIError):
        async with db.tenant_session(principal(world.saps_liaison).tenant) as s:
            await s.execute(forged, {"m": world.municipality.id, "u": world.manager.user.id})
    assert await _records(db) == []
