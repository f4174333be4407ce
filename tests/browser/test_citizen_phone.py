"""A resident on a phone: a point on the ward map shows the open reports nearby, "Follow this
instead" follows one; a resolved report is reopened from its timeline; the GBV form's quick exit
leaves at once; a photo goes with a report and shows on its timeline. Screenshots go to docs/screenshots when SCREENSHOTS_DIR is set."""

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import expect

from src.models.user import UserRole
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}


@pytest.fixture
def shots(tmp_path) -> Path:
    path = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


async def test_a_resident_reports_from_a_phone(browser, live_server, api, factory, world, shots):
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    # the middle of the square ward: where a tap in the middle of the map lands
    near = await factory.ticket(
        world.municipality,
        reporter_id=neighbour.id,
        latitude=-25.9505,
        longitude=28.0502,
        status="in_progress",
        description="Burst pipe",
    )
    ctx = await browser.new_context(
        base_url=live_server.url, locale="en-ZA", timezone_id="Africa/Johannesburg", **PHONE
    )
    page = await ctx.new_page()
    await sign_in(page, world.citizen, PASSWORD)
    await page.goto("/reports")
    await page.get_by_label("Category").select_option("water")
    await page.get_by_label("Description").fill("Water running down the street")
    ward_map = page.locator("[data-ward-map]")
    await ward_map.scroll_into_view_if_needed()
    box = await ward_map.bounding_box()
    await ward_map.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    await expect(page.get_by_test_id("nearby")).to_contain_text(near.tracking_number)
    assert abs(float(await page.locator("#r-latitude").input_value()) + 25.95) < 0.002
    await page.screenshot(path=shots / "report-phone-nearby.png", full_page=True)
    await page.get_by_role("button", name="Follow this instead").click()
    await expect(page.get_by_test_id("followed")).to_contain_text(near.tracking_number)
    detail = (await api.get(f"/tickets/{near.id}", headers=world.manager.headers)).json()
    assert detail["followers"] == 1
    mine = (await api.get("/tickets", headers=world.citizen.headers)).json()["tickets"]
    assert mine == []  # following sent no report of its own

    mine = (
        await api.post(
            "/tickets",
            json={"category": "roads", "description": "Pothole at the corner"},
            headers=world.citizen.headers,
        )
    ).json()
    await api.patch(f"/tickets/{mine['id']}/status", json={"status": "resolved"}, headers=world.manager.headers)
    await page.goto(f"/tickets/{mine['id']}")
    await page.get_by_label("What is still wrong?").fill("The pothole is back after the rain")
    await page.screenshot(path=shots / "reopen-phone.png", full_page=True)
    await page.get_by_role("button", name="Reopen my report").click()
    await expect(page.get_by_test_id("ticket-status")).to_have_text("Open")
    await expect(page.get_by_test_id("history")).to_contain_text("Reopened: The pothole is back after the rain")

    await page.route(
        "https://www.google.co.za/**",
        lambda route: route.fulfill(body="<title>Search</title>", content_type="text/html"),
    )
    await page.goto("/reports/gbv")
    await expect(page.get_by_test_id("who-sees")).to_contain_text("Only the police liaison officers")
    await expect(page.locator("#r-latitude")).to_have_count(0)
    await page.screenshot(path=shots / "report-gbv-phone.png", full_page=True)
    await page.get_by_test_id("quick-exit").click()
    await page.wait_for_url("https://www.google.co.za/**")
    await ctx.close()
    assert all(
        (shots / f"{n}.png").stat().st_size > 5000 for n in ("report-phone-nearby", "reopen-phone", "report-gbv-phone")
    )


async def test_a_resident_sends_a_photo_with_a_report_from_a_phone(browser, live_server, api, world, shots):
    picture = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "S", 2: (25.0, 57.0, 0.0), 3: "E", 4: (28.0, 3.0, 0.0)})  # a GPS position
    road = Image.new("RGB", (1200, 900), (60, 140, 90))
    draw = ImageDraw.Draw(road)
    draw.polygon([(450, 0), (750, 0), (1150, 900), (50, 900)], fill=(90, 90, 95))  # the road
    draw.ellipse((430, 520, 780, 700), fill=(40, 35, 30))  # the pothole
    road.save(picture, "JPEG", quality=85, exif=exif)
    ctx = await browser.new_context(
        base_url=live_server.url, locale="en-ZA", timezone_id="Africa/Johannesburg", **PHONE
    )
    page = await ctx.new_page()
    await sign_in(page, world.citizen, PASSWORD)
    await page.goto("/reports")
    await page.get_by_label("Category").select_option("roads")
    await page.get_by_label("Description").fill("Deep pothole outside the school gate")
    photos = page.get_by_label("Photos (optional)")
    # a file that is no photo is explained before anything is sent
    await photos.set_input_files([{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just text"}])
    await expect(page.locator("#r-photos-check")).to_have_text("notes.txt is not a JPEG, PNG or WebP photo.")
    await page.get_by_role("button", name="Send report").click()
    await expect(photos).to_be_focused()
    assert (await api.get("/tickets", headers=world.citizen.headers)).json()["tickets"] == []
    await photos.set_input_files([{"name": "pothole.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}])
    await expect(page.locator("#r-photos-check")).to_be_hidden()
    await page.screenshot(path=shots / "report-photo-phone.png", full_page=True)
    await page.get_by_role("button", name="Send report").click()
    await expect(page.get_by_test_id("report-created")).to_be_visible()
    [mine] = (await api.get("/tickets", headers=world.citizen.headers)).json()["tickets"]
    assert mine["description"] == "Deep pothole outside the school gate"
    await page.get_by_role("link", name=mine["tracking_number"]).click()
    thumbnail = page.get_by_role("img", name="Photo 1 of 1 of this report")
    await expect(thumbnail).to_be_visible()
    assert await thumbnail.evaluate("img => img.complete && img.naturalWidth") == 320
    await thumbnail.scroll_into_view_if_needed()
    await page.screenshot(path=shots / "report-timeline-photo-phone.png", full_page=True)
    full = await ctx.request.get(await thumbnail.evaluate("img => img.closest('a').href"))
    stored = Image.open(io.BytesIO(await full.body()))
    assert stored.size == (1200, 900) and dict(stored.getexif()) == {}  # pixels only: the position is gone
    await ctx.close()
    assert all(
        (shots / f"{n}.png").stat().st_size > 5000 for n in ("report-photo-phone", "report-timeline-photo-phone")
    )
