"""Report fusion: joining, refusing, merging, splitting, persisting and evicting.

Also the claims the index rests on (the h3 disk covers the distance; the indexed
fuser decides exactly as a scan of every open cluster) and a quality check on a
small seeded synthetic stream.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import h3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.errors import NotFound, ValidationFailed
from muster.situation.domain.reports import (
    ClusterRecord,
    FusionRules,
    Link,
    Report,
    distance_km,
)
from muster.situation.fusion import Fuser, fuse, resolution_for
from muster.situation.synthetic import pairwise_scores, report_stream

AT = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
BASE = (28.2, 112.9)
KM_PER_DEGREE = 111.195


def report(
    report_id: str,
    *,
    minutes: float = 0.0,
    north_km: float = 0.0,
    east_km: float = 0.0,
    code: str = "11A01",
    source: str = "hotline",
) -> Report:
    """Return a report near the base point, some km and minutes away."""
    return Report(
        report_id=report_id,
        source=source,  # type: ignore[arg-type]
        department="HOTLINE",
        category=code,
        latitude=BASE[0] + north_km / KM_PER_DEGREE,
        longitude=BASE[1] + east_km / (KM_PER_DEGREE * math.cos(math.radians(BASE[0]))),
        received_at=AT + timedelta(minutes=minutes),
    )


def clusters(fuser: Fuser) -> list[tuple[str, ...]]:
    """Return the report ids of each cluster, in creation order."""
    return [record.report_ids for record in fuser.records()]


class TestAdd:
    def test_given_a_report_when_another_800_m_and_10_min_away_then_one_cluster(
        self,
    ) -> None:
        """Two flood reports 800 m and 10 minutes apart fuse, with the reason."""
        fuser = Fuser()
        first = fuser.add(report("R1"))

        second = fuser.add(report("R2", minutes=10, east_km=0.8, source="field"))

        assert first == Link("R1", "C-R1", joined=False, reason=None, score=0.0)
        assert second.joined
        assert second.cluster_id == "C-R1"
        assert second.reason is not None
        assert second.reason.distance_km == pytest.approx(0.8, abs=0.01)
        assert second.reason.minutes_apart == pytest.approx(10.0)
        assert second.reason.category_relation == "same_type"
        assert 0.5 < second.score < 1.0
        assert clusters(fuser) == [("R1", "R2")]

    def test_given_a_report_when_another_at_the_same_place_5_h_later_then_two(
        self,
    ) -> None:
        """Reports at one place five hours apart are two incidents."""
        links = fuse([report("R1"), report("R2", minutes=300)])

        assert [link.joined for link in links] == [False, False]

    def test_given_a_report_when_another_is_3_km_away_then_two_clusters(self) -> None:
        """Reports beyond the distance threshold are two incidents."""
        links = fuse([report("R1"), report("R2", minutes=5, north_km=3.0)])

        assert links[1].cluster_id == "C-R2"

    def test_given_a_flood_when_a_traffic_accident_is_reported_there_then_two(
        self,
    ) -> None:
        """Unrelated categories at the same place and time are not fused."""
        links = fuse([report("R1"), report("R2", minutes=5, code="12B01")])

        assert [link.cluster_id for link in links] == ["C-R1", "C-R2"]

    def test_given_a_flood_when_heavy_rain_is_reported_there_then_related_join(
        self,
    ) -> None:
        """A related category (rain for a flood) joins, and says so."""
        links = fuse([report("R1"), report("R2", minutes=5, code="11B01")])

        assert links[1].joined
        assert links[1].reason is not None
        assert links[1].reason.category_relation == "related"

    def test_given_two_clusters_in_reach_when_a_report_fits_both_then_best_wins(
        self,
    ) -> None:
        """A report joins the better-scoring cluster: same type before related."""
        fuser = Fuser()
        fuser.add(report("R1", code="11B01"))
        fuser.add(report("R2", north_km=0.4, code="11A01"))  # related: joins R1
        fuser.add(report("R3", minutes=10, east_km=1.6, code="11A51"))  # too far

        link = fuser.add(report("R4", minutes=12, east_km=0.8, code="11A51"))

        assert clusters(fuser) == [("R1", "R2"), ("R3", "R4")]
        assert link.reason is not None
        assert link.reason.category_relation == "same_type"

    def test_given_a_sub_category_prefix_when_compared_then_it_joins_the_items(
        self,
    ) -> None:
        """A report coded only "11A" joins a cluster of 11A01 reports."""
        links = fuse([report("R1"), report("R2", minutes=3, code="11A")])

        assert links[1].reason is not None
        assert links[1].reason.category_relation == "same_subcategory"

    def test_given_a_fused_report_when_added_again_then_it_is_refused(self) -> None:
        """A report id is fused once."""
        fuser = Fuser()
        fuser.add(report("R1"))

        with pytest.raises(ValidationFailed):
            fuser.add(report("R1"))

    def test_given_a_doubtful_match_when_every_test_is_near_its_limit_then_two(
        self,
    ) -> None:
        """Related, 1.4 km and 110 min apart scores below min_score: not fused."""
        links = fuse(
            [report("R1"), report("R2", minutes=110, east_km=1.4, code="11B01")]
        )

        assert not links[1].joined


class TestMergeAndSplit:
    def test_given_two_clusters_when_merged_then_one_holds_all_reports(self) -> None:
        """A duty officer merges two candidates into the first one."""
        fuser = Fuser()
        fuser.add(report("R1"))
        fuser.add(report("R2", minutes=5, east_km=3.0))

        merged = fuser.merge("C-R1", "C-R2")

        assert merged.report_ids == ("R1", "R2")
        assert clusters(fuser) == [("R1", "R2")]
        assert fuser.cluster_of("R2") == "C-R1"

    def test_given_clusters_when_merge_is_wrong_then_it_is_refused(self) -> None:
        """Merging a cluster with itself or with an unknown one fails."""
        fuser = Fuser()
        fuser.add(report("R1"))

        with pytest.raises(ValidationFailed):
            fuser.merge("C-R1", "C-R1")
        with pytest.raises(NotFound):
            fuser.merge("C-R1", "C-R9")

    def test_given_a_cluster_when_split_then_the_named_reports_leave(self) -> None:
        """Splitting moves reports into a new cluster named after its first one."""
        fuser = Fuser()
        for index in range(3):
            fuser.add(report(f"R{index}", minutes=index, east_km=0.1 * index))

        created = fuser.split("C-R0", ["R2", "R1"])

        assert created.report_ids == ("R1", "R2")
        assert clusters(fuser) == [("R0",), ("R1", "R2")]
        assert fuser.cluster_of("R2") == "C-R1"

    def test_given_a_split_cluster_when_a_new_report_comes_then_it_picks_one(
        self,
    ) -> None:
        """After a split, both clusters are open with their own centroids."""
        fuser = Fuser()
        fuser.add(report("R1"))
        fuser.add(report("R2", minutes=1, east_km=1.0))
        fuser.split("C-R1", ["R2"])

        link = fuser.add(report("R3", minutes=2, east_km=1.1))

        assert link.cluster_id == "C-R2"

    @pytest.mark.parametrize("moving", [[], ["R9"], ["R0", "R1"]])
    def test_given_a_cluster_when_the_split_is_wrong_then_it_is_refused(
        self, moving: list[str]
    ) -> None:
        """A split needs some of the cluster's reports, and must leave one."""
        fuser = Fuser()
        fuser.add(report("R0"))
        fuser.add(report("R1", minutes=1))

        with pytest.raises(ValidationFailed):
            fuser.split("C-R0", moving)

    def test_given_a_split_off_first_report_when_split_again_then_ids_stay_unique(
        self,
    ) -> None:
        """A new cluster id never reuses a taken one."""
        fuser = Fuser()
        fuser.add(report("R0"))
        fuser.add(report("R1", minutes=1))
        fuser.split("C-R0", ["R1"])
        fuser.merge("C-R0", "C-R1")

        created = fuser.split("C-R0", ["R0"])

        assert created.cluster_id == "C-R0~2"
        assert clusters(fuser) == [("R1",), ("R0",)]


