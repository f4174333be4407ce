"""Ward boundaries: GeoJSON validation and point-in-polygon, in plain Python.

Boundaries are GeoJSON `Polygon` or `MultiPolygon` geometries in WGS84 (positions are
`[longitude, latitude]`). `validate_boundary` is the gate every stored boundary passes, so
`contains` may assume a well-formed geometry; it still refuses to crash on anything else.
"""

import math
from typing import Any

MAX_POSITIONS = 10_000
MAX_POLYGONS = 500
ALLOWED_KEYS = frozenset({"type", "coordinates"})


class BoundaryError(ValueError):
    """A boundary that is not a usable WGS84 Polygon/MultiPolygon; the message says why."""


def validate_boundary(value: Any) -> dict[str, Any]:
    """Return the boundary normalised to 2-D float positions, or raise BoundaryError.

    Rules: `type` is Polygon or MultiPolygon and no other members are present; every ring is
    closed (first position equals last) with at least 4 positions; each position is
    `[lon, lat]` (an optional third number, the altitude, is dropped) with finite numbers,
    lon in -180..180 and lat in -90..90; at most MAX_POSITIONS positions in all, so one ward
    cannot make every ticket's ward lookup slow.
    """
    if not isinstance(value, dict):
        raise BoundaryError("boundary must be a GeoJSON object")
    extra = set(value) - ALLOWED_KEYS
    if extra:
        raise BoundaryError(f"boundary has unexpected members: {', '.join(sorted(map(str, extra)))}")
    kind = value.get("type")
    coords = value.get("coordinates")
    budget = [MAX_POSITIONS]
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": _polygon(coords, budget)}
    if kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise BoundaryError("MultiPolygon coordinates must be a non-empty list of polygons")
        if len(coords) > MAX_POLYGONS:
            raise BoundaryError(f"a MultiPolygon may have at most {MAX_POLYGONS} polygons")
        return {"type": "MultiPolygon", "coordinates": [_polygon(p, budget) for p in coords]}
    raise BoundaryError("boundary type must be Polygon or MultiPolygon")


def _polygon(coords: Any, budget: list[int]) -> list[list[list[float]]]:
    if not isinstance(coords, list) or not coords:
        raise BoundaryError("a polygon must be a non-empty list of linear rings")
    return [_ring(r, budget) for r in coords]


def _ring(ring: Any, budget: list[int]) -> list[list[float]]:
    if not isinstance(ring, list) or len(ring) < 4:
        raise BoundaryError("each ring must be a list of at least 4 positions")
    budget[0] -= len(ring)
    if budget[0] < 0:
        raise BoundaryError(f"a boundary may have at most {MAX_POSITIONS} positions")
    points = [_position(p) for p in ring]
    if points[0] != points[-1]:
        raise BoundaryError("each ring must be closed: its last position must equal its first")
    if len({tuple(p) for p in points}) < 3:
        raise BoundaryError("each ring must have at least 3 distinct positions")
    return points


def _position(p: Any) -> list[float]:
    if not isinstance(p, list) or len(p) not in (2, 3):
        raise BoundaryError("each position must be [longitude, latitude]")
    for n in p:
        # bool is an int in Python; true/false are not coordinates.
        if isinstance(n, bool) or not isinstance(n, int | float):
            raise BoundaryError("coordinates must be numbers")
    try:
        lon, lat = float(p[0]), float(p[1])
    except OverflowError as exc:  # an integer too large for a float
        raise BoundaryError("coordinates must be finite numbers") from exc
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise BoundaryError("coordinates must be finite numbers")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise BoundaryError("longitude must lie in -180..180 and latitude in -90..90")
    return [lon, lat]


def contains(boundary: dict, lon: float, lat: float) -> bool:
    """True when the point lies inside the boundary (holes excluded).

    Even-odd ray casting over every ring of a polygon, so a point inside an inner ring (a
    hole) counts as outside; a MultiPolygon contains the point when any of its polygons does.
    Edges are half-open, so a point on an edge shared by two neighbouring wards belongs to one
    of them rather than both; on a vertex or edge the answer is well defined but either way.
    Anything that is not a Polygon/MultiPolygon contains nothing.
    """
    if not isinstance(boundary, dict):
        return False
    kind, coords = boundary.get("type"), boundary.get("coordinates")
    if not isinstance(coords, list):
        return False
    if kind == "Polygon":
        return _in_polygon(coords, lon, lat)
    if kind == "MultiPolygon":
        return any(_in_polygon(p, lon, lat) for p in coords if isinstance(p, list))
    return False


def _in_polygon(rings: list, x: float, y: float) -> bool:
    inside = False
    for ring in rings:
        if isinstance(ring, list) and _crossings_odd(ring, x, y):
            inside = not inside
    return inside


def _crossings_odd(ring: list, x: float, y: float) -> bool:
    """Count crossings of a ray from (x, y) towards +x with the ring's edges; odd means inside."""
    odd = False
    n = len(ring)
    if n < 3:
        return False
    try:
        xj, yj = float(ring[-1][0]), float(ring[-1][1])
        for pos in ring:
            xi, yi = float(pos[0]), float(pos[1])
            if (yi > y) != (yj > y):
                # x-coordinate where the edge meets the horizontal line through the point;
                # yi != yj here, so the division is safe.
                x_cross = xi + (y - yi) * (xj - xi) / (yj - yi)
                if x < x_cross:
                    odd = not odd
            xj, yj = xi, yi
    except (TypeError, ValueError, IndexError):
        return False
    return odd
