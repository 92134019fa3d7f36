"""Road travel times: crossings, closures (by id and by line), the cache, the example.

On the example region's road layer (Lanjiang), the flood closures of its example
incident 1 (BJ-02, BJ-03, QS-02, QS-03, DH-02, S203-K12-K15) must never appear in a
route, and a proposal made with them must not rely on any closed road.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import muster
from muster.core.errors import ValidationFailed
from muster.resources.domain.allocation import (
    AllocationProblem,
    Location,
    Request,
    Supply,
)
from muster.resources.domain.allocation_proposal import Proposal
from muster.resources.optimiser import propose
from muster.resources.roads import RoadNetwork, read_road_layer

LAYER = Path(muster.__file__).parent / "examples/lanjiang/layers/roads.geojson"
FLOOD_CLOSURES = ("BJ-02", "BJ-03", "QS-02", "QS-03", "DH-02", "S203-K12-K15")


def road(
    road_id: str, *coords: tuple[float, float], **props: object
) -> dict[str, object]:
    """Return a GeoJSON road feature (coordinates as lon, lat)."""
    return {
        "type": "Feature",
        "id": road_id,
        "properties": {"segment_id": road_id, "road_class": "urban_arterial", **props},
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
    }


def layer(*features: dict[str, object]) -> dict[str, object]:
    """Return a FeatureCollection of the features."""
    return {"type": "FeatureCollection", "features": list(features)}


def square() -> RoadNetwork:
    """Return a block: a direct south road and a detour west, north and east."""
    return RoadNetwork.from_geojson(
        layer(
            road("SOUTH", (112.90, 28.20), (112.92, 28.20)),
            road("WEST", (112.90, 28.20), (112.90, 28.21)),
            road("NORTH", (112.90, 28.21), (112.92, 28.21)),
            road("EAST", (112.92, 28.21), (112.92, 28.20)),
        )
    )


A, B = Location(28.2, 112.899), Location(28.2, 112.921)


class TestClosures:
    def test_given_an_open_road_when_routed_then_the_direct_road_is_used(self) -> None:
        """Without closures the route takes the direct road."""
        route = square().route(A, B)
        assert route is not None
        assert route.segment_ids == ("SOUTH",)

    def test_given_a_closed_road_id_when_routed_then_the_path_avoids_it(self) -> None:
        """Closing SOUTH sends the route round the block, and it takes longer."""
        network = square()
        before = network.route(A, B)
        network.set_closures(["SOUTH"])
        after = network.route(A, B)
        assert before is not None
        assert after is not None
        assert after.segment_ids == ("WEST", "NORTH", "EAST")
        assert after.minutes > before.minutes
        assert network.closed_segment_ids == {"SOUTH"}

    def test_given_a_closure_line_when_routed_then_the_covered_piece_is_closed(
        self,
    ) -> None:
        """A closure given as a line closes the road pieces it covers."""
        network = square()
        network.set_closures(lines=[[(112.905, 28.20), (112.915, 28.20)]])
        route = network.route(A, B)
        assert route is not None
        assert "SOUTH" not in route.segment_ids
        assert network.closed_segment_ids == {"SOUTH"}

    def test_given_closures_when_changed_then_the_cached_times_are_dropped(
        self,
    ) -> None:
        """The cache survives the same closures and is emptied by new ones."""
        network = square()
        first = network.travel_matrix([("S", A)], [("Q", B)])
        assert network.cached_starts > 0
        network.set_closures([])
        assert network.cached_starts > 0
        network.set_closures(["SOUTH"])
        assert network.cached_starts == 0
        second = network.travel_matrix([("S", A)], [("Q", B)])
        assert second.minutes("S", "Q") > first.minutes("S", "Q")  # type: ignore[operator]


class TestGraph:
    def test_given_crossing_roads_when_built_then_they_meet_at_a_junction(
        self,
    ) -> None:
        """Two roads crossing mid-way are connected where they cross."""
        network = RoadNetwork.from_geojson(
            layer(
                road("NS", (112.91, 28.19), (112.91, 28.21)),
                road("EW", (112.90, 28.20), (112.92, 28.20)),
            )
        )
        route = network.route(Location(28.21, 112.91), Location(28.20, 112.92))
        assert route is not None
        assert route.segment_ids == ("NS", "EW")

    def test_given_a_gap_between_roads_when_built_then_only_a_near_end_is_joined(
        self,
    ) -> None:
        """A 200 m gap is bridged by a link; without joining there is no route."""
        roads = layer(
            road("ONE", (112.90, 28.20), (112.91, 28.20)),
            road("TWO", (112.912, 28.20), (112.92, 28.20)),
        )
        start, end = Location(28.20, 112.90), Location(28.20, 112.92)
        joined = RoadNetwork.from_geojson(roads).route(start, end)
        assert joined is not None
        assert joined.segment_ids == ("ONE", "TWO")
        apart = RoadNetwork.from_geojson(roads, join_km=0.0)
        assert apart.route(start, end) is None
        assert (
            apart.travel_matrix([("S", start)], [("Q", end)]).minutes("S", "Q") is None
        )

    def test_given_layer_properties_when_read_then_speed_and_closure_are_kept(
        self,
    ) -> None:
        """speed_kmh overrides the class; ``closed: true`` closes the road for good."""
        segments = read_road_layer(
            layer(
                road("FAST", (112.90, 28.20), (112.91, 28.20), speed_kmh=90),
                road("SHUT", (112.91, 28.20), (112.92, 28.20), closed=True),
            )
        )
        assert [(s.id, s.speed_kmh, s.closed) for s in segments] == [
            ("FAST", 90.0, False),
            ("SHUT", 35.0, True),
        ]
        network = RoadNetwork(segments)
        network.set_closures([])
        assert network.closed_segment_ids == {"SHUT"}

    def test_given_no_features_when_read_then_it_is_refused(self) -> None:
        """A road layer must be a FeatureCollection with roads."""
        with pytest.raises(ValidationFailed):
            read_road_layer({"type": "Feature"})
        with pytest.raises(ValidationFailed):
            RoadNetwork([])


class TestExampleRegion:
    def test_given_the_flood_closures_when_routed_then_no_closed_road_is_used(
        self,
    ) -> None:
        """Qingshan Road to Renmin Road: via QS-02/BJ-03 open, round them closed."""
        network = RoadNetwork.from_geojson(LAYER)
        start, end = Location(28.2175, 112.897), Location(28.2305, 112.94)
        open_route = network.route(start, end)
        assert open_route is not None
        assert {"QS-02", "BJ-03"} <= set(open_route.segment_ids)
        network.set_closures(FLOOD_CLOSURES)
        detour = network.route(start, end)
        assert detour is not None
        assert not set(detour.segment_ids) & set(FLOOD_CLOSURES)
        assert detour.segment_ids == ("QS-01", "LX-02", "RM-01", "RM-02")
        assert detour.minutes > open_route.minutes

    def test_given_the_flood_closures_when_proposed_then_no_assignment_crosses_one(
        self,
    ) -> None:
        """Every assigned route avoids the closures; a cut-off request says so."""
        network = RoadNetwork.from_geojson(LAYER)
        supplies = tuple(
            Supply(sid, dept, "PUMP", 1, loc, capability=300.0)
            for sid, dept, loc in (
                ("S-LANXI", "FIRE", Location(28.235, 112.885)),
                ("S-RENMIN", "WATER", Location(28.2305, 112.95)),
                ("S-QINGSHAN", "EMB", Location(28.2175, 112.875)),
            )
        )
        requests = tuple(
            Request(rid, "PUMP", 1, loc, priority=priority)
            for rid, loc, priority in (
                ("R-BINJIANG", Location(28.185, 112.9075), 3),
                ("R-RENMIN", Location(28.2305, 112.93), 2),
                ("R-QINGSHAN", Location(28.2175, 112.89), 2),
            )
        )

        def proposed() -> Proposal:
            matrix = network.travel_matrix(
                [(s.id, s.location) for s in supplies],
                [(r.id, r.location) for r in requests],
            )
            case = AllocationProblem(requests, supplies, matrix)
            return propose(case)

        before = proposed()
        assert "R-BINJIANG" in {a.request_id for a in before.assignments}
        network.set_closures(FLOOD_CLOSURES)
        after = proposed()
        where = {s.id: s.location for s in supplies} | {
            r.id: r.location for r in requests
        }
        for assignment in after.assignments:
            route = network.route(
                where[assignment.supply_id], where[assignment.request_id]
            )
            assert route is not None
            assert not set(route.segment_ids) & set(FLOOD_CLOSURES)
            assert route.minutes == pytest.approx(assignment.minutes)
        (short,) = after.shortfalls
        assert short.request_id == "R-BINJIANG"
        assert short.rejected == (("unreachable", 3),)
