"""Tasks to departments: states, who may act, and the events each action records.

Pure (stdlib only). A task's state is folded from its own stream (``task-{id}``), so
every decision sees exactly what the log holds.

States: assigned → acknowledged → in_progress → done, or declined (with reason) /
blocked (with reason; starting again unblocks). A declined task waits for a
commander to reassign it; a skipped task is a recorded deviation from the plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor, Event
from muster.response.domain.errors import Conflict
from muster.response.domain.events import (
    ChecklistItemChecked,
    TaskAcknowledged,
    TaskAssigned,
    TaskBlocked,
    TaskCompleted,
    TaskDeclined,
    TaskOverdue,
    TaskReassigned,
    TaskSkipped,
    TaskStarted,
)


class TaskStatus(StrEnum):
    """Where a task stands."""

    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"
    BLOCKED = "blocked"
    SKIPPED = "skipped"


CLOSED = frozenset({TaskStatus.DONE, TaskStatus.SKIPPED})
ACTIONS = ("acknowledge", "start", "complete", "decline", "block")
ACTING_ROLES = ("duty_officer", "head", "commander", "admin")
COMMAND_ROLES = ("commander", "admin")
MAX_NOTE = 2000

_ALLOWED_FROM: dict[str, frozenset[TaskStatus]] = {
    "acknowledge": frozenset({TaskStatus.ASSIGNED}),
    "start": frozenset({TaskStatus.ACKNOWLEDGED, TaskStatus.BLOCKED}),
    "complete": frozenset({TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS}),
    "decline": frozenset({TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED}),
    "block": frozenset({TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS}),
}


@dataclass(frozen=True, slots=True)
class Task:
    """A task as folded from its stream."""

    id: str
    incident_id: str
    lead_department: str
    status: TaskStatus
    due_at: str
    ack_due_at: str
    depends_on: tuple[str, ...]
    checklist: tuple[str, ...]
    checked: frozenset[int]
    overdue: bool
    version: int


def evolve(task: Task | None, event: Event) -> Task | None:
    """Apply one event to a task (the only code that changes task state)."""
    if isinstance(event, TaskAssigned):
        return Task(
            id=event.task_id,
            incident_id=event.incident_id,
            lead_department=event.lead_department,
            status=TaskStatus.ASSIGNED,
            due_at=event.due_at,
            ack_due_at=event.ack_due_at,
            depends_on=event.depends_on,
            checklist=event.checklist,
            checked=frozenset(),
            overdue=False,
            version=1,
        )
    if task is None:
        return None
    task = replace(task, version=task.version + 1)
    match event:
        case TaskAcknowledged():
            return replace(task, status=TaskStatus.ACKNOWLEDGED)
        case TaskStarted():
            return replace(task, status=TaskStatus.IN_PROGRESS)
        case TaskCompleted():
            return replace(task, status=TaskStatus.DONE)
        case TaskDeclined():
            return replace(task, status=TaskStatus.DECLINED)
        case TaskBlocked():
            return replace(task, status=TaskStatus.BLOCKED)
        case TaskSkipped():
            return replace(task, status=TaskStatus.SKIPPED)
        case TaskReassigned(to_department=department, ack_due_at=ack_due_at):
            return replace(
                task,
                lead_department=department,
                status=TaskStatus.ASSIGNED,
                ack_due_at=ack_due_at,
            )
        case TaskOverdue():
            return replace(task, overdue=True)
        case ChecklistItemChecked(index=index, checked=checked):
            marks = task.checked | {index} if checked else task.checked - {index}
            return replace(task, checked=marks)
    return task


def fold(events: Iterable[Event]) -> Task | None:
    """Rebuild a task from its stream."""
    task: Task | None = None
    for event in events:
        task = evolve(task, event)
    return task


def act(
    task: Task,
    action: str,
    *,
    note: str,
    actor: Actor,
    now: str,
    open_dependencies: tuple[str, ...] = (),
) -> list[Event]:
    """Decide a duty officer's action on a task, or explain why it is refused."""
    if action not in _ALLOWED_FROM:
        raise ValidationFailed(
            f"unknown action {action!r}; use one of {', '.join(ACTIONS)}",
            field="action",
        )
    _require_department(task, actor, action)
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(
            f"note is longer than {MAX_NOTE} characters", field="note"
        )
    if task.status not in _ALLOWED_FROM[action]:
        raise Conflict(
            f"task cannot be {_PAST[action]}: it is {task.status.value}",
            detail={"task_id": task.id, "status": task.status.value},
        )
    if action in ("decline", "block") and not note:
        raise ValidationFailed(f"a reason is required to {action} a task", field="note")
    if action == "start" and open_dependencies:
        raise Conflict(
            "task cannot start before the tasks it depends on are done",
            detail={"task_id": task.id, "waiting_for": list(open_dependencies)},
        )
    common = {
        "task_id": task.id,
        "incident_id": task.incident_id,
        "department": task.lead_department,
    }
    match action:
        case "acknowledge":
            return [TaskAcknowledged(**common, note=note)]
        case "start":
            return [TaskStarted(**common, note=note)]
        case "complete":
            return [TaskCompleted(**common, note=note, late=now > task.due_at)]
        case "decline":
            return [TaskDeclined(**common, reason=note)]
    return [TaskBlocked(**common, reason=note)]


