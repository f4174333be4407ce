"""seed-demo: the data set is complete, realistic, consistent with the lifecycle, and the
same for the same seed; its logins work; the tallies it rebuilds agree with its tickets."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from src.models.user import UserRole
from src.services.demo.seed_service import SeedError, seed_demo

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
PASSWORD = "Seed-Pass-2026!"
TABLES = "ticket_events, tickets, sla_policies, consents, team_wards, users, teams, wards, municipalities"
FINGERPRINT = """
SELECT md5(string_agg(concat_ws('|', t.id, t.tracking_number, t.category, t.status, t.severity, t.ward_id,
  t.assigned_team_id, t.assigned_to, t.created_at, t.first_responded_at, t.resolved_at, t.closed_at, t.escalated_at,
  t.sla_response_deadline, t.sla_resolution_deadline,
  CASE WHEN t.is_sensitive THEN left(t.description, 10) ELSE t.description END, t.latitude, t.longitude), ',' ORDER BY t.id))
FROM tickets t
"""


async def _sql(db, query: str, **params):
    async with db.system_session() as s:
        return (await s.execute(text(query), params)).all()


@pytest.fixture
async def seeded(db, database_url):
    logins = seed_demo(database_url, 3, 3000, 7, PASSWORD, now=NOW)
    return logins


async def test_logins_for_every_role_in_every_municipality(seeded, client, db):
    codes = ("tsh", "jhb", "cpt")
    assert seeded == [(f"{role.value}@{code}.demo", PASSWORD) for code in codes for role in UserRole]
    for email, password in seeded:
        r = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200, email
        me = (
            await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        ).json()
        assert me["email"] == email and me["municipality_code"] == email.split("@")[1][:3].upper()
        assert (me["ward_id"] is not None) == (me["role"] == "ward_councillor")
        if me["role"] in ("field_worker", "saps_liaison"):
            assert me["team_id"] is not None
    hashes = await _sql(db, "SELECT count(DISTINCT password_hash) FROM users")
    assert hashes[0][0] == 1  # hashed once, reused


async def test_places_teams_and_policies(seeded, db):
    munis = await _sql(db, "SELECT code, timezone FROM municipalities ORDER BY created_at")
    assert [m.code for m in munis] == ["TSH", "JHB", "CPT"] and {m.timezone for m in munis} == {"Africa/Johannesburg"}
    wards = await _sql(db, "SELECT count(*), count(*) FILTER (WHERE boundary->>'type' = 'Polygon') FROM wards")
    assert wards[0][0] == wards[0][1] >= 100
    teams = await _sql(
        db,
        "SELECT m.code, count(*) FILTER (WHERE t.is_saps), count(DISTINCT t.category) FROM teams t"
        " JOIN municipalities m ON m.id = t.municipality_id GROUP BY m.code",
    )
    assert {(code, saps, cats) for code, saps, cats in teams} == {(c, 1, 7) for c in ("TSH", "JHB", "CPT")}
    default = await _sql(db, "SELECT count(*) FROM sla_policies WHERE category IS NULL AND severity IS NULL")
    assert default[0][0] == 3


async def test_volume_and_distributions(seeded, db):
    per = dict(
        await _sql(
            db, "SELECT m.code, count(*) FROM tickets t JOIN municipalities m ON m.id = t.municipality_id GROUP BY 1"
        )
    )
    assert per["TSH"] == 1500 and sum(per.values()) == 3000 and per["JHB"] > per["CPT"]
    ((gbv, total),) = await _sql(db, "SELECT count(*) FILTER (WHERE is_sensitive), count(*) FROM tickets")
    assert 0.01 <= gbv / total <= 0.035
    categories = dict(await _sql(db, "SELECT category, count(*) FROM tickets GROUP BY 1"))
    assert categories["water"] > categories["roads"] > categories["sanitation"] > categories["gbv"]
    statuses = await _sql(
        db,
        "SELECT m.code, count(DISTINCT t.status) FROM tickets t JOIN municipalities m"
        " ON m.id = t.municipality_id GROUP BY 1",
    )
    assert {n for _, n in statuses} == {5}
    busiest, quietest = (
        await _sql(
            db,
            "SELECT max(n), min(n) FROM (SELECT count(*) n FROM tickets t JOIN municipalities m"
            " ON m.id = t.municipality_id WHERE m.code = 'TSH' AND ward_id IS NOT NULL GROUP BY ward_id) w",
        )
    )[0]
    assert busiest > 3 * quietest  # dense wards report more
    ((late, resolved),) = await _sql(
        db,
        "SELECT count(*) FILTER (WHERE resolved_at > sla_resolution_deadline),"
        " count(*) FILTER (WHERE resolved_at IS NOT NULL) FROM tickets",
    )
    assert 0.03 < late / resolved < 0.35  # around the SLA, some breaches


async def test_every_ticket_follows_the_lifecycle(seeded, db):
    ((bad,),) = await _sql(
        db,
        """
        SELECT count(*) FROM tickets t WHERE
          t.created_at > :now OR t.created_at < :now - interval '366 days'
          OR t.first_responded_at < t.created_at OR t.resolved_at < t.first_responded_at OR t.closed_at < t.resolved_at
          OR (t.status IN ('resolved', 'closed') AND (t.resolved_at IS NULL OR t.first_responded_at IS NULL))
          OR (t.status IN ('open', 'in_progress', 'escalated') AND (t.resolved_at IS NOT NULL OR t.closed_at IS NOT NULL))
          OR (t.status = 'in_progress' AND t.first_responded_at IS NULL)
          OR (t.status = 'escalated' AND t.escalated_at IS NULL)
          OR (t.status = 'open' AND t.sla_response_deadline < :now - interval '1 minute' AND t.first_responded_at IS NULL)
          OR t.updated_at < greatest(t.created_at, t.first_responded_at, t.resolved_at, t.closed_at, t.escalated_at)
          OR t.is_sensitive <> (t.category = 'gbv')
          OR (t.is_sensitive AND NOT EXISTS (SELECT 1 FROM teams s WHERE s.id = t.assigned_team_id AND s.is_saps))
          OR (NOT t.is_sensitive AND EXISTS (SELECT 1 FROM teams s WHERE s.id = t.assigned_team_id AND s.is_saps))
          OR (t.sla_clock = '24x7') <> (t.category = 'gbv' OR t.severity IN ('high', 'critical'))
          OR t.sla_clock = '24x7' AND t.sla_response_deadline <> t.created_at + make_interval(secs => 3600 * (
               SELECT p.response_hours FROM sla_policies p WHERE p.municipality_id = t.municipality_id
               AND (p.category = t.category OR p.category IS NULL) AND (p.severity = t.severity OR p.severity IS NULL)
               ORDER BY p.category IS NULL, p.severity IS NULL LIMIT 1))
        """,
        now=NOW,
    )
    assert bad == 0
    ((events_bad,),) = await _sql(
        db,
        """
        SELECT count(*) FROM tickets t WHERE
          NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'created' AND e.created_at = t.created_at)
          OR (t.status = 'closed' AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id
              AND e.kind = 'status_changed' AND e.data->>'to' = 'closed'))
          OR (t.escalated_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'escalated'))
          OR (SELECT max(e.created_at) FROM ticket_events e WHERE e.ticket_id = t.id) <> t.updated_at
        """,
    )
    assert events_bad == 0


async def test_tracking_numbers_carry_the_local_date(seeded, db):
    rows = await _sql(db, "SELECT tracking_number, created_at FROM tickets")
    zone = ZoneInfo("Africa/Johannesburg")
    assert all(r.tracking_number[4:12] == r.created_at.astimezone(zone).strftime("%Y%m%d") for r in rows)
    assert len({r.tracking_number for r in rows}) == len(rows)


async def test_the_tallies_agree_with_the_tickets(seeded, db, client):
    assert (await _sql(db, "SELECT count(*) FROM ticket_tallies_drift()"))[0][0] == 0
    r = await client.post("/api/v1/auth/token", data={"username": "manager@tsh.demo", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    metrics = (await client.get("/api/v1/dashboard/metrics", headers=headers)).json()
    ((visible,),) = await _sql(
        db,
        "SELECT count(*) FROM tickets t JOIN municipalities m ON m.id = t.municipality_id"
        " WHERE m.code = 'TSH' AND NOT t.is_sensitive",
    )
    assert metrics["total_open"] + metrics["total_resolved"] == visible
    listed = (await client.get("/api/v1/tickets", params={"page": 20}, headers=headers)).json()
    assert listed["total"] == visible and len(listed["tickets"]) == 50


async def test_the_same_seed_gives_the_same_data(seeded, db, database_url):
    first = (await _sql(db, FINGERPRINT))[0][0]
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    seed_demo(database_url, 3, 3000, 7, PASSWORD, now=NOW)
    assert (await _sql(db, FINGERPRINT))[0][0] == first
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    seed_demo(database_url, 3, 3000, 8, PASSWORD, now=NOW)
    assert (await _sql(db, FINGERPRINT))[0][0] != first


async def test_loading_twice_is_refused(seeded, database_url):
    with pytest.raises(SeedError, match="TSH already exists"):
        seed_demo(database_url, 1, 10, 7, PASSWORD, now=NOW + timedelta(days=1))


async def test_sensitive_demo_reports_are_sealed(seeded, db):
    [(sensitive, plain, located)] = await _sql(
        db,
        "SELECT count(*) FILTER (WHERE is_sensitive), count(*) FILTER (WHERE is_sensitive AND description NOT LIKE "
        "'sealed:v1:%'), count(*) FILTER (WHERE is_sensitive AND latitude IS NOT NULL) FROM tickets",
    )
    assert sensitive > 0 and plain == 0 and located == 0
