"""Plans as data (response.domain.plans): coverage, reading, cumulative levels,
activation conditions."""

from __future__ import annotations

from typing import Any

import pytest

from muster.response.domain.plans import (
    Condition,
    DecisionRule,
    ResponseLevel,
    condition_holds,
    covers,
    plan_from_document,
    suggested_level,
)


def _task(key: str, lead: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "title_zh": key, "title_en": key, "lead_department": lead,
            "due_minutes": 60, **extra}  # fmt: skip


DOCUMENT: dict[str, Any] = {
    "code": "FLOOD",
    "name_zh": "内涝",
    "name_en": "Flood",
    "categories": ["11A00", "11B00"],
    "levels": [  # deliberately not in order: L2 before L4
        {
            "level": "L2",
            "activation": [
                {"attribute": "rain_24h_mm", "op": "gte", "value": 100},
                {"attribute": "deaths", "op": "gte", "value": 3},
            ],
            "lead_department": "EMB",
            "supporting": [{"department": "WATER"}],
            "tasks": [_task("evacuate", "EMB", depends_on=["patrol"])],
        },
        {
            "level": "L4",
            "activation": [{"attribute": "rain_24h_mm", "op": "gte", "value": 50}],
            "lead_department": "WATER",
            "command_roles": {"commander": "EMB"},
            "tasks": [_task("patrol", "WATER"), _task("close_road", "TRANSPORT")],
            "reports": [{"key": "initial", "name_zh": "初报", "name_en": "Initial",
                         "recipient": "GOV", "initial_minutes": 30}],
            "decisions": [{"key": "raise", "title_zh": "升级", "title_en": "Raise",
                           "departments": ["EMB", "WATER"], "raises_to": "L2"}],
        },
        {"level": "L1", "lead_department": "GOV"},
    ],
}  # fmt: skip


class TestCovers:
    @pytest.mark.parametrize(
        ("prefix", "code", "expected"),
        [
            ("11A00", "11A03", True),
            ("11A00", "11A00", True),
            ("11A00", "11B01", False),
            ("11000", "11B01", True),
            ("11000", "12A01", False),
            ("12010", "12013", True),
            ("12010", "12023", False),
            ("10000", "14C02", True),
            ("NATURAL_DISASTER", "NATURAL_DISASTER", True),
            ("NATURAL_DISASTER", "11A03", False),
        ],
    )
    def test_trailing_zeros_are_wildcards(
        self, prefix: str, code: str, expected: bool
    ) -> None:
        """A code prefix covers the codes that start with its significant part; a
        category name covers only itself."""
        result = covers(prefix, code)

        assert result is expected

    def test_a_plan_covers_a_code_under_any_of_its_categories(self) -> None:
        """A plan covers an incident type when any of its categories does."""
        plan = plan_from_document(DOCUMENT)

        results = [plan.covers(code) for code in ("11A51", "11B02", "11C01")]

        assert results == [True, True, False]


class TestPlanFromDocument:
    def test_reads_levels_tasks_reports_and_decisions_with_defaults(self) -> None:
        """Omitted fields take their documented defaults (version 1, acknowledge in
        15 minutes, rule all, decision deadline 60 minutes, no follow-up report)."""
        document = DOCUMENT

        plan = plan_from_document(document)

        assert (plan.code, plan.version, plan.categories) == (
            "FLOOD", 1, ("11A00", "11B00"),
        )  # fmt: skip
        level_iv = plan.level(ResponseLevel.L4)
        assert level_iv is not None
        assert level_iv.conditions == (Condition("rain_24h_mm", "gte", 50),)
        assert level_iv.command_roles == {"commander": "EMB"}
        patrol = level_iv.tasks[0]
        assert (patrol.ack_minutes, patrol.depends_on, patrol.checklist) == (15, (), ())
        assert level_iv.reports[0].follow_up_minutes is None
        decision = level_iv.decisions[0]
        assert (decision.rule, decision.veto, decision.deadline_minutes) == (
            DecisionRule.ALL, (), 60,
        )  # fmt: skip
        assert decision.raises_to is ResponseLevel.L2
        level_ii = plan.level(ResponseLevel.L2)
        assert level_ii is not None
        assert level_ii.supporting[0].responsibility_en == ""
        assert plan.level(ResponseLevel.L3) is None

    def test_names_every_department(self) -> None:
        """departments() lists every department the plan names anywhere."""
        plan = plan_from_document(DOCUMENT)

        named = plan.departments()

        assert named == {"EMB", "WATER", "TRANSPORT", "GOV"}

    def test_a_missing_required_key_is_refused(self) -> None:
        """A document without a required key does not read as a plan."""
        document = {key: value for key, value in DOCUMENT.items() if key != "name_en"}

        with pytest.raises(KeyError):
            plan_from_document(document)

    def test_an_unknown_level_is_refused(self) -> None:
        """A level other than L1-L4 does not read."""
        document = {**DOCUMENT, "levels": [{"level": "L5", "lead_department": "X"}]}

        with pytest.raises(ValueError, match="L5"):
            plan_from_document(document)


