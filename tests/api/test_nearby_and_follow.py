"""Nearby open reports before a new one, the radius per category, and following a report."""

import math
from datetime import UTC, datetime, timedelta

from src.models.user import UserRole
from tests.api.admin_helpers import API, NON_ADMINS, NON_READERS, assert_error, headers
from tests.api.ticket_helpers import history, report

NEARBY, RADIUS = f"{API}/tickets/nearby", f"{API}/nearby-radius"
LAT, LON = -25.95, 28.05
METRES_PER_DEGREE = 2 * math.pi * 6371008.8 / 360  # along a meridian, on the sphere the service uses


def north(metres_in_degrees: float) -> float:
    return LAT + metres_in_degrees


async def scene(factory, world, other):
    """Water reports at 111 m and 222 m (open), 267 m (open, beyond 250 m), 56 m (resolved), a roads
    report and a GBV report on the spot, and another municipality's water report on the spot."""
    mun, now = world.municipality, datetime.now(UTC)
    t = {}
    t["near"] = await factory.ticket(
        mun,
        latitude=north(0.001),
        longitude=LON,
        status="open",
        description="Leak at the corner",
        created_at=now - timedelta(hours=3),
    )
    t["farther"] = await factory.ticket(
        mun, latitude=north(-0.002), longitude=LON, status="in_progress", created_at=now - timedelta(hours=2)
    )
    t["beyond"] = await factory.ticket(mun, latitude=north(0.0024), longitude=LON, status="escalated")
    t["resolved"] = await factory.ticket(mun, latitude=north(0.0005), longitude=LON, status="resolved", resolved_at=now)
    t["roads"] = await factory.ticket(mun, category="roads", latitude=LAT, longitude=LON, status="open")
    t["gbv"] = await factory.ticket(mun, category="gbv", latitude=LAT, longitude=LON, status="open")
    t["foreign"] = await factory.ticket(other.municipality, latitude=LAT, longitude=LON, status="open")
    return t


def expected(ticket, metres: float, description: str | None = None, followers: int = 0) -> dict:
    return {
        "id": str(ticket.id),
        "tracking_number": ticket.tracking_number,
        "category": ticket.category,
        "status": ticket.status,
        "distance_m": round(metres, 1),
        "created_at": ticket.created_at.isoformat().replace("+00:00", "Z"),
        "followers": followers,
        "description": description,
    }


def params(category: str = "water", lat: float = LAT, lon: float = LON) -> dict:
    return {"category": category, "latitude": lat, "longitude": lon}


async def test_nearby_lists_open_reports_of_the_category_within_the_radius_nearest_first(client, factory, world, other):
    t = await scene(factory, world, other)
    r = await client.get(NEARBY, params=params(), headers=world.citizen.headers)
    assert r.status_code == 200, r.text
    assert r.json() == [
        expected(t["near"], 0.001 * METRES_PER_DEGREE),
        expected(t["farther"], 0.002 * METRES_PER_DEGREE),
    ]
    # staff who may see them read their text too
    r = await client.get(NEARBY, params=params(), headers=world.manager.headers)
    assert [x["description"] for x in r.json()] == ["Leak at the corner", t["farther"].description]


async def test_a_wider_radius_for_the_category_reaches_farther(client, factory, world, other):
    t = await scene(factory, world, other)
    r = await client.put(RADIUS, headers=world.admin.headers, json=[{"category": "water", "radius_m": 300}])
    assert r.status_code == 200, r.text
    assert {x["category"]: x["radius_m"] for x in r.json()} == {
        "water": 300,
        "roads": 250,
        "electricity": 250,
        "waste": 250,
        "sanitation": 250,
        "other": 250,
    }
    r = await client.get(NEARBY, params=params(), headers=world.citizen.headers)
    assert [x["id"] for x in r.json()] == [str(t["near"].id), str(t["farther"].id), str(t["beyond"].id)]
    assert (await client.get(RADIUS, headers=other.manager.headers)).json()[0] == {"category": "water", "radius_m": 250}


async def test_at_most_five_reports(client, factory, world):
    made = [
        await factory.ticket(world.municipality, latitude=north(0.0001 * (i + 1)), longitude=LON, status="open")
        for i in range(7)
    ]
    r = await client.get(NEARBY, params=params(), headers=world.citizen.headers)
    assert [x["id"] for x in r.json()] == [str(m.id) for m in made[:5]]


async def test_gbv_is_never_nearby(client, factory, world, other):
    await scene(factory, world, other)
    for role in (UserRole.CITIZEN, UserRole.SAPS_LIAISON, UserRole.ADMIN):
        r = await client.get(NEARBY, params=params("gbv"), headers=headers(world, role))
        assert r.status_code == 200 and r.json() == []


