"""The ticket list and ticket pages through HTTP: scope per role, forms, refusals as pages."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.ticket_helpers import report
from tests.web.helpers import form_token, rows_of, sign_in


def options_of(html: str, select_id: str) -> list[str]:
    block = html.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', block)


async def test_the_list_shows_one_row_per_visible_ticket_and_the_total(client, factory, world, other):
    mine = [await factory.ticket(world.municipality, ward_id=world.ward.id) for _ in range(3)]
    await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    await factory.ticket(other.municipality)
    sign_in(client, world.manager)
    r = await client.get("/tickets")
    assert r.status_code == 200
    rows = rows_of(r.text)
    assert len(rows) == 3
    assert [re.search(r"TKT-\d{8}-[0-9A-F]{6}", row).group(0) for row in rows] == [t.tracking_number for t in mine]
    assert "<strong>3 tickets</strong>" in r.text
    for label in ("Search", "Status", "Category", "Ward", "Team", "Severity"):
        assert re.search(rf'<label for="f-[a-z]+">{label}</label>', r.text)
    assert 'href="/api/v1/export/tickets.csv"' in r.text and ">Export CSV<" in r.text
    assert 'href="/api/v1/export/tickets.xlsx"' in r.text and ">Export Excel<" in r.text


async def test_export_links_and_sort_headers_keep_the_current_view(client, factory, world):
    await factory.ticket(world.municipality)
    sign_in(client, world.manager)
    r = await client.get("/tickets?status=open&search=pipe&sort_by=severity&sort_order=asc&page=0")
    assert (
        'href="/api/v1/export/tickets.csv?search=pipe&amp;status=open&amp;sort_by=severity&amp;sort_order=asc"'
        in r.text
    )
    # The sorted column says so to screen readers and links to the reverse order, filters kept.
    assert 'aria-sort="ascending"' in r.text
    assert 'href="?search=pipe&amp;status=open&amp;sort_by=severity&amp;sort_order=desc"' in r.text
    assert options_of(r.text, "f-status")[0] == ""
    assert '<option value="open" selected>' in r.text
    assert 'value="pipe"' in r.text


async def test_the_list_sorts_by_followers_from_its_column_header(client, factory, world):
    made = [await factory.ticket(world.municipality, followers=n) for n in (1, 4, 0, 4)]
    sign_in(client, world.manager)
    r = await client.get("/tickets")
    # not sorted by it yet: the header offers the most followed first
    assert (
        '<th scope="col" class="num"><a href="?sort_by=followers&amp;sort_order=desc" class="sort">Followers' in r.text
    )
    r = await client.get("/tickets?sort_by=followers&sort_order=desc")
    expected = sorted(made, key=lambda t: (t.followers, t.id), reverse=True)
    rows = rows_of(r.text)
    assert [t.tracking_number in row for t, row in zip(expected, rows, strict=True)] == [True] * 4
    assert [re.search(r'data-testid="followers">(\d+)<', row).group(1) for row in rows] == ["4", "4", "1", "0"]
    assert (
        '<th scope="col" aria-sort="descending" class="num"><a href="?sort_by=followers&amp;sort_order=asc"' in r.text
    )
    r = await client.get("/tickets?sort_by=followers&sort_order=asc")
    assert [t.tracking_number in row for t, row in zip(reversed(expected), rows_of(r.text), strict=True)] == [True] * 4


async def test_field_workers_and_saps_see_their_scope_without_exports(client, factory, world):
    ours = await factory.ticket(world.municipality, assigned_team_id=world.teams["water"].id)
    await factory.ticket(world.municipality, assigned_team_id=world.teams["roads"].id)
    gbv = await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    sign_in(client, world.field_worker)
    r = await client.get("/tickets")
    assert [ours.tracking_number in row for row in rows_of(r.text)] == [True]
    assert "Export CSV" not in r.text and "data-events-url" not in r.text
    sign_in(client, world.saps_liaison)
    r = await client.get("/tickets")
    assert [gbv.tracking_number in row for row in rows_of(r.text)] == [True]
    assert options_of(r.text, "f-category") == ["", "gbv"]
    assert "Export CSV" not in r.text


async def test_a_councillor_lists_only_their_ward_and_it_is_the_only_ward_offered(client, factory, world):
    theirs = await factory.ticket(world.municipality, ward_id=world.ward.id)
    await factory.ticket(world.municipality, ward_id=world.wards[1].id)
    sign_in(client, world.ward_councillor)
    r = await client.get("/tickets")
    assert [theirs.tracking_number in row for row in rows_of(r.text)] == [True]
    assert options_of(r.text, "f-ward") == [str(world.ward.id)]
    assert 'data-events-url="/api/v1/dashboard/events"' in r.text


async def test_an_empty_list_has_no_rows_and_says_so(client, world):
    sign_in(client, world.manager)
    r = await client.get("/tickets")
    assert rows_of(r.text) == []
    assert "<strong>0 tickets</strong>" in r.text and "No tickets match this view." in r.text


async def test_the_results_fragment_is_the_same_view(client, factory, world):
    t = await factory.ticket(world.municipality)
    sign_in(client, world.manager)
    r = await client.get("/fragments/tickets")
    assert r.status_code == 200 and "<html" not in r.text
    assert len(rows_of(r.text)) == 1 and t.tracking_number in r.text


@pytest.mark.parametrize(
    "query", ["status=nonsense", "ward_id=not-a-uuid", "page=-1", "page_size=1000", "search=" + "x" * 500]
)
async def test_bad_filters_are_a_friendly_422(client, world, query):
    sign_in(client, world.manager)
    r = await client.get(f"/tickets?{query}")
    assert r.status_code == 422
    assert "Please check what you entered" in r.text


async def test_the_detail_page_shows_every_field_sla_and_history(client, factory, world):
    now = datetime.now(UTC)
    t = await factory.ticket(
        world.municipality,
        description="Leaking meter at the clinic",
        address="4 Clinic Rd",
        ward_id=world.ward.id,
        assigned_team_id=world.teams["water"].id,
        assigned_to=world.field_worker.id,
        severity="high",
        latitude=-25.95,
        longitude=28.05,
        created_at=now - timedelta(hours=10),
        sla_response_deadline=now - timedelta(hours=1),
        sla_resolution_deadline=now + timedelta(days=1),
    )
    sign_in(client, world.manager)
    r = await client.get(f"/tickets/{t.id}")
    assert r.status_code == 200
    html = r.text
    for text in (
        t.tracking_number,
        "Leaking meter at the clinic",
        "4 Clinic Rd",
        world.ward.code,
        world.teams["water"].name,
        world.field_worker.user.full_name,
        "High",
        "-25.95000, 28.05000",
        "SLA: Response overdue",
        "Response deadline",
        "Resolution deadline",
    ):
        assert text in html, text
    assert options_of(html, "new-status") == ["", "in_progress", "escalated", "resolved", "closed"]
    assert ">Update status</button>" in html and '<label for="new-status">Status</label>' in html
    assert 'id="assign-team"' in html


async def test_status_options_follow_the_role(client, factory, world):
    t = await factory.ticket(world.municipality, status="in_progress", assigned_team_id=world.teams["water"].id)
    sign_in(client, world.field_worker)
    assert options_of((await client.get(f"/tickets/{t.id}")).text, "new-status") == ["", "resolved"]
    sign_in(client, world.manager)
    assert options_of((await client.get(f"/tickets/{t.id}")).text, "new-status") == [
        "",
        "open",
        "escalated",
        "resolved",
    ]
    sign_in(client, world.ward_councillor)
    closed = await factory.ticket(
        world.municipality,
        ward_id=world.ward.id,
        status="closed",
        resolved_at=datetime.now(UTC),
        closed_at=datetime.now(UTC),
    )
    html = (await client.get(f"/tickets/{closed.id}")).text
    assert "Update status" not in html and 'id="assign-team"' not in html  # read-only
    sign_in(client, world.manager)
    html = (await client.get(f"/tickets/{closed.id}")).text
    assert 'id="new-status"' not in html and "can no longer change" in html


async def test_changing_the_status_from_the_page(client, world):
    t = await report(client, world.citizen)
    sign_in(client, world.manager)
    token = await form_token(client, f"/tickets/{t['id']}")
    r = await client.post(
        f"/tickets/{t['id']}/status", data={"status": "in_progress", "note": "crew sent", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{t['id']}?done=status"
    page = await client.get(r.headers["location"])
    assert "The status was updated." in page.text
    assert 'data-testid="ticket-status">In progress<' in page.text
    assert "From Open to In progress. Note: crew sent" in page.text
    api = await client.get(f"/api/v1/tickets/{t['id']}", headers=world.manager.headers)
    assert api.json()["status"] == "in_progress"


async def test_a_refused_transition_is_shown_with_409_and_changes_nothing(client, world):
    t = await report(client, world.citizen)
    sign_in(client, world.manager)
    token = await form_token(client, f"/tickets/{t['id']}")
    r = await client.post(f"/tickets/{t['id']}/status", data={"status": "open", "csrf_token": token})
    assert r.status_code == 409
    assert "A ticket cannot move from open to open." in r.text
    assert len((await client.get(f"/api/v1/tickets/{t['id']}", headers=world.manager.headers)).json()["history"]) == 1


async def test_a_field_worker_may_not_close_and_a_councillor_may_not_change(client, world):
    t = await report(client, world.citizen)
    sign_in(client, world.field_worker)
    token = await form_token(client, f"/tickets/{t['id']}")
    r = await client.post(f"/tickets/{t['id']}/status", data={"status": "closed", "csrf_token": token})
    assert r.status_code == 403 and "Field workers may only" in r.text
    await report(client, world.citizen)
    sign_in(client, world.ward_councillor)
    token = await form_token(client, "/tickets")
    r = await client.post(f"/tickets/{t['id']}/status", data={"status": "in_progress", "csrf_token": token})
    assert r.status_code == 403
    api = await client.get(f"/api/v1/tickets/{t['id']}", headers=world.manager.headers)
    assert api.json()["status"] == "open"


async def test_a_status_change_without_a_choice_is_a_422_page(client, world):
    t = await report(client, world.citizen)
    sign_in(client, world.manager)
    token = await form_token(client, f"/tickets/{t['id']}")
    r = await client.post(f"/tickets/{t['id']}/status", data={"status": "", "csrf_token": token})
    assert r.status_code == 422


async def test_a_status_change_needs_the_csrf_token(client, world):
    t = await report(client, world.citizen)
    sign_in(client, world.manager)
    await form_token(client, f"/tickets/{t['id']}")
    r = await client.post(f"/tickets/{t['id']}/status", data={"status": "in_progress"})
    assert r.status_code == 403 and "This form has expired" in r.text
    api = await client.get(f"/api/v1/tickets/{t['id']}", headers=world.manager.headers)
    assert api.json()["status"] == "open"


async def test_assigning_from_the_page(client, world):
    t = await report(client, world.citizen)
    sign_in(client, world.manager)
    token = await form_token(client, f"/tickets/{t['id']}")
    data = {
        "team_id": str(world.teams["roads"].id),
        "assigned_to": str(world.manager.id),
        "reason": "wrong team",
        "csrf_token": token,
    }
    r = await client.post(f"/tickets/{t['id']}/assign", data=data)
    assert r.status_code == 303
    detail = (await client.get(f"/api/v1/tickets/{t['id']}", headers=world.manager.headers)).json()
    assert (detail["assigned_team_id"], detail["assigned_to"]) == (str(world.teams["roads"].id), str(world.manager.id))
    page = (await client.get(r.headers["location"])).text
    assert f"To {world.teams['roads'].name}, {world.manager.user.full_name}. Reason: wrong team" in page


async def test_assigning_someone_who_may_not_take_it_is_a_422_page(client, world):
    t = await report(client, world.citizen)
    sign_in(client, world.manager)
    token = await form_token(client, f"/tickets/{t['id']}")
    data = {"team_id": str(world.teams["roads"].id), "assigned_to": str(world.citizen.id), "csrf_token": token}
    r = await client.post(f"/tickets/{t['id']}/assign", data=data)
    assert r.status_code == 422 and "The assignee must be" in r.text
    r = await client.post(f"/tickets/{t['id']}/assign", data={"team_id": "nonsense", "csrf_token": token})
    assert r.status_code == 422


@pytest.mark.parametrize("path", ["/tickets/not-a-uuid", f"/tickets/{uuid.uuid4()}"])
async def test_unknown_tickets_are_a_404_page(client, world, path):
    sign_in(client, world.manager)
    r = await client.get(path)
    assert r.status_code == 404
    assert "Ticket not found." in r.text and r.headers["content-type"].startswith("text/html")


async def test_tickets_out_of_scope_are_404_pages(client, factory, world, other):
    foreign = await factory.ticket(other.municipality)
    elsewhere = await factory.ticket(world.municipality, ward_id=world.wards[1].id)
    gbv = await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    sign_in(client, world.manager)
    assert (await client.get(f"/tickets/{foreign.id}")).status_code == 404
    assert (await client.get(f"/tickets/{gbv.id}")).status_code == 404
    sign_in(client, world.ward_councillor)
    assert (await client.get(f"/tickets/{elsewhere.id}")).status_code == 404
    token = await form_token(client, "/tickets")
    sign_in(client, world.manager)
    token = await form_token(client, "/tickets")
    r = await client.post(f"/tickets/{foreign.id}/status", data={"status": "in_progress", "csrf_token": token})
    assert r.status_code == 404


async def test_sensitive_reads_by_staff_are_logged_and_flagged(client, factory, world):
    gbv = await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    sign_in(client, world.saps_liaison)
    r = await client.get(f"/tickets/{gbv.id}")
    assert r.status_code == 200 and "This is a sensitive report." in r.text
    assert options_of(r.text, "assign-team") == ["", str(world.teams["gbv"].id)]
    r = await client.get(f"/tickets/{gbv.id}")
    assert r.text.count("Opened this report.") == 2  # the first view is in the second's history


async def test_an_admin_assigning_a_gbv_report_is_offered_saps_teams_only(client, factory, world):
    gbv = await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    water = await factory.ticket(world.municipality)
    sign_in(client, world.admin)
    assert options_of((await client.get(f"/tickets/{gbv.id}")).text, "assign-team") == ["", str(world.teams["gbv"].id)]
    offered = options_of((await client.get(f"/tickets/{water.id}")).text, "assign-team")
    assert str(world.teams["gbv"].id) not in offered and str(world.teams["water"].id) in offered


async def test_a_capped_search_total_reads_1000_plus(client, db, world):
    from tests.api.test_search_windows import bulk

    await bulk(db, world, 1_001, "Leaking tap at the corner")
    sign_in(client, world.manager)
    r = await client.get("/tickets?search=leaking")
    assert r.status_code == 200 and "<strong>1 000+ tickets</strong>" in r.text
    assert len(rows_of(r.text)) == 50 and "Page 1 of 20" in r.text
    exact = await client.get("/tickets?search=leaking&status=open")  # i % 3 = 0: 333 of them are open
    assert "<strong>333 tickets</strong>" in exact.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("search=ab", "Search for at least 3 characters."),
        ("page=200", "first 10,000 tickets"),
        ("search=pipe&page=20", "first 1,000 matches"),
    ],
)
async def test_a_refused_search_or_page_keeps_the_page_and_says_why(client, world, query, message):
    sign_in(client, world.manager)
    for path in ("/tickets", "/fragments/tickets"):
        r = await client.get(f"{path}?{query}")
        assert r.status_code == 422 and message in r.text
        assert 'data-testid="list-refusal"' in r.text and "ticket-total" not in r.text
    assert 'id="f-search"' in (await client.get(f"/tickets?{query}")).text  # the filters stay to correct it
