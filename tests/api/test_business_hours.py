"""Business-hours SLA clocks: deadlines counted in working time, skipping weekends, South African
public holidays (a Sunday holiday observed on the Monday) and the municipality's declared days.

The report's moment is fixed through src.core.timesource; each expected deadline is worked out
by hand in the comment beside it (default hours: Monday-Friday 07:30-16:00, UTC+02:00).
"""

from datetime import datetime, timedelta, timezone

import pytest

from src.core import timesource
from tests.api.admin_helpers import API, NON_ADMINS, NON_READERS, assert_error, headers
from tests.api.ticket_helpers import report

SAST = timezone(timedelta(hours=2))
HOURS, HOLIDAYS = f"{API}/business-hours", f"{API}/holidays"
DEFAULT_WEEK = [
    {"day": d, "opens": "07:30", "closes": "16:00"} for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SAST)


@pytest.fixture
def clock(monkeypatch):
    """Set the moment the next report (or reading) happens."""

    def place(moment: datetime) -> None:
        monkeypatch.setattr(timesource, "current_time", lambda: moment)

    return place


async def policies(client, world, body: list[dict]) -> None:
    r = await client.put(f"{API}/sla-policies", headers=world.admin.headers, json=body)
    assert r.status_code == 200, r.text


def due(ticket: dict) -> tuple[datetime, datetime]:
    return (
        datetime.fromisoformat(ticket["sla_response_deadline"]),
        datetime.fromisoformat(ticket["sla_resolution_deadline"]),
    )


BUSINESS_WATER = [{"category": "water", "response_hours": 4, "resolution_hours": 10, "clock": "business"}]


async def test_a_deadline_skips_the_weekend(client, world, clock):
    await policies(client, world, BUSINESS_WATER)
    clock(at(2026, 6, 5, 14, 0))  # Friday 14:00: 2 h left that day
    t = await report(client, world.citizen, severity="low")
    # response: 2 h Friday + 2 h Monday from 07:30; resolution: 2 h Friday + 8 h Monday from 07:30
    assert due(t) == (at(2026, 6, 8, 9, 30), at(2026, 6, 8, 15, 30))


async def test_a_sunday_public_holiday_is_observed_on_the_monday(client, world, clock):
    await policies(client, world, BUSINESS_WATER)
    clock(at(2026, 8, 7, 15, 0))  # Friday 15:00; Sunday 9 August is Women's Day, Monday 10th observed
    t = await report(client, world.citizen)
    # response: 1 h Friday + 3 h Tuesday 11th; resolution: 1 h Friday + 8.5 h Tuesday + 0.5 h Wednesday
    assert due(t) == (at(2026, 8, 11, 10, 30), at(2026, 8, 12, 8, 0))


async def test_a_declared_day_is_skipped(client, world, clock):
    await policies(client, world, BUSINESS_WATER)
    r = await client.post(
        HOLIDAYS, headers=world.admin.headers, json={"date": "2026-06-08", "name": "Municipal day of mourning"}
    )
    assert r.status_code == 201, r.text
    clock(at(2026, 6, 5, 14, 0))
    t = await report(client, world.citizen)
    # as the weekend case, with Monday 8th off: Tuesday 9th instead
    assert due(t) == (at(2026, 6, 9, 9, 30), at(2026, 6, 9, 15, 30))


async def test_a_report_after_hours_starts_counting_at_the_next_opening(client, world, clock):
    await policies(client, world, BUSINESS_WATER)
    clock(at(2026, 6, 3, 19, 0))  # Wednesday evening
    t = await report(client, world.citizen)
    # Thursday 07:30 + 4 h; 10 h = 8.5 h Thursday + 1.5 h Friday from 07:30
    assert due(t) == (at(2026, 6, 4, 11, 30), at(2026, 6, 5, 9, 0))


async def test_a_deadline_exactly_at_closing_time_is_that_closing_time(client, world, clock):
    await policies(
        client, world, [{"category": "water", "response_hours": 4, "resolution_hours": 12.5, "clock": "business"}]
    )
    clock(at(2026, 6, 4, 12, 0))  # Thursday noon: 4 h to closing; 12.5 h = 4 h + 8.5 h, all of Friday
    t = await report(client, world.citizen)
    assert due(t) == (at(2026, 6, 4, 16, 0), at(2026, 6, 5, 16, 0))


async def test_critical_runs_on_the_wall_clock_by_default(client, world, clock):
    await policies(client, world, [{"severity": "critical", "response_hours": 4, "resolution_hours": 24}])
    r = await client.get(f"{API}/sla-policies", headers=world.manager.headers)
    assert r.json()[0]["clock"] == "24x7"
    clock(at(2026, 6, 5, 14, 0))
    t = await report(client, world.citizen, severity="critical")
    assert due(t) == (at(2026, 6, 5, 18, 0), at(2026, 6, 6, 14, 0))


