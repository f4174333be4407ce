"""Residents' reports page, and the pages other roles are refused."""

import re

import pytest

from tests.web.helpers import form_token, rows_of, sign_in


async def test_a_resident_sees_only_their_reports_and_the_form(client, factory, world):
    mine = await factory.ticket(world.municipality, reporter_id=world.citizen.id, description="Street light out")
    await factory.ticket(world.municipality)
    sign_in(client, world.citizen)
    r = await client.get("/reports")
    assert r.status_code == 200
    assert [mine.tracking_number in row for row in rows_of(r.text)] == [True]
    for label in ("Category", "Description", "Address"):
        assert f">{label}</label>" in r.text
    assert "Report a problem" in r.text and "Send report" in r.text


async def test_reporting_a_problem_from_the_page(client, world):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    r = await client.post(
        "/reports",
        data={
            "category": "roads",
            "description": "Pothole at the taxi rank",
            "address": "Main Rd",
            "severity": "high",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    tracking = re.fullmatch(r"/reports\?created=(TKT-\d{8}-[0-9A-F]{6})", r.headers["location"]).group(1)
    page = await client.get(r.headers["location"])
    assert f'Your reference number is <strong class="mono">{tracking}</strong>' in page.text
    assert len(rows_of(page.text)) == 1 and tracking in rows_of(page.text)[0]
    mine = (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["tickets"]
    assert [(t["tracking_number"], t["category"], t["severity"], t["address"], t["reporter_id"]) for t in mine] == [
        (tracking, "roads", "high", "Main Rd", str(world.citizen.id))
    ]


async def test_a_report_with_coordinates_in_a_ward_is_placed_in_it(client, world):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    r = await client.post(
        "/reports",
        data={
            "category": "water",
            "description": "Burst pipe",
            "latitude": "-25.95",
            "longitude": "28.05",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    mine = (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["tickets"]
    assert mine[0]["ward_id"] == str(world.ward.id)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"category": "", "description": "Something"}, "Choose what the problem is about."),
        ({"category": "water", "description": "   "}, "Describe the problem in 1 to 5 000 characters."),
        ({"category": "lava", "description": "Something"}, "Choose what the problem is about."),
        (
            {"category": "water", "description": "Something", "latitude": "north", "longitude": "1"},
            "The location is not valid.",
        ),
    ],
)
async def test_an_incomplete_report_is_shown_again_with_the_reason(client, world, data, message):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    r = await client.post("/reports", data={**data, "csrf_token": token})
    assert r.status_code == 422
    assert message in r.text and "Please correct the fields marked below." in r.text
    assert (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["total"] == 0


async def test_reporting_needs_the_csrf_token(client, world):
    sign_in(client, world.citizen)
    await form_token(client, "/reports")
    r = await client.post("/reports", data={"category": "water", "description": "Burst pipe"})
    assert r.status_code == 403
    assert (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["total"] == 0


@pytest.mark.parametrize("role", ["manager", "field_worker", "saps_liaison", "ward_councillor", "admin"])
async def test_staff_have_no_residents_page(client, world, role):
    sign_in(client, getattr(world, role))
    r = await client.get("/reports")
    assert r.status_code == 403 and "Not available to your role" in r.text


@pytest.mark.parametrize("role", ["citizen", "field_worker", "saps_liaison"])
async def test_roles_without_a_dashboard_get_a_403_page(client, world, role):
    sign_in(client, getattr(world, role))
    for path in ("/dashboard", "/fragments/dashboard"):
        r = await client.get(path)
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("text/html")
        assert "Not available to your role" in r.text and "Your role may not do this." in r.text
        assert 'data-testid="metric-' not in r.text


async def test_a_councillor_asking_for_another_ward_gets_a_403_page(client, world):
    sign_in(client, world.ward_councillor)
    r = await client.get(f"/dashboard?ward_id={world.wards[1].id}")
    assert r.status_code == 403 and "Ward councillors may only see their own ward." in r.text


async def test_a_citizen_opens_their_own_ticket_without_staff_details(client, factory, world):
    mine = await factory.ticket(
        world.municipality, reporter_id=world.citizen.id, assigned_team_id=world.teams["water"].id
    )
    other = await factory.ticket(world.municipality)
    sign_in(client, world.citizen)
    r = await client.get(f"/tickets/{mine.id}")
    assert r.status_code == 200
    assert world.teams["water"].name not in r.text and "Update status" not in r.text
    assert (await client.get(f"/tickets/{other.id}")).status_code == 404
