"""What a resident sees of their own report, and the per-ticket numbering of history events."""

from tests.api.ticket_helpers import API, assign, history, report, set_status
from tests.web.helpers import sign_in

INTERNAL_NOTE = "Plumber says the valve is seized"
REASON = "Closest crew this week"
PUBLIC_NOTE = "The pipe was replaced"


async def _worked_ticket(client, world, other) -> dict:
    await report(client, other.citizen)  # activity elsewhere advances the platform-wide sequence
    t = await report(client, world.citizen)
    await report(client, other.citizen)
    await set_status(client, world.manager, t["id"], "in_progress", note=INTERNAL_NOTE)
    await assign(
        client,
        world.manager,
        t["id"],
        team_id=world.teams["water"].id,
        assigned_to=world.field_worker.user.id,
        reason=REASON,
    )
    await set_status(client, world.manager, t["id"], "escalated", note=INTERNAL_NOTE)
    await set_status(client, world.manager, t["id"], "resolved", note=PUBLIC_NOTE)
    return t


async def test_events_are_numbered_within_their_ticket(client, world, other):
    t = await _worked_ticket(client, world, other)
    events = await history(client, world.manager, t["id"])
    assert [e["number"] for e in events] == [5, 4, 3, 2, 1]
    assert [e["kind"] for e in events] == ["status_changed", "status_changed", "assigned", "status_changed", "created"]
    assert all("id" not in e for e in events)
    assert events[2]["data"]["reason"] == REASON and events[3]["data"]["note"] == INTERNAL_NOTE
    assert events[2]["actor_name"] == world.manager.user.full_name


async def test_a_resident_sees_status_dates_and_public_notes_only(client, world, other):
    t = await _worked_ticket(client, world, other)
    detail = (await client.get(f"{API}/{t['id']}", headers=world.citizen.headers)).json()
    hist = await history(client, world.citizen, t["id"])
    assert detail["history"] == hist
    assert [(e["number"], e["kind"], e["data"]) for e in hist] == [
        (5, "status_changed", {"from": "escalated", "to": "resolved", "note": PUBLIC_NOTE}),
        (4, "status_changed", {"from": "in_progress", "to": "escalated"}),
        (2, "status_changed", {"from": "open", "to": "in_progress"}),
        (1, "created", {"category": "water"}),
    ]
    assert [e["actor_name"] for e in hist] == [None, None, None, world.citizen.user.full_name]
    assert detail["status"] == "resolved" and detail["resolved_at"] is not None
    assert detail["assigned_to"] is None and detail["assigned_to_name"] is None and detail["escalation_reason"] is None
    for body in (detail, hist):
        text = str(body)
        for secret in (
            world.manager.user.full_name,
            world.field_worker.user.full_name,
            REASON,
            INTERNAL_NOTE,
            str(world.manager.user.id),
            str(world.field_worker.user.id),
        ):
            assert secret not in text
    listed = (await client.get(API, headers=world.citizen.headers)).json()["tickets"]
    assert [(x["id"], x["assigned_to"], x["escalation_reason"]) for x in listed] == [(t["id"], None, None)]
    staff = (await client.get(f"{API}/{t['id']}", headers=world.manager.headers)).json()
    assert staff["assigned_to"] == str(world.field_worker.user.id) and staff["escalation_reason"] == INTERNAL_NOTE


async def test_the_resident_page_shows_numbers_and_the_public_note_only(client, world, other):
    t = await _worked_ticket(client, world, other)
    sign_in(client, world.citizen)
    r = await client.get(f"/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    assert PUBLIC_NOTE in r.text and "#5" in r.text and "#1" in r.text
    for secret in (world.manager.user.full_name, world.field_worker.user.full_name, REASON, INTERNAL_NOTE):
        assert secret not in r.text