class TestPersistence:
    def test_given_fused_clusters_when_exported_and_restored_then_the_same(
        self,
    ) -> None:
        """Records round-trip, and the restored fuser decides as the original."""
        stream = [item for item, _ in report_stream(5, 600, days=0.1)]
        original = Fuser()
        for item in stream[:400]:
            original.add(item)

        restored = Fuser.restore(
            original.records(), {item.report_id: item for item in stream[:400]}
        )

        assert restored.records() == original.records()
        assert restored.open_count() == original.open_count()
        assert [restored.add(item) for item in stream[400:]] == [
            original.add(item) for item in stream[400:]
        ]

    def test_given_a_record_without_reports_when_restored_then_it_is_refused(
        self,
    ) -> None:
        """An empty cluster cannot be restored."""
        with pytest.raises(ValidationFailed):
            Fuser.restore([ClusterRecord("C-X", ())], {})

    def test_given_an_unknown_report_when_its_cluster_is_asked_then_not_found(
        self,
    ) -> None:
        """Only fused reports have a cluster."""
        with pytest.raises(NotFound):
            Fuser().cluster_of("R1")


class TestEviction:
    def test_given_an_old_cluster_when_time_moves_past_the_window_then_closed(
        self,
    ) -> None:
        """A cluster behind the gap plus slack is closed; closed ones can be dropped."""
        fuser = Fuser(FusionRules(max_gap_minutes=60, eviction_slack_minutes=30))
        fuser.add(report("R1"))
        fuser.add(report("R2", minutes=100, north_km=20))

        assert fuser.open_count() == 1
        assert fuser.forget_closed()[0].report_ids == ("R1",)
        assert clusters(fuser) == [("R2",)]

    def test_given_a_late_report_within_the_slack_when_added_then_it_joins(
        self,
    ) -> None:
        """A report arriving late, but within the slack, still finds its cluster."""
        fuser = Fuser(FusionRules(max_gap_minutes=60, eviction_slack_minutes=30))
        fuser.add(report("R1"))
        fuser.add(report("R2", minutes=80, north_km=20))

        link = fuser.add(report("R3", minutes=30, east_km=0.2))

        assert link.cluster_id == "C-R1"
        assert link.reason is not None
        assert link.reason.minutes_apart == pytest.approx(30.0)

    def test_given_a_closed_cluster_when_merged_with_an_open_one_then_open(
        self,
    ) -> None:
        """Merging brings a closed cluster's reports into an open cluster."""
        fuser = Fuser(FusionRules(max_gap_minutes=60, eviction_slack_minutes=30))
        fuser.add(report("R1"))
        fuser.add(report("R2", minutes=100, north_km=20))

        fuser.merge("C-R2", "C-R1")

        assert fuser.open_count() == 1
        assert fuser.forget_closed() == []