class TestCumulativeLevels:
    @pytest.mark.parametrize(
        ("level", "reached"),
        [
            (ResponseLevel.L4, ["L4"]),
            (ResponseLevel.L3, ["L4"]),
            (ResponseLevel.L2, ["L4", "L2"]),
            (ResponseLevel.L1, ["L4", "L2", "L1"]),
        ],
    )
    def test_levels_up_to_are_the_defined_levels_from_iv(
        self, level: ResponseLevel, reached: list[str]
    ) -> None:
        """Levels up to a level are the defined ones from IV upwards, in order."""
        plan = plan_from_document(DOCUMENT)

        levels = plan.levels_up_to(level)

        assert [item.level.value for item in levels] == reached

    @pytest.mark.parametrize(
        ("level", "lead"),
        [
            (ResponseLevel.L4, "WATER"),
            (ResponseLevel.L3, "WATER"),
            (ResponseLevel.L2, "EMB"),
            (ResponseLevel.L1, "GOV"),
        ],
    )
    def test_the_lead_is_that_of_the_highest_level_reached(
        self, level: ResponseLevel, lead: str
    ) -> None:
        """An undefined level is led by the department of the level below it."""
        plan = plan_from_document(DOCUMENT)

        result = plan.lead_at(level)

        assert result == lead

    def test_no_lead_below_the_lowest_defined_level(self) -> None:
        """A plan that starts at III has no lead at IV."""
        document = {**DOCUMENT, "levels": [{"level": "L3", "lead_department": "EMB"}]}
        plan = plan_from_document(document)

        lead = plan.lead_at(ResponseLevel.L4)

        assert lead is None
        assert plan.levels_up_to(ResponseLevel.L4) == []

    def test_tasks_accumulate_from_level_iv(self) -> None:
        """Tasks up to II are IV's tasks then II's, in plan order."""
        plan = plan_from_document(DOCUMENT)

        keys = [task.key for task in plan.tasks_up_to(ResponseLevel.L2)]

        assert keys == ["patrol", "close_road", "evacuate"]
        assert [task.key for task in plan.tasks_up_to(ResponseLevel.L3)] == [
            "patrol", "close_road",
        ]  # fmt: skip

    def test_levels_rank_from_iv_to_i(self) -> None:
        """L4 is the weakest response and L1 the strongest."""
        levels = [
            ResponseLevel.L4,
            ResponseLevel.L3,
            ResponseLevel.L2,
            ResponseLevel.L1,
        ]

        ranks = [level.rank for level in levels]

        assert ranks == [1, 2, 3, 4]


class TestConditions:
    @pytest.mark.parametrize(
        ("condition", "attributes", "expected"),
        [
            (Condition("warning", "eq", "RED"), {"warning": "RED"}, True),
            (Condition("warning", "eq", "RED"), {"warning": "ORANGE"}, False),
            (Condition("warning", "in", ["ORANGE", "RED"]), {"warning": "RED"}, True),
            (Condition("warning", "in", ["ORANGE", "RED"]), {"warning": "BLUE"}, False),
            (Condition("type_code", "prefix", "11A"), {"type_code": "11A03"}, True),
            (Condition("type_code", "prefix", "11A"), {"type_code": "11B03"}, False),
            (Condition("rain", "gte", 50), {"rain": 50}, True),
            (Condition("rain", "gte", 50), {"rain": 49.9}, False),
            (Condition("rain", "gt", 50), {"rain": 50}, False),
            (Condition("rain", "gt", 50), {"rain": "50.1"}, True),
            (Condition("rain", "lte", 50), {"rain": 50}, True),
            (Condition("rain", "lt", 50), {"rain": 50}, False),
            (Condition("rain", "gte", 50), {"rain": "heavy"}, False),
            (Condition("rain", "gte", 50), {}, False),
            (Condition("rain", "gte", 50), {"rain": None}, False),
            (Condition("rain", "between", 50), {"rain": 60}, False),
            (Condition("deaths", "eq", 0), {"deaths": 0}, True),
        ],
    )
    def test_condition_holds(
        self, condition: Condition, attributes: dict[str, Any], expected: bool
    ) -> None:
        """Each operator compares as documented; a missing or non-numeric attribute
        and an unknown operator never hold."""
        result = condition_holds(condition, attributes)

        assert result is expected

    @pytest.mark.parametrize(
        ("attributes", "level"),
        [
            ({"rain_24h_mm": 60}, ResponseLevel.L4),
            ({"rain_24h_mm": 120}, ResponseLevel.L4),
            ({"rain_24h_mm": 120, "deaths": 3}, ResponseLevel.L2),
            ({"rain_24h_mm": 20, "deaths": 5}, None),
            ({}, None),
        ],
    )
    def test_suggested_level_is_the_highest_whose_conditions_all_hold(
        self, attributes: dict[str, Any], level: ResponseLevel | None
    ) -> None:
        """Every condition of a level must hold; a level without conditions (I here)
        is never suggested."""
        plan = plan_from_document(DOCUMENT)

        suggested = suggested_level(plan, attributes)

        assert suggested is level
