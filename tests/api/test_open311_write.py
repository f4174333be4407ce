"""Open311 POST /requests: a ticket like any other (ward, routing, SLA, events, live event), keys, bad input."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from src.models import Ticket, TicketEvent
from tests.api.open311_helpers import O311, _fresh_public_cache, make_key, post_request  # noqa: F401
from tests.api.test_events import open_ready


async def _count(db) -> int:
    async with db.system_session() as s:
        return int(await s.scalar(select(func.count()).select_from(Ticket)))


async def test_posting_creates_a_routed_ticket_with_deadlines_and_events(client, world, db, factory):
    await factory.sla(world.municipality, "water", None, 4, 48)
    key = await make_key(client, world.admin)
    r = await post_request(
        client,
        world,
        key["key"],
        description="  Burst pipe, call jane@example.org  ",
        email="jane@example.org",
        first_name="Jane",
        last_name="Mokoena",
        phone="0825551234",
        device_id="d-1",
        account_id="a-1",
        media_url="https://example.org/p.jpg",
        **{"attribute[colour]": "blue"},
    )
    body = r.json()
    assert len(body) == 1 and set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    number = body[0]["service_request_id"]
    assert body[0]["account_id"] is None
    async with db.system_session() as s:
        t = (await s.execute(select(Ticket).where(Ticket.tracking_number == number))).scalar_one()
        events = (await s.execute(select(TicketEvent).where(TicketEvent.ticket_id == t.id))).scalars().all()
    assert t.municipality_id == world.municipality.id
    assert t.category == "water" and t.status == "open" and t.severity == "medium" and not t.is_sensitive
    assert t.description == "Burst pipe, call jane@example.org"
    assert t.reporter_id is None  # no account is made for an Open311 reporter
    assert t.ward_id == world.ward.id  # the point lies in the ward's boundary
    assert t.assigned_team_id == world.teams["water"].id
    assert t.sla_response_deadline - t.created_at == timedelta(hours=4)
    assert t.sla_resolution_deadline - t.created_at == timedelta(hours=48)
    assert (
        body[0]["service_notice"]
        == f"Expect a first response by {t.sla_response_deadline.isoformat(timespec='minutes')}."
    )
    assert [(e.kind, e.actor_id, e.data["channel"], e.data["api_key_id"]) for e in events] == [
        ("created", None, "open311", key["id"])
    ]
    # Nothing of the contact details is kept anywhere.
    async with db.system_session() as s:
        dump = await s.scalar(text("SELECT string_agg(t::text, ' ') FROM (SELECT * FROM tickets) t"))
        events_dump = await s.scalar(text("SELECT string_agg(data::text, ' ') FROM ticket_events"))
    for secret in ("Mokoena", "0825551234", "Jane"):
        assert secret not in dump and secret not in events_dump
    # It reads back through Open311, with the e-mail masked.
    r = await client.get(f"{O311}/requests/{number}.json", params={"jurisdiction_id": world.municipality.code})
    assert r.json()[0]["description"] == "Burst pipe, call [email removed]"


async def test_an_address_alone_is_a_location_and_xml_answers_in_xml(client, world, db):
    key = await make_key(client, world.admin)
    r = await post_request(
        client, world, key["key"], fmt="xml", lat=None, long=None, address_string="12 Church St", service_code="roads"
    )
    assert r.headers["content-type"].startswith("text/xml")
    assert "<service_requests><request><service_request_id>TKT-" in r.text
    async with db.system_session() as s:
        t = (await s.execute(select(Ticket))).scalar_one()
    assert t.address == "12 Church St" and t.latitude is None and t.ward_id is None and t.category == "roads"


async def test_multipart_posts_are_accepted(client, world):
    key = await make_key(client, world.admin)
    form = {
        "jurisdiction_id": world.municipality.code,
        "api_key": key["key"],
        "service_code": "waste",
        "description": "Dumping",
        "address_string": "Market St",
    }
    r = await client.post(f"{O311}/requests.json", data=form, files={"media": ("p.png", b"\x89PNG", "image/png")})
    assert r.status_code == 201, r.text


async def test_live_dashboards_hear_of_an_open311_report(client, world):
    key = await make_key(client, world.admin)
    stream = await open_ready(world.manager)
    try:
        number = (await post_request(client, world, key["key"])).json()[0]["service_request_id"]
        event = await stream.next_ticket_event()
    finally:
        await stream.__aexit__()
    assert event.name == "ticket_created"
    assert event.json["tracking_number"] == number and event.json["category"] == "water"


@pytest.mark.parametrize(
    "fields, status, message",
    [
        ({"api_key": None}, 403, "An api_key is required to post a request."),
        ({"api_key": "k311_wrong"}, 403, "This api_key is not valid for this jurisdiction."),
        ({"jurisdiction_id": None}, 400, "jurisdiction_id is required (the municipality's code)."),
        ({"jurisdiction_id": "ZZZ"}, 404, "Municipality not found."),
        ({"service_code": None}, 400, "service_code is required."),
        ({"service_code": "gbv"}, 400, "Unknown service_code: gbv."),
        ({"service_code": "parking"}, 400, "Unknown service_code: parking."),
        ({"description": None}, 400, "description is required."),
        ({"description": "   "}, 400, "description is required."),
        ({"description": "x" * 4001}, 400, "description may be at most 4000 characters."),
        ({"lat": None, "long": None}, 400, "A location is required: lat and long, or address_string."),
        ({"long": None}, 400, "Give both lat and long, or neither."),
        ({"lat": "north"}, 400, "lat must be a number."),
        ({"lat": "91"}, 400, "lat must be between -90 and 90."),
        ({"long": "nan"}, 400, "long must be between -180 and 180."),
        (
            {"address_string": "x" * 501, "lat": None, "long": None},
            400,
            "address_string may be at most 500 characters.",
        ),
    ],
)
async def test_bad_posts_change_nothing(client, world, db, fields, status, message):
    key = await make_key(client, world.admin)
    r = await post_request(client, world, key["key"], expect=status, **fields)
    assert r.json() == [{"code": status, "description": message}]
    assert await _count(db) == 0
    # A refused post does not even count as a use of the key.
    assert (await client.get("/api/v1/api-keys", headers=world.admin.headers)).json()[0]["last_used_at"] is None


async def test_a_4000_character_description_is_accepted(client, world, db):
    key = await make_key(client, world.admin)
    await post_request(client, world, key["key"], description="y" * 4000)
    assert await _count(db) == 1


async def test_the_post_created_time_is_aware(client, world, db):
    key = await make_key(client, world.admin)
    number = (await post_request(client, world, key["key"])).json()[0]["service_request_id"]
    r = await client.get(f"{O311}/requests/{number}.json", params={"jurisdiction_id": world.municipality.code})
    assert datetime.fromisoformat(r.json()[0]["requested_datetime"]).utcoffset() == timedelta(0)
