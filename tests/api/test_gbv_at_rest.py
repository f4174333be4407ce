"""A sensitive report's text is stored sealed: the database holds no plaintext of it, while SAPS
and the reporter read it through the API."""

import logging

from sqlalchemy import text

from src.core import sealing
from tests.api.ticket_helpers import API, history, report, set_status

DESCRIPTION = "He hit me again last night near the spaza shop"
ADDRESS = "14 Jacaranda Street, Mamelodi"
NOTE = "Victim moved to a safe house in Soshanguve"
SECRETS = (DESCRIPTION, ADDRESS, NOTE, "Jacaranda", "spaza", "safe house")
TEXT_COLUMNS = text(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
    "AND table_name IN ('tickets', 'ticket_events') AND data_type IN ('text', 'character varying', 'jsonb', 'json')"
)


async def _stored_text(db) -> list[str]:
    """Every text column of tickets and ticket_events, read as the schema owner (no row-level security)."""
    async with db.system_session() as s:
        columns = (await s.execute(TEXT_COLUMNS)).all()
        values = []
        for table, column in columns:
            rows = await s.execute(text(f'SELECT "{column}"::text FROM "{table}"'))  # names from the catalog
            values += [v for (v,) in rows if v]
        return values


async def _gbv_with_history(client, world) -> dict:
    t = await report(
        client, world.citizen, category="gbv", description=DESCRIPTION, address=ADDRESS, latitude=-25.7, longitude=28.2
    )
    await set_status(client, world.saps_liaison, t["id"], "escalated", note=NOTE)
    return t


async def test_no_plaintext_of_a_sensitive_report_is_stored_or_logged(client, db, world, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the database driver's statements and parameters included
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        t = await _gbv_with_history(client, world)
        await client.get(f"{API}/{t['id']}", headers=world.saps_liaison.headers)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert "INSERT INTO tickets" in caplog.text  # the statements were logged, with their parameters
    for secret in SECRETS:
        assert secret not in caplog.text
    stored = "\n".join(await _stored_text(db))
    for secret in SECRETS:
        assert secret.lower() not in stored.lower()
    async with db.system_session() as s:
        row = (
            await s.execute(
                text("SELECT description, address, escalation_reason, latitude, longitude FROM tickets WHERE id = :i"),
                {"i": t["id"]},
            )
        ).one()
    assert all(sealing.is_sealed(v) for v in row[:3]) and row[3:] == (None, None)
    assert row[0].split(":")[2] == sealing.current_key().id  # the master key's id is stored with it


async def test_saps_and_the_reporter_read_it_through_the_api(client, world):
    t = await _gbv_with_history(client, world)
    assert (t["description"], t["address"]) == (DESCRIPTION, ADDRESS)
    for actor in (world.saps_liaison, world.citizen):
        d = (await client.get(f"{API}/{t['id']}", headers=actor.headers)).json()
        assert (d["description"], d["address"]) == (DESCRIPTION, ADDRESS)
    staff = (await client.get(f"{API}/{t['id']}", headers=world.saps_liaison.headers)).json()
    assert staff["escalation_reason"] == NOTE
    events = await history(client, world.saps_liaison, t["id"])
    assert [e["data"].get("note") for e in events if e["kind"] == "status_changed"] == [NOTE]
    listed = (await client.get(API, headers=world.saps_liaison.headers)).json()["tickets"]
    assert [(x["description"], x["address"]) for x in listed] == [(DESCRIPTION, ADDRESS)]


async def test_sensitive_search_matches_tracking_numbers_only(client, world):
    t = await _gbv_with_history(client, world)
    by_text = (await client.get(API, params={"search": "spaza"}, headers=world.saps_liaison.headers)).json()
    assert by_text["total"] == 0
    # every stored description of a sensitive ticket contains "sealed": descriptions are not searched
    assert (await client.get(API, params={"search": "sealed"}, headers=world.saps_liaison.headers)).json()["total"] == 0
    by_number = (
        await client.get(API, params={"search": t["tracking_number"]}, headers=world.saps_liaison.headers)
    ).json()
    assert [x["id"] for x in by_number["tickets"]] == [t["id"]]
    water = await report(client, world.citizen, description="Burst spaza pipe")
    found = (await client.get(API, params={"search": "spaza"}, headers=world.manager.headers)).json()
    assert [x["id"] for x in found["tickets"]] == [water["id"]]


async def test_the_longest_report_still_fits_once_sealed(client, world):
    longest = "ü" * 4999 + "!"
    t = await report(client, world.citizen, category="gbv", description=longest, address="ß" * 500)
    d = (await client.get(f"{API}/{t['id']}", headers=world.citizen.headers)).json()
    assert (d["description"], d["address"]) == (longest, "ß" * 500)
    r = await client.post(API, json={"category": "gbv", "description": "x" * 5001}, headers=world.citizen.headers)
    assert r.status_code == 422
