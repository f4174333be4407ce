"""The public page in Chromium: no sign-in, figures, the ward map and heatmap drawn from our own
data (nothing fetched from elsewhere, no CSP violation), usable with the keyboard."""

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.factories import square

pytestmark = pytest.mark.browser


async def public_world(factory):
    """Two municipalities; the second has a 3 x 2 grid of wards and clusters of reports."""
    first = await factory.world()
    mun = await factory.municipality()
    rng = random.Random(11)
    now = datetime.now(UTC)
    wards = []
    for row in range(2):
        for col in range(3):
            wards.append(await factory.ward(mun, boundary=square(28.0 + col * 0.04, -25.8 - row * 0.04, 0.04)))
    for _ in range(160):
        ward_index = rng.choice([0, 0, 1, 2, 4, 4, 4, 5])
        w = wards[ward_index]
        lon0, lat0 = w.boundary["coordinates"][0][0]
        status = rng.choice(["open", "in_progress", "resolved", "resolved", "closed"])
        created = now - timedelta(days=rng.uniform(0, 330))
        resolved = created + timedelta(days=rng.uniform(0.5, 9)) if status in ("resolved", "closed") else None
        await factory.ticket(
            mun,
            category=rng.choice(["water", "roads", "electricity", "waste"]),
            ward_id=w.id,
            status=status,
            latitude=lat0 + 0.01 + rng.random() * 0.004,
            longitude=lon0 + 0.012 + rng.random() * 0.004,
            created_at=created,
            first_responded_at=created + timedelta(hours=rng.uniform(1, 30)),
            resolved_at=min(resolved, now) if resolved else None,
            closed_at=min(resolved, now) if status == "closed" else None,
            sla_response_deadline=created + timedelta(hours=24),
            sla_resolution_deadline=created + timedelta(days=5),
        )
    await factory.ticket(mun, category="gbv", description="NEVER-SHOWN-GBV", ward_id=wards[0].id)
    return first, mun


async def test_public_page_with_the_keyboard_and_a_screenshot(browser, live_server, factory):
    _first, mun = await public_world(factory)
    ctx = await browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1200, "height": 900},
        locale="en-ZA",
        timezone_id="Africa/Johannesburg",
    )
    page = await ctx.new_page()
    foreign, problems = [], []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto("/public")
    await expect(page.get_by_role("heading", name="How our municipalities are doing")).to_be_visible()
    await expect(page.get_by_test_id("summary-tickets_total")).to_have_text("160")
    await expect(page.get_by_test_id("summary-gbv_reports_total")).to_have_text("1")

    # Choose the second municipality and submit with the keyboard only.
    select = page.get_by_label("Municipality", exact=True)
    await select.focus()
    await select.select_option(mun.code)
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Show")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/public?municipality={mun.code}")
    await expect(page.get_by_test_id("public-municipality")).to_contain_text(mun.name)

    ward_map = page.locator("svg.ward-map")
    await expect(ward_map).to_be_visible()
    await expect(ward_map.locator("path.ward")).to_have_count(6)
    assert await ward_map.locator("circle.heat").count() >= 3
    await expect(page.get_by_test_id("public-wards").locator("tbody tr")).to_have_count(6)
    assert "NEVER-SHOWN-GBV" not in await page.content()
    assert foreign == [] and problems == []

    target = os.environ.get("SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=Path(target) / "public.png", full_page=True)
    else:
        assert len(await page.screenshot(full_page=True)) > 5000
    await ctx.close()
