"""Metrics and scorecards over hand-made log records; every expected figure by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from muster.core.errors import ValidationFailed
from muster.review.domain import metrics as m
from muster.review.domain.scorecard import (
    ScorecardWeights,
    build_scorecards,
    weights_from_document,
)

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
DAY = m.Period(T0, T0 + timedelta(hours=24))


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _iso(minutes: int) -> str:
    return _at(minutes).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _rec(seq: int, minute: int, type_: str, **data: Any) -> m.LogRecord:
    exercise = bool(data.pop("exercise", False))
    return m.LogRecord(seq, type_, _at(minute), None, data, is_exercise=exercise)


def _assigned(seq: int, minute: int, task: str, dept: str, **extra: Any) -> m.LogRecord:
    return _rec(
        seq, minute, "response.TaskAssigned", task_id=task, incident_id="I1",
        lead_department=dept, ack_due_at=_iso(minute + 15), due_at=_iso(minute + 60),
        **extra,
    )  # fmt: skip


def _task_log() -> list[m.LogRecord]:
    return [
        _assigned(1, 0, "t1", "TRANSPORT"),
        _assigned(2, 0, "t2", "WATER"),
        _rec(3, 7, "response.TaskAcknowledged", task_id="t1", incident_id="I1"),
        _rec(4, 25, "response.TaskAcknowledged", task_id="t2", incident_id="I1"),
        _rec(5, 50, "response.TaskCompleted", task_id="t1", incident_id="I1"),
        _rec(6, 60, "response.TaskOverdue", task_id="t2", incident_id="I1"),
    ]


def _by(
    samples: list[m.Sample], metric: str
) -> dict[str, tuple[float, tuple[int, ...]]]:
    return {s.department: (s.value, s.seqs) for s in samples if s.metric == metric}


def test_given_values_when_taking_percentiles_then_nearest_rank_is_used() -> None:
    """p50/p90 by nearest rank return measured values; no values give None."""
    assert (m.percentile([25.0, 7.0], 50), m.percentile([25.0, 7.0], 90)) == (7, 25)
    assert m.percentile([float(v) for v in range(1, 11)], 90) == 9
    assert m.percentile([], 50) is None


def test_given_two_tasks_when_measured_then_each_figure_names_its_events() -> None:
    """TRANSPORT acks after 7 min and finishes on time; WATER acks after 25 (late
    against 15) and is overdue at 60: each figure lists the events behind it."""
    samples = m.task_samples(_task_log(), DAY)

    assert _by(samples, m.ACK_LATENCY) == {
        "TRANSPORT": (7.0, (1, 3)), "WATER": (25.0, (2, 4)),
    }  # fmt: skip
    assert _by(samples, m.ACK_ON_TIME) == {
        "TRANSPORT": (1.0, (1, 3)), "WATER": (0.0, (2, 4)),
    }  # fmt: skip
    assert _by(samples, m.TASK_ON_TIME) == {
        "TRANSPORT": (1.0, (1, 5)), "WATER": (0.0, (2, 6)),
    }  # fmt: skip
    assert _by(samples, m.TASKS_COMPLETED) == {"TRANSPORT": (1.0, (1, 5))}


def test_given_a_task_not_yet_due_when_measured_then_it_waits() -> None:
    """A task not yet due and not done is not counted as late."""
    samples = m.task_samples(_task_log()[:4], m.Period(T0, _at(30)))

    assert _by(samples, m.TASK_ON_TIME) == {}


def test_given_report_clocks_when_measured_then_late_and_unsent_reports_count() -> None:
    """The initial report is due at 30 and sent at 40 (late, after an overdue event);
    the follow-up due at 100 is unsent at the period's end (late); one more, due
    after the end, waits."""
    log = [
        _rec(1, 0, "response.ReportDueSet", incident_id="I1", obligation="initial",
             department="WATER", due_at=_iso(30)),
        _rec(2, 30, "response.ReportOverdue", incident_id="I1", obligation="initial"),
        _rec(3, 40, "response.SituationReportSent", incident_id="I1",
             obligation="initial", next_due_at=_iso(100)),
    ]  # fmt: skip

    samples = m.report_samples(log, m.Period(T0, _at(120)))

    assert [(s.value, s.seqs) for s in samples] == [(0.0, (1, 2, 3)), (0.0, (3,))]
    assert m.report_samples(log, m.Period(T0, _at(90)))[1:] == []


def test_given_deliveries_when_measured_then_gaps_are_held_to_the_sla() -> None:
    """A 60-min dataset delivered at 0, 50 and 130: the first has no reference, the
    second is on time (50 ≤ 60), the third late (80 > 60); counted for its owner."""
    log = [
        _rec(1, -10, "catalog.DatasetRegistered", code="GAUGES",
             owner_department="WATER", update_interval_minutes=60),
        _rec(2, 0, "ingest.BatchIngested", dataset_code="GAUGES", accepted=3),
        _rec(3, 50, "ingest.ObservationsIngested", dataset_code="GAUGES", count=2),
        _rec(4, 130, "ingest.BatchIngested", dataset_code="GAUGES", accepted=1),
    ]  # fmt: skip

    samples = m.freshness_samples(log, DAY)

    assert [(s.department, s.value, s.seqs) for s in samples] == [
        ("WATER", 1.0, (2, 3)), ("WATER", 0.0, (3, 4)),
    ]  # fmt: skip


def test_given_requests_and_reads_when_measured_then_answers_and_records_count() -> (
    None
):
    """One request answered after 40 min, one unanswered; a read returned 12 records."""
    log = [
        _rec(1, 0, "sharing.AccessRequested", request_id="r1", provider="WATER"),
        _rec(2, 5, "sharing.AccessRequested", request_id="r2", provider="WATER"),
        _rec(3, 40, "sharing.AccessRequestDecided", request_id="r1", approved=True),
        _rec(4, 41, "sharing.AccessDecided", access_id="a1", provider="WATER",
             records=12, incident_id="I1"),
    ]  # fmt: skip

    samples = m.sharing_samples(log, DAY)

    assert [(s.metric, s.value, s.seqs) for s in samples] == [
        (m.DATA_SHARED, 12.0, (4,)),
        (m.SHARING_ANSWERED, 1.0, (1, 3)),
        (m.SHARING_ANSWER_LATENCY, 40.0, (1, 3)),
        (m.SHARING_ANSWERED, 0.0, (2,)),
    ]


def test_given_a_closed_decision_when_measured_then_silent_departments_count_zero() -> (
    None
):
    """EMB and WATER signed; TRANSPORT stayed silent until the decision closed."""
    log = [
        _rec(1, 0, "response.DecisionProposed", decision_id="d1", incident_id="I1",
             departments=["EMB", "WATER", "TRANSPORT"], deadline_at=_iso(30)),
        _rec(2, 5, "response.DecisionSigned", decision_id="d1", department="EMB"),
        _rec(3, 9, "response.DecisionSigned", decision_id="d1", department="WATER"),
    ]  # fmt: skip

    early = m.decision_samples(log, m.Period(T0, _at(20)))
    assert set(_by(early, m.DECISION_PARTICIPATION)) == {"EMB", "WATER"}
    assert _by(m.decision_samples(log, DAY), m.DECISION_PARTICIPATION) == {
        "EMB": (1.0, (1, 2)), "WATER": (1.0, (1, 3)), "TRANSPORT": (0.0, (1,)),
    }  # fmt: skip


def test_given_samples_when_scored_then_the_weighted_mean_and_drills_are_apart() -> (
    None
):
    """WATER: acks 0/1 (w1), tasks 0/1 (w2), decision 1/1 (w1) → 100·1/4 = 25; a drill
    task lands in a separate drill scorecard."""
    log = [
        *_task_log(),
        _rec(7, 0, "response.DecisionProposed", decision_id="d1", incident_id="I1",
             departments=["WATER"], deadline_at=_iso(30)),
        _rec(8, 5, "response.DecisionSigned", decision_id="d1", department="WATER"),
        _assigned(9, 0, "t9", "WATER", exercise=True),
    ]  # fmt: skip

    live, drill = build_scorecards(m.all_samples(log, DAY), ScorecardWeights())

    water = live.of("WATER")
    assert water.score == Fraction(25)
    assert water.figure(m.ACK_LATENCY).value == 25.0
    assert water.figure(m.TASK_ON_TIME).seqs == (2, 6)
    assert live.of("TRANSPORT").score == Fraction(100)
    assert (drill.is_exercise, drill.of("WATER").figure(m.ACK_ON_TIME).seqs) == (
        True, (9,),
    )  # fmt: skip


def test_given_a_scorecard_document_when_read_then_weights_are_checked() -> None:
    """Given weights override the defaults; an unknown measure is refused."""
    weights = weights_from_document({"weights": {"tasks_on_time": 5}})
    assert (weights.tasks_on_time, weights.acks_on_time) == (5, 1)
    with pytest.raises(ValidationFailed):
        weights_from_document({"weights": {"speed": 1}})


class TestResourcesProvided:
    def test_given_commitments_when_scored_then_units_per_department_in_period(
        self,
    ) -> None:
        """Units committed count for the committing department, inside the period
        only; each sample points at its commitment event."""
        records = [
            _rec(1, 10, "resources.ResourceCommitted", commitment_id="C1",
                 department="WATER", units=4, incident_id="I1"),
            _rec(2, 20, "resources.ResourceCommitted", commitment_id="C2",
                 department="WATER", units=2, incident_id="I1"),
            _rec(3, 30, "resources.ResourceCommitted", commitment_id="C3",
                 department="FIRE", units=1, incident_id="I1"),
            _rec(4, 60 * 25, "resources.ResourceCommitted", commitment_id="C4",
                 department="FIRE", units=9, incident_id="I1"),
        ]  # fmt: skip
        samples = [s for s in m.all_samples(records, DAY)
                   if s.metric == m.RESOURCES_PROVIDED]  # fmt: skip
        assert [(s.department, s.value, s.seqs) for s in samples] == [
            ("WATER", 4.0, (1,)), ("WATER", 2.0, (2,)), ("FIRE", 1.0, (3,)),
        ]  # fmt: skip
        (card,) = build_scorecards(samples, ScorecardWeights())
        assert card.of("WATER").figure(m.RESOURCES_PROVIDED).value == 6
        assert card.of("FIRE").figure(m.RESOURCES_PROVIDED).seqs == (3,)
