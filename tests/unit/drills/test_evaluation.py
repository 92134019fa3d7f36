"""Evaluating a drill's log against its scenario's expected actions (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.messages import event_from_data, event_to_data
from muster.drills.domain.evaluation import (
    LATE,
    MET,
    MISSED,
    DepartmentSummary,
    evaluate,
    result_data,
    summarize,
)
from muster.drills.domain.events import DrillEvaluated
from muster.drills.domain.scenario import ExpectedAction, Inject, Scenario
from muster.review.domain.metrics import LogRecord

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


class _Log:
    """Hand-made drill log: records in seq order at scenario minutes."""

    def __init__(self) -> None:
        self.records: list[LogRecord] = []

    def add(self, minutes: float, type_: str, actor: str | None, /,
            **data: object) -> int:  # fmt: skip
        """Log a response event at a minute; ``actor``: the envelope's department."""
        seq = len(self.records) + 1
        self.records.append(
            LogRecord(seq, f"response.{type_}", _at(minutes), actor, data)
        )
        return seq


def _scenario(*expected: ExpectedAction) -> Scenario:
    injects = (
        Inject("I1", 0, "fact", {"facts": {"x": 1}}),
        Inject("I2", 30, "message", {"to": ["EMB"]}),
        Inject("I3", 50, "fact", {"facts": {"y": 1}}),
    )
    return Scenario("T", "演练", "Drill", 120, injects, tuple(expected))


def _expect(ident: str, department: str, action: str, within: float,
            after: str | None = None, **match: object) -> ExpectedAction:  # fmt: skip
    return ExpectedAction(ident, department, action, within, match, after)


def _task_log() -> _Log:
    log = _Log()
    log.add(5, "TaskAssigned", "EMB", task_id="t1", template_key="close_road",
            lead_department="TRANSPORT")  # fmt: skip
    log.add(5, "TaskAssigned", "EMB", task_id="t2", template_key="patrol",
            lead_department="WATER")  # fmt: skip
    return log


def test_given_task_events_when_evaluated_then_met_late_and_missed_by_deadline() -> (
    None
):
    """Given a task acknowledged in time, completed late and another never done,
    when evaluated, then the lines are met, late and missed, each with its seq and
    minutes; the department is the task's, not the actor's."""
    log = _task_log()
    ack = log.add(12, "TaskAcknowledged", "EMB", task_id="t1", department="TRANSPORT")
    done = log.add(50, "TaskCompleted", "EMB", task_id="t1", department="TRANSPORT")
    log.add(20, "TaskAcknowledged", "WATER", task_id="t2", department="WATER")
    scenario = _scenario(
        _expect("E1", "TRANSPORT", "acknowledge_task", 15, task="close_road"),
        _expect("E2", "TRANSPORT", "complete_task", 45, task="close_road"),
        _expect("E3", "WATER", "complete_task", 60, task="patrol"),
        _expect("E4", "EMB", "acknowledge_task", 60, task="close_road"),
    )

    results = evaluate(scenario, log.records, START, {"I1": START})

    assert [r.status for r in results] == [MET, LATE, MISSED, MISSED]
    assert (results[0].seq, results[0].minutes) == (ack, 12.0)
    assert (results[1].seq, results[1].minutes, results[1].done_at) == (
        done,
        50.0,
        _at(50),
    )
    assert results[1].deadline == _at(45)
    assert results[2].seq is None
    assert results[2].deadline == _at(60)


def test_given_after_deadlines_when_evaluated_then_they_count_from_the_inject() -> None:
    """Given deadlines counted from injects, when evaluated, then minutes and
    deadlines start at the inject's played time; an action done before its inject
    took 0 minutes; an inject never played leaves no deadline and a note."""
    log = _Log()
    log.add(38, "SituationReportSent", "WATER", department="WATER",
            obligation="report_city_government")  # fmt: skip
    log.add(20, "IncidentStatusChanged", "EMB", to_status="verified")
    scenario = _scenario(
        _expect(
            "E1", "WATER", "send_report", 10, "I2", obligation="report_city_government"
        ),
        _expect("E2", "WATER", "send_report", 5, "I2"),
        _expect("E3", "EMB", "verify_incident", 10, "I2"),
        _expect("E4", "EMB", "verify_incident", 10, "I9"),
        _expect("E5", "WATER", "send_report", 10, "I9"),
    )
    played = {"I1": START, "I2": _at(32)}

    results = evaluate(scenario, log.records, START, played)

    assert [r.status for r in results] == [MET, LATE, MET, MET, MET]
    assert results[0].deadline == _at(42)
    assert results[0].minutes == 6.0
    assert results[1].deadline == _at(37)
    assert results[2].minutes == 0.0
    assert results[3].deadline is None
    assert results[3].minutes is None
    assert "I9 was not played" in results[3].note