_PAST = {
    "acknowledge": "acknowledged",
    "start": "started",
    "complete": "completed",
    "decline": "declined",
    "block": "blocked",
}


def _require_department(task: Task, actor: Actor, action: str) -> None:
    if actor.has_role("admin"):
        return
    if actor.department != task.lead_department or not actor.has_role(*ACTING_ROLES):
        raise PermissionDenied(
            f"only the duty officer, head or commander of {task.lead_department} may "
            f"{action} this task",
            action=f"{action} task",
        )


def require_commander(actor: Actor, action: str) -> None:
    """Refuse unless the actor is a commander (or an administrator)."""
    if not actor.has_role(*COMMAND_ROLES):
        raise PermissionDenied(f"{action} needs the commander role", action=action)


def reassign(
    task: Task, to_department: str, *, reason: str, actor: Actor, ack_due_at: str
) -> list[Event]:
    """Move a task to another department (a deviation), restarting acknowledgement."""
    require_commander(actor, "reassigning a task")
    if task.status in CLOSED:
        raise Conflict(
            f"task is {task.status.value}; it cannot be reassigned",
            detail={"task_id": task.id},
        )
    if to_department == task.lead_department:
        raise ValidationFailed(
            f"the task is already with {to_department}", field="to_department"
        )
    if not reason.strip():
        raise ValidationFailed(
            "a reason is required to reassign a task", field="reason"
        )
    return [
        TaskReassigned(
            task_id=task.id,
            incident_id=task.incident_id,
            from_department=task.lead_department,
            to_department=to_department,
            reason=reason.strip(),
            ack_due_at=ack_due_at,
        )
    ]


def skip(task: Task, *, reason: str, actor: Actor) -> list[Event]:
    """Skip a task (a deviation from the plan), with a reason."""
    require_commander(actor, "skipping a task")
    if task.status in CLOSED:
        raise Conflict(
            f"task is already {task.status.value}", detail={"task_id": task.id}
        )
    if not reason.strip():
        raise ValidationFailed("a reason is required to skip a task", field="reason")
    return [
        TaskSkipped(
            task_id=task.id, incident_id=task.incident_id, reason=reason.strip()
        )
    ]


def check_item(task: Task, index: int, checked: bool, *, actor: Actor) -> list[Event]:
    """Tick or untick a checklist item."""
    _require_department(task, actor, "update the checklist of")
    if not 0 <= index < len(task.checklist):
        raise ValidationFailed(
            f"the checklist has {len(task.checklist)} items; no item {index}",
            field="index",
        )
    if (index in task.checked) == checked:
        return []
    return [
        ChecklistItemChecked(
            task_id=task.id, incident_id=task.incident_id, index=index, checked=checked
        )
    ]


def overdue(task: Task) -> list[Event]:
    """Record that a task passed its due time, unless it is done or skipped.

    A declined task is still undone (it waits for reassignment), so it can be late.
    """
    if task.overdue or task.status in CLOSED:
        return []
    return [
        TaskOverdue(
            task_id=task.id,
            incident_id=task.incident_id,
            department=task.lead_department,
            due_at=task.due_at,
        )
    ]


__all__ = [
    "ACTIONS",
    "CLOSED",
    "Task",
    "TaskStatus",
    "act",
    "check_item",
    "evolve",
    "fold",
    "overdue",
    "reassign",
    "require_commander",
    "skip",
]