async def test_without_any_policy_low_severity_runs_on_business_hours(client, world, clock):
    clock(at(2026, 6, 5, 14, 0))
    t = await report(client, world.citizen, severity="low")
    # 24 h = 2 h Friday + 8.5 h Mon 8th + 8.5 h Tue 9th + 5 h Wed 10th; 168 h = 2 + 19 x 8.5 + 4.5
    # working days from Mon 8 June: 19 days (Tue 16 June is Youth Day) end Fri 3 July, then 4.5 h Mon 6 July
    assert due(t) == (at(2026, 6, 10, 12, 30), at(2026, 7, 6, 12, 0))


async def test_gbv_always_runs_on_the_wall_clock(client, world, clock):
    await policies(
        client, world, [{"category": "gbv", "response_hours": 1, "resolution_hours": 24, "clock": "business"}]
    )
    clock(at(2026, 6, 5, 22, 0))  # Friday night
    t = await report(client, world.citizen, category="gbv", description="help")
    assert due(t) == (at(2026, 6, 5, 23, 0), at(2026, 6, 6, 22, 0))


async def test_working_hours_of_the_municipality_apply(client, world, clock):
    week = [{"day": "saturday", "opens": "08:00", "closes": "12:00"}]
    r = await client.put(HOURS, headers=world.admin.headers, json=week)
    assert r.status_code == 200 and r.json() == week
    await policies(client, world, BUSINESS_WATER)
    clock(at(2026, 6, 5, 14, 0))  # Friday: not worked; Saturdays 08:00-12:00 only
    t = await report(client, world.citizen)
    # response: Saturday 6th 08:00-12:00; resolution: 4 + 4 (13th) + 2 (20th) h
    assert due(t) == (at(2026, 6, 6, 12, 0), at(2026, 6, 20, 10, 0))


async def test_the_warning_counts_working_time(client, world, clock):
    await policies(client, world, BUSINESS_WATER)
    clock(at(2026, 6, 5, 14, 0))
    t = await report(client, world.citizen)
    url = f"{API}/tickets/{t['id']}"
    # Sunday 23:00: 84 % of the wall-clock time to Monday 09:30, but 2 of 4 working hours
    clock(at(2026, 6, 7, 23, 0))
    assert (await client.get(url, headers=world.citizen.headers)).json()["sla_status"] == "on_track"
    # Monday 08:50: 3 h 20 min of 4 working hours, past 80 %
    clock(at(2026, 6, 8, 8, 50))
    assert (await client.get(url, headers=world.citizen.headers)).json()["sla_status"] == "warning"
    clock(at(2026, 6, 8, 9, 31))
    assert (await client.get(url, headers=world.citizen.headers)).json()["sla_status"] == "breached_response"


# ---- /business-hours ---------------------------------------------------------------------


async def test_business_hours_refuse_anonymous_and_other_roles(client, world):
    assert_error(await client.get(HOURS), 401, "invalid_token")
    assert_error(await client.put(HOURS, json=DEFAULT_WEEK), 401, "invalid_token")
    for role in NON_READERS:
        assert_error(await client.get(HOURS, headers=headers(world, role)), 403, "forbidden")
    for role in NON_ADMINS:
        assert_error(await client.put(HOURS, headers=headers(world, role), json=DEFAULT_WEEK), 403, "forbidden")


async def test_business_hours_default_then_replaced_per_municipality(client, world, other):
    r = await client.get(HOURS, headers=world.manager.headers)
    assert r.status_code == 200 and r.json() == DEFAULT_WEEK
    week = [
        {"day": "tuesday", "opens": "08:00", "closes": "17:30"},
        {"day": "monday", "opens": "06:00", "closes": "14:00"},
    ]
    r = await client.put(HOURS, headers=world.admin.headers, json=week)
    assert r.status_code == 200
    assert r.json() == [week[1], week[0]]
    assert (await client.get(HOURS, headers=world.admin.headers)).json() == [week[1], week[0]]
    assert (await client.get(HOURS, headers=other.admin.headers)).json() == DEFAULT_WEEK


