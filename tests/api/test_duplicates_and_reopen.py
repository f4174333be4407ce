"""Marking a report a duplicate of another, and its reporter reopening a resolved one."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from src.core import timesource
from src.models.ticket import TicketFollower
from src.models.user import UserRole
from tests.api.admin_helpers import API, assert_error, headers
from tests.api.ticket_helpers import history, report, set_status

TICKETS = f"{API}/tickets"


async def followers_of(db, ticket_id) -> set:
    async with db.system_session() as s:
        return set(await s.scalars(select(TicketFollower.user_id).where(TicketFollower.ticket_id == ticket_id)))


async def test_a_duplicate_is_closed_and_its_people_follow_the_original(client, db, factory, world):
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    reporter_b = await factory.user(world.municipality, UserRole.CITIZEN)
    original = await report(client, world.citizen)
    dup = await report(client, reporter_b)
    await client.post(f"{TICKETS}/{dup['id']}/follow", headers=neighbour.headers)
    r = await client.post(
        f"{TICKETS}/{dup['id']}/duplicate-of", headers=world.manager.headers, json={"ticket_id": original["id"]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "closed" and body["duplicate_of"] == original["id"] and body["followers"] == 0
    assert body["closed_at"] == body["resolved_at"] and body["first_responded_at"] == body["closed_at"]
    assert await followers_of(db, original["id"]) == {neighbour.id, reporter_b.id}
    assert (await client.get(f"{TICKETS}/{original['id']}", headers=world.manager.headers)).json()["followers"] == 2
    [marked] = [e for e in await history(client, world.manager, dup["id"]) if e["kind"] == "marked_duplicate"]
    assert marked["data"] == {
        "duplicate_of": original["id"],
        "tracking_number": original["tracking_number"],
        "from": "open",
        "to": "closed",
    }
    assert marked["actor_id"] == str(world.manager.id)
    [on_original] = [e for e in await history(client, world.manager, original["id"]) if e["kind"] == "marked_duplicate"]
    assert on_original["data"] == {
        "duplicate": dup["id"],
        "tracking_number": dup["tracking_number"],
        "followers_added": 2,
    }
    # the original's own reporter is never a follower of it
    third = await report(client, world.citizen)
    await client.post(
        f"{TICKETS}/{third['id']}/duplicate-of", headers=world.admin.headers, json={"ticket_id": original["id"]}
    )
    assert await followers_of(db, original["id"]) == {neighbour.id, reporter_b.id}


async def test_duplicate_refusals_change_nothing(client, factory, world, other):
    a = await report(client, world.citizen)
    b = await report(client, world.citizen)
    roads = await report(client, world.citizen, category="roads")
    gbv = await report(client, world.citizen, category="gbv", description="help")
    gbv2 = await report(client, world.citizen, category="gbv", description="help again")
    foreign = await report(client, other.citizen)
    url = f"{TICKETS}/{b['id']}/duplicate-of"
    assert_error(await client.post(url, json={"ticket_id": a["id"]}), 401, "invalid_token")
    for role in (UserRole.CITIZEN, UserRole.WARD_COUNCILLOR):
        assert_error(
            await client.post(url, headers=headers(world, role), json={"ticket_id": a["id"]}), 403, "forbidden"
        )
    assert_error(
        await client.post(url, headers=world.manager.headers, json={"ticket_id": roads["id"]}), 409, "category_mismatch"
    )
    assert_error(
        await client.post(url, headers=world.manager.headers, json={"ticket_id": foreign["id"]}), 404, "not_found"
    )
    assert_error(await client.post(url, headers=world.manager.headers, json={"ticket_id": b["id"]}), 409, "same_ticket")
    # a sensitive ticket with an ordinary one: the admin may change both
    assert_error(
        await client.post(
            f"{TICKETS}/{gbv['id']}/duplicate-of", headers=world.admin.headers, json={"ticket_id": a["id"]}
        ),
        409,
        "sensitivity_mismatch",
    )
    # a manager may not see GBV tickets at all
    assert_error(
        await client.post(
            f"{TICKETS}/{gbv['id']}/duplicate-of", headers=world.manager.headers, json={"ticket_id": gbv2["id"]}
        ),
        404,
        "not_found",
    )
    for bad in ({}, {"ticket_id": "x"}, {"ticket_id": a["id"], "note": 1}):
        assert (await client.post(url, headers=world.manager.headers, json=bad)).status_code == 422
    detail = (await client.get(f"{TICKETS}/{b['id']}", headers=world.manager.headers)).json()
    assert detail["status"] == "open" and detail["duplicate_of"] is None
    assert [e["kind"] for e in detail["history"]] == ["created"]
    # SAPS may join two GBV reports
    r = await client.post(
        f"{TICKETS}/{gbv2['id']}/duplicate-of", headers=world.saps_liaison.headers, json={"ticket_id": gbv["id"]}
    )
    assert r.status_code == 200 and r.json()["duplicate_of"] == gbv["id"]


# ---- reopen ------------------------------------------------------------------------------


async def test_the_reporter_reopens_within_14_days_with_new_deadlines(client, db, factory, world, monkeypatch):
    t = await report(client, world.citizen, severity="critical")  # 24 h and 168 h on the wall clock
    resolved = await set_status(client, world.manager, t["id"], "resolved")
    resolved_at = datetime.fromisoformat(resolved["resolved_at"])
    moment = resolved_at + timedelta(days=13, hours=23)
    monkeypatch.setattr(timesource, "current_time", lambda: moment)
    r = await client.post(
        f"{TICKETS}/{t['id']}/reopen", headers=world.citizen.headers, json={"reason": "  Still leaking "}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "open" and body["resolved_at"] is None
    assert datetime.fromisoformat(body["reopened_at"]) == moment
    assert datetime.fromisoformat(body["sla_response_deadline"]) == moment + timedelta(hours=24)
    assert datetime.fromisoformat(body["sla_resolution_deadline"]) == moment + timedelta(hours=168)
    assert body["first_responded_at"] == resolved["first_responded_at"]
    [event] = [e for e in body["history"] if e["kind"] == "reopened"]
    assert event["actor_id"] == str(world.citizen.id)
    assert event["data"] == {
        "reason": "Still leaking",
        "resolved_at": resolved_at.isoformat(),
        "from": "resolved",
        "to": "open",
    }
    # the dashboard counts it over a period (local days) holding the reopening, not one before it
    day = datetime.fromisoformat(event["created_at"]).astimezone(ZoneInfo("Africa/Johannesburg")).date()
    metrics = await client.get(
        f"{API}/dashboard/metrics",
        headers=world.manager.headers,
        params={"created_from": str(day), "created_to": str(day + timedelta(days=1))},
    )
    assert metrics.json()["reopened"] == 1
    metrics = await client.get(
        f"{API}/dashboard/metrics", headers=world.manager.headers, params={"created_to": str(day - timedelta(days=1))}
    )
    assert metrics.json()["reopened"] == 0
    assert (await client.get(f"{API}/dashboard/metrics", headers=world.manager.headers)).json()["reopened"] == 1


async def test_reopen_refusals_change_nothing(client, factory, world, other, monkeypatch):
    t = await report(client, world.citizen)
    url = f"{TICKETS}/{t['id']}/reopen"
    body = {"reason": "Not fixed"}
    assert_error(await client.post(url, json=body), 401, "invalid_token")
    assert_error(await client.post(url, headers=world.citizen.headers, json=body), 409, "invalid_transition")  # open
    resolved = await set_status(client, world.manager, t["id"], "resolved")
    assert_error(await client.post(url, headers=world.manager.headers, json=body), 403, "not_reporter")
    assert_error(await client.post(url, headers=other.citizen.headers, json=body), 404, "not_found")
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    assert_error(await client.post(url, headers=neighbour.headers, json=body), 404, "not_found")
    for bad in ({}, {"reason": "   "}, {"reason": "x" * 2001}, {"reason": "ok", "status": "open"}):
        assert (await client.post(url, headers=world.citizen.headers, json=bad)).status_code == 422
    late = datetime.fromisoformat(resolved["resolved_at"]) + timedelta(days=14, seconds=1)
    monkeypatch.setattr(timesource, "current_time", lambda: late)
    assert_error(await client.post(url, headers=world.citizen.headers, json=body), 409, "reopen_window_closed")
    detail = (await client.get(f"{TICKETS}/{t['id']}", headers=world.citizen.headers)).json()
    assert detail["status"] == "resolved" and detail["reopened_at"] is None
    assert "reopened" not in [e["kind"] for e in detail["history"]]
