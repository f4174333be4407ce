"""The access rules for one ticket: who may read detail and history, change status, assign — every role."""

import uuid

import pytest

from src.models.user import UserRole as R
from tests.api.ticket_helpers import API, report

ROLES = list(R)


async def _tickets(client, world, factory):
    """A water ticket reported by the citizen (routed to the field worker's team, in the councillor's ward),
    one in another ward of another team, and a GBV report."""
    water = await report(client, world.citizen, ward_id=str(world.ward.id))
    roads = await report(client, world.citizen, category="roads", ward_id=str(world.wards[1].id))
    gbv = await report(client, world.citizen, category="gbv", description="He hit me", ward_id=str(world.ward.id))
    stranger = await factory.user(world.municipality, R.CITIZEN)
    return water, roads, gbv, stranger


DETAIL_VISIBLE = {
    # role: (water in own ward & field team, roads elsewhere, gbv)
    R.CITIZEN: (True, True, True),
    R.FIELD_WORKER: (True, False, False),
    R.MANAGER: (True, True, False),
    R.WARD_COUNCILLOR: (True, False, False),
    R.ADMIN: (True, True, True),
    R.SAPS_LIAISON: (False, False, True),
}


@pytest.mark.parametrize("role", ROLES)
async def test_detail_and_history_visibility(client, world, factory, role):
    water, roads, gbv, _ = await _tickets(client, world, factory)
    for ticket, visible in zip((water, roads, gbv), DETAIL_VISIBLE[role], strict=True):
        for suffix in ("", "/history"):
            r = await client.get(f"{API}/{ticket['id']}{suffix}", headers=world.actors[role].headers)
            assert r.status_code == (200 if visible else 404), (role, ticket["category"], suffix, r.text)
            if not visible:
                assert r.json()["code"] == "not_found"


async def test_another_citizen_sees_none_of_them(client, world, factory):
    water, roads, gbv, stranger = await _tickets(client, world, factory)
    for t in (water, roads, gbv):
        r = await client.get(f"{API}/{t['id']}", headers=stranger.headers)
        assert r.status_code == 404


async def test_another_municipality_sees_nothing(client, world, other, factory):
    water, _roads, gbv, _ = await _tickets(client, world, factory)
    for role in ROLES:
        for t in (water, gbv):
            r = await client.get(f"{API}/{t['id']}", headers=other.actors[role].headers)
            assert r.status_code == 404, role
            r = await client.patch(
                f"{API}/{t['id']}/status", json={"status": "in_progress"}, headers=other.actors[role].headers
            )
            assert r.status_code in (403, 404), role
            if role in (R.MANAGER, R.ADMIN, R.SAPS_LIAISON, R.FIELD_WORKER):
                assert r.status_code == 404


async def test_unknown_and_malformed_ids(client, world):
    r = await client.get(f"{API}/{uuid.uuid4()}", headers=world.manager.headers)
    assert r.status_code == 404
    r = await client.get(f"{API}/not-a-uuid", headers=world.manager.headers)
    assert r.status_code == 422
    r = await client.get(f"{API}/{uuid.uuid4()}")
    assert r.status_code == 401


async def test_detail_has_names_sla_status_and_history(client, world, factory):
    water, *_ = await _tickets(client, world, factory)
    r = await client.get(f"{API}/{water['id']}", headers=world.manager.headers)
    d = r.json()
    assert d["assigned_team_name"] == world.teams["water"].name
    assert d["assigned_to_name"] is None
    assert d["sla_status"] == "on_track"
    assert d["ward_code"] == world.ward.code
    assert [e["kind"] for e in d["history"]] == ["created"]
    for field in (
        "id",
        "tracking_number",
        "category",
        "description",
        "severity",
        "status",
        "is_sensitive",
        "address",
        "latitude",
        "longitude",
        "ward_id",
        "reporter_id",
        "assigned_team_id",
        "assigned_to",
        "language",
        "created_at",
        "updated_at",
        "first_responded_at",
        "resolved_at",
        "closed_at",
        "escalated_at",
        "escalation_reason",
        "sla_response_deadline",
        "sla_resolution_deadline",
    ):
        assert field in d
    assert d == {**d, **water, "updated_at": d["updated_at"]}