offsets = st.floats(-2.5, 2.5, allow_nan=False)
codes = st.sampled_from(["11A01", "11A51", "11A", "11B01", "12B01", "11D01"])
drafts = st.lists(
    st.tuples(st.floats(0, 400, allow_nan=False), offsets, offsets, codes),
    min_size=1,
    max_size=25,
)


class TestProperties:
    @settings(deadline=None, max_examples=60)
    @given(drafts)
    def test_given_any_reports_when_fused_then_no_link_exceeds_the_thresholds(
        self, items: list[tuple[float, float, float, str]]
    ) -> None:
        """Every join is within max_distance_km of the cluster's centroid and within
        max_gap_minutes of its time span, recomputed here from the links; and the
        indexed fuser decides exactly as a scan of every open cluster."""
        rules = FusionRules()
        reports = [
            report(f"R{n}", minutes=m, north_km=y, east_km=x, code=c)
            for n, (m, y, x, c) in enumerate(items)
        ]
        indexed, scan = Fuser(rules), Fuser(rules, indexed=False)
        members: dict[str, list[Report]] = {}

        links = [indexed.add(item) for item in reports]

        assert links == [scan.add(item) for item in reports]
        for item, link in zip(reports, links, strict=True):
            group = members.setdefault(link.cluster_id, [])
            assert link.joined == bool(group)
            if group:
                centroid = (
                    sum(r.latitude for r in group) / len(group),
                    sum(r.longitude for r in group) / len(group),
                )
                earliest = min(r.received_at for r in group)
                latest = max(r.received_at for r in group)
                gap = max(earliest - item.received_at, item.received_at - latest)
                minutes = max(gap.total_seconds() / 60, 0.0)
                distance = distance_km((item.latitude, item.longitude), centroid)
                assert distance <= rules.max_distance_km
                assert minutes <= rules.max_gap_minutes
                assert link.reason is not None
                assert link.reason.distance_km == pytest.approx(distance)
                # times are whole microseconds: 1e-7 min is 6 µs
                assert link.reason.minutes_apart == pytest.approx(minutes, abs=1e-7)
            group.append(item)

    @settings(deadline=None, max_examples=200)
    @given(
        st.floats(-80, 80, allow_nan=False),
        st.floats(-179, 179, allow_nan=False),
        st.floats(0, 2 * math.pi, allow_nan=False),
        st.floats(0, 1, allow_nan=False),
        st.sampled_from([0.3, 1.5, 5.0]),
    )
    def test_given_two_points_within_the_distance_when_indexed_then_in_one_disk(
        self, latitude: float, longitude: float, angle: float, share: float, km: float
    ) -> None:
        """A point within max_distance_km is in the 1-ring disk of the other's cell."""
        resolution = resolution_for(km)
        north, east = km * share * math.cos(angle), km * share * math.sin(angle)
        other = (
            latitude + north / KM_PER_DEGREE,
            longitude + east / (KM_PER_DEGREE * math.cos(math.radians(latitude))),
        )
        cell = h3.latlng_to_cell(latitude, longitude, resolution)

        assert distance_km((latitude, longitude), other) <= km * 1.01
        assert h3.latlng_to_cell(*other, resolution) in h3.grid_disk(cell, 1)


