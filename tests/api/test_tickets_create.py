"""POST /tickets: reporting, tracking numbers, ward derivation, routing, SLA deadlines."""

import asyncio
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from src.models.user import UserRole
from tests.api.ticket_helpers import API, report


async def test_citizen_reports_a_ticket_with_every_field(client, world):
    before = datetime.now(ZoneInfo("Africa/Johannesburg"))
    t = await report(
        client,
        world.citizen,
        category="roads",
        description="  Pothole outside no. 12  ",
        severity="critical",
        address="12 Church St",
        language="zu",
    )
    assert re.fullmatch(r"TKT-\d{8}-[0-9A-F]{6}", t["tracking_number"])
    assert t["tracking_number"][4:12] in {
        before.strftime("%Y%m%d"),
        datetime.now(ZoneInfo("Africa/Johannesburg")).strftime("%Y%m%d"),
    }
    assert t["category"] == "roads" and t["severity"] == "critical" and t["status"] == "open"
    assert t["description"] == "Pothole outside no. 12"
    assert t["is_sensitive"] is False
    assert t["reporter_id"] == str(world.citizen.id)
    assert t["language"] == "zu" and t["address"] == "12 Church St"
    assert t["assigned_team_id"] == str(world.teams["roads"].id)
    assert t["assigned_to"] is None and t["first_responded_at"] is None and t["resolved_at"] is None
    created = datetime.fromisoformat(t["created_at"])
    assert created.utcoffset() is not None
    # critical runs on the wall clock; the other severities on business hours (test_business_hours)
    assert datetime.fromisoformat(t["sla_response_deadline"]) - created == timedelta(hours=24)
    assert datetime.fromisoformat(t["sla_resolution_deadline"]) - created == timedelta(hours=168)


async def test_severity_defaults_to_medium_and_gbv_is_sensitive(client, world):
    t = await report(client, world.citizen)
    assert t["severity"] == "medium"
    g = await report(client, world.citizen, category="gbv", description="I need help")
    assert g["is_sensitive"] is True
    assert g["assigned_team_id"] == str(world.teams["gbv"].id)


@pytest.mark.parametrize("role", [r for r in UserRole if r is not UserRole.WARD_COUNCILLOR])
async def test_every_role_but_councillor_may_report_as_the_reporter(client, world, role):
    t = await report(client, world.actors[role])
    assert t["reporter_id"] == str(world.actors[role].id)


async def test_councillor_may_not_report(client, world):
    r = await client.post(API, json={"category": "water", "description": "x"}, headers=world.ward_councillor.headers)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


async def test_anonymous_may_not_report(client, world):
    r = await client.post(API, json={"category": "water", "description": "x"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"category": "water", "description": ""},
        {"category": "water", "description": "   "},
        {"category": "water", "description": "x" * 5001},
        {"category": "lava", "description": "x"},
        {"description": "x"},
        {"category": "water", "description": "x", "severity": "urgent"},
        {"category": "water", "description": "x", "latitude": 91, "longitude": 28},
        {"category": "water", "description": "x", "latitude": -26, "longitude": 181},
        {"category": "water", "description": "x", "latitude": -26},
        {"category": "water", "description": "x", "ward_id": "not-a-uuid"},
        {"category": "water", "description": "x", "ward_id": "00000000-0000-0000-0000-000000000000"},
        {"category": "water", "description": "x", "language": "fr"},
        {"category": "water", "description": "x", "address": "a" * 501},
        {"category": "water", "description": "x", "unknown": 1},
    ],
)
async def test_bad_reports_are_refused_and_change_nothing(client, world, body):
    r = await client.post(API, json=body, headers=world.citizen.headers)
    assert r.status_code == 422, r.text
    lst = await client.get(API, headers=world.citizen.headers)
    assert lst.json()["total"] == 0


async def test_malformed_json_is_422(client, world):
    r = await client.post(
        API, content=b"{not json", headers={**world.citizen.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422


async def test_description_of_exactly_5000_chars_is_accepted(client, world):
    t = await report(client, world.citizen, description="y" * 5000)
    assert len(t["description"]) == 5000


async def test_ward_comes_from_the_boundary_before_the_given_ward(client, world):
    inside = await report(client, world.citizen, latitude=-25.95, longitude=28.05, ward_id=str(world.wards[1].id))
    assert inside["ward_id"] == str(world.ward.id)
    outside = await report(client, world.citizen, latitude=-33.9, longitude=18.4, ward_id=str(world.wards[1].id))
    assert outside["ward_id"] == str(world.wards[1].id)
    nowhere = await report(client, world.citizen, latitude=-33.9, longitude=18.4)
    assert nowhere["ward_id"] is None


async def test_a_ward_of_another_municipality_is_refused(client, world, other):
    r = await client.post(
        API,
        json={"category": "water", "description": "x", "ward_id": str(other.ward.id)},
        headers=world.citizen.headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_ward"


async def test_fifty_concurrent_reports_get_fifty_distinct_tracking_numbers(client, world):
    results = await asyncio.gather(*(report(client, world.citizen, description=f"Leak {i}") for i in range(50)))
    numbers = {t["tracking_number"] for t in results}
    assert len(numbers) == 50
    r = await client.get(API, params={"page_size": 200}, headers=world.citizen.headers)
    assert r.json()["total"] == 50


async def test_creation_writes_one_created_event(client, world):
    t = await report(client, world.manager)
    r = await client.get(f"{API}/{t['id']}/history", headers=world.manager.headers)
    events = r.json()
    assert [e["kind"] for e in events] == ["created"]
    assert events[0]["actor_id"] == str(world.manager.id)
    assert events[0]["data"]["assigned_team_id"] == str(world.teams["water"].id)
