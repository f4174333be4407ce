"""The /public page: no sign-in, the public API's figures, a ward map drawn as SVG from the boundaries."""

import re
from datetime import UTC, datetime, timedelta

from tests.api.open311_helpers import _fresh_public_cache  # noqa: F401


def figure(html: str, testid: str) -> str:
    match = re.search(rf'<span data-testid="{testid}">(.*?)</span>', html)
    assert match, testid
    return re.sub(r"<[^>]+>", "", match.group(1))


async def test_the_page_shows_the_public_figures_without_sign_in(client, factory, world, other):
    now = datetime.now(UTC)
    for i in range(6):
        await factory.ticket(
            world.municipality,
            ward_id=world.ward.id,
            latitude=-25.95,
            longitude=28.05,
            status="resolved" if i % 2 else "open",
            resolved_at=now if i % 2 else None,
            first_responded_at=now - timedelta(minutes=30) if i % 2 else None,
            created_at=now - timedelta(hours=1 + i),
        )
    await factory.ticket(world.municipality, category="gbv", description="NEVER-ON-THE-PAGE")
    r = await client.get("/public", params={"municipality": world.municipality.code.lower()})
    assert r.status_code == 200
    html = r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    api = (await client.get("/api/v1/public/summary")).json()
    assert figure(html, "summary-tickets_total") == str(api["tickets_total"]) == "6"
    assert figure(html, "summary-gbv_reports_total") == "1"
    assert figure(html, "summary-municipalities") == "2"
    stats = (
        await client.get(f"/api/v1/public/municipalities/{world.municipality.code}/stats", params={"months": 12})
    ).json()
    assert figure(html, "stat-resolution_rate_percent") == "50.0" and stats["resolution_rate_percent"] == 50.0
    assert world.municipality.name in html and "selected>" in html
    # The ward map: an SVG path for the ward with a boundary, a heat circle for the five-plus cell.
    svg = re.search(r'<svg class="chart ward-map".*?</svg>', html, re.S)
    assert svg, "no ward map"
    assert svg.group(0).count("<path ") == 1 and svg.group(0).count("<circle ") == 1
    assert f"{world.ward.name} ({world.ward.code}): 3 open, 3 resolved" in svg.group(0)
    # Nothing from elsewhere, nothing personal, no GBV words.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "NEVER-ON-THE-PAGE" not in html
    for actor in world.actors.values():
        assert actor.user.full_name not in html and actor.user.email not in html


async def test_the_first_municipality_is_shown_by_default_and_unknown_is_404(client, factory, world):
    r = await client.get("/public")
    assert r.status_code == 200 and 'data-testid="public-municipality"' in r.text
    r = await client.get("/public", params={"municipality": "NOPE"})
    assert r.status_code == 404 and "Municipality not found." in r.text


async def test_an_empty_platform_says_so(client, db):
    r = await client.get("/public")
    assert r.status_code == 200 and "No municipality publishes figures yet." in r.text
