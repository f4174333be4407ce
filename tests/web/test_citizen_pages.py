"""Residents on the web: the ward map and nearby reports while reporting, following one instead,
reopening a resolved report, and the GBV form."""

from src.models.user import UserRole
from tests.web.helpers import form_token, sign_in


async def test_the_report_form_draws_the_ward_map(client, world):
    sign_in(client, world.citizen)
    r = await client.get("/reports")
    assert r.status_code == 200
    assert "data-ward-map" in r.text and f"<title>{world.ward.code} – {world.ward.name}</title>" in r.text
    # the square ward spans 0.1 degrees both ways: 1000 units across, 1000 / cos(25.95°) = 1112.1 high
    assert 'points="0.0,1112.1 1000.0,1112.1 1000.0,0.0 0.0,0.0 0.0,1112.1"' in r.text
    assert '<script src="/static/report.js' in r.text and "<script>" not in r.text and "style=" not in r.text


async def test_nearby_fragment_and_follow_this_instead(client, factory, world):
    other_reporter = await factory.user(world.municipality, UserRole.CITIZEN)
    near = await factory.ticket(
        world.municipality,
        reporter_id=other_reporter.id,
        latitude=-25.949,
        longitude=28.05,
        status="open",
        description="Private words of another resident",
    )
    sign_in(client, world.citizen)
    r = await client.get("/reports/nearby", params={"category": "water", "latitude": -25.95, "longitude": 28.05})
    assert r.status_code == 200
    assert near.tracking_number in r.text and "111 m away" in r.text and "Follow this instead" in r.text
    assert "Private words" not in r.text
    gbv = await client.get("/reports/nearby", params={"category": "gbv", "latitude": -25.95, "longitude": 28.05})
    assert "Follow this instead" not in gbv.text
    bad = await client.get("/reports/nearby", params={"category": "water", "latitude": "north"})
    assert bad.status_code == 200 and bad.text.strip() == ""
    token = await form_token(client, "/reports")
    r = await client.post(
        "/reports/follow",
        data={"ticket_id": str(near.id), "tracking_number": near.tracking_number, "csrf_token": token},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/reports?followed={near.tracking_number}"
    page = await client.get(r.headers["location"])
    assert f'You now follow report <strong class="mono">{near.tracking_number}</strong>' in page.text
    detail = (await client.get(f"/api/v1/tickets/{near.id}", headers=world.manager.headers)).json()
    assert detail["followers"] == 1
    # without the form's token nothing happens
    r = await client.post("/reports/follow", data={"ticket_id": str(near.id)})
    assert r.status_code == 403


async def test_the_reporter_reopens_from_the_timeline(client, world):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    await client.post("/reports", data={"category": "water", "description": "Burst pipe", "csrf_token": token})
    [t] = (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["tickets"]
    r = await client.patch(
        f"/api/v1/tickets/{t['id']}/status", json={"status": "resolved"}, headers=world.manager.headers
    )
    assert r.status_code == 200
    page = await client.get(f"/tickets/{t['id']}")
    assert "Reopen my report" in page.text
    token = await form_token(client, f"/tickets/{t['id']}")
    r = await client.post(f"/tickets/{t['id']}/reopen", data={"reason": "", "csrf_token": token})
    assert r.status_code == 422 and "Say in a few words" in r.text
    r = await client.post(f"/tickets/{t['id']}/reopen", data={"reason": "Still leaking", "csrf_token": token})
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert "Your report is open again" in page.text and "Reopened: Still leaking" in page.text
    assert "Reopen my report" not in page.text
    assert (await client.get(f"/api/v1/tickets/{t['id']}", headers=world.citizen.headers)).json()["status"] == "open"


async def test_the_gbv_form_says_who_sees_it_and_asks_for_no_location(client, world):
    sign_in(client, world.citizen)
    r = await client.get("/reports/gbv")
    assert r.status_code == 200
    assert "Only the police liaison officers (SAPS) of your municipality, and you." in r.text
    assert "data-quick-exit" in r.text and "Quick exit" in r.text
    assert 'name="latitude"' not in r.text and "data-locate" not in r.text and "data-ward-map" not in r.text
    token = await form_token(client, "/reports/gbv")
    r = await client.post(
        "/reports",
        data={"category": "gbv", "severity": "high", "description": "I need help", "address": "", "csrf_token": token},
    )
    assert r.status_code == 303
    [t] = (await client.get("/api/v1/tickets", headers=world.saps_liaison.headers)).json()["tickets"]
    assert (t["is_sensitive"], t["latitude"], t["address"], t["reporter_id"]) == (
        True,
        None,
        None,
        str(world.citizen.id),
    )


async def test_staff_get_no_resident_pages(client, world):
    sign_in(client, world.manager)
    assert (await client.get("/reports/gbv")).status_code == 403
    assert (
        await client.get("/reports/nearby", params={"category": "water", "latitude": 1, "longitude": 1})
    ).status_code == 403


async def test_the_timeline_tells_the_reporter_of_a_duplicate(client, factory, world):
    original = (
        await client.post(
            "/api/v1/tickets", json={"category": "water", "description": "Leak"}, headers=world.manager.headers
        )
    ).json()
    mine = (
        await client.post(
            "/api/v1/tickets", json={"category": "water", "description": "Leak again"}, headers=world.citizen.headers
        )
    ).json()
    r = await client.post(
        f"/api/v1/tickets/{mine['id']}/duplicate-of", json={"ticket_id": original["id"]}, headers=world.manager.headers
    )
    assert r.status_code == 200
    sign_in(client, world.citizen)
    page = await client.get(f"/tickets/{mine['id']}")
    assert page.status_code == 200
    assert f"Already reported as {original['tracking_number']}: you now follow that report." in page.text
    sign_in(client, world.manager)
    page = await client.get(f"/tickets/{original['id']}")
    assert f"{mine['tracking_number']} reported the same problem" in page.text
