"""Metrics over the event log: one definition per metric, pure (stdlib only).

Imported by ``muster.review.metrics_queries`` (which reads the log and builds the
records) and ``muster.review.domain.scorecard``; the UI and the after-action review
use the same functions through ``metrics_queries``, so a figure means the same thing
everywhere.

Every metric turns plain ``LogRecord``s into ``Sample``s: one per task, report,
delivery, request or invitation, each naming the department it is counted for and the
seqs of the events behind it (the drill-down). Aggregates (``rate``, ``percentile``,
``total``) work on samples.

Scope rule: a subject belongs to the period in which it was opened (a task when it was
assigned or reassigned, a report obligation when its clock was set, a request when it
was made, a decision when it was proposed, a data delivery or a read when it happened).
Its later events count up to the period's end. Events before the period are context
only (who owns a dataset, the previous delivery).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

ACK_LATENCY = "ack_latency_minutes"
ACK_ON_TIME = "acks_on_time"
TASK_ON_TIME = "tasks_on_time"
REPORT_ON_TIME = "reports_on_time"
FRESHNESS_ON_TIME = "freshness_on_time"
SHARING_ANSWERED = "sharing_answered"
SHARING_ANSWER_LATENCY = "sharing_answer_minutes"
DECISION_PARTICIPATION = "decision_participation"
TASKS_COMPLETED = "tasks_completed"
DATA_SHARED = "records_shared"

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One logged event as the metrics see it: position, time, type and payload."""

    seq: int
    type: str
    occurred_at: datetime
    department: str | None
    data: Mapping[str, object]
    is_exercise: bool = False


@dataclass(frozen=True, slots=True)
class Period:
    """A closed interval of time [start, end] (aware UTC datetimes)."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """Tell whether a moment lies within the period, ends included."""
        return self.start <= moment <= self.end


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured item: a value (minutes, a 1/0 flag or a count) and its events."""

    metric: str
    department: str
    subject: str
    value: float
    seqs: tuple[int, ...]
    incident_id: str | None = None
    is_exercise: bool = False


# --- aggregates -----------------------------------------------------------------------


def percentile(values: Sequence[float], q: int) -> float | None:
    """Return the q-th percentile by the nearest-rank method, or None when empty.

    Nearest rank: sort the n values and take the one at rank ceil(q/100 × n) (1-based),
    so the result is always one of the measured values: p50 of [7, 25] is 7, p90 is 25.
    """
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {q}")
    ordered = sorted(values)
    rank = math.ceil(Fraction(q, 100) * len(ordered))
    return ordered[rank - 1]


def rate(samples: Sequence[Sample]) -> Fraction | None:
    """Return the exact share of 1-flags among samples, or None when empty."""
    if not samples:
        return None
    return Fraction(sum(1 for sample in samples if sample.value), len(samples))


def total(samples: Iterable[Sample]) -> float:
    """Return the sum of the samples' values."""
    return sum((sample.value for sample in samples), 0.0)


def seqs_of(samples: Iterable[Sample]) -> tuple[int, ...]:
    """Return the distinct seqs behind samples, in log order."""
    return tuple(sorted({seq for sample in samples for seq in sample.seqs}))


# --- payload access -------------------------------------------------------------------


def _text(record: LogRecord, key: str) -> str:
    return str(record.data.get(key) or "")


def _texts(record: LogRecord, key: str) -> tuple[str, ...]:
    value = record.data.get(key)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return ()


def _number(record: LogRecord, key: str) -> int:
    value = record.data.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _minutes(delta: timedelta) -> float:
    return delta / _MINUTE


def _flag(condition: bool) -> float:
    return 1.0 if condition else 0.0


# --- tasks ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Task:
    record: LogRecord
    department: str
    ack_due_at: datetime
    due_at: datetime
    acknowledged: LogRecord | None = None
    completed: LogRecord | None = None
    is_closed: bool = False
    overdue: list[int] = field(default_factory=list)


def _tasks(records: Sequence[LogRecord], period: Period) -> list[_Task]:
    """Fold task events into one state per task opened within the period."""
    tasks: dict[str, _Task] = {}
    for record in records:
        if record.occurred_at > period.end:
            continue
        task_id = _text(record, "task_id")
        task = tasks.get(task_id)
        if record.type == "response.TaskAssigned":
            tasks[task_id] = _Task(
                record=record,
                department=_text(record, "lead_department"),
                ack_due_at=_moment(_text(record, "ack_due_at")),
                due_at=_moment(_text(record, "due_at")),
            )
        elif task is None:
            continue
        elif record.type == "response.TaskReassigned":
            tasks[task_id] = _Task(
                record=record,
                department=_text(record, "to_department"),
                ack_due_at=_moment(_text(record, "ack_due_at")),
                due_at=task.due_at,
            )
        elif record.type == "response.TaskAcknowledged" and task.acknowledged is None:
            task.acknowledged = record
        elif record.type == "response.TaskCompleted" and task.completed is None:
            task.completed = record
        elif record.type in ("response.TaskDeclined", "response.TaskSkipped"):
            task.is_closed = task.completed is None
        elif record.type == "response.TaskOverdue":
            task.overdue.append(record.seq)
    return [t for t in tasks.values() if period.contains(t.record.occurred_at)]


