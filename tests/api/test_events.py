"""GET /api/v1/dashboard/events: live ticket events over Server-Sent Events."""

import json

import pytest
from sqlalchemy import text

from src.main import app
from src.services import live_events
from src.services.live_publish import CHANNEL, TICKET_CREATED, TICKET_UPDATED, publish_ticket_event
from tests.api.sse_client import SseStream
from tests.api.ticket_helpers import report, set_status

URL = "/api/v1/dashboard/events"


async def publish(db, event, ticket):
    """A change committed by another connection: what another server process would send."""
    async with db.system_session() as s:
        await publish_ticket_event(s, event, ticket)


async def notify_raw(db, payload):
    async with db.system_session() as s:
        await s.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": json.dumps(payload)})


async def open_ready(actor, query=""):
    stream = SseStream(app, URL + query, headers=actor.headers)
    await stream.__aenter__()
    assert stream.status == 200, stream.body
    first = await stream.next_event()
    assert first.name == "ready" and first.retry == 3000
    return stream


async def test_anonymous_is_401(db):
    async with SseStream(app, URL) as s:
        assert s.status == 401
        assert json.loads(s.body)["code"] == "invalid_token"


@pytest.mark.parametrize("role", ["citizen", "field_worker", "saps_liaison"])
async def test_roles_without_a_dashboard_are_403(world, role):
    async with SseStream(app, URL, headers=getattr(world, role).headers) as s:
        assert s.status == 403
        assert json.loads(s.body)["code"] == "forbidden"


async def test_councillor_asking_for_another_ward_is_403(world):
    async with SseStream(app, f"{URL}?ward_id={world.wards[1].id}", headers=world.ward_councillor.headers) as s:
        assert s.status == 403
        assert json.loads(s.body)["code"] == "ward_forbidden"


async def test_malformed_ward_id_is_422(world):
    async with SseStream(app, f"{URL}?ward_id=not-a-uuid", headers=world.manager.headers) as s:
        assert s.status == 422


async def test_a_committed_change_reaches_the_manager_with_only_public_fields(db, factory, world):
    ticket = await factory.ticket(world.municipality, ward_id=world.ward.id, assigned_team_id=world.teams["water"].id)
    stream = await open_ready(world.manager)
    try:
        assert stream.response_headers["content-type"].startswith("text/event-stream")
        assert stream.response_headers["cache-control"] == "no-store"
        await publish(db, TICKET_UPDATED, ticket)
        event = await stream.next_ticket_event()
        assert event.name == "ticket_updated"
        assert event.json == {
            "id": str(ticket.id),
            "tracking_number": ticket.tracking_number,
            "status": "open",
            "category": "water",
            "ward_id": str(world.ward.id),
            "assigned_team_id": str(world.teams["water"].id),
        }
    finally:
        await stream.__aexit__()
    assert live_events.hub.subscriber_count == 0  # a closed stream leaves nothing behind


async def test_the_stream_holds_no_pooled_database_connection(db, world):
    stream = await open_ready(world.admin)
    try:
        assert db.engine.pool.checkedout() == 0
    finally:
        await stream.__aexit__()


async def test_the_session_cookie_authenticates_the_stream(db, factory, world):
    ticket = await factory.ticket(world.municipality)
    async with SseStream(app, URL, cookies={"khanyisa_session": world.manager.token}) as stream:
        assert stream.status == 200
        assert (await stream.next_event()).name == "ready"
        await publish(db, TICKET_CREATED, ticket)
        assert (await stream.next_ticket_event()).json["id"] == str(ticket.id)


async def test_other_municipalities_and_sensitive_tickets_never_arrive(db, factory, world, other):
    foreign = await factory.ticket(other.municipality)
    mine = await factory.ticket(world.municipality)
    gbv = await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    stream = await open_ready(world.admin)
    try:
        await publish(db, TICKET_CREATED, foreign)
        await publish(db, TICKET_CREATED, gbv)  # refused by the publisher
        # Refused by the stream too, even if a sensitive ticket were ever announced:
        await notify_raw(
            db,
            {
                "event": TICKET_CREATED,
                "municipality_id": str(world.municipality.id),
                "id": str(gbv.id),
                "category": "gbv",
            },
        )
        await notify_raw(db, {"event": "ticket_deleted", "municipality_id": str(world.municipality.id), "id": "x"})
        await notify_raw(db, ["not", "an", "object"])
        await publish(db, TICKET_CREATED, mine)
        event = await stream.next_ticket_event()
        assert event.json["id"] == str(mine.id)  # the first that arrives is the one it may see
    finally:
        await stream.__aexit__()


