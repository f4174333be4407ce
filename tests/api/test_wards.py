"""/wards: admins create and change wards; managers read them; boundaries are valid GeoJSON."""

import pytest
from sqlalchemy import select

from src.models.user import UserRole
from src.models.ward import Ward
from tests.api.admin_helpers import API, MISSING, NON_ADMINS, NON_READERS, assert_error, headers, send_raw
from tests.factories import SQUARE

HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[28.0, -26.0], [28.1, -26.0], [28.1, -25.9], [28.0, -25.9], [28.0, -26.0]],
        [[28.04, -25.96], [28.06, -25.96], [28.06, -25.94], [28.04, -25.96]],
    ],
}
MULTI = {
    "type": "MultiPolygon",
    "coordinates": [SQUARE["coordinates"], [[[30, -24], [30.5, -24], [30.5, -23.5], [30, -24]]]],
}


def ward_json(w: Ward) -> dict:
    return {
        "id": str(w.id),
        "code": w.code,
        "name": w.name,
        "boundary": w.boundary,
        "created_at": w.created_at.isoformat().replace("+00:00", "Z"),
    }


async def ward_names(db, world) -> set[str]:
    async with db.system_session() as s:
        return set(await s.scalars(select(Ward.name).where(Ward.municipality_id == world.municipality.id)))


# ---- who may call -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path", [("GET", "/wards"), ("POST", "/wards"), ("GET", "/wards/{id}"), ("PATCH", "/wards/{id}")]
)
async def test_anonymous_and_garbage_tokens_get_401(client, world, method, path):
    url = API + path.format(id=world.ward.id)
    for hdrs in ({}, {"Authorization": "Bearer nonsense"}):
        r = await client.request(method, url, headers=hdrs, json={"code": "W-1", "name": "New"})
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", NON_READERS)
async def test_roles_other_than_admin_and_manager_may_not_read(client, world, role):
    assert_error(await client.get(f"{API}/wards", headers=headers(world, role)), 403, "forbidden")
    assert_error(await client.get(f"{API}/wards/{world.ward.id}", headers=headers(world, role)), 403, "forbidden")


@pytest.mark.parametrize("role", NON_ADMINS)
async def test_only_admins_may_create_or_change(client, db, world, role):
    r = await client.post(f"{API}/wards", headers=headers(world, role), json={"code": "W-NEW", "name": "New"})
    assert_error(r, 403, "forbidden")
    r = await client.patch(f"{API}/wards/{world.ward.id}", headers=headers(world, role), json={"name": "Renamed"})
    assert_error(r, 403, "forbidden")
    assert await ward_names(db, world) == {w.name for w in world.wards}


async def test_a_ward_of_another_municipality_is_not_found(client, db, world, other):
    foreign = other.ward.id
    assert_error(await client.get(f"{API}/wards/{foreign}", headers=world.admin.headers), 404, "not_found")
    assert_error(await client.get(f"{API}/wards/{foreign}", headers=world.manager.headers), 404, "not_found")
    r = await client.patch(f"{API}/wards/{foreign}", headers=world.admin.headers, json={"name": "Taken over"})
    assert_error(r, 404, "not_found")
    assert_error(await client.get(f"{API}/wards/{MISSING}", headers=world.admin.headers), 404, "not_found")
    assert await ward_names(db, other) == {w.name for w in other.wards}


@pytest.mark.parametrize("bad", ["not-a-uuid", "1", "' OR 1=1 --", "0" * 300])
async def test_bad_ids_in_the_path_are_refused_not_500(client, world, bad):
    for method in ("GET", "PATCH"):
        r = await client.request(method, f"{API}/wards/{bad}", headers=world.admin.headers, json={"name": "x"})
        assert r.status_code in (404, 422)


# ---- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.MANAGER])
async def test_list_returns_exactly_this_municipalitys_wards_in_code_order(client, world, other, role):
    r = await client.get(f"{API}/wards", headers=headers(world, role))
    assert r.status_code == 200
    assert r.json() == [ward_json(w) for w in sorted(world.wards, key=lambda w: w.code)]


