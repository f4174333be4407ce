"""Every page passes axe-core's WCAG 2.1 A and AA rules with no serious or critical violation.

axe-core comes from the npm registry through tests/browser/package-lock.json (`make install` runs
`npm ci` there). It is added to each page after the page has loaded and done what the stop asks
(an error shown, the nearby reports drawn, a photo loaded); the page's own Content-Security-Policy
is bypassed for that one script only in these contexts.
"""

from pathlib import Path

import pytest

from tests.browser.tour import Stop, setup_tour, stops, visit

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("visits_public_figures")]

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
RUN_AXE = """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(r => r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 160), why: n.failureSummary}))})))"""


def described(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        for n in v["nodes"][:5]:
            why = " ".join((n["why"] or "").split())
            lines.append(f"      at {n['target']}: {n['html']}\n        {why}")
    return "\n".join(lines)


async def violations_on(page) -> list[dict]:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `make install` on a machine with node and npm")
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(RUN_AXE, WCAG_21_AA)
    return [v for v in found if v["impact"] in BLOCKING]


async def check_all(browser, live_server, world, tour: list[Stop], **context) -> dict[str, list[dict]]:
    failures = {}
    for stop in tour:
        ctx, page, _ = await visit(browser, live_server, world, stop, bypass_csp=True, **context)
        try:
            found = await violations_on(page)
        finally:
            await ctx.close()
        if found:
            failures[stop.name] = found
    return failures


def report(failures: dict[str, list[dict]]) -> str:
    return "axe-core found serious or critical WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"{name}:\n{described(found)}" for name, found in failures.items()
    )


async def test_every_page_passes_axe_on_a_laptop(browser, live_server, api, factory, world):
    ids = await setup_tour(api, factory, world)
    failures = await check_all(browser, live_server, world, stops(ids))
    assert not failures, report(failures)


async def test_the_residents_pages_pass_axe_on_a_phone(browser, live_server, api, factory, world):
    ids = await setup_tour(api, factory, world)
    tour = [s for s in stops(ids) if s.actor in (None, "citizen")]
    failures = await check_all(browser, live_server, world, tour, **PHONE)
    assert not failures, report(failures)


async def test_the_check_sees_a_violation(browser, live_server, world):
    """The check itself can fail: text as pale as the background is reported as serious."""
    ctx, page, _ = await visit(browser, live_server, world, Stop("login", None, "/login"), bypass_csp=True)
    try:
        await page.evaluate(
            "() => { const p = document.createElement('p'); p.textContent = 'faint';"
            " p.style.color = '#f4f6f9'; p.style.background = '#ffffff'; document.querySelector('main').append(p); }"
        )
        found = await violations_on(page)
    finally:
        await ctx.close()
    assert [v["id"] for v in found] == ["color-contrast"]
    assert "color-contrast" in described(found) and "faint" in described(found)
