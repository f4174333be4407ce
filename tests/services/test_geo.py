"""Ward boundaries: the GeoJSON gate and point-in-polygon used to derive a ticket's ward."""

import math

import pytest

from src.services.geo import MAX_POSITIONS, BoundaryError, contains, validate_boundary


def ring(lon: float, lat: float, size: float) -> list[list[float]]:
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


SQUARE = {"type": "Polygon", "coordinates": [ring(28.0, -26.0, 0.1)]}
WITH_HOLE = {"type": "Polygon", "coordinates": [ring(28.0, -26.0, 0.1), ring(28.04, -25.96, 0.02)]}
MULTI = {"type": "MultiPolygon", "coordinates": [[ring(28.0, -26.0, 0.1)], [ring(30.0, -24.0, 0.5)]]}
# An L shape: concave, so a naive bounding-box test would be wrong at (28.08, -25.92).
L_SHAPE = {
    "type": "Polygon",
    "coordinates": [
        [[28.0, -26.0], [28.1, -26.0], [28.1, -25.95], [28.05, -25.95], [28.05, -25.9], [28.0, -25.9], [28.0, -26.0]]
    ],
}


# ---- contains ---------------------------------------------------------------------------


def test_point_inside_a_polygon():
    assert contains(SQUARE, 28.05, -25.95) is True


@pytest.mark.parametrize("lon,lat", [(28.2, -25.95), (27.99, -25.95), (28.05, -26.01), (28.05, -25.8), (-28.05, 25.95)])
def test_points_outside_a_polygon(lon, lat):
    assert contains(SQUARE, lon, lat) is False


def test_point_in_a_hole_is_outside_but_the_ring_around_it_is_inside():
    assert contains(WITH_HOLE, 28.05, -25.95) is False  # inside the inner ring
    assert contains(WITH_HOLE, 28.01, -25.99) is True  # between the rings


def test_point_in_the_second_polygon_of_a_multipolygon():
    assert contains(MULTI, 30.25, -23.75) is True
    assert contains(MULTI, 28.05, -25.95) is True
    assert contains(MULTI, 29.0, -25.0) is False  # between the two polygons


def test_concave_polygon():
    assert contains(L_SHAPE, 28.02, -25.92) is True
    assert contains(L_SHAPE, 28.08, -25.98) is True
    assert contains(L_SHAPE, 28.08, -25.92) is False


@pytest.mark.parametrize("lon,lat", [(28.0, -26.0), (28.1, -25.9), (28.05, -26.0), (28.0, -25.95), (28.1, -25.95)])
def test_points_on_vertices_and_edges_do_not_crash(lon, lat):
    assert contains(SQUARE, lon, lat) in (True, False)


def test_a_point_on_an_edge_shared_by_two_wards_belongs_to_exactly_one():
    left = {"type": "Polygon", "coordinates": [ring(28.0, -26.0, 0.1)]}
    right = {"type": "Polygon", "coordinates": [ring(28.1, -26.0, 0.1)]}
    assert [contains(left, 28.1, -25.95), contains(right, 28.1, -25.95)].count(True) == 1


@pytest.mark.parametrize(
    "junk",
    [
        None,
        {},
        {"type": "Point", "coordinates": [28.0, -26.0]},
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": [[1, 2]]},
    ],
)
def test_contains_refuses_to_crash_on_junk(junk):
    assert contains(junk, 28.05, -25.95) is False


# ---- validate_boundary ------------------------------------------------------------------


def test_valid_polygon_is_normalised_to_float_pairs():
    value = {"type": "Polygon", "coordinates": [[[28, -26], [29, -26, 1500], [29, -25], [28, -26]]]}
    assert validate_boundary(value) == {
        "type": "Polygon",
        "coordinates": [[[28.0, -26.0], [29.0, -26.0], [29.0, -25.0], [28.0, -26.0]]],
    }


def test_valid_multipolygon_and_hole_pass_unchanged():
    assert validate_boundary(MULTI) == MULTI
    assert validate_boundary(WITH_HOLE) == WITH_HOLE


