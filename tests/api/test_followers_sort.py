"""GET /tickets?sort_by=followers: the residents following each ticket, both directions, ties by id,
the 10,000-row window, and the count kept by real follows.

Expected orders are computed here from the rows themselves, never by the code under test.
"""

import pytest
from sqlalchemy import text

from src.models.user import UserRole
from tests.api.test_search_windows import BASE, bulk, get, visible
from tests.api.ticket_helpers import API, report

FOLLOWERS_OF = [3, 0, 1, 3, 0, 2, 1, 0, 3, 2]  # ties within 0, 1, 2 and 3


def by_followers(rows, desc: bool) -> list[str]:
    return [str(t.id) for t in sorted(rows, key=lambda t: (t.followers, t.id), reverse=desc)]


async def _ten(factory, world, other) -> list:
    made = [
        await factory.ticket(world.municipality, followers=n, description=f"Issue {i}", created_at=BASE)
        for i, n in enumerate(FOLLOWERS_OF)
    ]
    await factory.ticket(world.municipality, category="gbv", followers=0, description="Private", created_at=BASE)
    await factory.ticket(other.municipality, followers=9, description="Elsewhere", created_at=BASE)
    return made


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sorted_by_followers_with_ties_broken_by_id_in_the_same_direction(client, factory, world, other, order):
    rows = await _ten(factory, world, other)
    r = await get(client, world.manager, sort_by="followers", sort_order=order, page_size=200)
    assert r.status_code == 200, r.text
    body = r.json()
    expected = by_followers(rows, desc=order == "desc")
    assert [t["id"] for t in body["tickets"]] == expected
    assert [t["followers"] for t in body["tickets"]] == sorted(FOLLOWERS_OF, reverse=order == "desc")
    assert body["total"] == 10 and body["total_exact"] is True
    # the same order across pages: the first page's statement and a later page's agree
    paged = []
    for page in range(4):
        got = await get(client, world.manager, sort_by="followers", sort_order=order, page=page, page_size=3)
        paged += [t["id"] for t in got.json()["tickets"]]
    assert paged == expected


async def test_the_default_direction_is_most_followed_first(client, factory, world, other):
    rows = await _ten(factory, world, other)
    body = (await get(client, world.manager, sort_by="followers")).json()
    assert [t["id"] for t in body["tickets"]] == by_followers(rows, desc=True)
    assert body["tickets"][0]["followers"] == 3


async def test_real_follows_move_a_ticket_up_the_list(client, factory, world):
    first = await report(client, world.citizen, category="water", description="Burst pipe on Main Road")
    second = await report(client, world.citizen, category="water", description="Leaking hydrant")
    neighbours = [await factory.user(world.municipality, UserRole.CITIZEN) for _ in range(2)]
    for n in neighbours:
        r = await client.post(f"{API}/{first['id']}/follow", headers=n.headers)
        assert r.status_code == 200
    listed = (await get(client, world.manager, sort_by="followers", sort_order="desc")).json()["tickets"]
    assert [(t["id"], t["followers"]) for t in listed] == [(first["id"], 2), (second["id"], 0)]
    for n in neighbours:
        assert (await client.delete(f"{API}/{first['id']}/follow", headers=n.headers)).status_code == 200
    await client.post(f"{API}/{second['id']}/follow", headers=neighbours[0].headers)
    listed = (await get(client, world.manager, sort_by="followers", sort_order="desc")).json()["tickets"]
    assert [(t["id"], t["followers"]) for t in listed] == [(second["id"], 1), (first["id"], 0)]


async def test_the_followers_sort_pages_through_its_first_10000_rows_only(client, db, world):
    await bulk(db, world, 10_050, "Burst pipe")
    async with db.system_session() as s:  # a spread of counts with long runs of ties
        await s.execute(
            text("UPDATE tickets SET followers = abs(hashtext(id::text)) % 7 WHERE municipality_id = :m"),
            {"m": world.municipality.id},
        )
        followers = dict(
            (
                await s.execute(
                    text("SELECT id, followers FROM tickets WHERE municipality_id = :m"), {"m": world.municipality.id}
                )
            ).all()
        )
    rows = await visible(db, world)
    desc = sorted(rows, key=lambda t: (followers[t.id], t.id), reverse=True)
    asc = list(reversed(desc))
    last = (await get(client, world.manager, sort_by="followers", page=199)).json()
    assert [t["id"] for t in last["tickets"]] == [str(t.id) for t in desc[9_950:10_000]]
    assert last["total"] == 10_050 and last["page_count"] == 201
    deep = (await get(client, world.manager, sort_by="followers", sort_order="asc", page=49, page_size=200)).json()
    assert [t["id"] for t in deep["tickets"]] == [str(t.id) for t in asc[9_800:10_000]]
    assert [t["followers"] for t in deep["tickets"]] == [followers[t.id] for t in asc[9_800:10_000]]
    for query in ({"page": 200}, {"page": 50, "page_size": 200}):
        r = await get(client, world.manager, sort_by="followers", **query)
        assert r.status_code == 422 and r.json()["code"] == "page_too_deep", query


async def test_anonymous_is_refused_and_other_municipalities_see_only_their_own(client, factory, world, other):
    await _ten(factory, world, other)
    assert (await client.get(API, params={"sort_by": "followers"})).status_code == 401
    theirs = (await get(client, other.manager, sort_by="followers")).json()
    assert [t["followers"] for t in theirs["tickets"]] == [9]


@pytest.mark.parametrize(
    "query", [{"sort_by": "followers", "sort_order": "most"}, {"sort_by": "followers", "page": -1}]
)
async def test_bad_inputs_are_422(client, factory, world, other, query):
    await _ten(factory, world, other)
    r = await get(client, world.manager, **query)
    assert r.status_code == 422
