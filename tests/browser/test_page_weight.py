"""Pages stay light and need nothing but this server: no page pulls more than 150 KB of scripts
and styles (the bytes the browser received for them, headers included, as the browser's Resource
Timing reports them for the page shown), and no page asks any other host for anything (no CDN, no
web fonts): every request for another host is recorded and refused."""

import pytest

from tests.browser.tour import setup_tour, stops, visit

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("visits_public_figures")]

BUDGET = 150 * 1024
WEIGHED = ("script", "stylesheet")
# The current document's scripts and styles as the browser received them (Resource Timing): bytes
# over the wire with headers, or the body's encoded size when a copy came from the cache.
WEIGHT_OF_PAGE = """() => performance.getEntriesByType("resource")
  .filter(e => e.initiatorType === "script" || /\\.(js|css)$/.test(new URL(e.name).pathname))
  .map(e => [new URL(e.name).pathname, Math.max(e.transferSize, e.encodedBodySize)])"""


async def test_no_page_pulls_more_than_150_kb_of_scripts_and_styles_or_anything_from_elsewhere(
    browser, live_server, api, factory, world
):
    ids = await setup_tour(api, factory, world)
    heavy, foreign, weighed = {}, {}, {}
    for stop in stops(ids):
        elsewhere: list[str] = []
        responses = []
        ctx, page, _ = await visit(
            browser,
            live_server,
            world,
            stop,
            setup=lambda c, e=elsewhere, r=responses: _watch(c, live_server.url, e, r),
        )
        try:
            entries = await page.evaluate(WEIGHT_OF_PAGE)
            # the page really applied its styles: a check over nothing proves nothing
            assert await page.evaluate("getComputedStyle(document.body).fontFamily.includes('system-ui')"), stop.name
        finally:
            await ctx.close()
        total = sum(size for _, size in entries)
        parts = [f"{path} {size:,} B" for path, size in entries]
        weighed[stop.name] = total
        assert any("/static/app.css" in p for p in parts) and any("/static/app.js" in p for p in parts), parts
        if total > BUDGET:
            heavy[stop.name] = f"{total:,} B: " + ", ".join(parts)
        if elsewhere:
            foreign[stop.name] = elsewhere
    assert not heavy, f"pages over {BUDGET:,} bytes of scripts and styles: {heavy}"
    assert not foreign, f"pages that asked other hosts: {foreign}"
    assert len(weighed) == len(stops(ids)) and all(w > 0 for w in weighed.values()), weighed


async def test_a_request_for_another_host_is_caught(browser, live_server, world):
    """The check itself can fail: a page asking a CDN is seen (and refused)."""
    elsewhere: list[str] = []
    responses: list = []
    stop = stops({"own": "", "gbv": "", "late_ward": ""})[0]
    ctx, page, _ = await visit(
        browser,
        live_server,
        world,
        stop,
        setup=lambda c: _watch(c, live_server.url, elsewhere, responses),
        bypass_csp=True,  # the page's own policy would refuse the fetch before the network sees it
    )
    try:
        fetched = await page.evaluate(
            "() => fetch('https://cdn.example.org/lib.js').then(() => 'fetched', () => 'refused')"
        )
    finally:
        await ctx.close()
    assert fetched == "refused" and elsewhere == ["https://cdn.example.org/lib.js"]
    assert {r.url.removeprefix(live_server.url).split("?")[0] for r in responses} == {
        "/static/app.css",
        "/static/app.js",
    }


async def _watch(ctx, origin: str, elsewhere: list[str], responses: list) -> None:
    async def refuse(route) -> None:
        elsewhere.append(route.request.url)
        await route.abort()

    def outside(url: str) -> bool:
        return not (url.startswith(origin + "/") or url.startswith(("data:", "blob:", "about:")))

    def collect(response) -> None:
        if response.request.resource_type in WEIGHED:
            responses.append(response)

    await ctx.route(outside, refuse)  # the only network there is: this server
    ctx.on("response", collect)
