"""The dashboard page: its figures are the API's, its charts render, its ward rules hold."""

import re
from datetime import UTC, datetime, timedelta

from tests.web.helpers import sign_in

FIELDS = ("total_open", "total_resolved", "sla_compliance_percent", "avg_response_hours", "sla_breaches")


def metric(html: str, field: str) -> str:
    match = re.search(rf'<span data-testid="metric-{field}">(.*?)</span>(?:<span class="unit">|</p>)', html)
    assert match, field
    return re.sub(r"<[^>]+>", "", match.group(1))  # the text a browser reads: the digits alone


async def backlog(factory, world):
    """Thirty tickets over both wards: some resolved, some late, every figure non-trivial."""
    now = datetime.now(UTC)
    for i in range(30):
        resolved = i % 4 == 0
        await factory.ticket(
            world.municipality,
            ward_id=world.wards[i % 2].id,
            assigned_team_id=world.teams["water"].id,
            status="resolved" if resolved else "open",
            created_at=now - timedelta(hours=50),
            first_responded_at=now - timedelta(hours=49 - i % 3),
            resolved_at=now - timedelta(hours=1) if resolved else None,
            sla_response_deadline=now - timedelta(hours=46),
            sla_resolution_deadline=now - timedelta(hours=2) if i % 5 == 0 else now + timedelta(hours=20),
        )


async def test_every_card_shows_the_apis_figure(client, factory, world):
    await backlog(factory, world)
    sign_in(client, world.manager)
    api = (await client.get("/api/v1/dashboard/metrics", headers=world.manager.headers)).json()
    r = await client.get("/dashboard")
    assert r.status_code == 200
    for field in FIELDS:
        assert metric(r.text, field) == ("–" if api[field] is None else str(api[field])), field
    for chart in ("chart-volume", "chart-sla", "chart-workload", "chart-trend"):
        assert f'<svg class="chart" id="{chart}"' in r.text
    assert 'data-events-url="/api/v1/dashboard/events"' in r.text
    assert "SAPS GBV desk" not in r.text  # SAPS teams are never on the dashboard


def test_large_figures_read_as_numbers_and_show_grouped():
    from src.web.formatting import grouped_digits, sa_int

    assert str(grouped_digits(1234567)) == '1<span class="grp">234</span><span class="grp">567</span>'
    assert str(grouped_digits(87.5)) == "87.5" and str(grouped_digits(12345.25)) == '12<span class="grp">345</span>.25'
    assert sa_int(1234) == "1 234" and sa_int(999) == "999" and sa_int(1234567) == "1 234 567"


async def test_a_manager_picks_a_ward_and_gets_that_wards_figures(client, factory, world):
    await backlog(factory, world)
    sign_in(client, world.manager)
    ward = world.wards[1]
    api = (await client.get(f"/api/v1/dashboard/metrics?ward_id={ward.id}", headers=world.manager.headers)).json()
    r = await client.get(f"/dashboard?ward_id={ward.id}")
    for field in FIELDS:
        assert metric(r.text, field) == ("–" if api[field] is None else str(api[field]))
    assert f'<option value="{ward.id}" selected>' in r.text
    assert f'data-events-url="/api/v1/dashboard/events?ward_id={ward.id}"' in r.text
    fragment = await client.get(f"/fragments/dashboard?ward_id={ward.id}")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert metric(fragment.text, "total_open") == str(api["total_open"])


async def test_a_councillor_sees_their_ward_named_and_no_selector(client, factory, world):
    await backlog(factory, world)
    sign_in(client, world.ward_councillor)
    api = (await client.get("/api/v1/dashboard/metrics", headers=world.ward_councillor.headers)).json()
    r = await client.get("/dashboard")
    assert metric(r.text, "total_open") == str(api["total_open"])
    assert 'data-testid="ward-fixed"' in r.text and world.ward.code in r.text
    assert '<select id="ward"' not in r.text
    assert (await client.get(f"/dashboard?ward_id={world.ward.id}")).status_code == 200


async def test_an_unknown_or_malformed_ward_is_a_page_not_a_crash(client, world, other):
    sign_in(client, world.manager)
    assert (await client.get(f"/dashboard?ward_id={other.ward.id}")).status_code == 404
    assert (await client.get("/dashboard?ward_id=nope")).status_code == 422


async def test_an_empty_municipality_shows_zeros_and_no_data(client, world):
    sign_in(client, world.admin)
    r = await client.get("/dashboard")
    assert metric(r.text, "total_open") == "0"
    assert metric(r.text, "sla_compliance_percent") == "–"
    assert "No tickets with deadlines yet" in r.text


async def test_a_period_narrows_the_figures_to_tickets_reported_in_it(client, factory, world):
    """From and To are whole local days; the figures are the API's for that created range."""
    await backlog(factory, world)
    now = datetime.now(UTC)
    for days in (3, 10):  # older reports, outside a period of the last two days
        await factory.ticket(
            world.municipality, ward_id=world.ward.id, status="open", created_at=now - timedelta(days=days)
        )
    sign_in(client, world.manager)
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo("Africa/Johannesburg")).date()
    first, last = today - timedelta(days=4), today
    api = (
        await client.get(
            "/api/v1/dashboard/metrics",
            headers=world.manager.headers,
            params={"created_from": f"{first}T00:00:00", "created_to": f"{last + timedelta(days=1)}T00:00:00"},
        )
    ).json()
    everything = (await client.get("/api/v1/dashboard/metrics", headers=world.manager.headers)).json()
    assert api["total_open"] == everything["total_open"] - 1  # the ten-day-old report is left out
    r = await client.get(f"/dashboard?created_from={first}&created_to={last}")
    assert r.status_code == 200
    for field in FIELDS:
        assert metric(r.text, field) == ("–" if api[field] is None else str(api[field])), field
    assert f'value="{first}"' in r.text and f'value="{last}"' in r.text
    assert 'data-testid="dashboard-period"' in r.text
    assert f'data-fragment-url="/fragments/dashboard?created_from={first}&amp;created_to={last}"' in r.text
    assert 'data-events-url="/api/v1/dashboard/events"' in r.text  # live events are per ward, never per period
    fragment = await client.get(f"/fragments/dashboard?created_to={last}")
    assert metric(fragment.text, "total_open") == str(everything["total_open"])


async def test_a_councillor_may_choose_a_period_for_their_ward(client, factory, world):
    await backlog(factory, world)
    sign_in(client, world.ward_councillor)
    r = await client.get("/dashboard?created_from=2000-01-01")
    api = (await client.get("/api/v1/dashboard/metrics", headers=world.ward_councillor.headers)).json()
    assert r.status_code == 200 and metric(r.text, "total_open") == str(api["total_open"])
    assert 'id="period-from"' in r.text and '<select id="ward"' not in r.text


async def test_a_bad_period_is_a_page_not_a_crash(client, world):
    sign_in(client, world.manager)
    for query in (
        "created_from=yesterday",
        "created_to=2026-02-30",
        "created_from=20261101",
        "created_to=9999-12-31",
        "created_from=2026-11-20&created_to=2026-11-01",
    ):
        r = await client.get(f"/dashboard?{query}")
        assert r.status_code == 422, query
        assert (await client.get(f"/fragments/dashboard?{query}")).status_code == 422
    r = await client.get("/dashboard?created_from=2026-11-20&created_to=2026-11-01")
    assert "The period ends before it starts." in r.text
