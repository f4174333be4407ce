"""The pages in a real browser, through the labels, roles, test ids and texts the pages promise."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.async_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

METRICS = ("total_open", "total_resolved", "sla_compliance_percent", "avg_response_hours", "sla_breaches")


async def some_tickets(factory, world):
    """A small, varied backlog: open and resolved, on time and late, in both wards, plus GBV."""
    now = datetime.now(UTC)
    made = []
    for i in range(12):
        ward = world.wards[i % 2]
        category = ("water", "roads", "electricity", "waste")[i % 4]
        resolved = i % 3 == 0
        made.append(
            await factory.ticket(
                world.municipality,
                category=category,
                description=f"{category.title()} problem number {i}" + (" near the clinic" if i == 5 else ""),
                severity=("low", "medium", "high", "critical")[i % 4],
                status="resolved" if resolved else ("open", "in_progress")[i % 2],
                ward_id=ward.id,
                assigned_team_id=world.teams[category].id,
                created_at=now - timedelta(days=i, hours=2),
                first_responded_at=now - timedelta(days=i, hours=1) if i % 2 else None,
                resolved_at=now - timedelta(days=i) if resolved else None,
                sla_response_deadline=now - timedelta(days=i) + timedelta(hours=4 if i % 4 else -1),
                sla_resolution_deadline=now - timedelta(days=i) + timedelta(days=2),
            )
        )
    await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    return made


async def test_each_role_lands_on_its_start_page(page, world):
    await sign_in(page, world.field_worker, PASSWORD)
    await expect(page).to_have_url(re.compile(r"/tickets$"))
    await expect(page.get_by_role("heading", name="Tickets", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await sign_in(page, world.citizen, PASSWORD)
    await expect(page).to_have_url(re.compile(r"/reports$"))
    await expect(page.get_by_role("heading", name="Report a problem")).to_be_visible()


async def test_a_wrong_password_is_explained(page, world):
    await page.goto("/login")
    await page.get_by_label("Email").fill(world.manager.user.email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")


async def test_a_saps_liaison_is_refused_the_dashboard(page, world):
    await sign_in(page, world.saps_liaison, PASSWORD)
    await expect(page).to_have_url(re.compile(r"/tickets$"))
    response = await page.goto("/dashboard")
    assert response.status == 403
    await expect(page.get_by_role("heading", name="Not available to your role")).to_be_visible()
    await expect(page.get_by_test_id("metric-total_open")).to_have_count(0)


async def test_the_dashboard_figures_match_the_api(page, api, factory, world):
    await some_tickets(factory, world)
    await sign_in(page, world.manager, PASSWORD)
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    figures = (await api.get("/dashboard/metrics", headers=world.manager.headers)).json()
    for field in METRICS:
        value = figures[field]
        await expect(page.get_by_test_id(f"metric-{field}")).to_have_text("–" if value is None else str(value))
    for chart in ("chart-volume", "chart-sla", "chart-workload", "chart-trend"):
        await expect(page.get_by_test_id(chart).locator("svg")).to_be_visible()


async def test_a_period_applies_in_place_and_stays_in_the_url(page, api, factory, world):
    await some_tickets(factory, world)
    await sign_in(page, world.manager, PASSWORD)
    await expect(page.locator("body")).to_have_attribute("data-live", "ready")
    first = (datetime.now(UTC) - timedelta(days=3)).date()  # a local day; the API gets the same local midnight
    await page.get_by_label("Reported from").fill(first.isoformat())
    await expect(page).to_have_url(re.compile(rf"/dashboard\?created_from={first}$"))
    figures = (
        await api.get("/dashboard/metrics", params={"created_from": f"{first}T00:00:00"}, headers=world.manager.headers)
    ).json()
    await expect(page.get_by_test_id("dashboard-period")).to_be_visible()
    await expect(page.get_by_test_id("metric-total_open")).to_have_text(str(figures["total_open"]))
    await expect(page.get_by_test_id("metric-total_resolved")).to_have_text(str(figures["total_resolved"]))
    await page.reload()
    await expect(page.get_by_label("Reported from")).to_have_value(first.isoformat())
    await expect(page.get_by_test_id("metric-total_open")).to_have_text(str(figures["total_open"]))


async def test_a_councillor_sees_only_their_ward(page, api, factory, world):
    tickets = await some_tickets(factory, world)
    await sign_in(page, world.ward_councillor, PASSWORD)
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_test_id("ward-fixed")).to_contain_text(world.ward.code)
    await expect(page.get_by_label("Ward")).to_have_count(0)  # no selector: the ward is fixed
    figures = (await api.get("/dashboard/metrics", headers=world.ward_councillor.headers)).json()
    await expect(page.get_by_test_id("metric-total_open")).to_have_text(str(figures["total_open"]))
    await page.goto("/tickets")
    theirs = [t for t in tickets if t.ward_id == world.ward.id]
    await expect(page.locator("tbody tr")).to_have_count(len(theirs))
    for t in tickets:
        locator = page.get_by_role("link", name=t.tracking_number)
        await expect(locator).to_have_count(1 if t.ward_id == world.ward.id else 0)


async def test_the_dashboard_updates_itself_when_a_ticket_is_created_elsewhere(page, api, factory, world):
    await some_tickets(factory, world)
    await sign_in(page, world.manager, PASSWORD)
    card = page.get_by_test_id("metric-total_open")
    before = int(await card.text_content())
    await expect(page.locator("body")).to_have_attribute("data-live", "ready")
    r = await api.post(
        "/tickets", json={"category": "water", "description": "Reported by phone"}, headers=world.citizen.headers
    )
    assert r.status_code == 201
    await expect(card).to_have_text(str(before + 1))


async def test_live_updates_resume_after_a_server_restart(page, api, factory, world, live_server):
    await sign_in(page, world.manager, PASSWORD)
    card = page.get_by_test_id("metric-total_open")
    await expect(card).to_have_text("0")
    await expect(page.locator("body")).to_have_attribute("data-live", "ready")
    live_server.restart()
    await expect(page.locator("body")).to_have_attribute("data-live", "ready", timeout=30_000)
    r = await api.post(
        "/tickets", json={"category": "roads", "description": "After the restart"}, headers=world.citizen.headers
    )
    assert r.status_code == 201
    await expect(card).to_have_text("1")


async def test_search_and_filters_apply_and_stay_in_the_url(page, api, factory, world):
    tickets = await some_tickets(factory, world)
    await sign_in(page, world.manager, PASSWORD)
    await page.goto("/tickets")
    await expect(page.locator("tbody tr")).to_have_count(len(tickets))
    await expect(page.get_by_text(f"{len(tickets)} tickets", exact=True)).to_be_visible()
    search = page.get_by_label("Search")
    await search.fill("near the clinic")
    await search.press("Enter")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.get_by_role("link", name=tickets[5].tracking_number)).to_be_visible()
    await expect(page).to_have_url(re.compile(r"search=near\+the\+clinic"))
    await search.fill("")
    await search.press("Enter")
    await page.get_by_label("Status").select_option("resolved")
    expected = (await api.get("/tickets", params={"status": "resolved"}, headers=world.manager.headers)).json()
    await expect(page.locator("tbody tr")).to_have_count(expected["total"])
    await expect(page).to_have_url(re.compile(r"status=resolved"))
    await page.get_by_label("Category").select_option("water")
    expected = (
        await api.get("/tickets", params={"status": "resolved", "category": "water"}, headers=world.manager.headers)
    ).json()
    await expect(page.locator("tbody tr")).to_have_count(expected["total"])
    await page.reload()  # a bookmarked view comes back as it was
    await expect(page.get_by_label("Status")).to_have_value("resolved")
    await expect(page.get_by_label("Category")).to_have_value("water")
    await expect(page.locator("tbody tr")).to_have_count(expected["total"])


async def test_exports_download_the_rows_of_the_current_view(page, api, factory, world):
    await some_tickets(factory, world)
    await sign_in(page, world.manager, PASSWORD)
    await page.goto("/tickets?status=open")
    total = (await api.get("/tickets", params={"status": "open"}, headers=world.manager.headers)).json()["total"]
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await info.value
    assert re.fullmatch(rf"tickets-{world.municipality.code}-\d{{8}}-\d{{4}}\.csv", download.suggested_filename)
    content = Path(await download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content[3:].decode())))
    assert rows[0][0] == "Tracking number" and len(rows) - 1 == total
    assert {row[2] for row in rows[1:]} == {"open"}
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Export Excel").click()
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(await download.path()).read_bytes()), read_only=True)["Tickets"]
    assert sum(1 for _ in sheet.iter_rows()) - 1 == total


async def test_changing_the_status_from_the_ticket_page(page, api, world):
    created = (
        await api.post(
            "/tickets",
            json={"category": "water", "description": "Burst pipe on Main Rd"},
            headers=world.citizen.headers,
        )
    ).json()
    await sign_in(page, world.manager, PASSWORD)
    await page.goto(f"/tickets/{created['id']}")
    await expect(page.get_by_role("heading", name=created["tracking_number"])).to_be_visible()
    await page.get_by_label("Status").select_option("in_progress")
    await page.get_by_role("button", name="Update status").click()
    await expect(page.get_by_test_id("ticket-status")).to_have_text("In progress")
    await expect(page.get_by_role("status").filter(has_text="The status was updated.")).to_be_visible()
    detail = (await api.get(f"/tickets/{created['id']}", headers=world.manager.headers)).json()
    assert detail["status"] == "in_progress"
    assert detail["history"][0]["kind"] == "status_changed"


async def test_a_resident_reports_a_problem(page, world):
    await sign_in(page, world.citizen, PASSWORD)
    await page.get_by_label("Category").select_option("waste")
    await page.get_by_label("Description").fill("Bins not collected for two weeks")
    await page.get_by_label("Address").fill("7 Long St")
    await page.get_by_role("button", name="Send report").click()
    await expect(page.get_by_test_id("report-created")).to_contain_text("Your reference number is TKT-")
    await expect(page.locator("tbody tr")).to_have_count(1)


async def test_keyboard_users_can_skip_to_the_content(page, world):
    await sign_in(page, world.manager, PASSWORD)
    await page.goto("/tickets")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()


async def test_pages_fit_a_phone_screen(browser, live_server, factory, world):
    await some_tickets(factory, world)
    ctx = await browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        phone = await ctx.new_page()
        await sign_in(phone, world.manager, PASSWORD)
        for path in ("/dashboard", "/tickets"):
            await phone.goto(path)
            overflow = await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    finally:
        await ctx.close()


async def test_a_manager_switches_the_dashboard_to_one_ward(page, api, factory, world):
    await some_tickets(factory, world)
    await sign_in(page, world.manager, PASSWORD)
    ward = world.wards[1]
    await page.get_by_label("Ward").select_option(str(ward.id))
    await expect(page).to_have_url(re.compile(rf"ward_id={ward.id}"))
    figures = (
        await api.get("/dashboard/metrics", params={"ward_id": str(ward.id)}, headers=world.manager.headers)
    ).json()
    for field in METRICS:
        value = figures[field]
        await expect(page.get_by_test_id(f"metric-{field}")).to_have_text("–" if value is None else str(value))
    await expect(page.get_by_test_id("dashboard-scope")).to_contain_text(ward.code)


async def test_the_ticket_list_refreshes_itself_when_a_ticket_is_created_elsewhere(page, api, factory, world):
    tickets = await some_tickets(factory, world)
    await sign_in(page, world.manager, PASSWORD)
    await page.goto("/tickets")
    await expect(page.locator("tbody tr")).to_have_count(len(tickets))
    await expect(page.locator("body")).to_have_attribute("data-live", "ready")
    r = await api.post(
        "/tickets", json={"category": "waste", "description": "Reported at the counter"}, headers=world.citizen.headers
    )
    await expect(page.locator("tbody tr")).to_have_count(len(tickets) + 1)
    await expect(page.get_by_role("link", name=r.json()["tracking_number"])).to_be_visible()
