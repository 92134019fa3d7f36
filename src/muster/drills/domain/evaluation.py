"""A drill judged against its scenario's evaluation guide, pure (stdlib only).

``evaluate`` reads the drill's log (``LogRecord``s of ``muster.review.domain.
metrics``) and says, for each expected action, whether it was done by its deadline
(``met``), after it (``late``) or not at all (``missed``), with the event behind it.
``summarize`` counts the results per department. Imported by the drill runner, the
CLI and the after-action report.

How actions are recognised (event types of ``muster.response.domain.events``):

- ``open_incident``    IncidentOpened; department: its ``reporting_department``
- ``verify_incident``  IncidentStatusChanged to ``verified``
- ``activate_plan``    ResponseActivated (plan, level); with a level, also a
                       ResponseLevelChanged to it under that plan
- ``change_level``     ResponseLevelChanged (to ``level``)
- ``*_task``           TaskAcknowledged / TaskStarted / TaskCompleted of the task
                       whose TaskAssigned had the ``template_key``; department: the
                       event's (the task's lead department)
- ``send_report``      SituationReportSent (``obligation``); department: the event's
- ``propose_decision`` DecisionProposed (``raises_to``, ``decision`` = its key)
- ``sign_decision``    DecisionSigned (``position``); department: the event's
- ``record_facts``     IncidentFactsRecorded holding every expected fact (a ``None``
                       value: any value)

Elsewhere the department is the actor's (``LogRecord.department``). The first
matching event of the log counts, even one before the ``after`` inject (then the
minutes taken are 0). An ``after`` inject that was never played leaves no deadline:
the line is ``met`` if done, else ``missed``, with a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from muster.core.messages import JsonValue
from muster.drills.domain.scenario import ExpectedAction, Scenario
from muster.review.domain.metrics import LogRecord

MET = "met"
LATE = "late"
MISSED = "missed"
STATUSES = (MET, LATE, MISSED)

_EVENT_OF_ACTION = {
    "open_incident": "response.IncidentOpened",
    "verify_incident": "response.IncidentStatusChanged",
    "activate_plan": "response.ResponseActivated",
    "change_level": "response.ResponseLevelChanged",
    "acknowledge_task": "response.TaskAcknowledged",
    "start_task": "response.TaskStarted",
    "complete_task": "response.TaskCompleted",
    "send_report": "response.SituationReportSent",
    "propose_decision": "response.DecisionProposed",
    "sign_decision": "response.DecisionSigned",
    "record_facts": "response.IncidentFactsRecorded",
}
# Events that name the department acting, instead of the actor's envelope.
_DEPARTMENT_FIELD = {
    "response.IncidentOpened": "reporting_department",
    "response.TaskAcknowledged": "department",
    "response.TaskStarted": "department",
    "response.TaskCompleted": "department",
    "response.SituationReportSent": "department",
    "response.DecisionSigned": "department",
}
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ExpectedResult:
    """How one expected action went: status, deadline and the event that did it."""

    expected: ExpectedAction
    status: str  # met | late | missed
    deadline: datetime | None
    seq: int | None = None
    done_at: datetime | None = None
    minutes: float | None = None  # from the start (or the ``after`` inject) to it
    note: str = ""


@dataclass(frozen=True, slots=True)
class DepartmentSummary:
    """One department's count of met, late and missed expected actions."""

    department: str
    met: int = 0
    late: int = 0
    missed: int = 0

    @property
    def total(self) -> int:
        """Return how many expected actions the department had."""
        return self.met + self.late + self.missed


@dataclass(slots=True)
class _Index:
    """What later events refer to by id: task keys, decision keys, plans."""

    task_keys: dict[str, str] = field(default_factory=dict)
    decision_keys: dict[str, str] = field(default_factory=dict)
    incident_plans: dict[str, str] = field(default_factory=dict)


def evaluate(
    scenario: Scenario,
    records: Sequence[LogRecord],
    started_at: datetime,
    inject_times: Mapping[str, datetime],
) -> list[ExpectedResult]:
    """Judge each expected action of ``scenario`` against the drill's log."""
    ordered = sorted(records, key=lambda record: record.seq)
    index = _index_of(ordered)
    return [
        _judge(expected, ordered, index, started_at, inject_times)
        for expected in scenario.expected
    ]


def summarize(results: Sequence[ExpectedResult]) -> list[DepartmentSummary]:
    """Count met, late and missed per department, in department order."""
    counts: dict[str, dict[str, int]] = {}
    for result in results:
        row = counts.setdefault(result.expected.department, dict.fromkeys(STATUSES, 0))
        row[result.status] += 1
    return [
        DepartmentSummary(department, row[MET], row[LATE], row[MISSED])
        for department, row in sorted(counts.items())
    ]


