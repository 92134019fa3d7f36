"""Trigger rule semantics: measures, hysteresis, groups, CAP matching, parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from muster.situation.domain.errors import TriggerRulesInvalid
from muster.situation.domain.trigger_rules import parse_trigger_rules
from muster.situation.domain.triggers import (
    AlertArea,
    AlertInfo,
    Proposal,
    TriggerRule,
    cap_matches,
    group_count,
    group_step,
    measure,
    step,
)

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
PROPOSAL = Proposal(type_code="11B00", title_zh="暴雨", title_en="Rainstorm")


def _rule(**overrides: object) -> TriggerRule:
    values: dict[str, object] = {
        "code": "R", "name_zh": "规则", "name_en": "Rule", "kind": "threshold",
        "propose": PROPOSAL, "dataset": "D", "metric": "m", "above": 50.0,
        "clear_below": 30.0,
    }  # fmt: skip
    values.update(overrides)
    return TriggerRule(**values)  # type: ignore[arg-type]


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_given_samples_when_measured_as_threshold_then_the_newest_value_counts() -> (
    None
):
    """Given samples out of order, when measured, then the newest one is the value."""
    assert (
        measure("threshold", [(_at(10), 7.0), (_at(0), 9.0)], window_minutes=60) == 7.0
    )
    assert measure("threshold", [], window_minutes=60) is None


def test_given_samples_when_accumulated_then_the_window_counts_repeats_once() -> None:
    """Given readings over 4 hours (one time twice), when accumulated over 180 min,
    then readings at or before the window's start and the repeat are left out."""
    samples = [(_at(m), 10.0) for m in range(0, 241, 60)] + [(_at(240), 10.0)]
    assert measure("accumulation", samples, window_minutes=180) == 30.0


def test_given_a_rising_level_when_the_rate_is_measured_then_it_is_per_hour() -> None:
    """Given a level rising 0.2 m in 30 min, when measured over 60 min, then 0.4 m/h;
    with readings spanning less than half the window, no value."""
    samples = [(_at(0), 34.0), (_at(30), 34.2)]
    assert measure("rate", samples, window_minutes=60) == pytest.approx(0.4)
    assert measure("rate", [(_at(0), 34.0), (_at(10), 34.5)], window_minutes=60) is None


@pytest.mark.parametrize(
    ("active", "value", "expected"),
    [
        (False, 49.9, None),
        (False, 50.0, "fire"),  # the edge fires
        (True, 60.0, None),  # already active: no duplicate
        (True, 30.0, None),  # at the clear level: still holds
        (True, 29.9, "clear"),
        (False, None, None),
    ],
)
def test_given_a_state_and_value_when_stepped_then_hysteresis_decides(
    active: bool, value: float | None, expected: str | None
) -> None:
    """Given fire at 50 and clear below 30, when stepped, then edges behave."""
    assert step(_rule(), active=active, value=value) == expected


def test_given_no_clear_level_when_stepped_then_it_clears_below_the_fire_level() -> (
    None
):
    """Given no clear_below, when the value dips under above, then it clears."""
    assert step(_rule(clear_below=None), active=True, value=49.0) == "clear"


def test_given_a_group_when_counted_then_fire_and_clear_use_both_levels() -> None:
    """Given min 3 stations at 30 (clear 15), when counted, then three at 30+ fire
    and the group holds while three stay at 15+."""
    rule = _rule(kind="multi_station", above=30.0, clear_below=15.0, min_stations=3)
    high, held = group_count(rule, {"a": 31.0, "b": 30.0, "c": 40.0, "d": None})
    assert (high, held) == (3, 3)
    assert group_step(rule, active=False, high=high, held=held) == "fire"
    assert group_step(rule, active=True, high=1, held=3) is None
    assert group_step(rule, active=True, high=1, held=2) == "clear"


def _info(event: str = "暴雨", severity: str = "Extreme") -> AlertInfo:
    return AlertInfo(
        event=event, severity=severity, headline=f"{event}预警", expires=None,
        areas=(
            AlertArea("LJ-QINGSHAN", "青山区", ("LJ-QINGSHAN",), (28.2, 112.9)),
            AlertArea("东湖区", "东湖区", (), None),
        ),
    )  # fmt: skip


def test_given_cap_rules_when_matched_then_event_severity_and_areas_decide() -> None:
    """Given a red rainstorm rule, when alerts arrive, then the event word, the
    severity and the named areas (geocode or description) must all match."""
    rule = _rule(
        kind="cap", event_contains=("rainstorm", "暴雨"), severities=("Extreme",)
    )
    assert [a.key for a in cap_matches(rule, _info())] == ["LJ-QINGSHAN", "东湖区"]
    assert cap_matches(rule, _info(severity="Severe")) == []
    assert cap_matches(rule, _info(event="大风")) == []
    only = _rule(kind="cap", areas=("东湖区",))
    assert [a.key for a in cap_matches(only, _info())] == ["东湖区"]


