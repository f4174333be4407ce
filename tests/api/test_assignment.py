"""POST /tickets/{id}/assign: manual assignment, automatic routing, SAPS rules, assignee rules."""

import uuid

from src.models.user import UserRole
from tests.api.ticket_helpers import API, assign, history, report


async def test_assign_team_and_member_stamps_response_and_writes_event(client, world):
    t = await report(client, world.citizen)
    d = await assign(
        client,
        world.manager,
        t["id"],
        team_id=world.teams["water"].id,
        assigned_to=world.field_worker.id,
        reason="Closest crew",
    )
    assert d["assigned_team_id"] == str(world.teams["water"].id)
    assert d["assigned_to"] == str(world.field_worker.id)
    assert d["assigned_to_name"] == world.field_worker.user.full_name
    assert d["first_responded_at"] is not None
    ev = (await history(client, world.manager, t["id"]))[0]
    assert ev["kind"] == "assigned"
    assert ev["data"]["to_user_id"] == str(world.field_worker.id)
    assert ev["data"]["reason"] == "Closest crew"
    assert ev["data"]["automatic"] is False


async def test_team_of_another_category_is_allowed_and_team_without_assignee_clears_it(client, world):
    t = await report(client, world.citizen)
    await assign(client, world.manager, t["id"], team_id=world.teams["water"].id, assigned_to=world.field_worker.id)
    d = await assign(client, world.manager, t["id"], team_id=world.teams["roads"].id)
    assert d["assigned_team_id"] == str(world.teams["roads"].id)
    assert d["assigned_to"] is None


async def test_a_manager_of_the_municipality_may_be_the_assignee_of_any_team(client, world):
    t = await report(client, world.citizen)
    d = await assign(client, world.manager, t["id"], team_id=world.teams["roads"].id, assigned_to=world.manager.id)
    assert d["assigned_to"] == str(world.manager.id)


async def test_assignee_rules(client, world, factory, other):
    t = await report(client, world.citizen)
    outsider = await factory.user(world.municipality, UserRole.FIELD_WORKER, team_id=world.teams["roads"].id)
    inactive = await factory.user(
        world.municipality, UserRole.FIELD_WORKER, team_id=world.teams["water"].id, is_active=False
    )
    for person in (outsider, inactive, world.citizen, world.admin, other.manager):
        r = await client.post(
            f"{API}/{t['id']}/assign",
            json={"team_id": str(world.teams["water"].id), "assigned_to": str(person.id)},
            headers=world.manager.headers,
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_assignee"
    d = (await client.get(f"{API}/{t['id']}", headers=world.manager.headers)).json()
    assert d["assigned_to"] is None and len(d["history"]) == 1


async def test_teams_that_do_not_fit(client, world, other, factory):
    t = await report(client, world.citizen)
    r = await client.post(
        f"{API}/{t['id']}/assign", json={"team_id": str(world.teams["gbv"].id)}, headers=world.manager.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "saps_only"
    g = await report(client, world.citizen, category="gbv", description="help")
    r = await client.post(
        f"{API}/{g['id']}/assign", json={"team_id": str(world.teams["water"].id)}, headers=world.saps_liaison.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "saps_only"
    r = await client.post(
        f"{API}/{t['id']}/assign", json={"team_id": str(other.teams["water"].id)}, headers=world.manager.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_team"
    r = await client.post(f"{API}/{t['id']}/assign", json={"team_id": str(uuid.uuid4())}, headers=world.manager.headers)
    assert r.status_code == 422
    idle = await factory.team(world.municipality, "water", is_active=False)
    r = await client.post(f"{API}/{t['id']}/assign", json={"team_id": str(idle.id)}, headers=world.manager.headers)
    assert r.status_code == 422 and r.json()["code"] == "inactive_team"
    r = await client.post(f"{API}/{t['id']}/assign", json={"team_id": "nope"}, headers=world.manager.headers)
    assert r.status_code == 422


async def test_saps_liaison_assigns_gbv_to_a_saps_team_and_member(client, world, factory):
    officer = await factory.user(world.municipality, UserRole.FIELD_WORKER, team_id=world.teams["gbv"].id)
    g = await report(client, world.citizen, category="gbv", description="help")
    d = await assign(client, world.saps_liaison, g["id"], team_id=world.teams["gbv"].id, assigned_to=officer.id)
    assert d["assigned_to"] == str(officer.id)


async def test_empty_body_routes_automatically_without_counting_as_a_response(client, world, factory):
    t = await report(client, world.citizen, ward_id=str(world.ward.id))
    await assign(client, world.manager, t["id"], team_id=world.teams["roads"].id)
    ward_team = await factory.team(world.municipality, "water", ward_ids=[world.ward.id])
    d = await assign(client, world.manager, t["id"])
    assert d["assigned_team_id"] == str(ward_team.id)
    assert d["assigned_to"] is None
    assert d["first_responded_at"] is None
    assert (await history(client, world.manager, t["id"]))[0]["data"]["automatic"] is True


async def test_only_an_assignee_keeps_the_current_team(client, world):
    t = await report(client, world.citizen)
    d = await assign(client, world.manager, t["id"], assigned_to=world.field_worker.id)
    assert d["assigned_team_id"] == str(world.teams["water"].id)
    assert d["assigned_to"] == str(world.field_worker.id)
