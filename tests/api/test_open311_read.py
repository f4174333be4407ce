"""Open311 reads: discovery, services, requests (filters, window, paging), one request, tokens, updates."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.open311_helpers import O311, _fresh_public_cache  # noqa: F401
from tests.api.ticket_helpers import set_status

NOW = datetime.now(UTC)


def j(world) -> dict[str, str]:
    return {"jurisdiction_id": world.municipality.code}


async def test_discovery_needs_no_jurisdiction(client):
    r = await client.get(f"{O311}/discovery.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    d = r.json()
    assert set(d) == {"changeset", "contact", "key_service", "endpoints"}
    assert d["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://test/open311/v2/",
            "changeset": d["changeset"],
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ]


async def test_services_are_the_non_gbv_categories(client, world):
    r = await client.get(f"{O311}/services.json", params={"jurisdiction_id": world.municipality.code.lower()})
    assert r.status_code == 200
    services = r.json()
    assert [s["service_code"] for s in services] == ["water", "roads", "electricity", "waste", "sanitation", "other"]
    assert services[0] == {
        "service_code": "water",
        "service_name": "Water",
        "description": "Burst pipes, leaks, no water, water quality.",
        "metadata": False,
        "type": "realtime",
        "keywords": "water,leak,pipe,meter",
        "group": "Utilities",
    }
    assert "gbv" not in r.text.lower()


async def test_service_definition_and_unknown_or_gbv_service(client, world):
    r = await client.get(f"{O311}/services/roads.json", params=j(world))
    assert r.status_code == 200 and r.json() == {"service_code": "roads", "attributes": []}
    for code in ("gbv", "nope"):
        r = await client.get(f"{O311}/services/{code}.json", params=j(world))
        assert r.status_code == 404
        assert r.json() == [{"code": 404, "description": "There is no such service."}]


async def _tickets(factory, world):
    team = world.teams["water"]
    mun = world.municipality
    made = {
        "new": await factory.ticket(
            mun,
            category="water",
            description="Leak at no. 4",
            assigned_team_id=team.id,
            address="4 Main St",
            latitude=-25.95,
            longitude=28.05,
            created_at=NOW - timedelta(hours=1),
            sla_resolution_deadline=NOW + timedelta(days=6),
        ),
        "roads": await factory.ticket(mun, category="roads", created_at=NOW - timedelta(days=2), status="in_progress"),
        "done": await factory.ticket(
            mun,
            category="water",
            created_at=NOW - timedelta(days=3),
            status="resolved",
            resolved_at=NOW - timedelta(days=1),
        ),
        "old": await factory.ticket(mun, category="water", created_at=NOW - timedelta(days=120)),
        "gbv": await factory.ticket(mun, category="gbv", description="Secret", created_at=NOW - timedelta(minutes=5)),
    }
    return made


async def test_requests_are_newest_first_in_the_last_90_days_without_sensitive_ones(client, factory, world, other):
    t = await _tickets(factory, world)
    await factory.ticket(other.municipality, category="water", created_at=NOW - timedelta(minutes=1))
    r = await client.get(f"{O311}/requests.json", params=j(world))
    assert r.status_code == 200
    rows = r.json()
    assert [x["service_request_id"] for x in rows] == [
        t["new"].tracking_number,
        t["roads"].tracking_number,
        t["done"].tracking_number,
    ]
    first = rows[0]
    assert first == {
        "service_request_id": t["new"].tracking_number,
        "status": "open",
        "status_notes": None,
        "service_name": "Water",
        "service_code": "water",
        "description": "Leak at no. 4",
        "agency_responsible": world.teams["water"].name,
        "service_notice": None,
        "requested_datetime": t["new"].created_at.isoformat(),
        "updated_datetime": t["new"].updated_at.isoformat(),
        "expected_datetime": t["new"].sla_resolution_deadline.isoformat(),
        "address": "4 Main St",
        "address_id": None,
        "zipcode": None,
        "lat": -25.95,
        "long": 28.05,
        "media_url": None,
    }
    assert rows[1]["status"] == "open" and rows[2]["status"] == "closed"


async def test_request_filters(client, factory, world):
    t = await _tickets(factory, world)

    async def ids(**params):
        r = await client.get(f"{O311}/requests.json", params={**j(world), **params})
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    assert await ids(service_code="roads") == [t["roads"].tracking_number]
    assert await ids(service_code="roads,water", status="closed") == [t["done"].tracking_number]
    assert await ids(status="open") == [t["new"].tracking_number, t["roads"].tracking_number]
    assert await ids(status="open,closed") == await ids()
    # service_request_id overrides every other filter (even the window), but never shows GBV.
    wanted = f"{t['old'].tracking_number},{t['gbv'].tracking_number.lower()},{t['roads'].tracking_number}"
    assert await ids(service_request_id=wanted, service_code="water") == [
        t["roads"].tracking_number,
        t["old"].tracking_number,
    ]
    # Windows: both ends, one end (90 days from or up to it).
    start = (NOW - timedelta(days=130)).isoformat()
    end = (NOW - timedelta(days=100)).isoformat()
    assert await ids(start_date=start, end_date=end) == [t["old"].tracking_number]
    assert await ids(start_date=start) == [t["old"].tracking_number]
    assert await ids(end_date=(NOW - timedelta(days=2, hours=12)).isoformat()) == [t["done"].tracking_number]
    assert await ids(end_date=(NOW - timedelta(days=30)).isoformat()) == [t["old"].tracking_number]
    assert await ids(start_date=(NOW - timedelta(days=2, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")) == [
        t["new"].tracking_number,
        t["roads"].tracking_number,
    ]


async def test_paging_extension(client, factory, world):
    made = [await factory.ticket(world.municipality, created_at=NOW - timedelta(hours=i)) for i in range(5)]
    expected = [m.tracking_number for m in made]

    async def page(n, size):
        r = await client.get(f"{O311}/requests.json", params={**j(world), "page": n, "page_size": size})
        assert r.status_code == 200
        return [x["service_request_id"] for x in r.json()]

    assert await page(1, 2) == expected[:2]
    assert await page(2, 2) == expected[2:4]
    assert await page(3, 2) == expected[4:]
    assert await page(4, 2) == []
    assert await page(1, 1000) == expected


@pytest.mark.parametrize(
    "params, message",
    [
        ({"page_size": "1001"}, "page_size may be at most 1000."),
        ({"page_size": "0"}, "page_size must be at least 1."),
        ({"page": "x"}, "page must be a whole number."),
        ({"page": "0"}, "page must be at least 1."),
        ({"status": "pending"}, "status must be open or closed."),
        ({"service_code": "gbv"}, "Unknown service_code: gbv."),
        ({"service_code": "water,lights"}, "Unknown service_code: lights."),
        ({"start_date": "yesterday"}, "start_date must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z."),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-15T00:00:00Z"},
            "start_date and end_date may span at most 90 days.",
        ),
        ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "end_date is before start_date."),
    ],
)
async def test_bad_arguments_are_400_in_the_requested_format(client, world, params, message):
    r = await client.get(f"{O311}/requests.json", params={**j(world), **params})
    assert r.status_code == 400
    assert r.json() == [{"code": 400, "description": message}]
    r = await client.get(f"{O311}/requests.xml", params={**j(world), **params})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/xml")
    assert f"<errors><error><code>400</code><description>{message}</description></error></errors>" in r.text


async def test_jurisdiction_is_required_and_must_be_active(client, world, factory, db):
    for path in (
        "services.json",
        "requests.json",
        "services/water.json",
        "servicerequestupdates.json",
        "tokens/x.json",
    ):
        r = await client.get(f"{O311}/{path}")
        assert r.status_code == 400, path
        assert r.json() == [{"code": 400, "description": "jurisdiction_id is required (the municipality's code)."}]
        r = await client.get(f"{O311}/{path}", params={"jurisdiction_id": "NOPE"})
        assert r.status_code == 404 and r.json() == [{"code": 404, "description": "Municipality not found."}]
    idle = await factory.municipality()
    from sqlalchemy import update

    from src.models import Municipality

    async with db.system_session() as s:
        await s.execute(update(Municipality).where(Municipality.id == idle.id).values(is_active=False))
    assert (await client.get(f"{O311}/services.json", params={"jurisdiction_id": idle.code})).status_code == 404


async def test_one_request_by_tracking_number_and_token(client, factory, world, other):
    t = await _tickets(factory, world)
    number = t["new"].tracking_number
    r = await client.get(f"{O311}/requests/{number}.json", params=j(world))
    assert r.status_code == 200 and [x["service_request_id"] for x in r.json()] == [number]
    assert (await client.get(f"{O311}/requests/{number.lower()}.json", params=j(world))).status_code == 200
    r = await client.get(f"{O311}/tokens/{number}.json", params=j(world))
    assert r.json() == [{"service_request_id": number, "token": number}]
    for unknown in (t["gbv"].tracking_number, "TKT-20200101-000000", "junk"):
        for path in (f"requests/{unknown}.json", f"tokens/{unknown}.json"):
            r = await client.get(f"{O311}/{path}", params=j(world))
            assert r.status_code == 404 and r.json()[0]["code"] == 404
    # Another jurisdiction does not see it.
    r = await client.get(f"{O311}/requests/{number}.json", params={"jurisdiction_id": other.municipality.code})
    assert r.status_code == 404


async def test_updates_one_per_status_change_oldest_first(client, world):
    from tests.api.ticket_helpers import report

    a = await report(client, world.citizen, description="Leak, call me on 082 555 1234")
    g = await report(client, world.citizen, category="gbv", description="Help")
    await set_status(client, world.manager, a["id"], "in_progress", note="Internal: Mr Dlamini's house")
    await set_status(client, world.manager, a["id"], "resolved")
    await set_status(client, world.saps_liaison, g["id"], "in_progress")
    r = await client.get(f"{O311}/servicerequestupdates.json", params=j(world))
    assert r.status_code == 200
    updates = r.json()
    number = a["tracking_number"]
    assert [(u["update_id"], u["service_request_id"], u["status"], u["description"]) for u in updates] == [
        (f"{number}-1", number, "open", "Status: In progress."),
        (f"{number}-2", number, "closed", "Status: Resolved."),
    ]
    assert all(datetime.fromisoformat(u["updated_datetime"]).utcoffset() is not None for u in updates)
    assert updates[0]["updated_datetime"] <= updates[1]["updated_datetime"]
    assert "Dlamini" not in r.text and "Internal" not in r.text
    # A window before the changes holds none.
    r = await client.get(
        f"{O311}/servicerequestupdates.json", params={**j(world), "end_date": (NOW - timedelta(days=1)).isoformat()}
    )
    assert r.json() == []


async def test_the_sweeps_escalation_is_an_update(client, world, db):
    from sqlalchemy import update

    from src.models import Ticket
    from src.services.escalation_service import run_sweep
    from tests.api.ticket_helpers import report

    a = await report(client, world.citizen)
    async with db.system_session() as s:
        await s.execute(
            update(Ticket)
            .where(Ticket.tracking_number == a["tracking_number"])
            .values(sla_resolution_deadline=NOW - timedelta(minutes=1))
        )
    await run_sweep(db)
    updates = (await client.get(f"{O311}/servicerequestupdates.json", params=j(world))).json()
    assert [(u["service_request_id"], u["status"], u["description"]) for u in updates] == [
        (a["tracking_number"], "open", "Status: Escalated.")
    ]


async def test_lists_are_reused_for_up_to_a_minute_but_one_request_is_always_fresh(client, factory, world):
    from src.services import public_cache

    first = await factory.ticket(world.municipality, created_at=NOW - timedelta(hours=3))
    listed = (await client.get(f"{O311}/requests.json", params=j(world))).json()
    assert [x["service_request_id"] for x in listed] == [first.tracking_number]
    second = await factory.ticket(world.municipality, created_at=NOW - timedelta(hours=1))
    again = (await client.get(f"{O311}/requests.json", params=j(world))).json()
    assert again == listed  # the same answer, rendered once
    r = await client.get(f"{O311}/requests/{second.tracking_number}.json", params=j(world))
    assert r.status_code == 200
    r = await client.get(f"{O311}/requests.json", params={**j(world), "service_request_id": second.tracking_number})
    assert [x["service_request_id"] for x in r.json()] == [second.tracking_number]
    # Another format or other arguments are other answers; once the minute is over, the list is new.
    xml = (await client.get(f"{O311}/requests.xml", params=j(world))).text
    assert second.tracking_number in xml
    public_cache.clear()
    fresh = (await client.get(f"{O311}/requests.json", params=j(world))).json()
    assert [x["service_request_id"] for x in fresh] == [second.tracking_number, first.tracking_number]
