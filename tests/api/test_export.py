"""GET /api/v1/export/tickets.csv and .xlsx."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from src.models.user import UserRole
from src.services.export_service import COLUMNS

CSV = "/api/v1/export/tickets.csv"
XLSX = "/api/v1/export/tickets.xlsx"
SAST = ZoneInfo("Africa/Johannesburg")


def read_csv(r) -> list[list[str]]:
    assert r.content.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(r.content[3:].decode("utf-8"), newline="")))


def read_xlsx(r) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    return list(book["Tickets"].iter_rows(values_only=True))


def local(dt: datetime) -> str:
    return dt.astimezone(SAST).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
async def rich(factory, world):
    """One ticket with every field set, plus a plain one, so each column is checked."""
    now = datetime.now(UTC).replace(microsecond=0)
    created = now - timedelta(hours=30)
    full = await factory.ticket(
        world.municipality,
        category="roads",
        severity="high",
        status="closed",
        description='Pothole, "deep" — near the école; two lines\nsecond',
        address="12 Church St, Pretoria",
        latitude=-25.95,
        longitude=28.05,
        ward_id=world.ward.id,
        assigned_team_id=world.teams["roads"].id,
        assigned_to=world.manager.id,
        created_at=created,
        first_responded_at=created + timedelta(hours=1),
        escalated_at=created + timedelta(hours=2),
        resolved_at=created + timedelta(hours=20),
        closed_at=created + timedelta(hours=21),
        sla_response_deadline=created + timedelta(hours=4),
        sla_resolution_deadline=created + timedelta(hours=10),
    )
    plain = await factory.ticket(
        world.municipality,
        created_at=now - timedelta(hours=1),
        sla_response_deadline=now + timedelta(hours=1),
        sla_resolution_deadline=now - timedelta(minutes=5),
    )
    return full, plain


async def test_anonymous_is_401(client, db):
    for url in (CSV, XLSX):
        r = await client.get(url)
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_token"


@pytest.mark.parametrize("role", ["citizen", "field_worker", "saps_liaison"])
async def test_roles_without_exports_are_403(client, world, role):
    for url in (CSV, XLSX):
        r = await client.get(url, headers=getattr(world, role).headers)
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"


async def test_csv_has_the_columns_in_order_and_every_value(client, world, rich):
    full, plain = rich
    r = await client.get(CSV, headers=world.manager.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = read_csv(r)
    assert rows[0] == list(COLUMNS)
    assert [row[0] for row in rows[1:]] == [plain.tracking_number, full.tracking_number]  # newest first
    assert rows[2] == [
        full.tracking_number,
        "roads",
        "closed",
        "high",
        world.ward.code,
        world.teams["roads"].name,
        world.manager.user.full_name,
        "12 Church St, Pretoria",
        "-25.95",
        "28.05",
        local(full.created_at),
        local(full.first_responded_at),
        local(full.resolved_at),
        local(full.closed_at),
        local(full.escalated_at),
        local(full.sla_response_deadline),
        local(full.sla_resolution_deadline),
        "met",
        "breached",
        full.description,
    ]
    assert rows[1][4:10] == ["", "", "", "", "", ""]
    assert rows[1][11:15] == ["", "", "", ""]
    assert rows[1][17:19] == ["pending", "breached"]  # no response yet, deadline ahead; resolution overdue


async def test_the_filename_names_the_municipality_and_the_local_moment(client, world):
    r = await client.get(CSV, headers=world.manager.headers)
    code = world.municipality.code
    match = re.fullmatch(
        rf'attachment; filename="tickets-{code}-(\d{{8}}-\d{{4}})\.csv"', r.headers["content-disposition"]
    )
    assert match
    stamp = datetime.strptime(match.group(1), "%Y%m%d-%H%M").replace(tzinfo=SAST)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 600
    r = await client.get(XLSX, headers=world.manager.headers)
    assert re.fullmatch(
        rf'attachment; filename="tickets-{code}-\d{{8}}-\d{{4}}\.xlsx"', r.headers["content-disposition"]
    )


async def test_an_empty_view_is_the_header_alone(client, world):
    rows = read_csv(await client.get(CSV, headers=world.admin.headers))
    assert rows == [list(COLUMNS)]
    assert read_xlsx(await client.get(XLSX, headers=world.admin.headers)) == [COLUMNS]


async def test_sensitive_and_foreign_tickets_are_never_exported(client, factory, world, other):
    mine = await factory.ticket(world.municipality)
    await factory.ticket(world.municipality, category="gbv", assigned_team_id=world.teams["gbv"].id)
    await factory.ticket(other.municipality)
    for actor in (world.admin, world.manager):
        rows = read_csv(await client.get(CSV, headers=actor.headers))
        assert [row[0] for row in rows[1:]] == [mine.tracking_number]
        xrows = read_xlsx(await client.get(XLSX, headers=actor.headers))
        assert [row[0] for row in xrows[1:]] == [mine.tracking_number]


async def test_a_councillor_exports_only_their_ward(client, factory, world):
    theirs = await factory.ticket(world.municipality, ward_id=world.ward.id)
    await factory.ticket(world.municipality, ward_id=world.wards[1].id)
    await factory.ticket(world.municipality)
    rows = read_csv(await client.get(CSV, headers=world.ward_councillor.headers))
    assert [row[0] for row in rows[1:]] == [theirs.tracking_number]


async def test_text_that_looks_like_a_formula_stays_text(client, factory, world):
    await factory.ticket(world.municipality, description='=HYPERLINK("http://x")', address="+27 Main")
    rows = read_csv(await client.get(CSV, headers=world.manager.headers))
    assert rows[1][7] == "'+27 Main"
    assert rows[1][19] == '\'=HYPERLINK("http://x")'
    xrows = read_xlsx(await client.get(XLSX, headers=world.manager.headers))
    assert xrows[1][19] == '=HYPERLINK("http://x")'  # a string cell in Excel, never a formula


async def test_excel_has_real_dates_and_numbers(client, world, rich):
    full, _plain = rich
    r = await client.get(XLSX, headers=world.manager.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = read_xlsx(r)
    assert rows[0] == COLUMNS
    row = rows[2]
    assert row[0] == full.tracking_number
    assert row[4:8] == (
        world.ward.code,
        world.teams["roads"].name,
        world.manager.user.full_name,
        "12 Church St, Pretoria",
    )
    assert row[8:10] == (-25.95, 28.05)
    created = full.created_at.astimezone(SAST).replace(tzinfo=None)
    assert isinstance(row[10], datetime) and row[10] == created
    assert row[16] == full.sla_resolution_deadline.astimezone(SAST).replace(tzinfo=None)
    assert row[17:] == ("met", "breached", full.description)
    assert rows[1][11] is None and rows[1][17] == "pending"


async def test_times_follow_the_municipality_timezone(client, factory):
    mun = await factory.municipality(timezone="America/New_York")
    manager = await factory.user(mun, UserRole.MANAGER)
    created = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    await factory.ticket(mun, created_at=created)
    rows = read_csv(await client.get(CSV, headers=manager.headers))
    assert rows[1][10] == "2026-01-15 07:00:00"


async def test_exports_follow_the_lists_filters_search_and_sort(client, factory, world):
    a = await factory.ticket(world.municipality, category="roads", severity="low", description="Pothole 100% deep")
    b = await factory.ticket(world.municipality, category="roads", severity="critical", status="in_progress")
    await factory.ticket(world.municipality, category="water", severity="high")
    h = world.manager.headers
    for query, expected in (
        ("category=roads", [a, b]),  # newest first (the factory ages each ticket)
        ("category=roads&sort_by=severity&sort_order=asc", [a, b]),
        ("status=in_progress", [b]),
        ("search=100%25", [a]),
        ("search=100_", []),
        ("category=roads&sort_by=severity&sort_order=desc&page=5&page_size=1", [b, a]),  # paging is ignored
    ):
        listed = (await client.get(f"/api/v1/tickets?{query}", headers=h)).json()
        rows = read_csv(await client.get(f"{CSV}?{query}", headers=h))
        assert [row[0] for row in rows[1:]] == [t.tracking_number for t in expected], query
        if "page=" not in query:
            assert [t["tracking_number"] for t in listed["tickets"]] == [row[0] for row in rows[1:]]
        xrows = read_xlsx(await client.get(f"{XLSX}?{query}", headers=h))
        assert [row[0] for row in xrows[1:]] == [t.tracking_number for t in expected], query


async def test_a_councillor_naming_another_ward_is_403(client, world):
    for url in (CSV, XLSX):
        r = await client.get(f"{url}?ward_id={world.wards[1].id}", headers=world.ward_councillor.headers)
        assert r.status_code == 403
        assert r.json()["code"] == "ward_forbidden"
    r = await client.get(f"{CSV}?ward_id={world.ward.id}", headers=world.ward_councillor.headers)
    assert r.status_code == 200


@pytest.mark.parametrize(
    "query", ["status=lost", "ward_id=nope", "created_from=yesterday", "page_size=0", "search=" + "x" * 201]
)
async def test_bad_filters_are_422(client, world, query):
    for url in (CSV, XLSX):
        r = await client.get(f"{url}?{query}", headers=world.manager.headers)
        assert r.status_code == 422, (url, query)
