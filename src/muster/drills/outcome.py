"""What a drill produced: each step's outcome, the evaluation, and the drill's report.

``evaluate_sandbox`` reads the sandbox log after the copied live prefix, evaluates it
against the scenario's expected actions (``muster.drills.domain.evaluation``),
appends ``drills.DrillEvaluated`` to the sandbox log, signs a checkpoint of its head
with the drill's key and returns the ``DrillReport``
the runner records live as ``drills.DrillCompleted``. Imported by the runner and the
drill CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from muster.core.clock import isoformat_utc, parse_utc
from muster.core.eventlog.store import Envelope, Recorded
from muster.core.messages import JsonValue
from muster.drills.domain.commands import RecordDrillEvaluation
from muster.drills.domain.evaluation import (
    ExpectedResult,
    evaluate,
    result_data,
    summarize,
)
from muster.drills.inject_commands import CONTROL_ACTOR
from muster.drills.sandbox import sign_head
from muster.review.domain.metrics import LogRecord

if TYPE_CHECKING:
    from muster.drills.runner import Drill


NOTABLE = {
    "response.IncidentOpened": "incident opened",
    "response.ResponseActivated": "response activated",
    "response.ResponseLevelChanged": "response level changed",
    "response.EscalationStepReached": "escalation",
    "response.DepartmentMarkedUnresponsive": "department unresponsive",
    "response.ReportOverdue": "report overdue",
    "response.TaskOverdue": "task overdue",
    "response.DecisionClosed": "decision closed",
    "situation.TriggerFired": "trigger fired",
}
"""Sandbox events worth a progress line, with their label."""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One line of a drill's progress: a step played, or a notable sandbox event."""

    at_minutes: float
    sim_time: str
    kind: str  # inject, action or event
    reference: str  # the inject id, the action, or the event type
    label: str
    department: str | None
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DrillReport:
    """A finished drill: where it ran, what happened, and how it was evaluated."""

    drill_id: str
    scenario_code: str
    mode: str
    sandbox_path: str
    incident_id: str | None
    live_head_seq: int
    sandbox_last_seq: int
    sandbox_head_hash: str
    sim_end: str
    results: tuple[dict[str, JsonValue], ...]
    summary: tuple[dict[str, JsonValue], ...]
    participants: tuple[str, ...]
    steps: tuple[StepOutcome, ...]
    held_messages: int
    ended_early: bool

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-compatible data."""
        data = asdict(self)
        data["steps"] = [asdict(step) for step in self.steps]
        return data


def participants(records: Sequence[Recorded]) -> tuple[str, ...]:
    """Return the departments whose people acted in the sandbox, sorted."""
    return tuple(
        sorted(
            {
                item.envelope.actor_department
                for item in records
                if item.envelope.actor_kind == "user" and item.envelope.actor_department
            }
        )
    )


def department_summary(
    results: Sequence[ExpectedResult],
) -> tuple[dict[str, JsonValue], ...]:
    """Return each department's count of expected actions met, late and missed."""
    return tuple(
        {
            "department": row.department,
            "expected": row.total,
            "met": row.met,
            "late": row.late,
            "missed": row.missed,
        }
        for row in summarize(results)
    )


def evaluate_sandbox(drill: Drill, *, ended_early: bool) -> DrillReport:
    """Evaluate the drill's sandbox log; append DrillEvaluated there; report."""
    deployment = drill.deployment
    with deployment.engine.connect() as conn:
        records = deployment.store.read_all(conn, after=drill.sandbox.live_head_seq)
    judged = evaluate(
        drill.scenario,
        [log_record(item.envelope) for item in records],
        drill.started_at,
        drill.inject_times,
    )
    results = tuple(result_data(result) for result in judged)
    deployment.bus.handle(
        RecordDrillEvaluation(
            drill_id=drill.drill_id, scenario=drill.scenario.code, results=results
        ),
        CONTROL_ACTOR,
    )
    sign_head(deployment.engine, deployment.require_signing_key(), clock=drill.clock)
    with deployment.engine.connect() as conn:
        last_seq, head_hash = deployment.store.head(conn)
    held = drill.held
    return DrillReport(
        drill_id=drill.drill_id,
        scenario_code=drill.scenario.code,
        mode=drill.mode,
        sandbox_path=str(drill.sandbox.path),
        incident_id=drill.incident_id,
        live_head_seq=drill.sandbox.live_head_seq,
        sandbox_last_seq=last_seq,
        sandbox_head_hash=head_hash.hex(),
        sim_end=isoformat_utc(drill.clock.now()),
        results=results,
        summary=department_summary(judged),
        participants=participants(records),
        steps=tuple(drill.steps),
        held_messages=0 if held is None else len(held.sent),
        ended_early=ended_early,
    )


def log_record(envelope: Envelope) -> LogRecord:
    """Return a logged event as the evaluation reads it."""
    return LogRecord(
        seq=envelope.seq,
        type=envelope.type,
        occurred_at=parse_utc(envelope.occurred_at),
        department=envelope.actor_department,
        data=envelope.data,
        is_exercise=envelope.is_exercise,
    )


def describe(result: object) -> str:
    """Return a command's result as a short text for a progress line."""
    status = getattr(result, "status", None)
    if status is not None:
        return str(status)
    return "" if result is None else str(result)[:120]


def event_detail(data: dict[str, Any]) -> str:
    """Return the most telling field of a notable event for a progress line."""
    for key in ("title", "level", "department", "task_id", "rule_id", "outcome"):
        if data.get(key):
            return f"{key} {data[key]}"
    return ""


__all__ = [
    "NOTABLE",
    "DrillReport",
    "StepOutcome",
    "department_summary",
    "describe",
    "evaluate_sandbox",
    "event_detail",
    "log_record",
    "participants",
]