def _task_sample(task: _Task, metric: str, value: float, *seqs: int) -> Sample:
    return Sample(
        metric=metric,
        department=task.department,
        subject=_text(task.record, "task_id"),
        value=value,
        seqs=(task.record.seq, *seqs),
        incident_id=_text(task.record, "incident_id") or None,
        is_exercise=task.record.is_exercise,
    )


def task_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Acknowledgement latency and timeliness, tasks on time and tasks completed.

    Latency runs from assignment (or reassignment) to acknowledgement. A task still
    unacknowledged after its ack deadline, or not done after its due time, counts as
    late; a declined or skipped task counts in neither; an open task not yet due waits.
    """
    samples: list[Sample] = []
    for task in _tasks(records, period):
        ack = task.acknowledged
        if ack is not None:
            latency = _minutes(ack.occurred_at - task.record.occurred_at)
            samples.append(_task_sample(task, ACK_LATENCY, latency, ack.seq))
            on_time = ack.occurred_at <= task.ack_due_at
            samples.append(_task_sample(task, ACK_ON_TIME, _flag(on_time), ack.seq))
        elif not task.is_closed and task.ack_due_at <= period.end:
            samples.append(_task_sample(task, ACK_ON_TIME, 0.0))
        done = task.completed
        if done is not None:
            on_time = done.occurred_at <= task.due_at
            flag = _flag(on_time)
            samples.append(
                _task_sample(task, TASK_ON_TIME, flag, *task.overdue, done.seq)
            )
            samples.append(_task_sample(task, TASKS_COMPLETED, 1.0, done.seq))
        elif not task.is_closed and task.due_at <= period.end:
            samples.append(_task_sample(task, TASK_ON_TIME, 0.0, *task.overdue))
    return samples


# --- situation reports ----------------------------------------------------------------


@dataclass(slots=True)
class _Due:
    record: LogRecord
    department: str
    due_at: datetime
    overdue: list[int] = field(default_factory=list)


def _report_sample(due: _Due, key: tuple[str, str], value: float, *seqs: int) -> Sample:
    return Sample(
        metric=REPORT_ON_TIME,
        department=due.department,
        subject=f"{key[0]}:{key[1]}@{due.due_at.isoformat()}",
        value=value,
        seqs=(due.record.seq, *due.overdue, *seqs),
        incident_id=key[0],
        is_exercise=due.record.is_exercise,
    )


def report_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Reports on time: each due report (初报, 续报) sent by its deadline or not.

    A ``ReportDueSet`` opens a due report; the next report sent for the same incident
    and obligation closes it (on time when sent by ``due_at``) and its ``next_due_at``
    opens the next one. A due report still unsent at the period's end after its
    deadline counts as late (迟报); a deadline moved before it passed replaces it.
    """
    open_dues: dict[tuple[str, str], _Due] = {}
    samples: list[Sample] = []
    for record in records:
        if record.occurred_at > period.end:
            continue
        key = (_text(record, "incident_id"), _text(record, "obligation"))
        if record.type == "response.ReportDueSet":
            department = _text(record, "department")
            open_dues[key] = _Due(record, department, _moment(_text(record, "due_at")))
        elif record.type == "response.ReportOverdue" and key in open_dues:
            open_dues[key].overdue.append(record.seq)
        elif record.type == "response.SituationReportSent" and key in open_dues:
            due = open_dues.pop(key)
            if period.contains(due.record.occurred_at):
                on_time = record.occurred_at <= due.due_at
                samples.append(_report_sample(due, key, _flag(on_time), record.seq))
            next_due = _text(record, "next_due_at")
            if next_due:
                open_dues[key] = _Due(record, due.department, _moment(next_due))
    for key, due in open_dues.items():
        if period.contains(due.record.occurred_at) and due.due_at <= period.end:
            samples.append(_report_sample(due, key, 0.0))
    return samples


# --- data freshness -------------------------------------------------------------------

_DATASET_EVENTS = ("catalog.DatasetRegistered", "catalog.DatasetUpdated")
_DELIVERY_EVENTS = ("ingest.BatchIngested", "ingest.ObservationsIngested")


