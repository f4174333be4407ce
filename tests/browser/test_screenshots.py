"""Screenshots of each page, for the README (docs/screenshots/).

Always taken, so the pages are known to render; written into the repository only when
SCREENSHOTS_DIR is set:  SCREENSHOTS_DIR=docs/screenshots pytest tests/browser -k screenshots
"""

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

DESCRIPTIONS = {
    "water": ["Burst pipe flooding the road", "No water since yesterday", "Leaking meter outside the clinic"],
    "roads": ["Deep pothole at the taxi rank", "Traffic light not working", "Storm drain blocked"],
    "electricity": ["Street lights out on the whole block", "Transformer sparking", "Cable theft, no power"],
    "waste": ["Bins not collected for two weeks", "Illegal dumping next to the school"],
    "sanitation": ["Sewage overflowing into the street", "Blocked communal toilet"],
    "other": ["Stray dogs in the park", "Damaged bench at the bus stop"],
}


async def demo_backlog(factory, world) -> list:
    """A month of believable tickets, spread over wards, teams, statuses and deadlines."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    made = []
    for i in range(90):
        category = rng.choice(list(DESCRIPTIONS))
        created = now - timedelta(days=rng.uniform(0, 29), hours=rng.uniform(0, 6))
        status = rng.choices(["open", "in_progress", "escalated", "resolved", "closed"], [4, 3, 1, 4, 2])[0]
        responded = created + timedelta(hours=rng.uniform(1, 30)) if status != "open" else None
        resolved = responded + timedelta(hours=rng.uniform(2, 90)) if status in ("resolved", "closed") else None
        made.append(
            await factory.ticket(
                world.municipality,
                category=category,
                description=rng.choice(DESCRIPTIONS[category]),
                severity=rng.choice(["low", "medium", "medium", "high", "critical"]),
                status=status,
                address=f"{rng.randint(1, 200)} {rng.choice(['Church', 'Main', 'Station', 'Market'])} St",
                ward_id=world.wards[i % 2].id,
                assigned_team_id=world.teams[category].id,
                created_at=created,
                updated_at=resolved or responded or created,
                first_responded_at=responded,
                resolved_at=resolved,
                closed_at=resolved + timedelta(hours=2) if status == "closed" else None,
                escalated_at=created + timedelta(hours=30) if status == "escalated" else None,
                sla_response_deadline=created + timedelta(hours=24),
                sla_resolution_deadline=created + timedelta(hours=72),
            )
        )
    return made


@pytest.fixture
def shots_dir(tmp_path) -> Path:
    target = os.environ.get("SCREENSHOTS_DIR")
    path = Path(target) if target else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


async def test_screenshots_of_each_page(browser, live_server, api, factory, world, shots_dir):
    await demo_backlog(factory, world)
    ticket = (
        await api.post(
            "/tickets",
            json={
                "category": "water",
                "severity": "high",
                "address": "12 Church St",
                "description": "Burst pipe flooding the road outside the clinic",
            },
            headers=world.citizen.headers,
        )
    ).json()
    await api.patch(
        f"/tickets/{ticket['id']}/status",
        json={"status": "in_progress", "note": "Crew on the way"},
        headers=world.manager.headers,
    )
    await api.post(
        f"/tickets/{ticket['id']}/assign",
        json={"team_id": str(world.teams["water"].id), "assigned_to": str(world.field_worker.id)},
        headers=world.manager.headers,
    )
    ctx = await browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1200, "height": 760},
        locale="en-ZA",
        timezone_id="Africa/Johannesburg",
    )
    page = await ctx.new_page()
    await page.goto("/login")
    await page.screenshot(path=shots_dir / "login.png")
    await sign_in(page, world.manager, PASSWORD)
    await expect(page.get_by_test_id("metric-total_open")).to_be_visible()
    await page.screenshot(path=shots_dir / "dashboard.png", full_page=True)
    await page.goto("/tickets?sort_by=sla_resolution_deadline&sort_order=asc&status=open")
    await expect(page.locator("tbody tr").first).to_be_visible()
    await page.screenshot(path=shots_dir / "tickets.png")
    await page.goto(f"/tickets/{ticket['id']}")
    await page.screenshot(path=shots_dir / "ticket.png", full_page=True)
    await ctx.close()

    phone = await browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 720}, is_mobile=True, device_scale_factor=1
    )
    page = await phone.new_page()
    await sign_in(page, world.ward_councillor, PASSWORD)
    await page.screenshot(path=shots_dir / "dashboard-phone.png")
    await phone.close()

    resident = await browser.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 700})
    page = await resident.new_page()
    await factory.ticket(
        world.municipality,
        reporter_id=world.citizen.id,
        description="Street light out on my road",
        category="electricity",
        ward_id=world.ward.id,
    )
    await sign_in(page, world.citizen, PASSWORD)
    await page.screenshot(path=shots_dir / "reports.png")
    await resident.close()
    assert all(
        (shots_dir / f"{name}.png").stat().st_size > 5000
        for name in ("login", "dashboard", "tickets", "ticket", "dashboard-phone", "reports")
    )