async def test_staff_reads_of_a_gbv_ticket_are_logged_but_the_reporters_are_not(client, world, factory):
    _, _, gbv, _ = await _tickets(client, world, factory)
    await client.get(f"{API}/{gbv['id']}", headers=world.citizen.headers)
    await client.get(f"{API}/{gbv['id']}", headers=world.saps_liaison.headers)
    await client.get(f"{API}/{gbv['id']}/history", headers=world.admin.headers)
    r = await client.get(f"{API}/{gbv['id']}/history", headers=world.saps_liaison.headers)
    views = [e for e in r.json() if e["kind"] == "viewed_sensitive"]
    assert [e["actor_id"] for e in views] == [
        str(world.saps_liaison.id),
        str(world.admin.id),
        str(world.saps_liaison.id),
    ]


async def test_non_sensitive_reads_are_not_logged(client, world, factory):
    water, *_ = await _tickets(client, world, factory)
    await client.get(f"{API}/{water['id']}", headers=world.admin.headers)
    r = await client.get(f"{API}/{water['id']}/history", headers=world.admin.headers)
    assert [e["kind"] for e in r.json()] == ["created"]


STATUS_RULES = {
    # role: (water, roads, gbv) -> expected status code for moving to in_progress
    R.CITIZEN: (403, 403, 403),
    R.FIELD_WORKER: (200, 404, 404),
    R.MANAGER: (200, 200, 404),
    R.WARD_COUNCILLOR: (403, 403, 403),
    R.ADMIN: (200, 200, 200),
    R.SAPS_LIAISON: (404, 404, 200),
}


@pytest.mark.parametrize("role", ROLES)
async def test_status_change_by_role(client, world, factory, role):
    tickets = await _tickets(client, world, factory)
    for ticket, expected in zip(tickets[:3], STATUS_RULES[role], strict=True):
        r = await client.patch(
            f"{API}/{ticket['id']}/status", json={"status": "in_progress"}, headers=world.actors[role].headers
        )
        assert r.status_code == expected, (role, ticket["category"], r.text)
        if expected == 200:
            assert r.json()["status"] == "in_progress"
            assert r.json()["first_responded_at"] is not None


ASSIGN_RULES = {
    R.CITIZEN: (403, 403, 403),
    R.FIELD_WORKER: (403, 403, 403),
    R.MANAGER: (200, 200, 404),
    R.WARD_COUNCILLOR: (403, 403, 403),
    R.ADMIN: (200, 200, 200),
    R.SAPS_LIAISON: (404, 404, 200),
}


@pytest.mark.parametrize("role", ROLES)
async def test_assign_by_role(client, world, factory, role):
    tickets = await _tickets(client, world, factory)
    for ticket, expected in zip(tickets[:3], ASSIGN_RULES[role], strict=True):
        r = await client.post(f"{API}/{ticket['id']}/assign", json={}, headers=world.actors[role].headers)
        assert r.status_code == expected, (role, ticket["category"], r.text)


async def test_a_manager_who_recorded_a_gbv_report_may_read_it_but_not_change_it(client, world):
    g = await report(client, world.manager, category="gbv", description="Phoned in by a neighbour")
    r = await client.get(f"{API}/{g['id']}", headers=world.manager.headers)
    assert r.status_code == 200
    r = await client.patch(f"{API}/{g['id']}/status", json={"status": "in_progress"}, headers=world.manager.headers)
    assert r.status_code == 404
    lst = await client.get(API, headers=world.manager.headers)
    assert g["id"] not in [t["id"] for t in lst.json()["tickets"]]
