"""Reports, category relations and fusion rules (the stdlib-only model of fusion)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from muster.core.errors import ValidationFailed
from muster.situation.domain.reports import (
    FusionRules,
    LinkReason,
    Report,
    category_relation,
    distance_km,
    is_item_code,
    subcategory,
)

AT = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def report(**changes: object) -> Report:
    """Return a hotline flood report, with some fields changed."""
    fields: dict[str, object] = {
        "report_id": "R1",
        "source": "hotline",
        "department": "HOTLINE",
        "category": "11A01",
        "latitude": 28.2,
        "longitude": 112.9,
        "received_at": AT,
    }
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


class TestReport:
    def test_given_complete_fields_when_built_then_the_report_keeps_them(self) -> None:
        """A well-formed report is built, with empty text by default."""
        built = report()

        assert (built.category, built.text, built.received_at) == ("11A01", "", AT)

    @pytest.mark.parametrize(
        "changes",
        [
            {"source": "radio"},
            {"category": "11"},
            {"latitude": 91.0},
            {"longitude": -181.0},
            {"received_at": datetime(2026, 7, 1, 8, 0)},  # noqa: DTZ001 - naive on purpose
            {"received_at": AT.astimezone(timezone(timedelta(hours=8)))},
        ],
    )
    def test_given_a_bad_field_when_built_then_it_is_refused(
        self, changes: dict[str, object]
    ) -> None:
        """Unknown sources, short codes, impossible positions and non-UTC times fail."""
        with pytest.raises(ValidationFailed):
            report(**changes)


class TestCategoryRelation:
    @pytest.mark.parametrize(
        ("first", "second", "expected"),
        [
            ("11A01", "11A01", "same_type"),
            ("11A01", "11A51", "same_subcategory"),
            ("11A", "11A01", "same_subcategory"),
            ("11A00", "11A00", "same_subcategory"),
            ("11A01", "11B01", "same_category"),
            ("11000", "11A01", "same_category"),
            ("11A01", "12A01", "unrelated"),
        ],
    )
    def test_given_two_codes_when_related_by_the_tree_then_the_relation_is_named(
        self, first: str, second: str, expected: str
    ) -> None:
        """Same item, same sub-category prefix, same category digit, or none."""
        assert category_relation(first, second) == expected
        assert category_relation(second, first) == expected

    def test_given_codes_when_asked_for_parts_then_item_and_prefix_are_told(
        self,
    ) -> None:
        """An item code ends in non-zero digits; the sub-category is 3 characters."""
        assert is_item_code("11A01")
        assert not is_item_code("11A00")
        assert not is_item_code("11A")
        assert subcategory("12B01") == "12B"


class TestFusionRules:
    def test_given_a_related_pair_when_related_either_way_then_relation_is_related(
        self,
    ) -> None:
        """Rain (11B) and flooding (11A) are related in both orders, by prefix."""
        rules = FusionRules()

        assert rules.relation("11A01", "11B01") == "related"
        assert rules.relation("11B", "11A51") == "related"
        assert rules.relation("12B01", "12G01") == "related"

    def test_given_no_related_pair_when_compared_then_the_tree_decides(self) -> None:
        """Without a listed pair, other sub-categories are not compatible."""
        rules = FusionRules(related=frozenset())

        assert rules.relation("11A01", "11B01") == "same_category"
        assert not rules.is_compatible("same_category")
        assert not rules.is_compatible("unrelated")
        assert rules.is_compatible("same_subcategory")
        assert rules.relation("11A01", "13C01") == "unrelated"

    def test_given_closer_sooner_and_more_alike_when_scored_then_score_is_higher(
        self,
    ) -> None:
        """The score falls with distance, time and a looser category, within 0..1."""
        rules = FusionRules()

        best = rules.score(distance_km=0.0, minutes_apart=0.0, relation="same_type")
        near = rules.score(distance_km=0.2, minutes_apart=5.0, relation="same_type")
        far = rules.score(distance_km=1.4, minutes_apart=5.0, relation="same_type")
        late = rules.score(distance_km=0.2, minutes_apart=110.0, relation="same_type")
        loose = rules.score(distance_km=0.2, minutes_apart=5.0, relation="related")
        worst = rules.score(distance_km=9.0, minutes_apart=999.0, relation="unrelated")

        assert best == 1.0
        assert near > far
        assert near > late
        assert near > loose
        assert worst == 0.0

    def test_given_a_zero_threshold_when_rules_are_made_then_they_are_refused(
        self,
    ) -> None:
        """Thresholds must be positive."""
        with pytest.raises(ValidationFailed):
            FusionRules(max_distance_km=0.0)


class TestLinkReason:
    def test_given_a_reason_when_described_then_english_and_chinese_read_well(
        self,
    ) -> None:
        """The reason reads as distance, minutes and relation in both languages."""
        reason = LinkReason(0.8, 10.0, "same_type")

        assert reason.describe() == "0.80 km and 10 min away, same type"
        assert reason.describe("zh-CN") == "距离0.80公里，相隔10分钟，同一类型"


class TestDistance:
    def test_given_one_degree_of_latitude_when_measured_then_about_111_km(
        self,
    ) -> None:
        """The haversine distance of one degree north is about 111.2 km."""
        assert distance_km((28.0, 112.9), (29.0, 112.9)) == pytest.approx(111.195, 1e-3)
        assert distance_km((28.0, 112.9), (28.0, 112.9)) == 0.0
