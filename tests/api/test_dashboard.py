"""The dashboard through HTTP: every figure checked against values computed here, in
plain Python, from the ticket rows themselves, for a manager, an admin, a manager filtering a
ward, a councillor and created ranges. GBV tickets, SAPS teams and other municipalities are in the
data and must change nothing.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from src.models import Ticket
from src.models.enums import SERVICE_CATEGORIES
from src.models.user import UserRole

API = "/api/v1/dashboard"
ENDPOINTS = ("metrics", "volume", "sla", "workload", "trends")
OPEN = {"open", "in_progress", "escalated"}
RESOLVED = {"resolved", "closed"}
# category, status, ward (index or None), team (key or None), created (hours ago), response and resolution
# deadlines (hours from now, None = not set), responded and resolved (hours ago, None = not yet)
SPECS = [
    ("water", "open", 0, "water", 50, -40, 10, None, None),
    ("water", "open", 0, "water", 5, 3, 30, None, None),
    ("roads", "in_progress", 1, "roads", 80, -70, -8, 75, None),
    ("roads", "escalated", 0, "roads", 200, -190, -100, 150, None),
    ("electricity", "resolved", None, None, 100, -90, -20, 95, 30),
    ("electricity", "closed", 1, None, 300, -290, -250, 280, 240),
    ("waste", "resolved", 0, "water", 30, None, 5, 28, 10),
    ("sanitation", "open", None, None, 2, None, None, None, None),
    ("other", "in_progress", 1, "roads", 20, -15, 100, 16, None),
    ("water", "escalated", 1, "water", 400, -390, -300, None, None),
    ("water", "closed", 0, "water", 500, -490, -400, 495, 450),
    ("roads", "open", 0, None, 1.5, 2, 20, None, None),
    ("electricity", "in_progress", None, None, 60, -50, -2, 55, None),
    ("waste", "open", 1, None, 10, -5, None, None, None),
    ("water", "resolved", 1, "water", 70, -60, -10, 65, 5),
    ("water", "open", 0, "retired", 26, -20, 30, None, None),
    ("roads", "closed", 0, "roads", 130, 20, 40, 129, 128),
    ("sanitation", "open", 1, None, 0.5, 0.05, 0.06, None, None),  # deadlines minutes ahead: the current hour
]
GBV = [("open", -30, -5, None, None), ("closed", -80, -60, 90, 50), ("in_progress", 5, 40, 2, None)]


def _at(now: datetime, hours: float | None) -> datetime | None:
    return None if hours is None else now + timedelta(hours=hours)


async def _dataset(client, factory, world, other):
    """The SPECS tickets, GBV reports on the SAPS desk, another municipality's tickets, and two
    reports made through the API under a policy of about a second, left to breach it."""
    now = datetime.now(UTC).replace(microsecond=0)
    world.teams["retired"] = await factory.team(world.municipality, "water", is_active=False, name="Retired crew")
    for cat, status, ward, team, created, resp, res, responded, resolved in SPECS:
        await factory.ticket(
            world.municipality,
            category=cat,
            status=status,
            ward_id=world.wards[ward].id if ward is not None else None,
            assigned_team_id=world.teams[team].id if team else None,
            created_at=_at(now, -created),
            sla_response_deadline=_at(now, resp),
            sla_resolution_deadline=_at(now, res),
            first_responded_at=_at(now, -responded if responded else None),
            resolved_at=_at(now, -resolved if resolved else None),
            closed_at=_at(now, -resolved + 0.5) if status == "closed" else None,
        )
    for status, resp, res, responded, resolved in GBV:
        await factory.ticket(
            world.municipality,
            category="gbv",
            status=status,
            ward_id=world.ward.id,
            assigned_team_id=world.teams["gbv"].id,
            created_at=_at(now, -100),
            sla_response_deadline=_at(now, resp),
            sla_resolution_deadline=_at(now, res),
            first_responded_at=_at(now, -responded if responded else None),
            resolved_at=_at(now, -resolved if resolved else None),
            closed_at=_at(now, -1) if status == "closed" else None,
        )
    for cat in ("water", "roads"):
        await factory.ticket(
            other.municipality,
            category=cat,
            status="open",
            created_at=_at(now, -3),
            sla_response_deadline=_at(now, -2),
            sla_resolution_deadline=_at(now, -1),
        )
    await factory.sla(world.municipality, None, None, 0.0003, 0.0006)  # about one and two seconds
    made = []
    for ward in (world.wards[0], world.wards[1]):
        r = await client.post(
            "/api/v1/tickets",
            json={"category": "water", "description": "Burst pipe", "ward_id": str(ward.id)},
            headers=world.citizen.headers,
        )
        assert r.status_code == 201, r.text
        made.append(r.json())
    await asyncio.sleep(2.5)
    r = await client.patch(
        f"/api/v1/tickets/{made[0]['id']}/status", json={"status": "in_progress"}, headers=world.manager.headers
    )
    assert r.status_code == 200, r.text


async def _rows(db, municipality) -> list[Ticket]:
    async with db.system_session() as s:
        return list((await s.scalars(select(Ticket).where(Ticket.municipality_id == municipality.id))).all())


def _round(value: Decimal, places: str) -> float:
    return float(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _percent(total: int, breaches: int) -> float | None:
    return None if total == 0 else _round(Decimal(100 * (total - breaches)) / Decimal(total), "0.1")


def _expected(rows: list[Ticket], teams: list, now: datetime) -> dict:
    """Every figure, straight from the dashboard's definitions."""
    rows = [r for r in rows if not r.is_sensitive]
    both = [r for r in rows if r.sla_response_deadline and r.sla_resolution_deadline]
    response_late = [
        r
        for r in both
        if (r.first_responded_at and r.first_responded_at > r.sla_response_deadline)
        or (r.first_responded_at is None and now > r.sla_response_deadline)
    ]
    resolution_late = [
        r
        for r in both
        if (r.resolved_at and r.resolved_at > r.sla_resolution_deadline)
        or (r.resolved_at is None and now > r.sla_resolution_deadline)
    ]
    responded = [r for r in rows if r.first_responded_at]
    micro = sum((r.first_responded_at - r.created_at) // timedelta(microseconds=1) for r in responded)
    workload = {
        str(t.id): {
            "team_id": str(t.id),
            "team_name": t.name,
            "open_count": sum(1 for r in rows if r.assigned_team_id == t.id and r.status in OPEN),
            "total_count": sum(1 for r in rows if r.assigned_team_id == t.id),
        }
        for t in teams
        if t.is_active and not t.is_saps
    }
    return {
        "metrics": {
            "total_open": sum(1 for r in rows if r.status in OPEN),
            "total_resolved": sum(1 for r in rows if r.status in RESOLVED),
            "sla_compliance_percent": _percent(len(both), len(resolution_late)),
            "avg_response_hours": _round(Decimal(micro) / len(responded) / Decimal(3_600_000_000), "0.01")
            if responded
            else None,
            "sla_breaches": sum(
                1 for r in rows if r.status in OPEN and r.sla_resolution_deadline and now > r.sla_resolution_deadline
            ),
            "reopened": 0,  # reopening: tests/api/test_reopen.py
        },
        "volume": [
            {
                "category": c.value,
                "open": sum(1 for r in rows if r.category == c.value and r.status in OPEN),
                "resolved": sum(1 for r in rows if r.category == c.value and r.status in RESOLVED),
            }
            for c in SERVICE_CATEGORIES
        ],
        "sla": {
            "response_compliance_percent": _percent(len(both), len(response_late)),
            "resolution_compliance_percent": _percent(len(both), len(resolution_late)),
            "total_with_sla": len(both),
            "response_breaches": len(response_late),
            "resolution_breaches": len(resolution_late),
        },
        "workload": workload,
    }


async def _check(client, actor, params, rows, teams):
    now = datetime.now(UTC)
    want = _expected(rows, teams, now)
    for name in ("metrics", "volume", "sla", "workload"):
        r = await client.get(f"{API}/{name}", params=params, headers=actor.headers)
        assert r.status_code == 200, (name, r.text)
        got = r.json()
        if name == "workload":
            opens = [t["open_count"] for t in got]
            assert opens == sorted(opens, reverse=True), "most open first"
            assert {t["team_id"]: t for t in got} == want["workload"] and len(got) == len(want["workload"])
        else:
            assert got == want[name], (name, params)
    return want


def _scenarios(world):
    now = datetime.now(UTC)
    ward0, ward1 = world.wards[0].id, world.wards[1].id
    local = ZoneInfo("Africa/Johannesburg")
    start, end = now - timedelta(hours=210), now - timedelta(hours=8)
    naive_start = start.astimezone(local).replace(tzinfo=None)  # no offset: the municipality's time
    return [
        ("manager, everything", world.manager, {}, lambda r: True),
        ("admin, everything", world.admin, {}, lambda r: True),
        ("manager, one ward", world.manager, {"ward_id": str(ward1)}, lambda r: r.ward_id == ward1),
        ("councillor", world.ward_councillor, {}, lambda r: r.ward_id == ward0),
        ("councillor naming their ward", world.ward_councillor, {"ward_id": str(ward0)}, lambda r: r.ward_id == ward0),
        (
            "manager, created range",
            world.manager,
            {"created_from": start.isoformat(), "created_to": end.isoformat()},
            lambda r: start <= r.created_at < end,
        ),
        (
            "manager, ward and local range",
            world.manager,
            {"ward_id": str(ward0), "created_from": naive_start.isoformat()},
            lambda r: r.ward_id == ward0 and r.created_at >= start,
        ),
        (
            "councillor, created range",
            world.ward_councillor,
            {"created_to": end.isoformat()},
            lambda r: r.ward_id == ward0 and r.created_at < end,
        ),
    ]


async def test_every_figure_matches_the_tickets_for_every_viewer(client, factory, world, other, db):
    await _dataset(client, factory, world, other)
    rows = await _rows(db, world.municipality)
    teams = list(world.teams.values())
    for label, actor, params, keep in _scenarios(world):
        want = await _check(client, actor, params, [r for r in rows if keep(r)], teams)
        assert want["metrics"]["total_open"] or "range" in label, label
    # the data really exercises every definition
    full = _expected(rows, teams, datetime.now(UTC))
    assert full["sla"]["response_breaches"] >= 6 and full["sla"]["resolution_breaches"] >= 6
    assert full["metrics"]["sla_breaches"] >= 4 and full["metrics"]["avg_response_hours"] is not None
    assert full["workload"][str(world.teams["roads"].id)]["open_count"] == 3


async def test_gbv_saps_and_other_municipalities_change_nothing(client, factory, world, other, db):
    await _dataset(client, factory, world, other)
    rows = await _rows(db, world.municipality)
    before = {n: (await client.get(f"{API}/{n}", headers=world.manager.headers)).json() for n in ENDPOINTS}
    assert str(world.teams["gbv"].id) not in {t["team_id"] for t in before["workload"]}
    assert str(world.teams["retired"].id) not in {t["team_id"] for t in before["workload"]}
    for _ in range(3):
        await factory.ticket(
            world.municipality,
            category="gbv",
            status="escalated",
            assigned_team_id=world.teams["gbv"].id,
            sla_response_deadline=datetime.now(UTC) - timedelta(hours=5),
            sla_resolution_deadline=datetime.now(UTC) - timedelta(hours=1),
        )
        await factory.ticket(
            other.municipality, category="water", status="open", assigned_team_id=other.teams["water"].id
        )
    after = {n: (await client.get(f"{API}/{n}", headers=world.manager.headers)).json() for n in ENDPOINTS}
    assert after == before
    assert any(r.is_sensitive for r in rows)


async def test_direct_sql_changes_keep_every_figure_exact(client, factory, world, other, db):
    await _dataset(client, factory, world, other)
    async with db.system_session() as s:
        await s.execute(
            text(
                "UPDATE tickets SET status = 'resolved', resolved_at = now(), first_responded_at = coalesce(first_responded_at, now())"
                " WHERE municipality_id = :m AND status IN ('open', 'escalated') AND category IN ('water', 'gbv')"
            ),
            {"m": world.municipality.id},
        )
        await s.execute(
            text(
                "UPDATE tickets SET status = 'open', resolved_at = NULL, closed_at = NULL"
                " WHERE municipality_id = :m AND status = 'closed'"
            ),
            {"m": world.municipality.id},
        )
        await s.execute(
            text(
                "UPDATE tickets SET ward_id = :w, category = 'waste' WHERE municipality_id = :m AND category = 'roads'"
            ),
            {"m": world.municipality.id, "w": world.wards[1].id},
        )
        assert (await s.execute(text("SELECT count(*) FROM ticket_tallies_drift()"))).scalar_one() == 0
    rows = await _rows(db, world.municipality)
    teams = list(world.teams.values())
    for _, actor, params, keep in _scenarios(world)[:4]:
        await _check(client, actor, params, [r for r in rows if keep(r)], teams)


def _trend(rows, tz: str, days: int, keep=lambda r: True) -> list[dict]:
    zone = ZoneInfo(tz)
    today = datetime.now(UTC).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        visible = [r for r in rows if not r.is_sensitive and keep(r)]
        out.append(
            {
                "date": day.isoformat(),
                "created": sum(1 for r in visible if r.created_at.astimezone(zone).date() == day),
                "resolved": sum(1 for r in visible if r.resolved_at and r.resolved_at.astimezone(zone).date() == day),
            }
        )
    return out


@pytest.mark.parametrize("timezone", ["Africa/Johannesburg", "Asia/Kolkata"])
async def test_trends_count_per_local_day_with_zeros(client, factory, db, timezone):
    """Kolkata's half-hour offset cannot use the hour buckets: both ways must give the same days."""
    mun = await factory.municipality(timezone=timezone)
    ward = await factory.ward(mun)
    manager = await factory.user(mun, UserRole.MANAGER)
    councillor = await factory.user(mun, UserRole.WARD_COUNCILLOR, ward_id=ward.id)
    zone = ZoneInfo(timezone)
    today = datetime.now(UTC).astimezone(zone).date()
    for back, minute in ((2, -10), (2, 10), (5, 30), (9, 0), (40, 0)):  # around local midnights, and older
        midnight = datetime.combine(today - timedelta(days=back), datetime.min.time(), zone).astimezone(UTC)
        created = midnight + timedelta(minutes=minute)
        await factory.ticket(
            mun,
            status="resolved",
            created_at=created,
            resolved_at=created + timedelta(hours=30),
            ward_id=ward.id if back != 5 else None,
        )
    await factory.ticket(mun, category="gbv", created_at=datetime.now(UTC) - timedelta(days=1))
    rows = await _rows(db, mun)
    for days in (1, 7, 30):
        r = await client.get(f"{API}/trends", params={"days": days}, headers=manager.headers)
        assert r.status_code == 200 and r.json() == _trend(rows, timezone, days)
    default = (await client.get(f"{API}/trends", headers=councillor.headers)).json()
    assert default == _trend(rows, timezone, 30, lambda r: r.ward_id == ward.id) and len(default) == 30
    assert sum(d["created"] for d in default) == 3


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_refusals(client, world, other, endpoint):
    url = f"{API}/{endpoint}"
    assert (await client.get(url)).status_code == 401
    for role in (UserRole.CITIZEN, UserRole.FIELD_WORKER, UserRole.SAPS_LIAISON):
        r = await client.get(url, headers=world.actors[role].headers)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", role
    for ward in (world.wards[1].id, other.ward.id):
        r = await client.get(url, params={"ward_id": str(ward)}, headers=world.ward_councillor.headers)
        assert r.status_code == 403 and r.json()["code"] == "ward_forbidden"
    bad_inputs = [{"ward_id": "nope"}]
    bad_inputs += (
        [{"days": 0}, {"days": 367}, {"days": "many"}]
        if endpoint == "trends"
        else [{"created_from": "soon"}, {"created_to": "2026-02-30"}]
    )
    for bad in bad_inputs:
        r = await client.get(url, params=bad, headers=world.manager.headers)
        assert r.status_code == 422, (bad, r.text)


async def test_a_ward_of_another_municipality_has_no_tickets(client, factory, world, other):
    await factory.ticket(other.municipality, ward_id=other.ward.id, status="open")
    r = await client.get(f"{API}/metrics", params={"ward_id": str(other.ward.id)}, headers=world.manager.headers)
    assert r.json() == {
        "total_open": 0,
        "total_resolved": 0,
        "sla_compliance_percent": None,
        "avg_response_hours": None,
        "sla_breaches": 0,
        "reopened": 0,
    }