class TestQuality:
    def test_given_a_small_seeded_stream_when_fused_then_f1_is_at_least_0_9(
        self,
    ) -> None:
        """Fusing 3,000 synthetic reports matches the true events (pairwise F1)."""
        stream = report_stream(11, 3000)

        links = fuse(item for item, _ in stream)

        scores = pairwise_scores(
            [link.cluster_id for link in links], [label for _, label in stream]
        )
        assert scores.f1 >= 0.9

    def test_given_a_seed_when_the_stream_is_made_twice_then_it_is_the_same(
        self,
    ) -> None:
        """The generator is deterministic for a seed, and differs across seeds."""
        assert report_stream(1, 200) == report_stream(1, 200)
        assert report_stream(1, 200) != report_stream(2, 200)

    def test_given_a_small_clustering_when_scored_then_pairs_are_counted(
        self,
    ) -> None:
        """Pairwise scores come from the contingency table."""
        scores = pairwise_scores(["a", "a", "a", "b"], ["x", "x", "y", "y"])

        assert (scores.true_pairs, scores.predicted_pairs, scores.agreeing_pairs) == (
            2,
            3,
            1,
        )
        assert scores.precision == pytest.approx(1 / 3)
        assert scores.recall == pytest.approx(1 / 2)
        assert scores.f1 == pytest.approx(0.4)
        with pytest.raises(ValueError, match="one predicted"):
            pairwise_scores(["a"], [])


class TestResolution:
    def test_given_distances_when_a_resolution_is_chosen_then_edges_cover_them(
        self,
    ) -> None:
        """The default 1.5 km needs resolution 6; a continent-wide one is refused."""
        assert resolution_for(1.5) == 6
        assert resolution_for(0.1) > resolution_for(1.5) > resolution_for(10.0)
        with pytest.raises(ValidationFailed):
            resolution_for(5000.0)
