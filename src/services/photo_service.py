"""Photos of a ticket: decoded and re-encoded on upload so that nothing but pixels survives (no
EXIF, no GPS position, no comment), stored under MEDIA_DIR with a thumbnail, served only to
whoever may see the ticket.

Files are written before the row and removed again if anything fails before the request
returns, so a refused upload keeps nothing. (A failure of the final commit itself can leave two
orphan files, never a row without files.)
"""

import asyncio
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.config import get_settings
from src.core.errors import AppError, Conflict, Invalid, NotFound
from src.models.ticket import TicketPhoto
from src.services import access
from src.services.principal import Principal
from src.services.ticket_service import load_ticket

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 5
MAX_PIXELS = 40_000_000  # a 10 MB file may still claim billions of pixels: refuse before decoding
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
THUMBNAIL = (320, 320)
QUALITY = 85


class TooLarge(AppError):
    status = 413
    code = "too_large"
    detail = "A photo may be at most 10 MB."


@dataclass(frozen=True)
class Encoded:
    full: bytes
    thumbnail: bytes
    width: int
    height: int


def reencode(data: bytes) -> Encoded:
    """Decode a JPEG, PNG or WebP and write it again as a plain JPEG (turned upright first, since
    the orientation tag goes with the rest of the metadata)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in FORMATS:
                raise Invalid("Send a JPEG, PNG or WebP photo.", "not_an_image")
            if img.width * img.height > MAX_PIXELS:
                raise Invalid("That image has too many pixels.", "not_an_image")
            img.load()
            upright = ImageOps.exif_transpose(img)
            if upright.mode in ("RGBA", "LA", "P"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
            else:
                flat = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise Invalid("That file is not a photo we can read (JPEG, PNG or WebP).", "not_an_image") from exc
    full = io.BytesIO()
    flat.save(full, "JPEG", quality=QUALITY, optimize=True)
    small = flat.copy()
    small.thumbnail(THUMBNAIL)
    thumb = io.BytesIO()
    small.save(thumb, "JPEG", quality=QUALITY)
    return Encoded(full.getvalue(), thumb.getvalue(), flat.width, flat.height)


def _paths(municipality_id: uuid.UUID, ticket_id: uuid.UUID, photo_id: uuid.UUID) -> tuple[Path, Path]:
    folder = Path(get_settings().media_dir) / str(municipality_id) / str(ticket_id)
    return folder / f"{photo_id}.jpg", folder / f"{photo_id}.thumb.jpg"


def _write(paths: tuple[Path, Path], encoded: Encoded) -> None:
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    for path, content in zip(paths, (encoded.full, encoded.thumbnail), strict=True):
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)


def photo_urls(ticket_id: uuid.UUID, photo_id: uuid.UUID) -> dict[str, str]:
    url = f"/api/v1/tickets/{ticket_id}/photos/{photo_id}"
    return {"id": str(photo_id), "url": url, "thumbnail_url": f"{url}/thumbnail"}


async def encode(data: bytes) -> Encoded:
    """A photo checked and re-encoded, ready to store: 413 `too_large`, 422 `not_an_image`."""
    if len(data) > MAX_BYTES:
        raise TooLarge()
    return await asyncio.to_thread(reencode, data)


async def encode_all(files: list[bytes]) -> list[Encoded]:
    """Photos sent together with a new report: at most MAX_PHOTOS, each checked before anything is
    stored, so a bad one refuses the lot and nothing is kept."""
    if len(files) > MAX_PHOTOS:
        raise Conflict(f"A report may have at most {MAX_PHOTOS} photos.", "photo_limit")
    return [await encode(data) for data in files]


async def add_photo(session: AsyncSession, p: Principal, ticket_id: uuid.UUID, data: bytes | Encoded) -> dict[str, str]:
    ticket = await load_ticket(session, p, ticket_id, access.Purpose.DETAIL, for_update=True)
    if ticket.reporter_id != p.id:  # not the reporter: staff who may change it
        access.require_role(p, access.STATUS_CHANGERS)
        ticket = await load_ticket(session, p, ticket_id, access.Purpose.CHANGE, for_update=True)
    if ticket.is_sensitive:
        raise Conflict(
            "Photos of GBV reports are not accepted yet: they must first be stored encrypted.", "sensitive_photo"
        )
    if isinstance(data, bytes) and len(data) > MAX_BYTES:
        raise TooLarge()
    count = await session.scalar(
        select(func.count())
        .select_from(TicketPhoto)
        .where(TicketPhoto.municipality_id == ticket.municipality_id, TicketPhoto.ticket_id == ticket.id)
    )
    if (count or 0) >= MAX_PHOTOS:
        raise Conflict(f"A ticket may have at most {MAX_PHOTOS} photos.", "photo_limit")
    encoded = data if isinstance(data, Encoded) else await encode(data)
    photo_id = uuid.uuid4()
    paths = _paths(ticket.municipality_id, ticket.id, photo_id)
    await asyncio.to_thread(_write, paths, encoded)
    try:
        session.add(
            TicketPhoto(
                id=photo_id,
                municipality_id=ticket.municipality_id,
                ticket_id=ticket.id,
                uploaded_by=p.id,
                width=encoded.width,
                height=encoded.height,
                bytes=len(encoded.full),
            )
        )
        await session.flush()
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise
    return photo_urls(ticket.id, photo_id)


async def add_photos(
    session: AsyncSession, p: Principal, ticket_id: uuid.UUID, photos: list[Encoded]
) -> list[dict[str, str]]:
    """Several photos of one ticket (the web report form's), each through `add_photo`; if one
    fails, the files of those already written go too (their rows leave with the rollback)."""
    added: list[dict[str, str]] = []
    try:
        for encoded in photos:
            added.append(await add_photo(session, p, ticket_id, encoded))
    except BaseException:
        for photo in added:
            for path in _paths(p.municipality_id, ticket_id, uuid.UUID(photo["id"])):
                path.unlink(missing_ok=True)
        raise
    return added


async def list_photos(session: AsyncSession, p: Principal, ticket_id: uuid.UUID) -> list[dict[str, str]]:
    """The ticket's photos, oldest first, for whoever may see the ticket (404 otherwise)."""
    ticket = await load_ticket(session, p, ticket_id, access.Purpose.DETAIL)
    ids = await session.scalars(
        select(TicketPhoto.id)
        .where(TicketPhoto.municipality_id == ticket.municipality_id, TicketPhoto.ticket_id == ticket.id)
        .order_by(TicketPhoto.created_at, TicketPhoto.id)
    )
    return [photo_urls(ticket.id, photo_id) for photo_id in ids]


async def photo_file(
    session: AsyncSession, p: Principal, ticket_id: uuid.UUID, photo_id: uuid.UUID, thumbnail: bool
) -> Path:
    ticket = await load_ticket(session, p, ticket_id, access.Purpose.DETAIL)
    found = await session.scalar(
        select(TicketPhoto.id).where(
            TicketPhoto.municipality_id == ticket.municipality_id,
            TicketPhoto.ticket_id == ticket.id,
            TicketPhoto.id == photo_id,
        )
    )
    path = _paths(ticket.municipality_id, ticket.id, photo_id)[1 if thumbnail else 0]
    if found is None or not path.is_file():
        raise NotFound("Photo not found.")
    return path
