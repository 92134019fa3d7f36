"""The index of grant circles answers exactly as the plain great-circle test."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from muster.sharing.areas import AreaIndex
from muster.sharing.domain.grants import (
    EARTH_RADIUS_KM,
    Grant,
    covering_grants,
)

latitudes = st.floats(-75, 75, allow_nan=False)
longitudes = st.floats(-179, 179, allow_nan=False)


@dataclass(frozen=True)
class Point:
    """A record's position, as the read path sees it."""

    position: tuple[float, float] | None


@st.composite
def circles(draw: st.DrawFn) -> list[Grant]:
    """Draw up to four grant circles near one another (so they overlap)."""
    lat, lon = draw(latitudes), draw(longitudes)
    count = draw(st.integers(1, 4))
    return [
        Grant(
            grant_id=f"G{index}",
            agreement_code="A",
            dataset="D",
            incident_id=f"I{index}",
            level="L2",
            latitude=lat + draw(st.floats(-0.2, 0.2)),
            longitude=lon + draw(st.floats(-0.2, 0.2)),
            radius_km=draw(st.sampled_from((0.5, 5.0, 10.0, 50.0, 200.0, 500.0))),
        )
        for index in range(count)
    ]


@settings(max_examples=400, deadline=None)
@given(
    grants=circles(),
    offsets=st.lists(
        st.tuples(st.floats(-0.6, 0.6), st.floats(-0.6, 0.6)), min_size=1, max_size=30
    ),
)
def test_given_circles_and_points_when_indexed_then_membership_matches_great_circles(
    grants: list[Grant], offsets: list[tuple[float, float]]
) -> None:
    index = AreaIndex(grants)
    centre = grants[0]
    points = [
        Point((centre.latitude + dlat, centre.longitude + dlon))
        for dlat, dlon in offsets
    ]
    for point in points:
        assert index.covering(point.position) == covering_grants(point.position, grants)
    grouped = index.group([*points, Point(None)])
    for areas, members in grouped.items():
        for member in members:
            assert covering_grants(member.position, grants) == areas


def test_given_a_point_on_a_grid_line_when_indexed_then_it_is_placed() -> None:
    grant = Grant("G", "A", "D", "I", "L2", 28.2, 112.9, 5.0)
    index = AreaIndex([grant])
    assert index.covering((28.2, 112.9)) == frozenset({"G"})
    assert index.covering((28.24, 112.94)) == covering_grants((28.24, 112.94), [grant])
    assert index.grant_ids == ("G",)


@settings(max_examples=300, deadline=None)
@given(
    lat=latitudes,
    lon=longitudes,
    radius=st.sampled_from((1.0, 10.0, 100.0, 500.0)),
    bearing=st.floats(0, 360),
    ratio=st.floats(0.97, 1.03),
)
def test_given_points_near_a_rim_when_indexed_then_the_great_circle_decides(
    lat: float, lon: float, radius: float, bearing: float, ratio: float
) -> None:
    """Points within a few per cent of the rim, at any bearing and latitude."""
    grant = Grant("G", "A", "D", "I", "L2", lat, lon, radius)
    point = _destination(lat, lon, bearing, radius * ratio)
    assert AreaIndex([grant]).covering(point) == covering_grants(point, [grant])


def _destination(
    lat: float, lon: float, bearing: float, km: float
) -> tuple[float, float]:
    """Return the point km away from (lat, lon) along a bearing (great circle)."""
    phi, lam, theta = map(math.radians, (lat, lon, bearing))
    delta = km / EARTH_RADIUS_KM
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta)
        + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


def test_given_more_circles_than_a_key_word_when_grouped_then_each_is_placed() -> None:
    """Seventy circles along a parallel need two 64-bit membership words."""
    grants = [
        Grant(f"G{index:02d}", "A", "D", f"I{index}", "L2", 28.0, 112.0 + index, 5.0)
        for index in range(70)
    ]
    index = AreaIndex(grants)
    points = [Point((28.0, 112.0 + n)) for n in (0, 63, 64, 69)] + [Point((0.0, 0.0))]
    grouped = index.group(points)
    assert {
        areas: [p.position for p in members] for areas, members in grouped.items()
    } == {
        frozenset({"G00"}): [(28.0, 112.0)],
        frozenset({"G63"}): [(28.0, 175.0)],
        frozenset({"G64"}): [(28.0, 176.0)],
        frozenset({"G69"}): [(28.0, 181.0)],
        frozenset(): [(0.0, 0.0)],
    }


def test_given_a_point_on_the_rim_when_placed_then_the_great_circle_decides() -> None:
    grant = Grant("G", "A", "D", "I", "L2", 28.2, 112.9, 5.0)
    for bearing in (0.0, 45.0, 90.0, 200.0):
        exact = _destination(28.2, 112.9, bearing, 5.0)
        assert AreaIndex([grant]).covering(exact) == covering_grants(exact, [grant])


def test_given_no_circles_or_positions_when_grouped_then_rows_share_no_area() -> None:
    rows = [Point((28.2, 112.9)), Point(None)]
    assert AreaIndex([]).group(rows) == {frozenset(): rows}
    grant = Grant("G", "A", "D", "I", "L2", 28.2, 112.9, 5.0)
    assert AreaIndex([grant]).group([Point(None)]) == {frozenset(): [Point(None)]}
    assert AreaIndex([grant]).covering(None) == frozenset()
