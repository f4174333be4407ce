"""The Open311 client libraries from PyPI, `georeport` and `three`, against a real server:
they list services, post a request and read it back, in JSON and in XML."""

import asyncio
import itertools

import httpx
import pytest
from sqlalchemy import select

from src.models import Ticket

# `three` was written for Python 2 and imports itertools.ifilter; filter is the same thing now.
itertools.ifilter = filter  # type: ignore[attr-defined]

from georeport import GeoReport  # noqa: E402
from three import Three  # noqa: E402

CODES = ["water", "roads", "electricity", "waste", "sanitation", "other"]


async def api_key(live_server, world) -> str:
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        r = await c.post("/api/v1/api-keys", json={"name": "Client test"}, headers=world.admin.headers)
    assert r.status_code == 201, r.text
    return r.json()["key"]


async def test_three_lists_posts_and_reads_back(live_server, world, db):
    """`three` in JSON: its XML reader (relaxml) cannot parse bytes on Python 3, whoever answers."""
    fmt = "json"
    key = await api_key(live_server, world)
    client = Three(f"{live_server.url}/open311/v2", jurisdiction=world.municipality.code, api_key=key, format=fmt)

    def run():
        services = client.services()
        posted = client.post(
            "roads",
            lat="-25.95",
            long="28.05",
            description="Pothole at the taxi rank",
            email="someone@example.org",
            name="Sipho Ndlovu",
        )
        return services, posted, client.post_response.status_code

    services, posted, status = await asyncio.to_thread(run)
    assert status == 201
    assert [s["service_code"] for s in services] == CODES
    number = posted[0]["service_request_id"]
    async with db.system_session() as s:
        ticket = (await s.execute(select(Ticket).where(Ticket.tracking_number == number))).scalar_one()
    assert ticket.category == "roads" and ticket.description == "Pothole at the taxi rank"
    assert ticket.assigned_team_id == world.teams["roads"].id and ticket.sla_resolution_deadline is not None

    one, listed = await asyncio.to_thread(lambda: (client.request(number), client.requests()))
    assert one[0]["service_request_id"] == number and one[0]["status"] == "open"
    assert number in [r["service_request_id"] for r in listed]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_lists_and_reads_back_a_request_posted_by_three(live_server, world, fmt):
    key = await api_key(live_server, world)
    poster = Three(f"{live_server.url}/open311/v2", jurisdiction=world.municipality.code, api_key=key)
    posted = await asyncio.to_thread(poster.post, "water", address="12 Church St", description="No water since Monday")
    number = posted[0]["service_request_id"]
    client = GeoReport(f"{live_server.url}/open311/v2", jurisdiction=world.municipality.code.lower(), output_format=fmt)

    def run():
        return (
            client.get_service_list(),
            client.get_service_definition("water"),
            client.get_service_request(number),
            client.get_service_requests(service_code="water", status="open"),
        )

    services, definition, one, listed = await asyncio.to_thread(run)
    assert [s["service_code"] for s in services] == CODES
    assert definition["service_code"] == "water"
    assert one["service_request_id"] == number and one["address"] == "12 Church St"
    assert one["service_name"] == "Water" and one["status"] == "open"
    rows = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in rows] == [number]