async def test_nearby_refuses_anonymous_councillors_and_bad_input(client, world):
    assert_error(await client.get(NEARBY, params=params()), 401, "invalid_token")
    assert_error(await client.get(NEARBY, params=params(), headers=world.ward_councillor.headers), 403, "forbidden")
    for bad in (
        {"category": "water", "latitude": 91, "longitude": LON},
        {"category": "water", "latitude": LAT},
        {"category": "lights", "latitude": LAT, "longitude": LON},
        {"category": "water", "latitude": "nan", "longitude": LON},
        {"category": "water", "latitude": LAT, "longitude": "east"},
    ):
        assert (await client.get(NEARBY, params=bad, headers=world.citizen.headers)).status_code == 422


async def test_radius_refuses_anonymous_other_roles_and_bad_input(client, world):
    assert_error(await client.get(RADIUS), 401, "invalid_token")
    for role in NON_READERS:
        assert_error(await client.get(RADIUS, headers=headers(world, role)), 403, "forbidden")
    for role in NON_ADMINS:
        assert_error(await client.put(RADIUS, headers=headers(world, role), json=[]), 403, "forbidden")
    for bad in (
        [{"category": "gbv", "radius_m": 100}],
        [{"category": "water", "radius_m": 5}],
        [{"category": "water", "radius_m": 100}, {"category": "water", "radius_m": 200}],
        [{"category": "water"}],
        {"category": "water", "radius_m": 100},
    ):
        assert (await client.put(RADIUS, headers=world.admin.headers, json=bad)).status_code == 422
    assert {x["radius_m"] for x in (await client.get(RADIUS, headers=world.admin.headers)).json()} == {250}


# ---- follow ------------------------------------------------------------------------------


async def test_a_resident_follows_and_unfollows_and_staff_see_the_count(client, factory, world):
    mine = await report(client, world.citizen, latitude=LAT, longitude=LON)
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    third = await factory.user(world.municipality, UserRole.CITIZEN)
    url = f"{API}/tickets/{mine['id']}/follow"
    r = await client.post(url, headers=neighbour.headers)
    assert r.status_code == 200 and r.json() == {"id": mine["id"], "following": True, "followers": 1}
    assert (await client.post(url, headers=neighbour.headers)).json()["followers"] == 1  # once only
    assert (await client.post(url, headers=third.headers)).json()["followers"] == 2
    detail = (await client.get(f"{API}/tickets/{mine['id']}", headers=world.manager.headers)).json()
    assert detail["followers"] == 2
    listed = (await client.get(f"{API}/tickets", headers=world.manager.headers)).json()["tickets"]
    assert [(x["id"], x["followers"]) for x in listed] == [(mine["id"], 2)]
    near = (await client.get(NEARBY, params=params(), headers=neighbour.headers)).json()
    assert [(x["id"], x["followers"]) for x in near] == [(mine["id"], 2)]
    r = await client.delete(url, headers=neighbour.headers)
    assert r.status_code == 200 and r.json() == {"id": mine["id"], "following": False, "followers": 1}
    # following gives no right to read the report
    assert (await client.get(f"{API}/tickets/{mine['id']}", headers=third.headers)).status_code == 404
    assert len(await history(client, world.manager, mine["id"])) == 1  # following writes no ticket event


async def test_follow_refusals(client, factory, world, other):
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    mine = await report(client, world.citizen)
    url = f"{API}/tickets/{mine['id']}/follow"
    assert_error(await client.post(url), 401, "invalid_token")
    for role in (
        UserRole.MANAGER,
        UserRole.FIELD_WORKER,
        UserRole.ADMIN,
        UserRole.WARD_COUNCILLOR,
        UserRole.SAPS_LIAISON,
    ):
        assert_error(await client.post(url, headers=headers(world, role)), 403, "forbidden")
    assert_error(await client.post(url, headers=world.citizen.headers), 409, "own_report")
    assert_error(await client.post(url, headers=other.citizen.headers), 404, "not_found")
    gbv = await report(client, world.citizen, category="gbv", description="help")
    assert_error(await client.post(f"{API}/tickets/{gbv['id']}/follow", headers=neighbour.headers), 404, "not_found")
    done = await factory.ticket(world.municipality, status="resolved", resolved_at=datetime.now(UTC))
    assert_error(await client.post(f"{API}/tickets/{done.id}/follow", headers=neighbour.headers), 409, "not_open")
    assert (await client.post(f"{API}/tickets/not-a-uuid/follow", headers=neighbour.headers)).status_code == 422
    detail = (await client.get(f"{API}/tickets/{mine['id']}", headers=world.manager.headers)).json()
    assert detail["followers"] == 0
