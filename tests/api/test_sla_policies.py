"""/sla-policies: the municipality's whole SLA set, read by managers and replaced at once by admins."""

import asyncio

import pytest
from sqlalchemy import select

from src.models.sla_policy import SlaPolicy
from src.models.user import UserRole
from tests.api.admin_helpers import API, NON_ADMINS, NON_READERS, assert_error, headers, send_raw

URL = f"{API}/sla-policies"

SET = [
    {"category": "water", "severity": "critical", "response_hours": 1, "resolution_hours": 4.5},
    {"category": None, "severity": None, "response_hours": 24, "resolution_hours": 168},
    {"category": "water", "severity": None, "response_hours": 8, "resolution_hours": 48},
    {"category": None, "severity": "high", "response_hours": 0.25, "resolution_hours": 12},
    {"category": "gbv", "severity": None, "response_hours": 0.5, "resolution_hours": 24},
]
# Any-category first, then the vocabulary's order (water, ..., gbv, other); within it any-severity, low .. critical.
ORDERED = [SET[1], SET[3], SET[2], SET[0], SET[4]]


def without_ids(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "id"} for r in rows]


def as_floats(rows: list[dict]) -> list[dict]:
    """As sent, with the clock a policy takes when none is given: 24x7 for critical, else business."""
    return [
        {
            **r,
            "response_hours": float(r["response_hours"]),
            "resolution_hours": float(r["resolution_hours"]),
            "clock": r.get("clock") or ("24x7" if r["severity"] == "critical" else "business"),
        }
        for r in rows
    ]


async def stored(db, world) -> list[tuple]:
    async with db.system_session() as s:
        rows = await s.execute(
            select(SlaPolicy.category, SlaPolicy.severity, SlaPolicy.response_hours, SlaPolicy.resolution_hours).where(
                SlaPolicy.municipality_id == world.municipality.id
            )
        )
        return sorted((tuple(r) for r in rows), key=str)


# ---- who may call -----------------------------------------------------------------------


async def test_anonymous_gets_401(client, world):
    assert_error(await client.get(URL), 401, "invalid_token")
    assert_error(await client.put(URL, json=SET), 401, "invalid_token")


@pytest.mark.parametrize("role", NON_READERS)
async def test_roles_other_than_admin_and_manager_may_not_read(client, world, role):
    assert_error(await client.get(URL, headers=headers(world, role)), 403, "forbidden")


@pytest.mark.parametrize("role", NON_ADMINS)
async def test_only_admins_may_replace(client, db, factory, world, role):
    await factory.sla(world.municipality, None, None, 10, 20)
    assert_error(await client.put(URL, headers=headers(world, role), json=[]), 403, "forbidden")
    assert len(await stored(db, world)) == 1


async def test_each_municipality_sees_and_replaces_only_its_own_set(client, db, factory, world, other):
    await factory.sla(other.municipality, "roads", None, 2, 10)
    assert (await client.get(URL, headers=world.manager.headers)).json() == []
    assert (await client.put(URL, headers=world.admin.headers, json=SET)).status_code == 200
    assert (await client.put(URL, headers=world.admin.headers, json=[])).json() == []
    assert await stored(db, other) == [("roads", None, 2, 10)]
    r = await client.get(URL, headers=other.manager.headers)
    assert without_ids(r.json()) == [
        {"category": "roads", "severity": None, "response_hours": 2.0, "resolution_hours": 10.0, "clock": "24x7"}
    ]


# ---- reading and replacing --------------------------------------------------------------


@pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.MANAGER])
async def test_get_lists_the_set_in_a_stable_order_with_ids(client, db, factory, world, role):
    for p in as_floats(SET):
        await factory.sla(
            world.municipality, p["category"], p["severity"], p["response_hours"], p["resolution_hours"], p["clock"]
        )
    r = await client.get(URL, headers=headers(world, role))
    assert r.status_code == 200
    assert without_ids(r.json()) == as_floats(ORDERED)
    async with db.system_session() as s:
        ids = {
            str(i)
            for i in await s.scalars(select(SlaPolicy.id).where(SlaPolicy.municipality_id == world.municipality.id))
        }
    assert {row["id"] for row in r.json()} == ids


async def test_put_replaces_the_whole_set(client, db, factory, world):
    await factory.sla(world.municipality, "roads", "low", 5, 50)
    r = await client.put(URL, headers=world.admin.headers, json=SET)
    assert r.status_code == 200, r.text
    assert without_ids(r.json()) == as_floats(ORDERED)
    assert (await client.get(URL, headers=world.manager.headers)).json() == r.json()
    assert ("roads", "low", 5, 50) not in await stored(db, world)
    r = await client.put(
        URL, headers=world.admin.headers, json=[{"response_hours": 2, "resolution_hours": 3, "clock": "business"}]
    )
    assert without_ids(r.json()) == [
        {"category": None, "severity": None, "response_hours": 2.0, "resolution_hours": 3.0, "clock": "business"}
    ]
    assert await stored(db, world) == [(None, None, 2, 3)]


async def test_put_of_an_empty_list_clears_the_set(client, db, factory, world):
    await factory.sla(world.municipality, None, None, 24, 168)
    r = await client.put(URL, headers=world.admin.headers, json=[])
    assert (r.status_code, r.json()) == (200, [])
    assert await stored(db, world) == []


