"""The public ward map: ward boundaries drawn as SVG on the server, the heatmap cells over them.

No tiles, no script, nothing fetched from elsewhere: the outlines are the wards' own GeoJSON,
projected onto the page (longitude scaled by the cosine of the middle latitude, so shapes keep
their proportions at any latitude). Colours come from CSS classes, like the dashboard's charts.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup

from src.schemas.public import HeatCell, WardFeature
from src.web.formatting import sa_int

WIDTH = 640
PAD = 12
BANDS = 4


def _rings(geometry: dict[str, Any] | None) -> list[list[list[float]]]:
    """Every ring of a Polygon or MultiPolygon (outer rings and holes alike)."""
    if not geometry:
        return []
    coords = geometry.get("coordinates") or []
    polygons = coords if geometry.get("type") == "MultiPolygon" else [coords]
    return [ring for polygon in polygons for ring in polygon if len(ring) >= 3]


class Projection:
    def __init__(self, points: Iterable[tuple[float, float]]) -> None:
        pts = list(points)
        lons = [p[0] for p in pts]
        lats = [p[1] for p in pts]
        self.west, self.east = min(lons), max(lons)
        self.south, self.north = min(lats), max(lats)
        self.k = math.cos(math.radians((self.south + self.north) / 2))
        span_x = max((self.east - self.west) * self.k, 1e-9)
        span_y = max(self.north - self.south, 1e-9)
        self.scale = (WIDTH - 2 * PAD) / span_x
        self.height = min(span_y * self.scale + 2 * PAD, WIDTH * 1.5)
        if span_y * self.scale + 2 * PAD > self.height:  # a very tall municipality: fit its height instead
            self.scale = (self.height - 2 * PAD) / span_y

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return PAD + (lon - self.west) * self.k * self.scale, PAD + (self.north - lat) * self.scale


def _band(value: int, peak: int) -> int:
    if value <= 0 or peak <= 0:
        return 0
    return max(1, math.ceil(BANDS * value / peak))


def ward_map(features: Sequence[WardFeature], cells: Sequence[HeatCell], title: str) -> Markup | None:
    """The map as an accessible SVG image, or None when no ward has a boundary."""
    drawn = [(f, _rings(f.geometry)) for f in features]
    drawn = [(f, rings) for f, rings in drawn if rings]
    if not drawn:
        return None
    proj = Projection((p[0], p[1]) for _, rings in drawn for ring in rings for p in ring)
    peak_open = max((int(f.properties["open"]) for f, _ in drawn), default=0)
    body = Markup("")
    for f, rings in drawn:
        props = f.properties
        d = " ".join(
            "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (proj.xy(p[0], p[1]) for p in ring)) + " Z" for ring in rings
        )
        label = f"{props['name']} ({props['code']}): {sa_int(props['open'])} open, {sa_int(props['resolved'])} resolved"
        body += Markup('<path d="{}" class="ward ward-band-{}" fill-rule="evenodd"><title>{}</title></path>').format(
            d, _band(int(props["open"]), peak_open), label
        )
    peak_cell = max((c.count for c in cells), default=0)
    radius = max(proj.scale * 0.0045 / 2, 3.0)
    for c in cells:
        if not (proj.west <= c.lng <= proj.east and proj.south <= c.lat <= proj.north):
            continue
        x, y = proj.xy(c.lng, c.lat)
        body += Markup(
            '<circle cx="{:.1f}" cy="{:.1f}" r="{:.1f}" class="heat heat-{}"><title>{} reports</title></circle>'
        ).format(x, y, radius, _band(c.count, peak_cell), sa_int(c.count))
    desc = f"{len(drawn)} wards drawn from their boundaries; {len(cells)} areas with five or more reports marked."
    return Markup(
        '<svg class="chart ward-map" id="ward-map" viewBox="0 0 {w} {h:.0f}" role="img" '
        'aria-labelledby="ward-map-title ward-map-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="ward-map-title">{title}</title><desc id="ward-map-desc">{desc}</desc>{body}</svg>'
    ).format(w=WIDTH, h=proj.height, title=title, desc=desc, body=body)
