"""Open311 formats: XML with the specification's element names only, and errors in the requested
format whatever happens (unknown routes, wrong methods, failures)."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from src.services import open311_service
from tests.api.open311_helpers import O311, _fresh_public_cache, make_key, post_request  # noqa: F401
from tests.api.ticket_helpers import report, set_status

# A request's elements, in the order GeoReport v2 gives them.
REQUEST_ELEMENTS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
REQUEST_FIELDS = set(REQUEST_ELEMENTS)
# Every element each endpoint may use, from GeoReport v2 (and FixMyStreet's updates extension).
ALLOWED = {
    "discovery.xml": {
        "discovery",
        "changeset",
        "contact",
        "key_service",
        "endpoints",
        "endpoint",
        "specification",
        "url",
        "type",
        "formats",
        "format",
    },
    "services.xml": {
        "services",
        "service",
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    },
    "services/water.xml": {"service_definition", "service_code", "attributes"},
    "requests.xml": {"service_requests", "request"} | REQUEST_FIELDS,
    "requests/{id}.xml": {"service_requests", "request"} | REQUEST_FIELDS,
    "tokens/{id}.xml": {"service_requests", "request", "service_request_id", "token"},
    "servicerequestupdates.xml": {
        "service_request_updates",
        "request_update",
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
    },
    "POST requests.xml": {"service_requests", "request", "service_request_id", "service_notice", "account_id"},
    "errors": {"errors", "error", "code", "description"},
}


def names(xml_text: str) -> tuple[str, set[str]]:
    root = ET.fromstring(xml_text.encode())  # our own answer, in a test
    return root.tag, {e.tag for e in root.iter()}


async def test_every_endpoint_uses_only_the_specifications_element_names(client, world):
    key = await make_key(client, world.admin)
    r = await post_request(client, world, key["key"], fmt="xml")
    root, used = names(r.text)
    assert root == "service_requests" and used == ALLOWED["POST requests.xml"]
    number = ET.fromstring(r.content).find("request/service_request_id").text
    t = await report(client, world.citizen)
    await set_status(client, world.manager, t["id"], "in_progress")
    params = {"jurisdiction_id": world.municipality.code}
    expected_roots = {
        "discovery.xml": "discovery",
        "services.xml": "services",
        "services/water.xml": "service_definition",
        "requests.xml": "service_requests",
        "requests/{id}.xml": "service_requests",
        "tokens/{id}.xml": "service_requests",
        "servicerequestupdates.xml": "service_request_updates",
    }
    for path, expected_root in expected_roots.items():
        r = await client.get(f"{O311}/{path.replace('{id}', number)}", params=params)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"] == "text/xml; charset=utf-8"
        assert r.text.startswith("<?xml version='1.0' encoding='utf-8'?>")
        root, used = names(r.text)
        assert root == expected_root, path
        assert used <= ALLOWED[path], (path, used - ALLOWED[path])
        assert len(used) > 2, path  # not an empty answer
    # A request carries every field of the specification, empty ones as empty elements.
    r = await client.get(f"{O311}/requests/{number}.xml", params=params)
    request = ET.fromstring(r.content).find("request")
    assert [child.tag for child in request] == REQUEST_ELEMENTS
    assert request.findtext("status") == "open" and request.findtext("lat") == "-25.95"
    assert request.findtext("zipcode") == "" and request.find("zipcode").text is None
    metadata = ET.fromstring((await client.get(f"{O311}/services.xml", params=params)).content).find("service/metadata")
    assert metadata.text == "false"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_routes_and_methods_answer_in_the_requested_format(client, fmt):
    for path in (f"/open311/v2/nothing.{fmt}", f"/open311/v3/services.{fmt}", f"/open311/elsewhere.{fmt}"):
        r = await client.get(path)
        assert r.status_code == 404, path
        if fmt == "json":
            assert r.json() == [{"code": 404, "description": "Not found."}]
        else:
            assert r.headers["content-type"].startswith("text/xml")
            assert names(r.text) == ("errors", ALLOWED["errors"])
            assert ET.fromstring(r.content).findtext("error/code") == "404"
    r = await client.delete(f"{O311}/services.{fmt}")
    assert r.status_code == 405
    assert ("<code>405</code>" in r.text) if fmt == "xml" else (r.json()[0]["code"] == 405)
    r = await client.get(f"{O311}/services.html")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unexpected_failure_is_a_500_in_the_requested_format(client, world, monkeypatch, fmt):
    def broken() -> list:
        raise RuntimeError("boom")

    monkeypatch.setattr(open311_service, "services", broken)
    r = await client.get(f"{O311}/services.{fmt}", params={"jurisdiction_id": world.municipality.code})
    assert r.status_code == 500
    if fmt == "json":
        assert r.json() == [{"code": 500, "description": "Something went wrong on our side."}]
    else:
        assert names(r.text) == ("errors", ALLOWED["errors"])
    assert "boom" not in r.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_database_that_does_not_answer_is_a_5xx_in_the_requested_format(client, db, fmt):
    from src.core.database import Database, set_database

    down = Database("postgresql://nobody@127.0.0.1:1/none", pool_size=1)
    set_database(down)
    try:
        r = await client.get(f"{O311}/requests.{fmt}", params={"jurisdiction_id": "TSH"})
    finally:
        set_database(db)
        await down.dispose()
    assert r.status_code in (500, 503)
    if fmt == "json":
        assert r.json()[0]["code"] == r.status_code
    else:
        assert names(r.text) == ("errors", ALLOWED["errors"])


async def test_times_carry_an_offset_and_unicode_survives(client, world, factory):
    await factory.ticket(
        world.municipality, description="Amanzi awekho — ñ ü", created_at=datetime.now(UTC) - timedelta(hours=2)
    )
    params = {"jurisdiction_id": world.municipality.code}
    r = await client.get(f"{O311}/requests.xml", params=params)
    request = ET.fromstring(r.content).find("request")
    assert request.findtext("description") == "Amanzi awekho — ñ ü"
    assert datetime.fromisoformat(request.findtext("requested_datetime")).utcoffset() is not None
    r = await client.get(f"{O311}/requests.json", params=params)
    assert r.json()[0]["description"] == "Amanzi awekho — ñ ü"


async def test_the_61st_post_of_a_minute_with_one_key_answers_429_in_the_requested_format(client, db, world, limiter):
    """60 posts a minute per API key (counted in memory and in Redis); the next is refused before
    anything is created, with Retry-After, as JSON or XML; another key is not affected."""
    from sqlalchemy import func, select

    from src.models.ticket import Ticket

    key = (await make_key(client, world.admin))["key"]
    other_key = (await make_key(client, world.admin, "SeeClickFix"))["key"]
    for _ in range(60):
        await post_request(client, world, key)
    for fmt in ("json", "xml"):
        r = await post_request(client, world, key, fmt=fmt, expect=429)
        assert int(r.headers["retry-after"]) >= 1
        if fmt == "xml":
            assert "<code>429</code>" in r.text and "<error>" in r.text
        else:
            assert r.json()[0]["code"] == 429
    await post_request(client, world, other_key)
    async with db.system_session() as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 61
