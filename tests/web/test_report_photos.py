"""Photos sent with a report from the web form: kept with the new report and shown on its timeline
to those who may see it; a bad file refuses the whole report with a friendly message, keeps what
was typed, and stores nothing."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from src.models.ticket import Ticket, TicketPhoto
from src.models.user import UserRole
from tests.photo_helpers import photo
from tests.web.helpers import form_token, sign_in

pytestmark = pytest.mark.usefixtures("media")


def files_in(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


async def counts(db) -> tuple[int, int]:
    async with db.system_session() as s:
        tickets = await s.scalar(select(func.count()).select_from(Ticket))
        photos = await s.scalar(select(func.count()).select_from(TicketPhoto))
    return tickets or 0, photos or 0


def form(token: str, **values: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "category": "water",
        "description": "Burst pipe at the corner",
        "address": "12 Church St",
        **values,
    }


async def send(client, token: str, photos: list[tuple[str, bytes, str]], **values: str):
    return await client.post(
        "/reports", data=form(token, **values), files=[("photos", photo) for photo in photos] or None
    )


async def test_photos_are_kept_with_the_new_report_and_shown_on_its_timeline(client, db, factory, world, other, media):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    r = await send(client, token, [("a.jpg", photo(gps=True), "image/jpeg"), ("b.png", photo(fmt="PNG"), "image/png")])
    assert r.status_code == 303, r.text
    [t] = (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["tickets"]
    assert r.headers["location"] == f"/reports?created={t['tracking_number']}"
    assert t["description"] == "Burst pipe at the corner" and t["address"] == "12 Church St"
    async with db.system_session() as s:
        rows = (await s.execute(select(TicketPhoto))).scalars().all()
        assert {str(p.ticket_id) for p in rows} == {t["id"]}, files_in(media)
    assert sorted((p.width, p.height, p.uploaded_by) for p in rows) == [(640, 480, world.citizen.id)] * 2
    assert len(files_in(media)) == 4  # each photo and its thumbnail
    page = await client.get(f"/tickets/{t['id']}")
    shown = re.findall(r'<a href="([^"]+)"><img src="([^"]+)" alt="Photo (\d) of 2 of this report"', page.text)
    assert sorted((full, thumb) for full, thumb, _ in shown) == sorted(
        (f"/api/v1/tickets/{t['id']}/photos/{p.id}", f"/api/v1/tickets/{t['id']}/photos/{p.id}/thumbnail") for p in rows
    )
    # the browser fetches them with the session cookie: the reporter may, and nothing but pixels survives
    full = await client.get(shown[0][0])
    assert full.status_code == 200 and dict(Image.open(io.BytesIO(full.content)).getexif()) == {}
    thumb = await client.get(shown[0][1])
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    # staff who may see the ticket see the same thumbnails; another resident gets no page at all
    sign_in(client, world.manager)
    assert len(re.findall(r'alt="Photo \d of 2 of this report"', (await client.get(f"/tickets/{t['id']}")).text)) == 2
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    sign_in(client, neighbour)
    assert (await client.get(f"/tickets/{t['id']}")).status_code == 404
    assert (await client.get(shown[0][1])).status_code == 404
    sign_in(client, other.manager)  # another municipality's staff: not found either
    assert (await client.get(f"/tickets/{t['id']}")).status_code == 404
    assert (await client.get(shown[0][1])).status_code == 404


async def test_a_report_without_photos_shows_none(client, world, media):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    # a file field left empty still sends a part without a file name
    r = await send(client, token, [("", b"", "application/octet-stream")])
    assert r.status_code == 303, r.text
    [t] = (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["tickets"]
    page = await client.get(f"/tickets/{t['id']}")
    assert 'data-testid="photos"' not in page.text and files_in(media) == []


@pytest.mark.parametrize(
    ("photos", "message"),
    [
        ([("notes.txt", b"not a picture at all", "text/plain")], "That file is not a photo we can read"),
        (
            [("a.jpg", photo(), "image/jpeg"), ("b.gif", photo(fmt="GIF"), "image/gif")],
            "Send a JPEG, PNG or WebP photo.",
        ),
        ([("huge.jpg", photo() + b"\0" * (10 * 1024 * 1024), "image/jpeg")], "A photo may be at most 10 MB."),
        ([(f"{i}.jpg", photo(size=(40, 30)), "image/jpeg") for i in range(6)], "A report may have at most 5 photos."),
    ],
)
async def test_a_bad_photo_keeps_the_typed_values_and_nothing_else(client, db, world, media, photos, message):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    before = await counts(db)
    r = await send(client, token, photos, description="Water <everywhere> on Main Rd", severity="high")
    assert r.status_code == 422
    error = re.search(r'<p class="field-error" id="r-photos-error" data-testid="photos-error">([^<]+)</p>', r.text)
    assert error and error.group(1).startswith(message)
    assert "choose your photos again" in error.group(1)
    assert 'aria-invalid="true" aria-describedby="r-photos-hint r-photos-error"' not in r.text  # attribute order
    assert 'aria-describedby="r-photos-hint r-photos-error" aria-invalid="true"' in r.text
    assert ">Water &lt;everywhere&gt; on Main Rd</textarea>" in r.text
    assert 'value="12 Church St"' in r.text and '<option value="high" selected>' in r.text
    assert '<option value="water" selected>' in r.text
    assert await counts(db) == before and files_in(media) == []


async def test_a_bad_photo_and_a_missing_description_are_both_explained(client, db, world, media):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    r = await send(client, token, [("x.txt", b"text", "text/plain")], description="")
    assert r.status_code == 422
    assert 'id="r-description-error">Describe the problem' in r.text and 'data-testid="photos-error"' in r.text
    assert await counts(db) == (0, 0) and files_in(media) == []


async def test_photos_cannot_ride_on_a_gbv_report(client, db, world, media):
    sign_in(client, world.citizen)
    gbv_form = await client.get("/reports/gbv")
    assert 'type="file"' not in gbv_form.text  # the private form offers no photos
    token = await form_token(client, "/reports")
    r = await send(client, token, [("a.jpg", photo(), "image/jpeg")], category="gbv", address="")
    assert r.status_code == 409 and "Photos of GBV reports are not accepted yet" in r.text
    assert ">Burst pipe at the corner</textarea>" in r.text
    assert await counts(db) == (0, 0) and files_in(media) == []


async def test_only_residents_send_reports_and_the_form_needs_its_token(client, db, world, media):
    token = await form_token(client, "/login")
    r = await send(client, token, [("a.jpg", photo(), "image/jpeg")])
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    sign_in(client, world.manager)
    token = await form_token(client, "/tickets")
    r = await send(client, token, [("a.jpg", photo(), "image/jpeg")])
    assert r.status_code == 403
    sign_in(client, world.citizen)
    r = await send(client, "forged", [("a.jpg", photo(), "image/jpeg")])
    assert r.status_code == 403
    assert await counts(db) == (0, 0) and files_in(media) == []
