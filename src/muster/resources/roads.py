"""Road travel times over a region's road graph, with the current closures.

A road layer (GeoJSON LineStrings, like the example region's ``layers/roads.geojson``:
``segment_id``, ``road_class``; optional ``speed_kmh`` and ``closed``) becomes a
networkx graph. Lines are split where they cross or touch, so crossings are
junctions; a dangling end within ``join_km`` of another road's junction is joined to
it by a short link (sketched layers rarely meet exactly). Each piece takes
``length / speed`` minutes, the speed by ``road_class`` (``SPEED_KMH``) unless the
feature gives ``speed_kmh``. Work is done on a local kilometre plane (equirectangular
around the layer's mean latitude), fine for a city or county.

A point (a supply or a request) reaches the graph by a straight connector to the
nearest point of the nearest open road piece (``connector_kmh``), then along that
piece to either end. Closures are road ids (every piece of the segment) or
LineStrings (the pieces they cover); closed pieces leave the graph, so no route uses
them. ``travel_matrix`` gives the minutes from every source to every target (one
Dijkstra per distinct start junction, cached until the closures change) as a
``TravelMatrix`` the optimiser reads; ``route`` gives one route with its road ids.
Imported by the bench, the tests and, later, the resources CLI.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from shapely import LineString, Point, STRtree
from shapely.ops import substring

from muster.core.errors import ValidationFailed
from muster.resources.domain.allocation import Location

SPEED_KMH: Mapping[str, float] = {
    "motorway": 80.0, "national": 60.0, "provincial": 50.0, "county": 40.0,
    "urban_arterial": 35.0, "urban_street": 25.0,
}  # fmt: skip
DEFAULT_SPEED_KMH = 30.0
CONNECTOR_KMH = 15.0  # off the mapped roads, as the crow flies
JOIN_KM = 0.5
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
_Coords = Sequence[tuple[float, float]]  # (lon, lat) pairs, GeoJSON order


@dataclass(frozen=True, slots=True)
class RoadSegment:
    """One road segment of the layer: its id, its line, its speed, if it is closed."""

    id: str
    coords: tuple[tuple[float, float], ...]  # (lon, lat)
    road_class: str
    speed_kmh: float
    closed: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """A route by road: its minutes and the road ids it uses, in order."""

    minutes: float
    segment_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Edge:
    """A piece of a segment between two junctions (``u`` at its first point)."""

    u: int
    v: int
    segment_id: str | None  # None for a link joining a dangling end
    minutes: float
    line: LineString  # on the kilometre plane


class TravelMatrix:
    """Minutes from each source to each target (infinite: no route)."""

    def __init__(
        self, sources: Sequence[str], targets: Sequence[str], minutes: np.ndarray
    ) -> None:
        """Keep the ids and the (sources × targets) array of minutes."""
        self._row = {source: i for i, source in enumerate(sources)}
        self._col = {target: j for j, target in enumerate(targets)}
        self.array = minutes
        self._rows: list[list[float]] = minutes.tolist()  # fast scalar reads

    def minutes(self, supply_id: str, request_id: str) -> float | None:
        """Return the minutes by road, or None when there is no route."""
        i, j = self._row.get(supply_id), self._col.get(request_id)
        if i is None or j is None:
            return None
        value = self._rows[i][j]
        return value if value != math.inf else None


def read_road_layer(source: Path | Mapping[str, object]) -> tuple[RoadSegment, ...]:
    """Read a GeoJSON road layer (a path or the parsed FeatureCollection)."""
    data = json.loads(source.read_text("utf-8")) if isinstance(source, Path) else source
    features = data.get("features")
    if not isinstance(features, list):
        raise ValidationFailed("a road layer is a GeoJSON FeatureCollection")
    segments: list[RoadSegment] = []
    for feature in features:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
        lines = {"LineString": [coordinates], "MultiLineString": coordinates}.get(
            str(kind), []
        )
        road_id = str(props.get("segment_id") or props.get("road_id") or feature["id"])
        road_class = str(props.get("road_class") or props.get("highway") or "")
        speed = props.get("speed_kmh")
        kmh = float(speed) if speed else SPEED_KMH.get(road_class, DEFAULT_SPEED_KMH)
        closed = props.get("closed") is True or props.get("status") == "closed"
        for coords in lines:
            points = tuple((float(x), float(y)) for x, y, *_ in coords)
            segments.append(RoadSegment(road_id, points, road_class, kmh, closed))
    return tuple(segments)


class RoadNetwork:
    """A region's road graph with its current closures and cached shortest times."""

    def __init__(
        self,
        segments: Iterable[RoadSegment],
        *,
        connector_kmh: float = CONNECTOR_KMH,
        join_km: float = JOIN_KM,
    ) -> None:
        """Build the graph: split at crossings, join dangling ends, time each piece."""
        self._segments = tuple(segments)
        if not self._segments:
            raise ValidationFailed("a road network needs at least one road")
        lat0 = sum(y for s in self._segments for _, y in s.coords) / sum(
            len(s.coords) for s in self._segments
        )
        self._kx = KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
        self._connector_kmh = connector_kmh
        self._nodes: dict[tuple[float, float], int] = {}
        self._edges: list[_Edge] = []
        self._split_at_crossings()
        self._join_dangling_ends(join_km)
        self._always_closed = frozenset(
            k for k, e in enumerate(self._edges) if self._permanently_closed(e)
        )
        self._closed: frozenset[int] = frozenset({-1})  # forces the first rebuild
        self._from_node: dict[int, dict[int, float]] = {}
        self.set_closures()

    @classmethod
    def from_geojson(
        cls, source: Path | Mapping[str, object], **options: float
    ) -> RoadNetwork:
        """Build the network from a GeoJSON road layer."""
        return cls(read_road_layer(source), **options)

    # -- closures ---------------------------------------------------------------

    def set_closures(
        self, segment_ids: Iterable[str] = (), lines: Iterable[_Coords] = ()
    ) -> None:
        """Close these road ids and the pieces these lines cover (and no others)."""
        ids = set(segment_ids)
        covers = [
            shapely.buffer(LineString([self._km(lon, lat) for lon, lat in line]), 0.03)
            for line in lines
        ]
        closed = set(self._always_closed)
        for k, edge in enumerate(self._edges):
            middle = edge.line.interpolate(0.5, normalized=True)
            if edge.segment_id in ids or any(c.contains(middle) for c in covers):
                closed.add(k)
        if frozenset(closed) == self._closed:
            return
        self._closed = frozenset(closed)
        self._from_node = {}
        self._open = nx.Graph()
        self._open.add_nodes_from(range(len(self._nodes)))
        self._open_edges = [k for k in range(len(self._edges)) if k not in closed]
        for k in sorted(self._open_edges, key=lambda k: -self._edges[k].minutes):
            edge = self._edges[k]  # the fastest of parallel pieces is added last
            self._open.add_edge(edge.u, edge.v, minutes=edge.minutes, edge=k)
        self._open_lines = np.array([self._edges[k].line for k in self._open_edges])
        self._tree = STRtree(self._open_lines)

    @property
    def closed_segment_ids(self) -> frozenset[str]:
        """Return the road ids with at least one closed piece."""
        return frozenset(
            sid for k in self._closed if (sid := self._edges[k].segment_id) is not None
        )

    @property
    def junctions(self) -> int:
        """Return how many junctions (graph nodes) the network has."""
        return len(self._nodes)

    @property
    def cached_starts(self) -> int:
        """Return how many junctions' shortest times are cached (for tests)."""
        return len(self._from_node)

    # -- travel times -------------------------------------------------------------

    def travel_matrix(
        self,
        sources: Sequence[tuple[str, Location]],
        targets: Sequence[tuple[str, Location]],
    ) -> TravelMatrix:
        """Return the minutes by road from every source to every target."""
        s_edge, s_conn, s_frac = self._snap([loc for _, loc in sources])
        t_edge, t_conn, t_frac = self._snap([loc for _, loc in targets])
        em = np.array([self._edges[k].minutes for k in range(len(self._edges))])
        uv = np.array([(e.u, e.v) for e in self._edges], np.int64).reshape(-1, 2)
        s_ends = ((s_conn + s_frac * em[s_edge]), (s_conn + (1 - s_frac) * em[s_edge]))
        t_ends = ((t_conn + t_frac * em[t_edge]), (t_conn + (1 - t_frac) * em[t_edge]))
        start_nodes = np.unique(uv[s_edge].ravel())
        end_nodes = np.unique(uv[t_edge].ravel())
        between = np.full((len(start_nodes), len(end_nodes)), np.inf)
        for i, node in enumerate(start_nodes.tolist()):
            reach = self._times_from(node)
            between[i] = [reach.get(n, math.inf) for n in end_nodes.tolist()]
        best = np.full((len(sources), len(targets)), np.inf)
        for a in (0, 1):
            rows = np.searchsorted(start_nodes, uv[s_edge, a])
            for b in (0, 1):
                cols = np.searchsorted(end_nodes, uv[t_edge, b])
                via = s_ends[a][:, None] + between[np.ix_(rows, cols)] + t_ends[b]
                np.minimum(best, via, out=best)
        same = s_edge[:, None] == t_edge[None, :]
        if same.any():
            along = np.abs(s_frac[:, None] - t_frac[None, :]) * em[s_edge][:, None]
            direct = s_conn[:, None] + along + t_conn[None, :]
            best = np.where(same, np.minimum(best, direct), best)
        return TravelMatrix([i for i, _ in sources], [i for i, _ in targets], best)

    def route(self, source: Location, target: Location) -> Route | None:
        """Return the quickest route by road, or None when there is none."""
        (se,), (sc,), (sf,) = self._snap([source])
        (te,), (tc,), (tf,) = self._snap([target])
        s_edge, t_edge = self._edges[int(se)], self._edges[int(te)]
        options: list[tuple[float, list[str | None]]] = []
        if se == te:
            along = abs(float(sf) - float(tf)) * s_edge.minutes
            options.append((float(sc) + along + float(tc), [s_edge.segment_id]))
        for a_node, a_part in ((s_edge.u, float(sf)), (s_edge.v, 1 - float(sf))):
            reach = self._times_from(a_node)
            for b_node, b_part in ((t_edge.u, float(tf)), (t_edge.v, 1 - float(tf))):
                if b_node not in reach:
                    continue
                total = float(sc) + a_part * s_edge.minutes + reach[b_node]
                total += b_part * t_edge.minutes + float(tc)
                path = nx.dijkstra_path(self._open, a_node, b_node, weight="minutes")
                middle = [
                    self._edges[self._open.edges[x, y]["edge"]].segment_id
                    for x, y in pairwise(path)
                ]
                first = [s_edge.segment_id] if a_part > 0 else []
                last = [t_edge.segment_id] if b_part > 0 else []
                options.append((total, first + middle + last))
        if not options:
            return None
        minutes, ids = min(options, key=lambda option: option[0])
        used: list[str] = []
        for sid in ids:
            if sid is not None and (not used or used[-1] != sid):
                used.append(sid)
        return Route(minutes, tuple(used))

    # -- building -------------------------------------------------------------------

    def _km(self, lon: float, lat: float) -> tuple[float, float]:
        """Return the point on the kilometre plane."""
        return (lon * self._kx, lat * KM_PER_DEG_LAT)

    def _node(self, xy: tuple[float, float]) -> int:
        """Return the junction at this point (to the metre), adding it if new."""
        key = (round(xy[0], 3), round(xy[1], 3))
        return self._nodes.setdefault(key, len(self._nodes))

    def _split_at_crossings(self) -> None:
        """Cut every segment where it meets another; each piece becomes an edge."""
        lines = [
            LineString([self._km(lon, lat) for lon, lat in s.coords])
            for s in self._segments
        ]
        tree = STRtree(lines)
        for i, (segment, line) in enumerate(zip(self._segments, lines, strict=True)):
            cuts = {float(line.project(Point(xy))) for xy in line.coords}
            for j in tree.query(line, predicate="intersects").tolist():
                if j != i:
                    meet = line.intersection(lines[j])
                    cuts.update(float(line.project(p)) for p in _points(meet))
            marks = sorted(cuts)
            for a, b in pairwise(marks):
                if b - a < 1e-6:
                    continue
                piece = substring(line, a, b)
                u, v = self._node(piece.coords[0]), self._node(piece.coords[-1])
                minutes = float(piece.length) / segment.speed_kmh * 60.0
                if u != v:
                    self._edges.append(_Edge(u, v, segment.id, minutes, piece))

    def _join_dangling_ends(self, join_km: float) -> None:
        """Link each dead end to the nearest junction of another road within reach."""
        xy = np.array(sorted(self._nodes, key=self._nodes.__getitem__))
        degree = np.zeros(len(xy), np.int64)
        roads: dict[int, set[str | None]] = {}
        for edge in self._edges:
            degree[[edge.u, edge.v]] += 1
            roads.setdefault(edge.u, set()).add(edge.segment_id)
            roads.setdefault(edge.v, set()).add(edge.segment_id)
        for node in np.flatnonzero(degree == 1).tolist():
            gaps = np.hypot(*(xy - xy[node]).T)
            gaps[[n for n in range(len(xy)) if roads.get(n, set()) & roads[node]]] = (
                np.inf
            )
            other = int(np.argmin(gaps))
            if gaps[other] <= join_km:
                line = LineString([xy[node], xy[other]])
                minutes = float(gaps[other]) / self._connector_kmh * 60.0
                self._edges.append(_Edge(node, other, None, minutes, line))

    def _permanently_closed(self, edge: _Edge) -> bool:
        """Return whether the layer itself marks this piece's road closed."""
        return any(s.closed and s.id == edge.segment_id for s in self._segments)

    def _times_from(self, node: int) -> dict[int, float]:
        """Return the minutes from a junction to every junction it reaches (cached)."""
        if node not in self._from_node:
            found = nx.single_source_dijkstra_path_length(
                self._open, node, weight="minutes"
            )
            self._from_node[node] = {int(n): float(m) for n, m in found.items()}
        return self._from_node[node]

    def _snap(
        self, locations: Sequence[Location]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return, per point: its nearest open piece, connector minutes, fraction."""
        if not self._open_edges:
            raise ValidationFailed("every road of the network is closed")
        points = shapely.points([self._km(p.lon, p.lat) for p in locations])
        nearest = np.asarray(self._tree.nearest(points), np.int64).reshape(-1)
        lines = self._open_lines[nearest]
        gap = shapely.distance(points, lines)
        fraction = shapely.line_locate_point(lines, points, normalized=True)
        edge = np.array(self._open_edges, np.int64)[nearest]
        return edge, gap / self._connector_kmh * 60.0, np.asarray(fraction, float)


def _points(geometry: shapely.Geometry) -> list[Point]:
    """Return the points where two lines meet (ends of any shared stretch)."""
    if isinstance(geometry, Point):
        return [geometry]
    if isinstance(geometry, LineString):
        return [Point(xy) for xy in (geometry.coords[0], geometry.coords[-1])]
    return [p for part in getattr(geometry, "geoms", ()) for p in _points(part)]