def test_given_command_events_when_evaluated_then_each_action_matches_its_details() -> (
    None
):
    """Given an incident opened by a trigger, a plan activated then raised, a
    decision proposed and signed, and facts recorded, when evaluated, then each
    expected action finds its event by type, department and match."""
    log = _Log()
    log.add(10, "IncidentOpened", None, incident_id="i1", category="NATURAL_DISASTER",
            type_code="11B00", reporting_department="MET")  # fmt: skip
    log.add(20, "ResponseActivated", "EMB", incident_id="i1", plan_code="FLOOD_URBAN",
            level="L4", lead_department="WATER")  # fmt: skip
    raised = log.add(30, "ResponseLevelChanged", "EMB", incident_id="i1",
                     from_level="L4", to_level="L3",
                     lead_department="WATER")  # fmt: skip
    log.add(40, "DecisionProposed", "EMB", decision_id="d1", decision_key="raise_to_l2",
            raises_to="L2")  # fmt: skip
    signed = log.add(45, "DecisionSigned", "WATER", decision_id="d1",
                     department="WATER", position="concur")  # fmt: skip
    log.add(50, "IncidentFactsRecorded", "FIRE", incident_id="i1",
            facts={"rescued": 3, "leak_sealed": True})  # fmt: skip
    scenario = _scenario(
        _expect("A", "MET", "open_incident", 15, type_code="11B"),
        _expect("B", "MET", "open_incident", 15, type_code="11A"),
        _expect("C", "EMB", "activate_plan", 25, plan="FLOOD_URBAN", level="L4"),
        _expect("D", "EMB", "activate_plan", 60, plan="FLOOD_URBAN", level="L3"),
        _expect("E", "EMB", "change_level", 25, level="L3"),
        _expect("F", "EMB", "propose_decision", 60, decision="raise_to_l2"),
        _expect(
            "G", "WATER", "sign_decision", 60, decision="raise_to_l2", position="concur"
        ),
        _expect("H", "WATER", "sign_decision", 60, position="object"),
        _expect("I", "FIRE", "record_facts", 60, facts={"rescued": None}),
        _expect("J", "FIRE", "record_facts", 60, facts={"leak_sealed": False}),
    )

    results = evaluate(scenario, log.records, START, {})

    assert [r.status for r in results] == [
        MET, MISSED, MET, MET, LATE, MET, MET, MISSED, MET, MISSED,
    ]  # fmt: skip
    assert results[3].seq == raised
    assert results[6].seq == signed


def test_given_results_when_summarized_then_each_department_has_its_counts() -> None:
    """Given results of several departments, when summarized, then each department
    counts its met, late and missed lines (departments in code order)."""
    log = _task_log()
    log.add(10, "TaskAcknowledged", "TRANSPORT", task_id="t1", department="TRANSPORT")
    log.add(70, "TaskCompleted", "TRANSPORT", task_id="t1", department="TRANSPORT")
    log.add(14, "TaskAcknowledged", "WATER", task_id="t2", department="WATER")
    scenario = _scenario(
        _expect("E1", "TRANSPORT", "acknowledge_task", 15, task="close_road"),
        _expect("E2", "TRANSPORT", "complete_task", 45, task="close_road"),
        _expect("E3", "WATER", "acknowledge_task", 15, task="patrol"),
        _expect("E4", "WATER", "complete_task", 60, task="patrol"),
        _expect("E5", "EMB", "verify_incident", 10),
    )

    summary = summarize(evaluate(scenario, log.records, START, {}))

    assert summary == [
        DepartmentSummary("EMB", met=0, late=0, missed=1),
        DepartmentSummary("TRANSPORT", met=1, late=1, missed=0),
        DepartmentSummary("WATER", met=1, late=0, missed=1),
    ]
    assert [row.total for row in summary] == [1, 2, 2]


def test_given_results_when_recorded_then_the_event_round_trips_as_plain_data() -> None:
    """Given evaluated results, when put in DrillEvaluated and through the wire
    format, then the plain dicts come back equal."""
    log = _task_log()
    log.add(12, "TaskAcknowledged", "TRANSPORT", task_id="t1", department="TRANSPORT")
    scenario = _scenario(
        _expect("E1", "TRANSPORT", "acknowledge_task", 15, task="close_road"),
        _expect("E2", "WATER", "complete_task", 60, "I2", task="patrol"),
    )
    results = tuple(
        result_data(r) for r in evaluate(scenario, log.records, START, {"I2": _at(30)})
    )
    event = DrillEvaluated(drill_id="d-1", scenario="T", results=results)

    back = event_from_data("drills.DrillEvaluated", 1, event_to_data(event))

    assert back == event
    assert results[0]["status"] == MET
    assert results[0]["match"] == {"task": "close_road"}
    assert results[1]["status"] == MISSED
    assert results[1]["deadline"] == _at(90).isoformat()


@settings(deadline=None)
@given(done=st.integers(min_value=0, max_value=200), within=st.integers(1, 100))
def test_given_any_completion_time_when_evaluated_then_met_exactly_by_the_deadline(
    done: int, within: int
) -> None:
    """For any completion minute and allowance, the line is met iff the event is
    at or before start + within, else late; minutes taken equal the event's minute."""
    log = _task_log()
    log.add(done, "TaskCompleted", "WATER", task_id="t2", department="WATER")
    scenario = _scenario(_expect("E", "WATER", "complete_task", within, task="patrol"))

    (result,) = evaluate(scenario, log.records, START, {})

    assert result.status == (MET if done <= within else LATE)
    assert result.minutes == float(done)
