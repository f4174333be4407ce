"""Photos for the tests: real images made with Pillow (optionally carrying a maker tag and a GPS
position in EXIF), and a media folder of the test's own."""

import io
from pathlib import Path

import pytest
from PIL import Image

from src.core.config import get_settings

GPS_IFD = 0x8825


def photo(size=(640, 480), colour=(200, 30, 30), fmt: str = "JPEG", gps: bool = False) -> bytes:
    """An image file; with `gps`, its EXIF names the camera ("PhoneCam") and where it stood."""
    buf = io.BytesIO()
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "PhoneCam"
        exif.get_ifd(GPS_IFD).update({1: "S", 2: (25.0, 57.0, 0.0), 3: "E", 4: (28.0, 3.0, 0.0)})
    Image.new("RGB", size, colour).save(buf, fmt, exif=exif)
    return buf.getvalue()


@pytest.fixture
def media(tmp_path, monkeypatch) -> Path:
    """MEDIA_DIR in the test's own folder, so stored photos can be counted and leave no trace."""
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    get_settings.cache_clear()
    yield tmp_path / "media"
    get_settings.cache_clear()
