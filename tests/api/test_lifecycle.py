"""The ticket status machine: every allowed and refused transition, and the times it stamps."""

from datetime import datetime

import pytest

from src.models.enums import ALLOWED_TRANSITIONS, TicketStatus
from tests.api.ticket_helpers import API, history, report, set_status

PATH_TO = {
    TicketStatus.OPEN: [],
    TicketStatus.IN_PROGRESS: ["in_progress"],
    TicketStatus.ESCALATED: ["escalated"],
    TicketStatus.RESOLVED: ["resolved"],
    TicketStatus.CLOSED: ["resolved", "closed"],
}
PAIRS = [(a, b) for a in TicketStatus for b in TicketStatus]


@pytest.mark.parametrize(("start", "target"), PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
async def test_transition_table(client, world, start, target):
    t = await report(client, world.citizen)
    for step in PATH_TO[start]:
        await set_status(client, world.manager, t["id"], step)
    allowed = target in ALLOWED_TRANSITIONS[start]
    r = await client.patch(f"{API}/{t['id']}/status", json={"status": target.value}, headers=world.manager.headers)
    if allowed:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == target.value
    else:
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "invalid_transition"
        d = (await client.get(f"{API}/{t['id']}", headers=world.manager.headers)).json()
        assert d["status"] == start.value
        assert len(d["history"]) == 1 + len(PATH_TO[start])


async def test_timestamps_through_a_full_life(client, world):
    t = await report(client, world.citizen)
    a = await set_status(client, world.manager, t["id"], "in_progress")
    responded = a["first_responded_at"]
    assert responded is not None and a["resolved_at"] is None
    b = await set_status(client, world.manager, t["id"], "resolved")
    assert b["first_responded_at"] == responded
    assert b["resolved_at"] is not None and b["closed_at"] is None
    c = await set_status(client, world.manager, t["id"], "open")
    assert c["resolved_at"] is None
    d = await set_status(client, world.manager, t["id"], "resolved")
    e = await set_status(client, world.manager, t["id"], "closed")
    assert e["resolved_at"] == d["resolved_at"]
    assert e["closed_at"] is not None
    assert datetime.fromisoformat(e["closed_at"]) >= datetime.fromisoformat(e["resolved_at"])
    kinds = [
        (ev["kind"], ev["data"].get("from"), ev["data"].get("to"))
        for ev in await history(client, world.manager, t["id"])
    ]
    assert kinds == [
        ("status_changed", "resolved", "closed"),
        ("status_changed", "open", "resolved"),
        ("status_changed", "resolved", "open"),
        ("status_changed", "in_progress", "resolved"),
        ("status_changed", "open", "in_progress"),
        ("created", None, None),
    ]


async def test_closing_straight_from_open_stamps_resolved_and_closed(client, world):
    t = await report(client, world.citizen)
    c = await set_status(client, world.manager, t["id"], "closed", note="Duplicate")
    assert c["resolved_at"] is not None and c["closed_at"] is not None and c["first_responded_at"] is not None


async def test_a_users_escalation_keeps_the_note_and_writes_a_status_changed_event(client, world):
    t = await report(client, world.citizen)
    e = await set_status(client, world.manager, t["id"], "escalated", note="Hospital without water")
    assert e["escalated_at"] is not None
    assert e["escalation_reason"] == "Hospital without water"
    events = await history(client, world.manager, t["id"])
    assert events[0]["kind"] == "status_changed"
    assert events[0]["data"] == {"from": "open", "to": "escalated", "note": "Hospital without water"}
    assert "escalated" not in [ev["kind"] for ev in events]


async def test_field_worker_may_only_move_to_in_progress_or_resolved(client, world):
    t = await report(client, world.citizen)  # routed to the water team, the field worker's team
    for target in ("escalated", "closed"):
        r = await client.patch(f"{API}/{t['id']}/status", json={"status": target}, headers=world.field_worker.headers)
        assert r.status_code == 403, r.text
    await set_status(client, world.field_worker, t["id"], "in_progress")
    done = await set_status(client, world.field_worker, t["id"], "resolved")
    assert done["status"] == "resolved"


async def test_field_worker_sees_tickets_assigned_to_them_personally(client, world, factory):
    t = await report(client, world.citizen, category="roads")
    r = await client.get(f"{API}/{t['id']}", headers=world.field_worker.headers)
    assert r.status_code == 404
    # a manager may hand a roads ticket to the water team's field worker through the water team
    await client.post(
        f"{API}/{t['id']}/assign",
        json={"team_id": str(world.teams["water"].id), "assigned_to": str(world.field_worker.id)},
        headers=world.manager.headers,
    )
    r = await client.get(f"{API}/{t['id']}", headers=world.field_worker.headers)
    assert r.status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"status": "done"}, {"status": "resolved", "note": "n" * 2001}, {"status": "resolved", "x": 1}]
)
async def test_bad_status_bodies(client, world, body):
    t = await report(client, world.citizen)
    r = await client.patch(f"{API}/{t['id']}/status", json=body, headers=world.manager.headers)
    assert r.status_code == 422
    d = (await client.get(f"{API}/{t['id']}", headers=world.manager.headers)).json()
    assert d["status"] == "open" and len(d["history"]) == 1


async def test_status_of_unknown_ticket_is_404(client, world):
    import uuid

    r = await client.patch(f"{API}/{uuid.uuid4()}/status", json={"status": "resolved"}, headers=world.manager.headers)
    assert r.status_code == 404
    r = await client.patch(f"{API}/{uuid.uuid4()}/status", json={"status": "resolved"})
    assert r.status_code == 401
