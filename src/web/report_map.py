"""The ward map of the report form: the municipality's ward boundaries drawn as SVG polygons, so a
resident can point at where the problem is. Drawn on the server (no map tiles, no third party)."""

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.ward import Ward
from src.services.principal import Principal

WIDTH = 1000.0  # SVG units across; the height follows the municipality's shape


@dataclass(frozen=True)
class WardMap:
    view_box: str
    west: float
    north: float
    x_scale: float  # SVG units per degree of longitude
    y_scale: float  # ... per degree of latitude
    wards: list[dict[str, str]]


def _rings(boundary: dict[str, Any] | None) -> list[list[list[float]]]:
    """Outer rings only: a hole is still inside the ward for pointing purposes."""
    if not isinstance(boundary, dict):  # a JSON null stored as a value
        return []
    if boundary.get("type") == "Polygon":
        return [boundary["coordinates"][0]]
    if boundary.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in boundary["coordinates"]]
    return []


async def ward_map(session: AsyncSession, p: Principal) -> WardMap | None:
    rows = (
        await session.execute(
            select(Ward.code, Ward.name, Ward.boundary)
            .where(Ward.municipality_id == p.municipality_id, Ward.boundary.is_not(None))
            .order_by(Ward.code)
        )
    ).all()
    shapes = [(code, name, ring) for code, name, boundary in rows for ring in _rings(boundary)]
    points = [pt for _, _, ring in shapes for pt in ring]
    if not points:
        return None
    west, east = min(x for x, _ in points), max(x for x, _ in points)
    south, north = min(y for _, y in points), max(y for _, y in points)
    # a degree of longitude is shorter than one of latitude away from the equator
    squash = math.cos(math.radians((north + south) / 2))
    x_scale = WIDTH / max((east - west), 1e-9)
    y_scale = x_scale / max(squash, 0.01)
    height = max((north - south) * y_scale, 1.0)
    wards = [
        {
            "code": code,
            "name": name,
            "points": " ".join(f"{(x - west) * x_scale:.1f},{(north - y) * y_scale:.1f}" for x, y in ring),
        }
        for code, name, ring in shapes
    ]
    return WardMap(f"0 0 {WIDTH:.0f} {height:.0f}", west, north, x_scale, y_scale, wards)
