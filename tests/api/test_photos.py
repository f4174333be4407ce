"""Photos: upload (re-encoded, so no EXIF or GPS survives), thumbnail, access-checked download,
the limit of five, and every refusal keeping nothing."""

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from src.models.ticket import TicketPhoto
from src.models.user import UserRole
from tests.api.admin_helpers import API, assert_error
from tests.api.ticket_helpers import report
from tests.photo_helpers import GPS_IFD, photo

TICKETS = f"{API}/tickets"
pytestmark = pytest.mark.usefixtures("media")


async def upload(client, actor, ticket_id, content: bytes, name: str = "photo.jpg", mime: str = "image/jpeg"):
    return await client.post(
        f"{TICKETS}/{ticket_id}/photos", headers=actor.headers, files={"file": (name, content, mime)}
    )


async def stored(db) -> int:
    async with db.system_session() as s:
        return await s.scalar(select(func.count()).select_from(TicketPhoto))


def files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


async def test_a_photo_with_gps_comes_back_without_it(client, db, world, media):
    t = await report(client, world.citizen)
    original = photo(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)[1] == "S"  # the test's own premise
    r = await upload(client, world.citizen, t["id"], original)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {
        "id": body["id"],
        "url": f"{TICKETS}/{t['id']}/photos/{body['id']}",
        "thumbnail_url": f"{TICKETS}/{t['id']}/photos/{body['id']}/thumbnail",
    }
    for actor in (world.citizen, world.manager):
        full = await client.get(body["url"], headers=actor.headers)
        assert full.status_code == 200 and full.headers["content-type"] == "image/jpeg"
        img = Image.open(io.BytesIO(full.content))
        assert img.size == (640, 480) and dict(img.getexif()) == {}
        assert b"Exif" not in full.content and b"PhoneCam" not in full.content
    thumb = await client.get(body["thumbnail_url"], headers=world.citizen.headers)
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    assert [p.name for p in files(media)] == sorted([f"{body['id']}.jpg", f"{body['id']}.thumb.jpg"])


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("WEBP", "image/webp")])
async def test_png_and_webp_are_accepted(client, world, fmt, mime):
    t = await report(client, world.citizen)
    r = await upload(client, world.manager, t["id"], photo(fmt=fmt, size=(100, 50)), f"p.{fmt.lower()}", mime)
    assert r.status_code == 201, r.text
    img = Image.open(io.BytesIO((await client.get(r.json()["url"], headers=world.manager.headers)).content))
    assert (img.format, img.size) == ("JPEG", (100, 50))


async def test_only_those_who_may_see_the_ticket_get_its_photos(client, factory, world, other):
    t = await report(client, world.citizen)
    body = (await upload(client, world.citizen, t["id"], photo())).json()
    assert_error(await client.get(body["url"]), 401, "invalid_token")
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    for actor in (neighbour, other.admin, world.saps_liaison):
        assert_error(await client.get(body["url"], headers=actor.headers), 404, "not_found")
        assert_error(await client.get(body["thumbnail_url"], headers=actor.headers), 404, "not_found")
    missing = f"{TICKETS}/{t['id']}/photos/00000000-0000-0000-0000-000000000000"
    assert_error(await client.get(missing, headers=world.citizen.headers), 404, "not_found")
    assert (await client.get(f"{TICKETS}/{t['id']}/photos/nope", headers=world.citizen.headers)).status_code == 422


async def test_who_may_upload(client, db, factory, world, other):
    t = await report(client, world.citizen)
    assert_error(
        await client.post(f"{TICKETS}/{t['id']}/photos", files={"file": ("a.jpg", photo(), "image/jpeg")}),
        401,
        "invalid_token",
    )
    assert_error(await upload(client, world.ward_councillor, t["id"], photo()), 404, "not_found")  # no ward: unseen
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    assert_error(await upload(client, neighbour, t["id"], photo()), 404, "not_found")
    assert_error(await upload(client, other.manager, t["id"], photo()), 404, "not_found")
    in_ward = await report(client, world.citizen, ward_id=str(world.ward.id))
    assert_error(await upload(client, world.ward_councillor, in_ward["id"], photo()), 403, "forbidden")
    assert await stored(db) == 0


async def test_a_sixth_photo_is_refused(client, db, world, media):
    t = await report(client, world.citizen)
    for _ in range(5):
        assert (await upload(client, world.citizen, t["id"], photo())).status_code == 201
    assert_error(await upload(client, world.manager, t["id"], photo()), 409, "photo_limit")
    assert await stored(db) == 5 and len(files(media)) == 10


async def test_bad_files_are_refused_and_nothing_is_kept(client, db, world, media):
    t = await report(client, world.citizen)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    for content, name, mime in (
        (b"%PDF-1.4 not an image", "doc.pdf", "application/pdf"),
        (b"", "empty.jpg", "image/jpeg"),
        (photo()[:200], "cut.jpg", "image/jpeg"),
        (gif.getvalue(), "anim.gif", "image/gif"),
    ):
        assert_error(await upload(client, world.citizen, t["id"], content, name, mime), 422, "not_an_image")
    assert_error(await upload(client, world.citizen, t["id"], b"\xff" * (10 * 1024 * 1024 + 1)), 413, "too_large")
    r = await client.post(f"{TICKETS}/{t['id']}/photos", headers=world.citizen.headers, data={"other": "x"})
    assert r.status_code == 422
    assert await stored(db) == 0 and files(media) == []


async def test_gbv_reports_take_no_photo_yet(client, db, world, media):
    t = await report(client, world.citizen, category="gbv", description="help")
    assert_error(await upload(client, world.citizen, t["id"], photo()), 409, "sensitive_photo")
    assert await stored(db) == 0 and files(media) == []
