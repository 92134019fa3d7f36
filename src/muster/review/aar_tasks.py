"""An incident's tasks as the after-action review shows them (objectives, Gantt).

Imported by ``muster.review.aar``. Folds the incident's task events (in log order)
into one row per task: the plan and level it came from, who led it, when it was
assigned, acknowledged and done against its deadlines, and whether it was on time by
the metric definitions (the ``acks_on_time`` and ``tasks_on_time`` samples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from muster.core.clock import parse_utc
from muster.review.domain import metrics as m

_STATUS = {
    "response.TaskAssigned": "assigned",
    "response.TaskReassigned": "assigned",
    "response.TaskAcknowledged": "acknowledged",
    "response.TaskStarted": "in_progress",
    "response.TaskBlocked": "blocked",
    "response.TaskCompleted": "done",
    "response.TaskDeclined": "declined",
    "response.TaskSkipped": "skipped",
}


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task of the incident: its group, department, times and timeliness.

    ``ack_on_time``/``on_time`` are None while the deadline has not passed (or for a
    declined or skipped task); ``group`` is "PLAN · LEVEL", or "" for ad-hoc tasks.
    """

    task_id: str
    group: str
    title_zh: str
    title_en: str
    department: str
    status: str
    assigned_at: datetime
    ack_due_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None
    done_at: datetime | None
    ack_on_time: bool | None
    on_time: bool | None
    seqs: tuple[int, ...]

    def title(self, language: str) -> str:
        """Return the title in a language (zh-CN or en)."""
        return self.title_zh if language.startswith("zh") else self.title_en


@dataclass(slots=True)
class _State:
    task_id: str
    group: str
    title_zh: str
    title_en: str
    department: str
    assigned_at: datetime
    ack_due_at: datetime
    due_at: datetime
    status: str = "assigned"
    acknowledged_at: datetime | None = None
    done_at: datetime | None = None
    seqs: list[int] = field(default_factory=list)


def _assigned(record: m.LogRecord, group: str) -> _State:
    data = record.data
    from_plan = bool(data.get("from_plan"))
    return _State(
        task_id=str(data["task_id"]),
        group=group if from_plan else "",
        title_zh=str(data.get("title_zh") or ""),
        title_en=str(data.get("title_en") or ""),
        department=str(data.get("lead_department") or ""),
        assigned_at=record.occurred_at,
        ack_due_at=parse_utc(str(data["ack_due_at"])),
        due_at=parse_utc(str(data["due_at"])),
        seqs=[record.seq],
    )


def _apply(state: _State, record: m.LogRecord) -> None:
    state.seqs.append(record.seq)
    if record.type == "response.TaskReassigned":
        state.department = str(record.data.get("to_department") or state.department)
        state.ack_due_at = parse_utc(str(record.data["ack_due_at"]))
        state.acknowledged_at = None
    elif record.type == "response.TaskAcknowledged" and state.acknowledged_at is None:
        state.acknowledged_at = record.occurred_at
    elif record.type == "response.TaskCompleted" and state.done_at is None:
        state.done_at = record.occurred_at
    if record.type in _STATUS and state.status not in ("done", "skipped"):
        state.status = _STATUS[record.type]


def _flags(samples: Sequence[m.Sample], metric: str) -> dict[str, bool]:
    return {s.subject: bool(s.value) for s in samples if s.metric == metric}


def task_rows(
    incident_records: Sequence[m.LogRecord], samples: Sequence[m.Sample]
) -> list[TaskRow]:
    """Return the incident's tasks in the order they were assigned."""
    group = ""
    states: dict[str, _State] = {}
    for record in incident_records:
        data = record.data
        if record.type == "response.ResponseActivated":
            group = f"{data.get('plan_code')} · {data.get('level')}"
        elif record.type == "response.ResponseLevelChanged":
            group = f"{group.split(' · ')[0]} · {data.get('to_level')}"
        elif record.type == "response.TaskAssigned":
            states[str(data["task_id"])] = _assigned(record, group)
        elif record.type in _STATUS or record.type == "response.TaskOverdue":
            state = states.get(str(data.get("task_id")))
            if state is not None:
                _apply(state, record)
    acks, done = _flags(samples, m.ACK_ON_TIME), _flags(samples, m.TASK_ON_TIME)
    return [
        TaskRow(
            task_id=s.task_id, group=s.group, title_zh=s.title_zh,
            title_en=s.title_en, department=s.department, status=s.status,
            assigned_at=s.assigned_at, ack_due_at=s.ack_due_at, due_at=s.due_at,
            acknowledged_at=s.acknowledged_at, done_at=s.done_at,
            ack_on_time=acks.get(s.task_id), on_time=done.get(s.task_id),
            seqs=tuple(s.seqs),
        )
        for s in states.values()
    ]  # fmt: skip


__all__ = ["TaskRow", "task_rows"]