@pytest.mark.parametrize(
    "body",
    [
        [],
        [{"day": "monday", "opens": "16:00", "closes": "07:30"}],
        [{"day": "monday", "opens": "08:00", "closes": "08:00"}],
        [
            {"day": "monday", "opens": "08:00", "closes": "12:00"},
            {"day": "monday", "opens": "13:00", "closes": "15:00"},
        ],
        [{"day": "funday", "opens": "08:00", "closes": "12:00"}],
        [{"day": "monday", "opens": "25:00", "closes": "26:00"}],
        [{"day": "monday", "opens": "08:00:30", "closes": "12:00"}],
        [{"day": "monday", "opens": "08:00", "closes": "12:00", "lunch": "12:00"}],
        {"day": "monday"},
    ],
)
async def test_bad_business_hours_are_refused_and_change_nothing(client, world, body):
    r = await client.put(HOURS, headers=world.admin.headers, json=body)
    assert r.status_code == 422, r.text
    assert (await client.get(HOURS, headers=world.admin.headers)).json() == DEFAULT_WEEK


# ---- /holidays ---------------------------------------------------------------------------


async def test_holidays_refuse_anonymous_and_other_roles(client, world):
    body = {"date": "2026-06-08", "name": "Day off"}
    assert_error(await client.get(HOLIDAYS), 401, "invalid_token")
    assert_error(await client.post(HOLIDAYS, json=body), 401, "invalid_token")
    assert_error(await client.delete(f"{HOLIDAYS}/2026-06-08"), 401, "invalid_token")
    for role in NON_READERS:
        assert_error(await client.get(HOLIDAYS, headers=headers(world, role)), 403, "forbidden")
    for role in NON_ADMINS:
        assert_error(await client.post(HOLIDAYS, headers=headers(world, role), json=body), 403, "forbidden")
        assert_error(await client.delete(f"{HOLIDAYS}/2026-06-08", headers=headers(world, role)), 403, "forbidden")


async def test_declare_list_and_remove_a_holiday(client, world, other):
    r = await client.post(
        HOLIDAYS, headers=world.admin.headers, json={"date": "2026-06-08", "name": "  Day of mourning "}
    )
    assert r.status_code == 201 and r.json() == {"date": "2026-06-08", "name": "Day of mourning"}
    await client.post(HOLIDAYS, headers=world.admin.headers, json={"date": "2026-01-02", "name": "Bridge day"})
    r = await client.get(HOLIDAYS, headers=world.manager.headers)
    assert r.json() == [{"date": "2026-01-02", "name": "Bridge day"}, {"date": "2026-06-08", "name": "Day of mourning"}]
    assert (await client.get(HOLIDAYS, headers=other.admin.headers)).json() == []
    # another municipality cannot remove it: 404, and it stays
    assert_error(await client.delete(f"{HOLIDAYS}/2026-06-08", headers=other.admin.headers), 404, "not_found")
    assert_error(
        await client.post(HOLIDAYS, headers=world.admin.headers, json={"date": "2026-06-08", "name": "Again"}),
        409,
        "holiday_exists",
    )
    r = await client.delete(f"{HOLIDAYS}/2026-06-08", headers=world.admin.headers)
    assert r.status_code == 204
    assert (await client.get(HOLIDAYS, headers=world.admin.headers)).json() == [
        {"date": "2026-01-02", "name": "Bridge day"}
    ]
    assert_error(await client.delete(f"{HOLIDAYS}/2026-06-08", headers=world.admin.headers), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2026-02-30", "name": "No such day"},
        {"date": "tomorrow", "name": "Vague"},
        {"date": "2026-06-08", "name": "   "},
        {"date": "2026-06-08", "name": "x" * 201},
        {"date": "2026-06-08"},
        {"date": "2026-06-08", "name": "Day", "extra": 1},
    ],
)
async def test_bad_holidays_are_refused_and_change_nothing(client, world, body):
    assert (await client.post(HOLIDAYS, headers=world.admin.headers, json=body)).status_code == 422
    assert (await client.get(HOLIDAYS, headers=world.admin.headers)).json() == []
    assert (await client.delete(f"{HOLIDAYS}/not-a-date", headers=world.admin.headers)).status_code == 422


async def test_the_ticket_list_page_measures_the_warning_on_the_same_clock(client, world, clock):
    from tests.web.helpers import sign_in

    await policies(client, world, BUSINESS_WATER)
    clock(at(2026, 6, 5, 14, 0))
    await report(client, world.citizen)
    sign_in(client, world.manager)
    clock(at(2026, 6, 7, 23, 0))  # Sunday night: half the working time used, 84 % of the wall clock
    page = await client.get("/tickets")
    assert '<span class="sla sla-on_track">On track</span>' in page.text
    clock(at(2026, 6, 8, 8, 50))
    page = await client.get("/tickets")
    assert '<span class="sla sla-warning">At risk</span>' in page.text