def big_ring(n: int) -> list[list[float]]:
    pts = [
        [28.0 + 0.1 * math.cos(2 * math.pi * i / n), -26.0 + 0.1 * math.sin(2 * math.pi * i / n)] for i in range(n - 1)
    ]
    return [*pts, pts[0]]


def test_position_budget_is_inclusive():
    assert (
        len(validate_boundary({"type": "Polygon", "coordinates": [big_ring(MAX_POSITIONS)]})["coordinates"][0])
        == MAX_POSITIONS
    )


@pytest.mark.parametrize(
    "value,message",
    [
        ("POLYGON((0 0,1 0,1 1,0 0))", "GeoJSON object"),
        ({"type": "Point", "coordinates": [28.0, -26.0]}, "Polygon or MultiPolygon"),
        ({"type": "polygon", "coordinates": [ring(28.0, -26.0, 0.1)]}, "Polygon or MultiPolygon"),
        ({"type": "Polygon"}, "non-empty list"),
        ({"type": "Polygon", "coordinates": []}, "non-empty list"),
        ({"type": "Polygon", "coordinates": [ring(28.0, -26.0, 0.1)], "crs": {}}, "unexpected members: crs"),
        ({"type": "Polygon", "coordinates": [[[28.0, -26.0], [28.1, -26.0], [28.0, -26.0]]]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [[[28.0, -26.0], [28.1, -26.0], [28.1, -25.9], [28.0, -25.9]]]}, "closed"),
        (
            {"type": "Polygon", "coordinates": [[[28.0, -26.0], [28.1, -26.0], [28.1, -26.0], [28.0, -26.0]]]},
            "distinct",
        ),
        (
            {"type": "Polygon", "coordinates": [[[181.0, -26.0], [28.1, -26.0], [28.1, -25.9], [181.0, -26.0]]]},
            "longitude",
        ),
        (
            {"type": "Polygon", "coordinates": [[[28.0, -91.0], [28.1, -26.0], [28.1, -25.9], [28.0, -91.0]]]},
            "latitude",
        ),
        ({"type": "Polygon", "coordinates": [[[28.0, "x"], [28.1, -26.0], [28.1, -25.9], [28.0, "x"]]]}, "numbers"),
        ({"type": "Polygon", "coordinates": [[[True, 1], [28.1, -26.0], [28.1, -25.9], [True, 1]]]}, "numbers"),
        (
            {"type": "Polygon", "coordinates": [[[math.nan, 1.0], [28.1, -26.0], [28.1, -25.9], [math.nan, 1.0]]]},
            "finite",
        ),
        (
            {"type": "Polygon", "coordinates": [[[math.inf, 1.0], [28.1, -26.0], [28.1, -25.9], [math.inf, 1.0]]]},
            "finite",
        ),
        ({"type": "Polygon", "coordinates": [[[10**400, 1], [28.1, -26.0], [28.1, -25.9], [10**400, 1]]]}, "finite"),
        ({"type": "Polygon", "coordinates": [[[28.0], [28.1, -26.0], [28.1, -25.9], [28.0]]]}, "[longitude, latitude]"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[28.0, -26.0, 1.0, 2.0], [28.1, -26.0], [28.1, -25.9], [28.0, -26.0, 1.0, 2.0]]],
            },
            "[longitude",
        ),
        ({"type": "Polygon", "coordinates": [ring(28.0, -26.0, 0.1), "ring"]}, "at least 4"),
        ({"type": "MultiPolygon", "coordinates": []}, "non-empty list of polygons"),
        ({"type": "MultiPolygon", "coordinates": [ring(28.0, -26.0, 0.1)]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [big_ring(MAX_POSITIONS + 1)]}, "at most"),
        ({"type": "MultiPolygon", "coordinates": [[big_ring(6000)], [big_ring(6000)]]}, "at most"),
    ],
)
def test_broken_geojson_is_refused_with_a_reason(value, message):
    with pytest.raises(BoundaryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_boundary(value)
