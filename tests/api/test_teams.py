"""/teams: admins create and change teams; managers read them; SAPS teams are exactly the GBV teams."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from src.models.team import Team, TeamWard
from src.models.user import UserRole
from tests.api.admin_helpers import API, MISSING, NON_ADMINS, NON_READERS, assert_error, headers, send_raw


def team_json(t: Team, ward_ids: list[uuid.UUID] = ()) -> dict:
    return {
        "id": str(t.id),
        "name": t.name,
        "category": t.category,
        "ward_ids": sorted(str(w) for w in ward_ids),
        "is_saps": t.is_saps,
        "manager_id": str(t.manager_id) if t.manager_id else None,
        "is_active": t.is_active,
        "created_at": t.created_at.isoformat().replace("+00:00", "Z"),
    }


async def stored(db, team_id) -> tuple[Team, list[uuid.UUID]]:
    async with db.system_session() as s:
        team = await s.scalar(select(Team).where(Team.id == team_id))
        wards = list(await s.scalars(select(TeamWard.ward_id).where(TeamWard.team_id == team_id)))
    return team, sorted(wards, key=str)


# ---- who may call -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path", [("GET", "/teams"), ("POST", "/teams"), ("GET", "/teams/{id}"), ("PATCH", "/teams/{id}")]
)
async def test_anonymous_gets_401(client, world, method, path):
    r = await client.request(
        method, API + path.format(id=world.teams["water"].id), json={"name": "x", "category": "water"}
    )
    assert_error(r, 401, "invalid_token")


@pytest.mark.parametrize("role", NON_READERS)
async def test_roles_other_than_admin_and_manager_may_not_read(client, world, role):
    assert_error(await client.get(f"{API}/teams", headers=headers(world, role)), 403, "forbidden")
    assert_error(
        await client.get(f"{API}/teams/{world.teams['water'].id}", headers=headers(world, role)), 403, "forbidden"
    )


@pytest.mark.parametrize("role", NON_ADMINS)
async def test_only_admins_may_create_or_change(client, db, world, role):
    r = await client.post(f"{API}/teams", headers=headers(world, role), json={"name": "Rogue", "category": "roads"})
    assert_error(r, 403, "forbidden")
    water = world.teams["water"]
    r = await client.patch(f"{API}/teams/{water.id}", headers=headers(world, role), json={"is_active": False})
    assert_error(r, 403, "forbidden")
    assert (await stored(db, water.id))[0].is_active is True


async def test_a_team_of_another_municipality_is_not_found(client, db, world, other):
    foreign = other.teams["water"].id
    for hdrs in (world.admin.headers, world.manager.headers):
        assert_error(await client.get(f"{API}/teams/{foreign}", headers=hdrs), 404, "not_found")
    r = await client.patch(f"{API}/teams/{foreign}", headers=world.admin.headers, json={"name": "Hijacked"})
    assert_error(r, 404, "not_found")
    assert (await stored(db, foreign))[0].name == other.teams["water"].name
    assert_error(await client.get(f"{API}/teams/{MISSING}", headers=world.admin.headers), 404, "not_found")


@pytest.mark.parametrize("bad", ["nope", "123", "%00", "x" * 500])
async def test_bad_ids_in_the_path_are_refused_not_500(client, world, bad):
    for method in ("GET", "PATCH"):
        r = await client.request(method, f"{API}/teams/{bad}", headers=world.admin.headers, json={})
        assert r.status_code in (404, 422)


# ---- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.MANAGER])
async def test_list_returns_exactly_this_municipalitys_teams_by_name(client, db, world, other, role):
    await client.patch(
        f"{API}/teams/{world.teams['roads'].id}", headers=world.admin.headers, json={"ward_ids": [str(world.ward.id)]}
    )
    r = await client.get(f"{API}/teams", headers=headers(world, role))
    assert r.status_code == 200
    expected = [team_json(*await stored(db, t.id)) for t in sorted(world.teams.values(), key=lambda t: t.name)]
    assert r.json() == expected
    assert {t["name"]: t["ward_ids"] for t in r.json()}[world.teams["roads"].name] == [str(world.ward.id)]
    assert {t["id"] for t in r.json()}.isdisjoint({str(t.id) for t in other.teams.values()})


async def test_detail_returns_the_team(client, world):
    gbv = world.teams["gbv"]
    r = await client.get(f"{API}/teams/{gbv.id}", headers=world.manager.headers)
    assert r.status_code == 200
    assert r.json() == team_json(gbv)
    assert r.json()["is_saps"] is True and r.json()["manager_id"] == str(world.manager.id)


# ---- creating ---------------------------------------------------------------------------


async def test_admin_creates_a_team_serving_two_wards(client, db, world):
    body = {
        "name": " Roads north ",
        "category": "roads",
        "ward_ids": [str(world.wards[1].id), str(world.wards[0].id), str(world.wards[1].id)],
        "is_saps": False,
        "manager_id": str(world.manager.id),
        "is_active": True,
    }
    r = await client.post(f"{API}/teams", headers=world.admin.headers, json=body)
    assert r.status_code == 201, r.text
    team, wards = await stored(db, r.json()["id"])
    assert r.json() == team_json(team, wards)
    assert (team.municipality_id, team.name, team.category, team.manager_id) == (
        world.municipality.id,
        "Roads north",
        "roads",
        world.manager.id,
    )
    assert wards == sorted([world.wards[0].id, world.wards[1].id], key=str)
    assert (await client.get(f"{API}/teams/{team.id}", headers=world.manager.headers)).json() == r.json()


async def test_defaults_serve_the_whole_municipality_without_a_manager(client, world):
    r = await client.post(f"{API}/teams", headers=world.admin.headers, json={"name": "Spare", "category": "other"})
    assert r.status_code == 201
    body = r.json()
    assert {k: body[k] for k in ("name", "category", "ward_ids", "is_saps", "manager_id", "is_active")} == {
        "name": "Spare",
        "category": "other",
        "ward_ids": [],
        "is_saps": False,
        "manager_id": None,
        "is_active": True,
    }


async def test_a_saps_team_for_gbv_and_an_admin_as_manager(client, world):
    r = await client.post(
        f"{API}/teams",
        headers=world.admin.headers,
        json={"name": "SAPS north", "category": "gbv", "is_saps": True, "manager_id": str(world.admin.id)},
    )
    assert r.status_code == 201
    assert (r.json()["category"], r.json()["is_saps"], r.json()["manager_id"]) == ("gbv", True, str(world.admin.id))


@pytest.mark.parametrize("category,is_saps", [("gbv", False), ("water", True), ("other", True)])
async def test_saps_teams_are_exactly_the_gbv_teams(client, world, category, is_saps):
    r = await client.post(
        f"{API}/teams", headers=world.admin.headers, json={"name": "Mixed", "category": category, "is_saps": is_saps}
    )
    assert_error(r, 422, "saps_category")


async def test_duplicate_name_in_the_municipality_is_409_but_fine_elsewhere(client, world, other):
    name = world.teams["water"].name
    assert_error(
        await client.post(f"{API}/teams", headers=world.admin.headers, json={"name": name, "category": "roads"}),
        409,
        "team_name_taken",
    )
    assert (
        await client.post(
            f"{API}/teams", headers=other.admin.headers, json={"name": world.teams["roads"].name, "category": "roads"}
        )
    ).status_code == 201


async def test_wards_must_belong_to_the_municipality(client, world, other):
    for ward_ids in ([str(other.ward.id)], [str(world.ward.id), MISSING]):
        r = await client.post(
            f"{API}/teams", headers=world.admin.headers, json={"name": "Far", "category": "roads", "ward_ids": ward_ids}
        )
        assert_error(r, 422, "unknown_ward")


async def test_manager_must_be_an_active_manager_or_admin_of_the_municipality(client, factory, world, other):
    inactive = await factory.user(world.municipality, UserRole.MANAGER, is_active=False)
    candidates = [
        world.citizen.id,
        world.field_worker.id,
        world.ward_councillor.id,
        world.saps_liaison.id,
        inactive.id,
        other.manager.id,
        MISSING,
    ]
    for manager_id in candidates:
        r = await client.post(
            f"{API}/teams",
            headers=world.admin.headers,
            json={"name": "Led", "category": "roads", "manager_id": str(manager_id)},
        )
        assert_error(r, 422, "invalid_manager")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "No category"},
        {"category": "water"},
        {"name": "", "category": "water"},
        {"name": "N" * 201, "category": "water"},
        {"name": "Bad category", "category": "fire"},
        {"name": "Bad category", "category": "GBV"},
        {"name": "Bad wards", "category": "water", "ward_ids": ["not-a-uuid"]},
        {"name": "Bad wards", "category": "water", "ward_ids": "all"},
        {"name": "Bad wards", "category": "water", "ward_ids": None},
        {"name": "Too many", "category": "water", "ward_ids": [str(uuid.uuid4()) for _ in range(1001)]},
        {"name": "Bad manager", "category": "water", "manager_id": "boss"},
        {"name": "Bad flag", "category": "water", "is_active": "maybe"},
        {"name": "Extra", "category": "water", "municipality_id": MISSING},
    ],
)
async def test_invalid_bodies_are_422(client, world, body):
    assert_error(await client.post(f"{API}/teams", headers=world.admin.headers, json=body), 422, "validation_error")


@pytest.mark.parametrize("content", [b"{", b"[", b"nonsense", b'{"name": "a" "category": "water"}'])
async def test_malformed_json_is_422(client, world, content):
    assert (await send_raw(client, "POST", f"{API}/teams", world.admin.headers, content)).status_code == 422
    assert (
        await send_raw(client, "PATCH", f"{API}/teams/{world.teams['water'].id}", world.admin.headers, content)
    ).status_code == 422


# ---- changing ---------------------------------------------------------------------------


async def test_admin_changes_name_wards_manager_and_activity(client, db, world):
    water = world.teams["water"]
    url = f"{API}/teams/{water.id}"
    r = await client.patch(
        url,
        headers=world.admin.headers,
        json={
            "name": "Water north",
            "ward_ids": [str(world.ward.id)],
            "manager_id": str(world.admin.id),
            "is_active": False,
        },
    )
    assert r.status_code == 200, r.text
    team, wards = await stored(db, water.id)
    assert (team.name, wards, team.manager_id, team.is_active) == (
        "Water north",
        [world.ward.id],
        world.admin.id,
        False,
    )
    assert r.json() == team_json(team, wards)
    assert (await client.get(url, headers=world.manager.headers)).json() == r.json()


async def test_patch_changes_only_what_is_sent(client, db, world):
    roads = world.teams["roads"]
    url = f"{API}/teams/{roads.id}"
    await client.patch(url, headers=world.admin.headers, json={"ward_ids": [str(world.ward.id)]})
    r = await client.patch(url, headers=world.admin.headers, json={"name": "Roads renamed"})
    assert r.json() == {**team_json(roads, [world.ward.id]), "name": "Roads renamed"}
    r = await client.patch(url, headers=world.admin.headers, json={})
    assert r.json()["ward_ids"] == [str(world.ward.id)]


async def test_empty_ward_ids_serve_the_whole_municipality_and_null_manager_clears_it(client, db, world):
    roads = world.teams["roads"]
    url = f"{API}/teams/{roads.id}"
    await client.patch(
        url, headers=world.admin.headers, json={"ward_ids": [str(world.ward.id), str(world.wards[1].id)]}
    )
    r = await client.patch(url, headers=world.admin.headers, json={"ward_ids": [], "manager_id": None})
    assert (r.json()["ward_ids"], r.json()["manager_id"]) == ([], None)
    assert (await stored(db, roads.id))[1] == []


async def test_patch_validates_the_resulting_team(client, db, world, other):
    water, gbv = world.teams["water"], world.teams["gbv"]
    cases = [
        (water, {"category": "gbv"}, "saps_category"),
        (water, {"is_saps": True}, "saps_category"),
        (gbv, {"is_saps": False}, "saps_category"),
        (gbv, {"category": "other"}, "saps_category"),
        (water, {"ward_ids": [str(other.ward.id)]}, "unknown_ward"),
        (water, {"manager_id": str(world.citizen.id)}, "invalid_manager"),
        (water, {"manager_id": str(other.manager.id)}, "invalid_manager"),
    ]
    for team, body, code in cases:
        assert_error(await client.patch(f"{API}/teams/{team.id}", headers=world.admin.headers, json=body), 422, code)
    team, wards = await stored(db, water.id)
    assert (team.category, team.is_saps, wards, team.manager_id) == ("water", False, [], world.manager.id)


async def test_a_team_may_cross_the_saps_line_only_without_open_tickets(client, factory, world):
    other_team = world.teams["other"]
    url = f"{API}/teams/{other_team.id}"
    await factory.ticket(world.municipality, category="other", status="open", assigned_team_id=other_team.id)
    r = await client.patch(url, headers=world.admin.headers, json={"category": "gbv", "is_saps": True})
    assert_error(r, 409, "team_has_open_tickets")
    # Staying on the same side of the line is fine with open tickets.
    assert (await client.patch(url, headers=world.admin.headers, json={"category": "waste"})).status_code == 200
    sapless, now = world.teams["roads"], datetime.now(UTC)
    await factory.ticket(
        world.municipality,
        category="roads",
        status="closed",
        resolved_at=now,
        closed_at=now,
        assigned_team_id=sapless.id,
    )
    r = await client.patch(
        f"{API}/teams/{sapless.id}", headers=world.admin.headers, json={"category": "gbv", "is_saps": True}
    )
    assert r.status_code == 200 and (r.json()["category"], r.json()["is_saps"]) == ("gbv", True)


async def test_a_saps_team_with_open_gbv_tickets_cannot_become_municipal(client, factory, world):
    gbv = world.teams["gbv"]
    await factory.ticket(world.municipality, category="gbv", status="in_progress", assigned_team_id=gbv.id)
    r = await client.patch(
        f"{API}/teams/{gbv.id}", headers=world.admin.headers, json={"category": "other", "is_saps": False}
    )
    assert_error(r, 409, "team_has_open_tickets")


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"category": None},
        {"is_saps": None},
        {"is_active": None},
        {"ward_ids": None},
        {"name": ""},
        {"colour": "blue"},
    ],
)
async def test_patch_rejects_nulls_and_unknown_fields(client, world, body):
    r = await client.patch(f"{API}/teams/{world.teams['water'].id}", headers=world.admin.headers, json=body)
    assert_error(r, 422, "validation_error")


async def test_patch_to_a_taken_name_is_409(client, db, world):
    water = world.teams["water"]
    r = await client.patch(
        f"{API}/teams/{water.id}", headers=world.admin.headers, json={"name": world.teams["roads"].name}
    )
    assert_error(r, 409, "team_name_taken")
    assert (await stored(db, water.id))[0].name == water.name
