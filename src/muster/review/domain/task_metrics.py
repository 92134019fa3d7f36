"""Metrics of the work a department owes: its tasks and situation reports (pure).

Acknowledgement latency and timeliness, tasks on time and tasks completed
(``task_samples``), reports on time (``report_samples``), each sample counted for the
department that owed the work. Part of ``muster.review.domain.metrics``, which
re-exports every name here and states the scope rule these functions follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from muster.review.domain.records import (
    LogRecord,
    Period,
    Sample,
    flag,
    in_minutes,
    logged_time,
)

ACK_LATENCY = "ack_latency_minutes"
ACK_ON_TIME = "acks_on_time"
TASK_ON_TIME = "tasks_on_time"
TASKS_COMPLETED = "tasks_completed"
REPORT_ON_TIME = "reports_on_time"


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
        task_id = record.text("task_id")
        task = tasks.get(task_id)
        if record.type == "response.TaskAssigned":
            tasks[task_id] = _Task(
                record=record,
                department=record.text("lead_department"),
                ack_due_at=logged_time(record.text("ack_due_at")),
                due_at=logged_time(record.text("due_at")),
            )
        elif task is None:
            continue
        elif record.type == "response.TaskReassigned":
            tasks[task_id] = _Task(
                record=record,
                department=record.text("to_department"),
                ack_due_at=logged_time(record.text("ack_due_at")),
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
        subject=task.record.text("task_id"),
        value=value,
        seqs=(task.record.seq, *seqs),
        incident_id=task.record.text("incident_id") or None,
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
            latency = in_minutes(ack.occurred_at - task.record.occurred_at)
            samples.append(_task_sample(task, ACK_LATENCY, latency, ack.seq))
            on_time = ack.occurred_at <= task.ack_due_at
            samples.append(_task_sample(task, ACK_ON_TIME, flag(on_time), ack.seq))
        elif not task.is_closed and task.ack_due_at <= period.end:
            samples.append(_task_sample(task, ACK_ON_TIME, 0.0))
        done = task.completed
        if done is not None:
            on_time = done.occurred_at <= task.due_at
            samples.append(
                _task_sample(task, TASK_ON_TIME, flag(on_time), *task.overdue, done.seq)
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
        key = (record.text("incident_id"), record.text("obligation"))
        if record.type == "response.ReportDueSet":
            department = record.text("department")
            open_dues[key] = _Due(
                record, department, logged_time(record.text("due_at"))
            )
        elif record.type == "response.ReportOverdue" and key in open_dues:
            open_dues[key].overdue.append(record.seq)
        elif record.type == "response.SituationReportSent" and key in open_dues:
            due = open_dues.pop(key)
            if period.contains(due.record.occurred_at):
                on_time = record.occurred_at <= due.due_at
                samples.append(_report_sample(due, key, flag(on_time), record.seq))
            next_due = record.text("next_due_at")
            if next_due:
                open_dues[key] = _Due(record, due.department, logged_time(next_due))
    for key, due in open_dues.items():
        if period.contains(due.record.occurred_at) and due.due_at <= period.end:
            samples.append(_report_sample(due, key, 0.0))
    return samples


__all__ = [
    "ACK_LATENCY",
    "ACK_ON_TIME",
    "REPORT_ON_TIME",
    "TASKS_COMPLETED",
    "TASK_ON_TIME",
    "report_samples",
    "task_samples",
]
