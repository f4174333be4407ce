"""Every page of the site in the states worth checking, for the page-wide checks (accessibility,
page weight): who looks at it, where, and what to do on it before checking.

`setup_tour` writes the data the pages show (a small backlog, a resident's report with a photo,
a GBV report, a report nearby); `visit` opens a stop in a fresh context signed in as its actor
(the session cookie, as the page tests do) and leaves it ready to check.
"""

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from playwright.async_api import expect

from src.api.deps import SESSION_COOKIE
from src.models.user import UserRole

Prepare = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Stop:
    name: str
    actor: str | None  # an attribute of the test world, None for a visitor
    path: str
    prepare: Prepare | None = None
    status: int = 200


def small_jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (40, 110, 170)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


async def setup_tour(api, factory, world) -> dict[str, str]:
    """Ward 1 (the councillor's) meets every deadline, ward 2 misses four of five: the dashboard's
    SLA card shows each of its colour bands somewhere (good, fair for the whole municipality, poor)."""
    now = datetime.now(UTC)
    for i in range(10):
        category = ("water", "roads", "electricity", "waste")[i % 4]
        late = i >= 6  # four late tickets, all in the second ward
        resolved = not late and i % 2 == 0
        await factory.ticket(
            world.municipality,
            category=category,
            description=f"{category.title()} problem number {i}",
            severity=("low", "medium", "high", "critical")[i % 4],
            status="resolved" if resolved else ("open", "in_progress", "escalated")[i % 3],
            ward_id=world.wards[0 if i < 5 else 1].id,
            assigned_team_id=world.teams[category].id,
            created_at=now - timedelta(days=i + 3, hours=2),
            first_responded_at=now - timedelta(days=i + 3, hours=1) if i % 2 else None,
            resolved_at=now - timedelta(days=i + 3) if resolved else None,
            sla_response_deadline=now - timedelta(days=i + 3) + timedelta(hours=4),
            sla_resolution_deadline=now - timedelta(days=1) if late else now + timedelta(days=2),
            followers=i % 3,
        )
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    await factory.ticket(
        world.municipality,
        reporter_id=neighbour.id,
        latitude=-25.9505,
        longitude=28.0502,
        status="open",
        category="water",
        description="Burst pipe",
    )
    own = (
        await api.post(
            "/tickets",
            json={"category": "roads", "description": "Pothole at the corner", "address": "3 Market St"},
            headers=world.citizen.headers,
        )
    ).json()
    r = await api.post(
        f"/tickets/{own['id']}/photos",
        files={"file": ("pothole.jpg", small_jpeg(), "image/jpeg")},
        headers=world.citizen.headers,
    )
    assert r.status_code == 201, r.text
    await api.patch(
        f"/tickets/{own['id']}/status", json={"status": "resolved", "note": "Filled"}, headers=world.manager.headers
    )
    gbv = await factory.ticket(
        world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id, description="Private"
    )
    return {"own": own["id"], "gbv": str(gbv.id), "late_ward": str(world.wards[1].id)}


async def _bad_sign_in(page) -> None:
    await page.get_by_label("Email").fill("nobody@example.org")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()


async def _nearby_shown(page) -> None:
    await page.get_by_label("Category").select_option("water")
    ward_map = page.locator("[data-ward-map]")
    box = await ward_map.bounding_box()
    await ward_map.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    await expect(page.get_by_role("button", name="Follow this instead")).to_be_visible()


async def _form_refused(page) -> None:
    await page.get_by_role("button", name="Send report").click()
    await expect(page.locator("#report-errors")).to_be_visible()
    # The refusal is a new document: its stylesheet may still be loading when the alert shows.
    await page.wait_for_load_state("load")


def _figures_in_band(band: str) -> Prepare:
    """The dashboard drawn, its SLA card in the colour band the tour's data gives it."""

    async def shown(page) -> None:
        await expect(page.get_by_test_id("metric-total_open")).to_be_visible()
        await expect(page.locator(".band-card")).to_have_class(f"card band-card band-{band}")

    return shown


async def _thumbnail_loaded(page) -> None:
    thumbnail = page.get_by_test_id("photos").get_by_role("img")
    await expect(thumbnail).to_have_count(1)
    for _ in range(100):  # wait_for_function evaluates a string, which the page's CSP forbids
        if await thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"):
            return
        await page.wait_for_timeout(100)
    raise AssertionError("the photo's thumbnail did not load")


def stops(ids: dict[str, str]) -> list[Stop]:
    return [
        Stop("login", None, "/login"),
        Stop("login refused", None, "/login", _bad_sign_in),
        Stop("public figures", None, "/public"),
        Stop("signed out", None, "/logout"),
        Stop("dashboard", "manager", "/dashboard", _figures_in_band("fair")),
        Stop("dashboard of a councillor", "ward_councillor", "/dashboard", _figures_in_band("good")),
        Stop("dashboard of a late ward", "manager", f"/dashboard?ward_id={ids['late_ward']}", _figures_in_band("poor")),
        Stop("ticket list", "manager", "/tickets"),
        Stop("ticket list by followers", "manager", "/tickets?sort_by=followers&sort_order=desc&page_size=5"),
        Stop("ticket detail", "manager", f"/tickets/{ids['own']}"),
        Stop("ticket list of a field worker", "field_worker", "/tickets"),
        Stop("sensitive ticket", "saps_liaison", f"/tickets/{ids['gbv']}"),
        Stop("sign-out page", "manager", "/logout"),
        Stop("refused page", "field_worker", "/dashboard", status=403),
        Stop("missing page", "manager", "/tickets/00000000-0000-4000-8000-000000000000", status=404),
        Stop("my reports and the report form", "citizen", "/reports"),
        Stop("report form refused", "citizen", "/reports", _form_refused),
        Stop("nearby reports", "citizen", "/reports", _nearby_shown),
        Stop("report sent", "citizen", "/reports?created=TKT-20260101-ABCDEF"),
        Stop("report followed", "citizen", "/reports?followed=TKT-20260101-ABCDEF"),
        Stop("GBV form", "citizen", "/reports/gbv"),
        Stop("report timeline", "citizen", f"/tickets/{ids['own']}", _thumbnail_loaded),
    ]


async def visit(browser, live_server, world, stop: Stop, setup: Prepare | None = None, **context: Any):
    """A fresh context signed in as the stop's actor, on the stop's page, prepared; (context, page, response).
    `setup` receives the context before the page opens (to watch or route its requests)."""
    ctx = await browser.new_context(
        base_url=live_server.url,
        locale="en-ZA",
        timezone_id="Africa/Johannesburg",
        **{"viewport": {"width": 1280, "height": 900}, **context},
    )
    ctx.set_default_timeout(15_000)
    if stop.actor:
        actor = getattr(world, stop.actor)
        await ctx.add_cookies([{"name": SESSION_COOKIE, "value": actor.token, "url": live_server.url}])
    if setup:
        await setup(ctx)
    page = await ctx.new_page()
    response = await page.goto(stop.path)
    assert response is not None and response.status == stop.status, (stop.name, response and response.status)
    if stop.prepare:
        await stop.prepare(page)
    return ctx, page, response