async def test_detail_returns_the_ward_with_its_boundary(client, world):
    r = await client.get(f"{API}/wards/{world.ward.id}", headers=world.manager.headers)
    assert r.status_code == 200
    assert r.json() == ward_json(world.ward)
    assert r.json()["boundary"] == SQUARE


# ---- creating ---------------------------------------------------------------------------


async def test_admin_creates_a_ward_with_a_boundary(client, world, db):
    r = await client.post(
        f"{API}/wards",
        headers=world.admin.headers,
        json={"code": "  tsh-w012 ", "name": " Hatfield ", "boundary": HOLE},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert {k: body[k] for k in ("code", "name", "boundary")} == {
        "code": "TSH-W012",
        "name": "Hatfield",
        "boundary": HOLE,
    }
    async with db.system_session() as s:
        stored = await s.scalar(select(Ward).where(Ward.id == body["id"]))
    assert (stored.municipality_id, stored.code, stored.name, stored.boundary) == (
        world.municipality.id,
        "TSH-W012",
        "Hatfield",
        HOLE,
    )
    assert (await client.get(f"{API}/wards/{body['id']}", headers=world.manager.headers)).json() == body


async def test_boundary_is_optional_and_multipolygons_are_accepted(client, world):
    r = await client.post(f"{API}/wards", headers=world.admin.headers, json={"code": "A1", "name": "No boundary"})
    assert r.status_code == 201 and r.json()["boundary"] is None
    r = await client.post(
        f"{API}/wards", headers=world.admin.headers, json={"code": "A2", "name": "Two parts", "boundary": MULTI}
    )
    assert r.status_code == 201
    assert r.json()["boundary"] == {
        "type": "MultiPolygon",
        "coordinates": [[[[float(x), float(y)] for x, y in ring] for ring in poly] for poly in MULTI["coordinates"]],
    }


async def test_duplicate_code_in_the_same_municipality_is_409_but_fine_elsewhere(client, world, other):
    code = world.ward.code
    r = await client.post(f"{API}/wards", headers=world.admin.headers, json={"code": code.lower(), "name": "Again"})
    assert_error(r, 409, "ward_code_taken")
    r = await client.post(
        f"{API}/wards", headers=other.admin.headers, json={"code": code, "name": "Same code, other town"}
    )
    assert r.status_code == 201


BROKEN_BOUNDARIES = [
    "POLYGON((28 -26, 28.1 -26, 28.1 -25.9, 28 -26))",
    [[28.0, -26.0]],
    {"type": "Point", "coordinates": [28.0, -26.0]},
    {"type": "Polygon"},
    {"type": "Polygon", "coordinates": []},
    {"type": "Polygon", "coordinates": [[[28.0, -26.0], [28.1, -26.0], [28.1, -25.9], [28.0, -25.9]]]},  # not closed
    {"type": "Polygon", "coordinates": [[[28.0, -26.0], [28.1, -26.0], [28.0, -26.0]]]},  # too short
    {
        "type": "Polygon",
        "coordinates": [[[-26.0, 200.0], [-26.0, 28.1], [-25.9, 28.1], [-26.0, 200.0]]],
    },  # out of range
    {"type": "Polygon", "coordinates": [[["28", "-26"], [28.1, -26.0], [28.1, -25.9], ["28", "-26"]]]},
    {"type": "Polygon", "coordinates": [[[None, None], [28.1, -26.0], [28.1, -25.9], [None, None]]]},
    {"type": "Polygon", "coordinates": SQUARE["coordinates"], "properties": {"evil": "x" * 1000}},
    {"type": "MultiPolygon", "coordinates": SQUARE["coordinates"]},
]


@pytest.mark.parametrize("boundary", BROKEN_BOUNDARIES)
async def test_broken_geojson_is_422_on_create_and_update(client, world, boundary):
    r = await client.post(
        f"{API}/wards", headers=world.admin.headers, json={"code": "B1", "name": "Broken", "boundary": boundary}
    )
    assert_error(r, 422, "validation_error")
    assert r.json()["detail"][0]["loc"][:2] == ["body", "boundary"]
    r = await client.patch(f"{API}/wards/{world.ward.id}", headers=world.admin.headers, json={"boundary": boundary})
    assert_error(r, 422, "validation_error")
    assert (await client.get(f"{API}/wards/{world.ward.id}", headers=world.admin.headers)).json()["boundary"] == SQUARE


async def test_oversized_boundary_is_422(client, world):
    ring = [[28.0 + i * 1e-6, -26.0] for i in range(10_001)] + [[28.0, -25.0], [28.0, -26.0]]
    r = await client.post(
        f"{API}/wards",
        headers=world.admin.headers,
        json={"code": "BIG", "name": "Big", "boundary": {"type": "Polygon", "coordinates": [ring]}},
    )
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "A1"},
        {"name": "No code"},
        {"code": "", "name": "Empty code"},
        {"code": "   ", "name": "Blank code"},
        {"code": "A1", "name": ""},
        {"code": "X" * 33, "name": "Long code"},
        {"code": "A1", "name": "N" * 201},
        {"code": "-A1", "name": "Leading dash"},
        {"code": "A1;DROP", "name": "Punctuation"},
        {"code": 12, "name": "Number"},
        {"code": "A1", "name": "Extra", "municipality_id": "00000000-0000-0000-0000-000000000000"},
        {"code": "A1", "name": "Typo", "boundry": None},
        [],
        "a string",
    ],
)
async def test_invalid_bodies_are_422(client, world, body):
    r = await client.post(f"{API}/wards", headers=world.admin.headers, json=body)
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("content", [b"{", b"", b"not json", b'{"code": "A1", "name": "x",}', b"\xff\xfe"])
async def test_malformed_json_is_422(client, world, content):
    r = await send_raw(client, "POST", f"{API}/wards", world.admin.headers, content)
    assert r.status_code == 422
    r = await send_raw(client, "PATCH", f"{API}/wards/{world.ward.id}", world.admin.headers, content)
    assert r.status_code == 422