async def test_a_councillor_hears_only_their_ward(db, factory, world):
    elsewhere = await factory.ticket(world.municipality, ward_id=world.wards[1].id)
    no_ward = await factory.ticket(world.municipality)
    theirs = await factory.ticket(world.municipality, ward_id=world.ward.id)
    stream = await open_ready(world.ward_councillor)
    try:
        await publish(db, TICKET_UPDATED, elsewhere)
        await publish(db, TICKET_UPDATED, no_ward)
        await publish(db, TICKET_UPDATED, theirs)
        assert (await stream.next_ticket_event()).json["id"] == str(theirs.id)
    finally:
        await stream.__aexit__()


async def test_a_manager_may_narrow_the_stream_to_one_ward(db, factory, world):
    elsewhere = await factory.ticket(world.municipality, ward_id=world.ward.id)
    chosen = await factory.ticket(world.municipality, ward_id=world.wards[1].id)
    stream = await open_ready(world.manager, f"?ward_id={world.wards[1].id}")
    try:
        await publish(db, TICKET_UPDATED, elsewhere)
        await publish(db, TICKET_UPDATED, chosen)
        assert (await stream.next_ticket_event()).json["id"] == str(chosen.id)
    finally:
        await stream.__aexit__()


async def test_changes_through_the_api_are_announced_after_commit(client, world):
    stream = await open_ready(world.manager)
    try:
        created = await report(client, world.citizen, description="Live event check")
        event = await stream.next_ticket_event()
        assert (event.name, event.json["id"], event.json["status"]) == ("ticket_created", created["id"], "open")
        await set_status(client, world.manager, created["id"], "in_progress")
        event = await stream.next_ticket_event()
        assert (event.name, event.json["status"]) == ("ticket_updated", "in_progress")
        # A refused change rolls back and announces nothing: the next event is the next real change.
        r = await client.patch(
            f"/api/v1/tickets/{created['id']}/status", json={"status": "closed"}, headers=world.manager.headers
        )
        assert r.status_code == 409
        await set_status(client, world.manager, created["id"], "escalated", note="stuck")
        event = await stream.next_ticket_event()
        assert (event.name, event.json["status"]) == ("ticket_escalated", "escalated")
    finally:
        await stream.__aexit__()


async def test_a_dropped_listening_connection_is_reopened_and_streams_are_told_to_resync(db, factory, world):
    ticket = await factory.ticket(world.municipality)
    stream = await open_ready(world.manager)
    try:
        pid, opened = live_events.hub.listener_pid, live_events.hub.connections_opened
        assert pid is not None
        async with db.system_session() as s:
            assert await s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        while (await stream.next_event()).name != "resync" or live_events.hub.connections_opened == opened:
            pass  # (a resync already queued from the first connection does not count)
        assert await live_events.hub.wait_ready(15)
        assert live_events.hub.listener_pid not in (None, pid)
        await publish(db, TICKET_UPDATED, ticket)
        assert (await stream.next_ticket_event()).json["id"] == str(ticket.id)
    finally:
        await stream.__aexit__()


def test_a_slow_stream_loses_its_backlog_for_a_resync():
    import asyncio

    async def run():
        sub = live_events.Subscription("m", None, asyncio.Queue(2))
        for i in range(3):
            sub.offer({"event": TICKET_UPDATED, "id": str(i)})
        return [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]

    assert asyncio.run(run()) == [{"event": "resync"}]


async def test_a_stream_ends_cleanly_when_the_server_shuts_down(world):
    import anyio

    me = await _principal(world.manager)
    stop = anyio.Event()
    stream = live_events.event_stream(me, None, stop)
    assert (await anext(stream))["event"] == "ready"
    stop.set()
    with pytest.raises(StopAsyncIteration):
        while True:
            event = await anext(stream)
            assert event["event"] == "resync"  # only a queued resync may still come out
    assert live_events.hub.subscriber_count == 0


async def _principal(actor):
    from src.api.deps import load_principal
    from src.core.database import get_database

    async with get_database().sessionmaker() as session, session.begin():
        return await load_principal(session, actor.token)