def freshness_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Data freshness against the SLA: each delivery on time or late.

    A delivery is an ingested batch with at least one accepted record. It is on time
    when it came within the dataset's ``update_interval_minutes`` of the previous
    delivery (which may lie before the period); a dataset's first delivery has no
    reference and is not counted. Counted for the dataset's owner department.
    """
    owners: dict[str, tuple[str, timedelta]] = {}
    last: dict[str, LogRecord] = {}
    samples: list[Sample] = []
    for record in records:
        if record.occurred_at > period.end:
            continue
        if record.type in _DATASET_EVENTS:
            interval = timedelta(minutes=_number(record, "update_interval_minutes"))
            owners[_text(record, "code")] = (
                _text(record, "owner_department"),
                interval,
            )
            continue
        if record.type not in _DELIVERY_EVENTS:
            continue
        if _number(record, "accepted") + _number(record, "count") <= 0:
            continue
        code = _text(record, "dataset_code")
        previous = last.get(code)
        last[code] = record
        if code not in owners or previous is None:
            continue
        if not period.contains(record.occurred_at):
            continue
        owner, interval = owners[code]
        on_time = record.occurred_at - previous.occurred_at <= interval
        samples.append(
            Sample(
                metric=FRESHNESS_ON_TIME,
                department=owner,
                subject=code,
                value=_flag(on_time),
                seqs=(previous.seq, record.seq),
                is_exercise=record.is_exercise,
            )
        )
    return samples


# --- sharing --------------------------------------------------------------------------


def sharing_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Sharing requests answered and how fast (provider), and records shared.

    A request made in the period counts as answered when the provider decided it
    (approved or denied) by the period's end; the answer time is in minutes. Records
    shared are the records returned by reads (``AccessDecided.records``), counted
    for the providing department.
    """
    requests: dict[str, LogRecord] = {}
    answers: dict[str, LogRecord] = {}
    samples: list[Sample] = []
    for record in records:
        if record.occurred_at > period.end:
            continue
        if record.type == "sharing.AccessRequested":
            requests[_text(record, "request_id")] = record
        elif record.type == "sharing.AccessRequestDecided":
            answers.setdefault(_text(record, "request_id"), record)
        elif record.type == "sharing.AccessDecided" and period.contains(
            record.occurred_at
        ):
            shared = _number(record, "records")
            if shared > 0:
                samples.append(
                    Sample(
                        metric=DATA_SHARED,
                        department=_text(record, "provider"),
                        subject=_text(record, "access_id"),
                        value=float(shared),
                        seqs=(record.seq,),
                        incident_id=_text(record, "incident_id") or None,
                        is_exercise=record.is_exercise,
                    )
                )
    for request_id, request in requests.items():
        if not period.contains(request.occurred_at):
            continue
        answer = answers.get(request_id)
        base = Sample(
            metric=SHARING_ANSWERED,
            department=_text(request, "provider"),
            subject=request_id,
            value=_flag(answer is not None),
            seqs=(request.seq,) if answer is None else (request.seq, answer.seq),
            is_exercise=request.is_exercise,
        )
        samples.append(base)
        if answer is not None:
            minutes = _minutes(answer.occurred_at - request.occurred_at)
            samples.append(
                Sample(
                    metric=SHARING_ANSWER_LATENCY,
                    department=base.department,
                    subject=request_id,
                    value=minutes,
                    seqs=base.seqs,
                    is_exercise=request.is_exercise,
                )
            )
    return samples


# --- joint decisions ------------------------------------------------------------------


def decision_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Participation in joint decisions (会商): each invited department signed or not.

    One sample per (decision proposed in the period, invited department): 1 when the
    department concurred or objected by the period's end; 0 when it had not by the
    time the decision closed or its deadline passed; still open, it waits.
    """
    proposals: dict[str, LogRecord] = {}
    signed: dict[tuple[str, str], int] = {}
    closed: set[str] = set()
    for record in records:
        if record.occurred_at > period.end:
            continue
        decision_id = _text(record, "decision_id")
        if record.type == "response.DecisionProposed":
            proposals[decision_id] = record
        elif record.type == "response.DecisionSigned":
            signed.setdefault((decision_id, _text(record, "department")), record.seq)
        elif record.type == "response.DecisionClosed":
            closed.add(decision_id)
    samples: list[Sample] = []
    for decision_id, proposal in proposals.items():
        if not period.contains(proposal.occurred_at):
            continue
        is_over = decision_id in closed or (
            _moment(_text(proposal, "deadline_at")) <= period.end
        )
        for department in _texts(proposal, "departments"):
            seq = signed.get((decision_id, department))
            if seq is None and not is_over:
                continue
            samples.append(
                Sample(
                    metric=DECISION_PARTICIPATION,
                    department=department,
                    subject=decision_id,
                    value=_flag(seq is not None),
                    seqs=(proposal.seq,) if seq is None else (proposal.seq, seq),
                    incident_id=_text(proposal, "incident_id") or None,
                    is_exercise=proposal.is_exercise,
                )
            )
    return samples


def all_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Return the samples of every metric (records in log order)."""
    return [
        *task_samples(records, period),
        *report_samples(records, period),
        *freshness_samples(records, period),
        *sharing_samples(records, period),
        *decision_samples(records, period),
    ]


__all__ = [
    "ACK_LATENCY",
    "ACK_ON_TIME",
    "DATA_SHARED",
    "DECISION_PARTICIPATION",
    "FRESHNESS_ON_TIME",
    "REPORT_ON_TIME",
    "SHARING_ANSWERED",
    "SHARING_ANSWER_LATENCY",
    "TASKS_COMPLETED",
    "TASK_ON_TIME",
    "LogRecord",
    "Period",
    "Sample",
    "all_samples",
    "decision_samples",
    "freshness_samples",
    "percentile",
    "rate",
    "report_samples",
    "seqs_of",
    "sharing_samples",
    "task_samples",
    "total",
]
