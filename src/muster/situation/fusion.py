"""Report fusion: an incremental, indexed clusterer of reports into incident candidates.

``Fuser.add`` takes reports roughly in time order and returns a ``Link`` per report:
the cluster it joined (with the reason) or the new cluster it started. The rules are
``muster.situation.domain.reports``'s; this module adds the machinery that keeps
each decision cheap, so fusing *n* reports costs O(n), never O(n²):

* **Spatial index.** Each open cluster is filed under the h3 cells of the disk
  ``h3.grid_disk(cell, 1)`` around its location's cell, at a resolution whose cells'
  edges are at least ``max_distance_km`` long (with a safety factor for h3's uneven
  cells, ``resolution_for``). Every point within one edge length of a point lies in
  that point's cell or one of its six neighbours, so the clusters filed under the
  report's own cell are all those that can pass the distance test: one dictionary
  look-up per report (filing in the disk, done when a cluster starts or its centroid
  changes cell, costs less than querying seven cells per report). The haversine
  distance then decides.
* **Time window.** A cluster whose last report is more than ``max_gap_minutes``
  (plus ``eviction_slack_minutes`` for late reports) behind the newest report seen
  can take no more reports; a sweep every quarter gap closes such clusters and
  drops them from the index, so the candidates per report and the index's memory
  depend on how busy the last hours were, not on how many reports came before.
* **Cluster location** is the running centroid (mean latitude and longitude) of its
  reports, not its first report: positions from callers are a few hundred metres
  off, and the mean of several is nearer the event than any one of them. (The mean
  of longitudes assumes a region that does not cross the antimeridian.)

A duty officer's ``merge`` and ``split`` act on the same in-memory clusters, and
``records``/``Fuser.restore`` export and import the clusters (ids with report ids)
so the caller can persist them. Closed clusters keep their reports until the
caller, having stored them, calls ``forget_closed``. Imported by the situation
handlers and ``bench/fusion.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import h3
import h3.api.basic_int as h3_int  # integer cells: no hex strings in the hot path

from muster.core.errors import NotFound, ValidationFailed
from muster.situation.domain.reports import (
    EARTH_RADIUS_KM,
    CategoryRelation,
    ClusterRecord,
    FusionRules,
    Link,
    LinkReason,
    Report,
    distance_km,
)

EDGE_SAFETY = 0.6  # h3 hexagon edges run from ~0.70 to ~1.10 x the average
KM_PER_DEGREE_OF_LATITUDE = EARTH_RADIUS_KM * math.pi / 180
_NOTHING: dict[str, _Cluster] = {}
_RANK: dict[str, int] = {"same_type": 0, "same_subcategory": 1, "related": 2}


def resolution_for(max_distance_km: float) -> int:
    """Return the finest h3 resolution whose 1-ring covers max_distance_km anywhere.

    The seven-cell disk around a cell reaches at least one edge length beyond every
    point of the cell (worst case: a point on a vertex, whose outward neighbour
    corner is one edge away). Edges vary over the globe from about 0.70 to 1.10
    times ``h3.average_hexagon_edge_length``, so a resolution qualifies when
    ``EDGE_SAFETY`` x its average edge is at least ``max_distance_km``.
    """
    for resolution in range(15, -1, -1):
        if h3.average_hexagon_edge_length(resolution, "km") * EDGE_SAFETY >= (
            max_distance_km
        ):
            return resolution
    raise ValidationFailed("max_distance_km is too large for an h3 index")


class _Cluster:
    """An incident candidate being built: its reports and running aggregates."""

    __slots__ = (
        "cell",
        "cluster_id",
        "codes",
        "first",
        "last",
        "lat_sum",
        "latitude",
        "lon_sum",
        "longitude",
        "members",
    )

    def __init__(self, cluster_id: str, members: list[Report]) -> None:
        self.cluster_id = cluster_id
        self.members = members
        self.cell = -1
        if len(members) == 1:  # the common case, without the lists recount builds
            report = members[0]
            self.first = self.last = report.received_at.timestamp()
            self.lat_sum = self.latitude = report.latitude
            self.lon_sum = self.longitude = report.longitude
            self.codes = frozenset((report.category,))
        else:
            self.recount()

    def recount(self) -> None:
        """Recompute the aggregates from the members (after a merge or split)."""
        times = [report.received_at.timestamp() for report in self.members]
        self.first, self.last = min(times), max(times)
        self.lat_sum = sum(report.latitude for report in self.members)
        self.lon_sum = sum(report.longitude for report in self.members)
        self.latitude = self.lat_sum / len(self.members)
        self.longitude = self.lon_sum / len(self.members)
        # a frozenset, replaced when a new code joins, so that (code, codes) can
        # key the relation cache
        self.codes = frozenset(report.category for report in self.members)

    def join(self, report: Report, at: float) -> None:
        """Add a report and move the running centroid."""
        self.members.append(report)
        self.lat_sum += report.latitude
        self.lon_sum += report.longitude
        self.latitude = self.lat_sum / len(self.members)
        self.longitude = self.lon_sum / len(self.members)
        self.first, self.last = min(self.first, at), max(self.last, at)
        if report.category not in self.codes:
            self.codes = self.codes | {report.category}

    def record(self) -> ClusterRecord:
        """Return the cluster as stored."""
        return ClusterRecord(
            self.cluster_id, tuple(report.report_id for report in self.members)
        )


class Fuser:
    """Fuse reports into clusters, one at a time, keeping the clusters in memory."""

    def __init__(
        self, rules: FusionRules | None = None, *, indexed: bool = True
    ) -> None:
        """Start with no clusters.

        Args:
            rules: the thresholds and weights; ``FusionRules()`` by default.
            indexed: False scans every open cluster instead of the h3 disk: the
                same decisions, slower; the baseline ``bench/fusion.py`` measures.
        """
        self.rules = rules or FusionRules()
        self.indexed = indexed
        self.resolution = resolution_for(self.rules.max_distance_km)
        self._max_gap = self.rules.max_gap_minutes * 60.0
        self._keep = (
            self.rules.max_gap_minutes + self.rules.eviction_slack_minutes
        ) * 60
        self._sweep_every = self._max_gap / 4
        self._clusters: dict[str, _Cluster] = {}  # all, in creation order
        self._open: dict[str, _Cluster] = {}
        self._index: dict[int, dict[str, _Cluster]] = {}  # h3 cell -> open clusters
        self._cluster_of: dict[str, str] = {}  # report id -> cluster id
        self._rings: dict[int, list[int]] = {}
        self._relations: dict[tuple[str, frozenset[str]], CategoryRelation | None] = {}
        self._watermark = float("-inf")
        self._next_sweep = float("-inf")

    def add(self, report: Report) -> Link:
        """Put one report into the best compatible open cluster or a new one.

        The candidates are the open clusters filed under the report's h3 cell. One
        passes when its time span is within ``max_gap_minutes`` of the report, one
        of its codes is compatible with the report's, its centroid is within
        ``max_distance_km`` (haversine) and the score reaches ``min_score``. The
        report joins the passing cluster with the highest ``FusionRules.score``
        (nearer, sooner, same type first).
        """
        if report.report_id in self._cluster_of:
            raise ValidationFailed("report already fused", report_id=report.report_id)
        at = report.received_at.timestamp()
        if at > self._watermark:
            self._watermark = at
            if at >= self._next_sweep:
                self._sweep()
        latitude, longitude = report.latitude, report.longitude
        best: _Cluster | None = None
        best_score = -1.0
        best_reason: LinkReason | None = None
        max_gap, max_km = self._max_gap, self.rules.max_distance_km
        max_degrees = max_km / KM_PER_DEGREE_OF_LATITUDE
        for cluster in self._candidates(latitude, longitude):
            gap = cluster.first - at if at < cluster.first else at - cluster.last
            # the latitude difference alone is a lower bound of the distance
            if gap > max_gap or abs(cluster.latitude - latitude) > max_degrees:
                continue
            relation = self._relation_to(report.category, cluster.codes)
            if relation is None:
                continue
            distance = distance_km(
                (latitude, longitude), (cluster.latitude, cluster.longitude)
            )
            if distance > max_km:
                continue
            minutes = max(gap, 0.0) / 60.0
            score = self.rules.score(
                distance_km=distance, minutes_apart=minutes, relation=relation
            )
            if score > best_score and score >= self.rules.min_score:
                best, best_score = cluster, score
                best_reason = LinkReason(distance, minutes, relation)
        if best is None:
            cluster = _Cluster(self._new_id(report.report_id), [report])
            self._clusters[cluster.cluster_id] = cluster
            self._cluster_of[report.report_id] = cluster.cluster_id
            self._file(cluster)
            return Link(report.report_id, cluster.cluster_id, False, None, 0.0)
        best.join(report, at)
        self._cluster_of[report.report_id] = best.cluster_id
        self._file(best)
        return Link(report.report_id, best.cluster_id, True, best_reason, best_score)

    def merge(self, keep: str, other: str) -> ClusterRecord:
        """Move every report of cluster ``other`` into cluster ``keep``; drop other."""
        if keep == other:
            raise ValidationFailed("cannot merge a cluster with itself", cluster=keep)
        target, source = self._get(keep), self._get(other)
        self._unfile(source)
        del self._clusters[other]
        target.members.extend(source.members)
        target.members.sort(key=lambda report: report.received_at)
        for report in source.members:
            self._cluster_of[report.report_id] = keep
        target.recount()
        self._file(target)
        return target.record()

    def split(self, cluster_id: str, report_ids: Iterable[str]) -> ClusterRecord:
        """Move some reports of a cluster into a new cluster; return the new one."""
        cluster = self._get(cluster_id)
        moving = set(report_ids)
        leaving = [report for report in cluster.members if report.report_id in moving]
        staying = [
            report for report in cluster.members if report.report_id not in moving
        ]
        if len(leaving) != len(moving) or not leaving:
            raise ValidationFailed(
                "split needs reports of the cluster", cluster=cluster_id
            )
        if not staying:
            raise ValidationFailed(
                "split must leave a report in the cluster", cluster=cluster_id
            )
        cluster.members = staying
        cluster.recount()
        self._file(cluster)
        created = _Cluster(self._new_id(leaving[0].report_id), leaving)
        self._clusters[created.cluster_id] = created
        for report in leaving:
            self._cluster_of[report.report_id] = created.cluster_id
        self._file(created)
        return created.record()

    def cluster_of(self, report_id: str) -> str:
        """Return the id of the cluster a fused report is in."""
        try:
            return self._cluster_of[report_id]
        except KeyError:
            raise NotFound("report not fused", report_id=report_id) from None

    def records(self) -> list[ClusterRecord]:
        """Return every cluster (open and closed) as stored, oldest first."""
        return [cluster.record() for cluster in self._clusters.values()]

    def open_count(self) -> int:
        """Return how many clusters can still take reports."""
        return len(self._open)

    def forget_closed(self) -> list[ClusterRecord]:
        """Drop the closed clusters (which the caller has stored); return them."""
        closed = [c for c in self._clusters.values() if c.cluster_id not in self._open]
        for cluster in closed:
            del self._clusters[cluster.cluster_id]
            for report in cluster.members:
                del self._cluster_of[report.report_id]
        return [cluster.record() for cluster in closed]

    @classmethod
    def restore(
        cls,
        records: Sequence[ClusterRecord],
        reports: Mapping[str, Report],
        rules: FusionRules | None = None,
        *,
        indexed: bool = True,
    ) -> Fuser:
        """Rebuild a fuser from stored clusters and the reports they name."""
        fuser = cls(rules, indexed=indexed)
        for record in records:
            members = sorted(
                (reports[report_id] for report_id in record.report_ids),
                key=lambda report: report.received_at,
            )
            if not members:
                raise ValidationFailed("a cluster has no reports", cluster=record)
            cluster = _Cluster(record.cluster_id, members)
            fuser._clusters[record.cluster_id] = cluster
            for report in members:
                fuser._cluster_of[report.report_id] = record.cluster_id
            fuser._watermark = max(fuser._watermark, cluster.last)
        for cluster in fuser._clusters.values():
            fuser._file(cluster)
        return fuser

    def _candidates(self, latitude: float, longitude: float) -> Iterable[_Cluster]:
        """Return the open clusters filed under a point's cell (see the module)."""
        if not self.indexed:
            return self._open.values()
        cell = h3_int.latlng_to_cell(latitude, longitude, self.resolution)
        return self._index.get(cell, _NOTHING).values()

    def _relation_to(self, code: str, codes: frozenset[str]) -> CategoryRelation | None:
        """Return the closest compatible relation of a code to a cluster's codes."""
        key = (code, codes)
        if key in self._relations:
            return self._relations[key]
        found: CategoryRelation | None = None
        for other in codes:
            relation = self.rules.relation(code, other)
            if self.rules.is_compatible(relation) and (
                found is None or _RANK[relation] < _RANK[found]
            ):
                found = relation
        self._relations[key] = found
        return found

    def _file(self, cluster: _Cluster) -> None:
        """File an open cluster in the disk of its centroid's cell, or close it."""
        if cluster.last < self._watermark - self._keep:
            self._unfile(cluster)
            return
        cell = h3_int.latlng_to_cell(
            cluster.latitude, cluster.longitude, self.resolution
        )
        if cell != cluster.cell or cluster.cluster_id not in self._open:
            self._unfile(cluster)
            cluster.cell = cell
            for neighbour in self._disk(cell):
                self._index.setdefault(neighbour, {})[cluster.cluster_id] = cluster
            self._open[cluster.cluster_id] = cluster

    def _unfile(self, cluster: _Cluster) -> None:
        """Take a cluster out of the index and the open set."""
        if self._open.pop(cluster.cluster_id, None) is not None:
            for neighbour in self._disk(cluster.cell):
                filed = self._index[neighbour]
                del filed[cluster.cluster_id]
                if not filed:
                    del self._index[neighbour]

    def _disk(self, cell: int) -> list[int]:
        """Return a cell and its six neighbours (cached)."""
        disk = self._rings.get(cell)
        if disk is None:
            disk = self._rings[cell] = list(h3_int.grid_disk(cell, 1))
        return disk

    def _sweep(self) -> None:
        """Close the clusters too old to take the newest reports."""
        horizon = self._watermark - self._keep
        for cluster in [c for c in self._open.values() if c.last < horizon]:
            self._unfile(cluster)
        self._next_sweep = self._watermark + self._sweep_every

    def _get(self, cluster_id: str) -> _Cluster:
        """Return a cluster by id or raise NotFound."""
        try:
            return self._clusters[cluster_id]
        except KeyError:
            raise NotFound("no such cluster", cluster=cluster_id) from None

    def _new_id(self, report_id: str) -> str:
        """Return a new cluster id named after the report that starts it."""
        cluster_id, number = f"C-{report_id}", 1
        while cluster_id in self._clusters:
            number += 1
            cluster_id = f"C-{report_id}~{number}"
        return cluster_id


def fuse(reports: Iterable[Report], rules: FusionRules | None = None) -> list[Link]:
    """Fuse a batch of reports in time order; return one link per report."""
    fuser = Fuser(rules)
    ordered = sorted(reports, key=lambda report: report.received_at)
    return [fuser.add(report) for report in ordered]