async def test_a_nul_character_is_refused_not_500(client, world):
    r = await client.post(f"{API}/wards", headers=world.admin.headers, json={"code": "A1", "name": "bad\x00name"})
    assert r.status_code == 422


# ---- changing ---------------------------------------------------------------------------


async def test_admin_renames_and_recodes_a_ward(client, world):
    url = f"{API}/wards/{world.ward.id}"
    r = await client.patch(url, headers=world.admin.headers, json={"name": "Renamed", "code": "new-code"})
    assert r.status_code == 200
    assert r.json() == {**ward_json(world.ward), "name": "Renamed", "code": "NEW-CODE"}
    assert (await client.get(url, headers=world.manager.headers)).json() == r.json()


async def test_patch_changes_only_what_is_sent_and_null_boundary_clears_it(client, world):
    url = f"{API}/wards/{world.ward.id}"
    r = await client.patch(url, headers=world.admin.headers, json={})
    assert r.status_code == 200 and r.json() == ward_json(world.ward)
    r = await client.patch(url, headers=world.admin.headers, json={"name": "Only the name"})
    assert r.json()["boundary"] == SQUARE and r.json()["code"] == world.ward.code
    r = await client.patch(url, headers=world.admin.headers, json={"boundary": MULTI})
    assert r.json()["boundary"]["type"] == "MultiPolygon"
    r = await client.patch(url, headers=world.admin.headers, json={"boundary": None})
    assert r.status_code == 200
    assert (await client.get(url, headers=world.admin.headers)).json()["boundary"] is None


@pytest.mark.parametrize("body", [{"code": None}, {"name": None}, {"name": ""}, {"code": "C" * 33}, {"colour": "red"}])
async def test_patch_rejects_nulls_and_bad_values(client, world, body):
    r = await client.patch(f"{API}/wards/{world.ward.id}", headers=world.admin.headers, json=body)
    assert_error(r, 422, "validation_error")
    assert (await client.get(f"{API}/wards/{world.ward.id}", headers=world.admin.headers)).json() == ward_json(
        world.ward
    )


async def test_patch_to_a_taken_code_is_409(client, world):
    r = await client.patch(
        f"{API}/wards/{world.ward.id}", headers=world.admin.headers, json={"code": world.wards[1].code}
    )
    assert_error(r, 409, "ward_code_taken")
    assert (await client.get(f"{API}/wards/{world.ward.id}", headers=world.admin.headers)).json()[
        "code"
    ] == world.ward.code
