"""The SLA sweep: escalation, breach events exactly once, concurrent sweeps, the CLI entry point."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from src.models import TicketEvent
from src.services.escalation_service import run_sweep
from tests.api.ticket_helpers import API, history, report, set_status


async def overdue(factory, world, *, status="open", minutes_past_response=60, minutes_past_resolution=None, **extra):
    now = datetime.now(UTC)
    resolution = (
        now - timedelta(minutes=minutes_past_resolution) if minutes_past_resolution else now + timedelta(days=3)
    )
    values = {
        "status": status,
        "created_at": now - timedelta(days=1),
        "sla_response_deadline": now - timedelta(minutes=minutes_past_response),
        "sla_resolution_deadline": resolution,
        "assigned_team_id": world.teams["water"].id,
        "reporter_id": world.citizen.id,
    }
    return await factory.ticket(world.municipality, **(values | extra))


async def kinds(client, world, ticket):
    return [e["kind"] for e in await history(client, world.admin, ticket.id)]


async def test_open_past_response_escalates_to_the_team_manager(client, world, factory, db):
    t = await overdue(factory, world)
    result = await run_sweep(db)
    assert result.escalated == 1 and result.breaches == 1
    d = (await client.get(f"{API}/{t.id}", headers=world.manager.headers)).json()
    assert d["status"] == "escalated"
    assert d["escalated_at"] is not None and d["escalation_reason"]
    assert d["assigned_to"] == str(world.manager.id)
    assert d["first_responded_at"] is None  # the system's escalation is not a response
    events = d["history"]
    assert [e["kind"] for e in events] == ["sla_breached", "escalated"]
    assert events[0]["data"]["deadline"] == "response" and events[0]["actor_id"] is None
    assert d["sla_status"] == "breached_response"


async def test_a_second_sweep_writes_nothing_and_a_later_breach_adds_only_its_event(client, world, factory, db):
    t = await overdue(factory, world)
    await run_sweep(db)
    again = await run_sweep(db)
    assert (again.escalated, again.breaches) == (0, 0)
    later = await run_sweep(db, now=datetime.now(UTC) + timedelta(days=4))
    assert (later.escalated, later.breaches) == (0, 1)
    assert await kinds(client, world, t) == ["sla_breached", "sla_breached", "escalated"]
    assert (await run_sweep(db, now=datetime.now(UTC) + timedelta(days=5))).breaches == 0


async def test_in_progress_past_resolution_escalates_with_both_breaches(client, world, factory, db):
    now = datetime.now(UTC)
    t = await overdue(
        factory, world, status="in_progress", minutes_past_resolution=5, first_responded_at=now - timedelta(minutes=30)
    )
    result = await run_sweep(db)
    assert (result.escalated, result.breaches) == (1, 2)
    assert await kinds(client, world, t) == ["sla_breached", "sla_breached", "escalated"]


async def test_in_progress_responded_in_time_past_response_deadline_is_left_alone(client, world, factory, db):
    now = datetime.now(UTC)
    await overdue(factory, world, status="in_progress", first_responded_at=now - timedelta(hours=5))
    result = await run_sweep(db)
    assert (result.escalated, result.breaches) == (0, 0)


async def test_resolved_and_closed_tickets_are_never_swept(client, world, factory, db):
    now = datetime.now(UTC)
    await overdue(factory, world, status="resolved", minutes_past_resolution=5, resolved_at=now, first_responded_at=now)
    await overdue(
        factory,
        world,
        status="closed",
        minutes_past_resolution=5,
        resolved_at=now,
        closed_at=now,
        first_responded_at=now,
    )
    result = await run_sweep(db)
    assert (result.escalated, result.breaches) == (0, 0)


async def test_a_users_escalation_is_not_repeated_but_breaches_are_logged(client, world, factory, db):
    t = await report(client, world.citizen, severity="critical")  # 168 h on the wall clock: past in 8 days
    await set_status(client, world.manager, t["id"], "escalated", note="VIP")
    result = await run_sweep(db, now=datetime.now(UTC) + timedelta(days=8))
    assert (result.escalated, result.breaches) == (0, 1)
    events = await history(client, world.manager, t["id"])
    assert [e["kind"] for e in events] == ["sla_breached", "status_changed", "created"]
    assert events[0]["data"]["deadline"] == "resolution"


async def test_gbv_tickets_are_escalated_too(client, world, factory, db):
    t = await overdue(factory, world, category="gbv", assigned_team_id=world.teams["gbv"].id)
    result = await run_sweep(db)
    assert result.escalated == 1
    d = (await client.get(f"{API}/{t.id}", headers=world.saps_liaison.headers)).json()
    assert d["status"] == "escalated"


async def test_concurrent_sweeps_escalate_each_ticket_once(client, world, factory, db):
    tickets = [await overdue(factory, world, minutes_past_resolution=1) for _ in range(30)]
    results = await asyncio.gather(*(run_sweep(db) for _ in range(6)))
    assert sum(r.escalated for r in results) == 30
    assert sum(r.breaches for r in results) == 60
    async with db.system_session() as s:
        counts = dict((await s.execute(select(TicketEvent.kind, func.count()).group_by(TicketEvent.kind))).all())
    assert counts == {"escalated": 30, "sla_breached": 60}
    assert len({r for res in results for r in res.tickets}) == 30
    assert tickets


async def test_sweep_works_across_municipalities(client, world, other, factory, db):
    await overdue(factory, world)
    await overdue(factory, other)
    assert (await run_sweep(db)).escalated == 2