def result_data(result: ExpectedResult) -> dict[str, JsonValue]:
    """Return a result as plain JSON data (for events, the CLI and reports)."""
    expected = result.expected
    return {
        "id": expected.id,
        "department": expected.department,
        "action": expected.action,
        "match": _plain(expected.match),
        "after": expected.after,
        "within_minutes": expected.within_minutes,
        "capability": expected.capability,
        "status": result.status,
        "deadline": _iso(result.deadline),
        "seq": result.seq,
        "done_at": _iso(result.done_at),
        "minutes": result.minutes,
        "note": result.note,
    }


def _judge(
    expected: ExpectedAction,
    records: Sequence[LogRecord],
    index: _Index,
    started_at: datetime,
    inject_times: Mapping[str, datetime],
) -> ExpectedResult:
    reference: datetime | None = started_at
    note = ""
    if expected.after is not None:
        reference = inject_times.get(expected.after)
        if reference is None:
            note = f"inject {expected.after} was not played: no deadline"
    deadline = (
        None if reference is None else reference + expected.within_minutes * _MINUTE
    )
    hit = next((r for r in records if _matches(expected, r, index)), None)
    if hit is None:
        return ExpectedResult(expected, MISSED, deadline, note=note)
    minutes = None
    status = MET
    if reference is not None and deadline is not None:
        minutes = max(0.0, (hit.occurred_at - reference) / _MINUTE)
        status = MET if hit.occurred_at <= deadline else LATE
    return ExpectedResult(
        expected, status, deadline, seq=hit.seq, done_at=hit.occurred_at,
        minutes=minutes, note=note,
    )  # fmt: skip


def _index_of(records: Sequence[LogRecord]) -> _Index:
    index = _Index()
    for record in records:
        data = record.data
        if record.type == "response.TaskAssigned" and data.get("template_key"):
            index.task_keys[str(data.get("task_id"))] = str(data["template_key"])
        elif record.type == "response.DecisionProposed" and data.get("decision_key"):
            index.decision_keys[str(data.get("decision_id"))] = str(
                data["decision_key"]
            )
        elif record.type == "response.ResponseActivated":
            index.incident_plans[str(data.get("incident_id"))] = str(
                data.get("plan_code")
            )
    return index


def _department(record: LogRecord) -> str | None:
    name = _DEPARTMENT_FIELD.get(record.type)
    named = record.data.get(name) if name else None
    if named:
        return str(named)
    if record.type == "response.ResponseLevelChanged" and record.department is None:
        lead = record.data.get("lead_department")
        return str(lead) if lead else None
    return record.department


def _matches(expected: ExpectedAction, record: LogRecord, index: _Index) -> bool:
    action = expected.action
    wanted = _EVENT_OF_ACTION.get(action)
    is_level_change = (
        action == "activate_plan"
        and record.type == "response.ResponseLevelChanged"
        and "level" in expected.match
    )
    if record.type != wanted and not is_level_change:
        return False
    if _department(record) != expected.department:
        return False
    return _details_match(action, expected.match, record, index)


def _details_match(
    action: str, match: Mapping[str, object], record: LogRecord, index: _Index
) -> bool:
    data = record.data
    found: dict[str, object] = {}
    if action == "open_incident":
        found = {"category": data.get("category")}
        code = str(match.get("type_code", "")).rstrip("0")
        if not str(data.get("type_code") or "").startswith(code):
            return False
    elif action == "verify_incident":
        return data.get("to_status") == "verified"
    elif action in ("activate_plan", "change_level"):
        plan = data.get("plan_code") or index.incident_plans.get(
            str(data.get("incident_id"))
        )
        found = {"plan": plan, "level": data.get("level") or data.get("to_level")}
    elif action.endswith("_task"):
        found = {"task": index.task_keys.get(str(data.get("task_id")))}
    elif action == "send_report":
        found = {"obligation": data.get("obligation")}
    elif action == "propose_decision":
        found = {
            "raises_to": data.get("raises_to"),
            "decision": data.get("decision_key"),
        }
    elif action == "sign_decision":
        key = index.decision_keys.get(str(data.get("decision_id")))
        found = {"position": data.get("position"), "decision": key}
    elif action == "record_facts":
        return _facts_match(match.get("facts"), data.get("facts"))
    return all(
        key == "type_code" or str(found.get(key)) == str(value)
        for key, value in match.items()
    )


def _facts_match(expected: object, recorded: object) -> bool:
    if not isinstance(expected, Mapping) or not isinstance(recorded, Mapping):
        return False
    return all(
        key in recorded and (value is None or recorded[key] == value)
        for key, value in expected.items()
    )


def _plain(value: object) -> JsonValue:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


__all__ = [
    "LATE",
    "MET",
    "MISSED",
    "STATUSES",
    "DepartmentSummary",
    "ExpectedResult",
    "evaluate",
    "result_data",
    "summarize",
]