async def test_fractions_are_kept_to_four_decimal_places(client, world):
    r = await client.put(URL, headers=world.admin.headers, json=[{"response_hours": 1 / 3, "resolution_hours": "2.5"}])
    assert without_ids(r.json()) == [
        {"category": None, "severity": None, "response_hours": 0.3333, "resolution_hours": 2.5, "clock": "business"}
    ]


async def test_category_and_severity_omitted_mean_any(client, world):
    r = await client.put(
        URL,
        headers=world.admin.headers,
        json=[{"severity": "low", "response_hours": 4, "resolution_hours": 40, "clock": "business"}],
    )
    assert without_ids(r.json()) == [
        {"category": None, "severity": "low", "response_hours": 4.0, "resolution_hours": 40.0, "clock": "business"}
    ]


async def test_concurrent_replacements_both_succeed_and_one_set_wins(client, world):
    a = [
        {"response_hours": 1, "resolution_hours": 2},
        {"category": "roads", "response_hours": 3, "resolution_hours": 4, "clock": "business"},
    ]
    b = [
        {"response_hours": 5, "resolution_hours": 6},
        {"category": "waste", "response_hours": 7, "resolution_hours": 8, "clock": "business"},
    ]
    ra, rb = await asyncio.gather(*(client.put(URL, headers=world.admin.headers, json=body) for body in (a, b)))
    assert (ra.status_code, rb.status_code) == (200, 200)
    final = without_ids((await client.get(URL, headers=world.admin.headers)).json())
    assert final in (without_ids(ra.json()), without_ids(rb.json()))


# ---- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        [SET[0], {**SET[0], "response_hours": 2}],
        [SET[1], {"response_hours": 1, "resolution_hours": 2, "clock": "business"}],
        [
            {"category": "roads", "response_hours": 1, "resolution_hours": 2},
            {"category": "roads", "severity": None, "response_hours": 3, "resolution_hours": 4, "clock": "business"},
        ],
    ],
)
async def test_duplicate_scopes_in_one_put_are_422_and_change_nothing(client, db, factory, world, body):
    await factory.sla(world.municipality, None, None, 24, 168)
    r = await client.put(URL, headers=world.admin.headers, json=body)
    assert_error(r, 422, "validation_error")
    assert "more than one policy" in r.text
    assert await stored(db, world) == [(None, None, 24, 168)]


@pytest.mark.parametrize(
    "item",
    [
        {"response_hours": 0, "resolution_hours": 1},
        {"response_hours": -1, "resolution_hours": 1},
        {"response_hours": 1, "resolution_hours": 0},
        {"response_hours": 0.00001, "resolution_hours": 1},
        {"response_hours": 1, "resolution_hours": 8761},
        {"response_hours": 1, "resolution_hours": 1e300},
        {"response_hours": "NaN", "resolution_hours": 1},
        {"response_hours": "Infinity", "resolution_hours": "Infinity"},
        {"response_hours": "soon", "resolution_hours": 1},
        {"response_hours": None, "resolution_hours": 1},
        {"response_hours": True, "resolution_hours": 2},
        {"resolution_hours": 1},
        {"response_hours": 1},
        {"response_hours": 5, "resolution_hours": 4},
        {"category": "fire", "response_hours": 1, "resolution_hours": 2},
        {"severity": "urgent", "response_hours": 1, "resolution_hours": 2},
        {"category": "", "response_hours": 1, "resolution_hours": 2},
        {"response_hours": 1, "resolution_hours": 2, "municipality_id": "00000000-0000-0000-0000-000000000000"},
        {"response_hours": 1, "resolution_hours": 2, "id": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_invalid_policies_are_422(client, db, world, item):
    r = await client.put(URL, headers=world.admin.headers, json=[SET[0], item])
    assert_error(r, 422, "validation_error")
    assert await stored(db, world) == []


@pytest.mark.parametrize("body", [{"policies": SET}, SET[0], "all", None, [[SET[0]]]])
async def test_the_body_must_be_a_list_of_policies(client, world, body):
    assert_error(await client.put(URL, headers=world.admin.headers, json=body), 422, "validation_error")


async def test_more_policies_than_there_are_scopes_is_422(client, world):
    body = [{"response_hours": 1, "resolution_hours": 2, "clock": "business"}] * 41
    assert_error(await client.put(URL, headers=world.admin.headers, json=body), 422, "validation_error")


@pytest.mark.parametrize("content", [b"[", b"", b"[{]", b"[1,]", b"\x00"])
async def test_malformed_json_is_422(client, world, content):
    assert (await send_raw(client, "PUT", URL, world.admin.headers, content)).status_code == 422


async def test_each_policy_carries_its_clock(client, world):
    body = [
        {"response_hours": 8, "resolution_hours": 40},
        {"severity": "critical", "response_hours": 1, "resolution_hours": 4},
        {"category": "roads", "severity": "critical", "response_hours": 2, "resolution_hours": 8, "clock": "business"},
        {"category": "water", "response_hours": 2, "resolution_hours": 8, "clock": "24x7"},
    ]
    r = await client.put(URL, headers=world.admin.headers, json=body)
    assert r.status_code == 200, r.text
    assert [(p["category"], p["severity"], p["clock"]) for p in r.json()] == [
        (None, None, "business"),
        (None, "critical", "24x7"),
        ("water", None, "24x7"),
        ("roads", "critical", "business"),
    ]
    bad = [{"response_hours": 8, "resolution_hours": 40, "clock": "weekdays"}]
    assert (await client.put(URL, headers=world.admin.headers, json=bad)).status_code == 422
    assert len((await client.get(URL, headers=world.admin.headers)).json()) == 4
