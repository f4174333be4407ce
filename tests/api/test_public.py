"""The public API: no sign-in, aggregate figures only, GBV only as one platform-wide count."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from src.models import Municipality
from tests.api.open311_helpers import _fresh_public_cache  # noqa: F401

API = "/api/v1/public"
NOW = datetime.now(UTC)


async def deactivate(db, mun) -> None:
    async with db.system_session() as s:
        await s.execute(update(Municipality).where(Municipality.id == mun.id).values(is_active=False))


async def test_municipalities_lists_the_active_ones_without_sign_in(client, factory, db):
    a = await factory.municipality("AAA")
    b = await factory.municipality("BBB")
    idle = await factory.municipality("ZZZ")
    await deactivate(db, idle)
    r = await client.get(f"{API}/municipalities")
    assert r.status_code == 200
    assert r.json() == [
        {"code": "AAA", "name": a.name, "province": "Gauteng"},
        {"code": "BBB", "name": b.name, "province": "Gauteng"},
    ]


async def test_summary_counts_every_active_municipality_and_gbv_once(client, factory, world, other, db):
    idle = await factory.municipality()
    for mun, status in (
        (world.municipality, "open"),
        (world.municipality, "resolved"),
        (other.municipality, "closed"),
        (other.municipality, "in_progress"),
    ):
        await factory.ticket(
            mun,
            status=status,
            resolved_at=NOW if status in ("resolved", "closed") else None,
            closed_at=NOW if status == "closed" else None,
        )
    await factory.ticket(world.municipality, category="gbv")
    await factory.ticket(other.municipality, category="gbv", status="resolved", resolved_at=NOW)
    await factory.ticket(idle, category="water")
    await deactivate(db, idle)
    r = await client.get(f"{API}/summary")
    assert r.status_code == 200
    assert r.json() == {
        "municipalities": 2,
        "tickets_total": 4,
        "tickets_resolved": 2,
        "resolution_rate_percent": 50.0,
        "gbv_reports_total": 2,
    }


async def test_summary_of_an_empty_platform(client, db):
    r = await client.get(f"{API}/summary")
    assert r.json() == {
        "municipalities": 0,
        "tickets_total": 0,
        "tickets_resolved": 0,
        "resolution_rate_percent": None,
        "gbv_reports_total": 0,
    }


def month_label(back: int) -> str:
    local = NOW.astimezone(ZoneInfo("Africa/Johannesburg"))
    index = local.year * 12 + local.month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


async def test_stats_over_the_last_months(client, factory, world, other):
    mun = world.municipality
    local_now = NOW.astimezone(ZoneInfo("Africa/Johannesburg"))
    this_month = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    recent = max(this_month + timedelta(minutes=30), NOW - timedelta(hours=5))
    recent = min(recent, NOW - timedelta(minutes=1))
    # Responded after 2 h, 4 h, 10 h; resolved in time, late, not yet (deadline passed), not yet (ahead).
    await factory.ticket(
        mun,
        category="water",
        created_at=recent,
        first_responded_at=recent + timedelta(hours=2),
        status="resolved",
        resolved_at=recent + timedelta(minutes=50) if recent + timedelta(minutes=50) < NOW else NOW,
        sla_response_deadline=recent + timedelta(hours=1),
        sla_resolution_deadline=recent + timedelta(days=3),
    )
    old = this_month - timedelta(days=20)
    await factory.ticket(
        mun,
        category="roads",
        created_at=old,
        first_responded_at=old + timedelta(hours=4),
        status="closed",
        resolved_at=old + timedelta(days=5),
        closed_at=old + timedelta(days=6),
        sla_response_deadline=old + timedelta(hours=8),
        sla_resolution_deadline=old + timedelta(days=2),
    )
    await factory.ticket(
        mun,
        category="roads",
        created_at=old,
        first_responded_at=old + timedelta(hours=10),
        status="in_progress",
        sla_response_deadline=old + timedelta(hours=8),
        sla_resolution_deadline=old + timedelta(days=2),
    )
    await factory.ticket(mun, category="other", created_at=old, status="open")
    # Outside the window, GBV, another municipality: none of them count.
    await factory.ticket(mun, category="water", created_at=this_month - timedelta(days=200))
    await factory.ticket(mun, category="gbv", created_at=old, first_responded_at=old + timedelta(hours=100))
    await factory.ticket(other.municipality, category="water", created_at=old)

    r = await client.get(f"{API}/municipalities/{mun.code.lower()}/stats", params={"months": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["median_response_hours"] == 4.0
    assert body["resolution_rate_percent"] == 50.0
    assert body["sla_compliance_percent"] == 33.3  # 3 with deadlines, 2 breached (late, overdue)
    assert body["by_category"] == [
        {"category": "water", "total": 1, "resolved": 1},
        {"category": "roads", "total": 2, "resolved": 1},
        {"category": "electricity", "total": 0, "resolved": 0},
        {"category": "waste", "total": 0, "resolved": 0},
        {"category": "sanitation", "total": 0, "resolved": 0},
        {"category": "other", "total": 1, "resolved": 0},
    ]
    monthly = body["monthly"]
    assert [m["month"] for m in monthly] == [month_label(1), month_label(0)]
    assert monthly[1]["created"] == 1 and monthly[1]["resolved"] == 1
    assert monthly[0]["created"] == 3
    default = (await client.get(f"{API}/municipalities/{mun.code}/stats")).json()
    assert [m["month"] for m in default["monthly"]] == [month_label(b) for b in range(5, -1, -1)]
    assert default["monthly"][0] == {"month": month_label(5), "created": 0, "resolved": 0}


async def test_stats_of_a_municipality_without_tickets(client, world):
    body = (await client.get(f"{API}/municipalities/{world.municipality.code}/stats", params={"months": 1})).json()
    assert body["median_response_hours"] is None and body["resolution_rate_percent"] is None
    assert body["sla_compliance_percent"] is None
    assert [c["total"] for c in body["by_category"]] == [0] * 6
    assert body["monthly"] == [{"month": month_label(0), "created": 0, "resolved": 0}]


@pytest.mark.parametrize("months", ["0", "25", "x", "-1"])
async def test_months_out_of_range_is_422(client, world, months):
    r = await client.get(f"{API}/municipalities/{world.municipality.code}/stats", params={"months": months})
    assert r.status_code == 422


@pytest.mark.parametrize("figure", ["stats", "heatmap", "wards"])
async def test_unknown_or_inactive_municipality_is_404(client, factory, db, figure):
    idle = await factory.municipality()
    await deactivate(db, idle)
    for code in ("NOPE", idle.code, "x", "a" * 40, "%25", "TS_H"):
        r = await client.get(f"{API}/municipalities/{code}/{figure}")
        assert r.status_code == 404, code
        assert r.json() == {"detail": "Municipality not found.", "code": "not_found"}


async def test_heatmap_shows_only_cells_of_at_least_five_tickets(client, factory, world):
    mun = world.municipality
    for i in range(5):  # five in one cell
        await factory.ticket(mun, latitude=-25.9501 - i * 0.0001, longitude=28.0501, created_at=NOW - timedelta(days=i))
    for i in range(4):  # four in another: hidden
        await factory.ticket(mun, latitude=-25.90, longitude=28.20, created_at=NOW - timedelta(days=i))
    await factory.ticket(mun, latitude=-25.9502, longitude=28.0502, created_at=NOW - timedelta(days=400))  # too old
    await factory.ticket(mun, category="gbv", latitude=-25.9502, longitude=28.0502)
    r = await client.get(f"{API}/municipalities/{mun.code}/heatmap")
    assert r.status_code == 200
    cells = r.json()
    assert len(cells) == 1 and cells[0]["count"] == 5
    assert abs(cells[0]["lat"] - (-25.9501)) < 0.0045 and abs(cells[0]["lng"] - 28.0501) < 0.005
    # The centre of its cell, not any ticket's position.
    assert cells[0]["lat"] == round((-25.9501 // 0.0045 + 0.5) * 0.0045, 5)


async def test_wards_are_geojson_with_counts_over_twelve_months(client, factory, world):
    mun = world.municipality
    w1, w2 = world.wards
    await factory.ticket(mun, ward_id=w1.id, status="open")
    await factory.ticket(
        mun, ward_id=w1.id, status="resolved", created_at=NOW - timedelta(days=4), resolved_at=NOW - timedelta(days=2)
    )
    await factory.ticket(
        mun,
        ward_id=w1.id,
        status="closed",
        created_at=NOW - timedelta(days=10),
        resolved_at=NOW - timedelta(days=6),
        closed_at=NOW - timedelta(days=5),
    )
    await factory.ticket(
        mun,
        ward_id=w1.id,
        status="resolved",
        created_at=NOW - timedelta(days=500),
        resolved_at=NOW - timedelta(days=400),
    )
    await factory.ticket(mun, ward_id=w1.id, category="gbv")
    r = await client.get(f"{API}/municipalities/{mun.code}/wards")
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["features"] == [
        {
            "type": "Feature",
            "geometry": w1.boundary,
            "properties": {"code": w1.code, "name": w1.name, "open": 1, "resolved": 2, "median_resolution_days": 3.0},
        },
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"code": w2.code, "name": w2.name, "open": 0, "resolved": 0, "median_resolution_days": None},
        },
    ]


async def test_answers_are_cached_for_up_to_a_minute(client, factory, world):
    before = (await client.get(f"{API}/summary")).json()["tickets_total"]
    await factory.ticket(world.municipality)
    assert (await client.get(f"{API}/summary")).json()["tickets_total"] == before
    from src.services import public_cache

    public_cache.clear()
    assert (await client.get(f"{API}/summary")).json()["tickets_total"] == before + 1