def test_given_a_proposal_when_asked_about_types_then_prefixes_decide() -> None:
    """Given 11B00 with attach types 11A and 11B, then floods relate, fires do not."""
    proposal = Proposal("11B00", "暴雨", "Rainstorm", attach_types=("11A", "11B"))
    assert proposal.related("11A01")
    assert proposal.related("11B00")
    assert not proposal.related("11G00")
    assert not proposal.related(None)
    assert Proposal("11A00", "洪水", "Flood").related("11A04")


def test_given_a_consistent_document_when_parsed_then_rules_and_groups_are_read() -> (
    None
):
    """Given groups and rules, when parsed, then they are found by code."""
    rules = parse_trigger_rules(
        {
            "groups": {"G": {"stations": ["1", "2"]}},
            "rules": [
                {"code": "A", "kind": "threshold", "dataset": "D", "metric": "m",
                 "above": 5, "propose": {"type_code": "11A00"}},
                {"code": "B", "kind": "multi_station", "dataset": "D", "metric": "m",
                 "above": 5, "group": "G", "propose": {"type_code": "11A00"}},
                {"code": "C", "kind": "composite", "all_of": ["A", "B"],
                 "propose": {"type_code": "11A00"}},
            ],
        }
    )  # fmt: skip
    assert rules.rule("C") is not None
    assert rules.groups_of("1")[0].code == "G"
    assert [r.code for r in rules.composites_over(["A"])] == ["C"]
    assert [r.code for r in rules.on_dataset("D", ["threshold"])] == ["A"]


def test_given_an_inconsistent_document_when_parsed_then_every_problem_has_a_path() -> (
    None
):
    """Given unknown references, a clear level above the fire level, a composite of a
    composite and a duplicate, when parsed, then each problem names its place."""
    with pytest.raises(TriggerRulesInvalid) as raised:
        parse_trigger_rules(
            {
                "rules": [
                    {"code": "A", "kind": "threshold", "dataset": "D", "metric": "m",
                     "above": 5, "clear_below": 9, "propose": {"type_code": "11A00"}},
                    {"code": "B", "kind": "composite", "all_of": ["A", "X"],
                     "propose": {"type_code": "11A00"}},
                    {"code": "C", "kind": "composite", "all_of": ["A", "B"],
                     "group": "NOPE", "propose": {"type_code": "11A00"}},
                    {"code": "A", "kind": "rate", "propose": {"type_code": "11A00"}},
                    {"code": "E", "kind": "odd", "propose": {"type_code": "11A00"}},
                    {"code": "F", "kind": "cap", "propose": {}},
                ]
            }
        )  # fmt: skip
    problems = dict(raised.value.problems)
    assert (
        "clear_below (9) must not exceed above (5)" in problems["rules[0].clear_below"]
    )
    assert problems["rules[1].all_of"] == "unknown rule X"
    assert problems["rules[2].group"] == "unknown group NOPE"
    assert "is a composite rule" in str(raised.value)
    assert problems["rules[3].code"] == "rule A is defined twice"
    assert "needs dataset and metric" in str(raised.value)
    assert problems["rules[4].kind"].startswith("kind must be one of")
    assert problems["rules[5]"] == "missing type_code"


def test_given_streams_and_fusion_when_parsed_then_they_are_read_or_refused() -> None:
    """Given a stream and fusion settings, when parsed, then the stream maps its
    categories; a stream missing a field and a zero distance are refused."""
    stream = {
        "dataset": "HOTLINE", "id_field": "id", "time_field": "at",
        "location_field": "where", "category_field": "kind",
        "categories": {"flooding": "11A00"},
    }  # fmt: skip
    rules = parse_trigger_rules(
        {"rules": [], "report_streams": [stream], "fusion": {"propose_at": 3}}
    )
    assert rules.stream("HOTLINE") is not None
    assert rules.stream("OTHER") is None
    assert rules.fusion.propose_at == 3
    with pytest.raises(TriggerRulesInvalid) as raised:
        parse_trigger_rules(
            {
                "rules": [],
                "report_streams": [{"dataset": "X"}],
                "fusion": {"max_distance_km": 0},
            }
        )
    problems = dict(raised.value.problems)
    assert problems["report_streams[0]"] == "missing 'id_field'"
    assert "must be > 0" in problems["fusion"]
