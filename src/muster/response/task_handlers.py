"""Command handlers for tasks: act, add, reassign, skip, checklist (R6)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from muster.core.bus import Handler
from muster.core.errors import ConcurrencyConflict, ValidationFailed
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity_queries
from muster.response.domain import tasks as domain
from muster.response.domain.commands import (
    ActOnTask,
    AddTask,
    CheckChecklistItem,
    ReassignTask,
    SkipTask,
)
from muster.response.domain.errors import Conflict, UnknownTask
from muster.response.domain.events import TaskAssigned
from muster.response.domain.model import IncidentStatus
from muster.response.loading import clocked, load, load_incident
from muster.response.read_models import tasks

REASSIGN_ACK_MINUTES = 15


def load_task(uow: UnitOfWork, task_id: str) -> domain.Task:
    """Rebuild a task from its stream."""
    return load(uow, f"task-{task_id}", domain.fold, UnknownTask(f"no task {task_id}"))


def task_from_row(row: Any) -> domain.Task:
    """Build a task's state from its read-model row (same transaction as the log)."""
    return domain.Task(
        id=row.id,
        incident_id=row.incident_id,
        lead_department=row.lead_department,
        status=domain.TaskStatus(row.status),
        due_at=row.due_at,
        ack_due_at=row.ack_due_at,
        depends_on=tuple(json.loads(row.depends_on)),
        checklist=tuple(json.loads(row.checklist)),
        checked=frozenset(json.loads(row.checked)),
        overdue=bool(row.overdue),
        version=int(row.version),
    )


def handle_act_on_task(command: ActOnTask, uow: UnitOfWork) -> str:
    """Acknowledge, start, complete, decline or block; return the new status."""
    with uow:
        task = load_task(uow, command.task_id)
        if (
            command.expected_version is not None
            and command.expected_version != task.version
        ):
            raise ConcurrencyConflict(
                f"the task changed since you saw it; it is now {task.status.value}",
                task=task.id,
            )
        waiting: tuple[str, ...] = ()
        if task.depends_on:
            rows = uow.conn.execute(
                select(tasks.c.id, tasks.c.status).where(
                    tasks.c.id.in_(task.depends_on)
                )
            )
            waiting = tuple(
                task_id for task_id, status in rows if status not in ("done", "skipped")
            )
        events = domain.act(
            task, command.action, note=command.note, actor=uow.actor,
            now=clocked(uow).after(0), open_dependencies=waiting,
        )  # fmt: skip
        uow.append(f"task-{task.id}", events, expected_version=task.version)
        uow.commit()
    after: domain.Task | None = task
    for event in events:
        after = domain.evolve(after, event)
    return after.status.value if after is not None else task.status.value


def handle_add_task(command: AddTask, uow: UnitOfWork) -> str:
    """Add a task the plan lacks (a deviation); return its id."""
    task_id = str(uuid.uuid4())
    with uow:
        domain.require_commander(uow.actor, "adding a task")
        incident = load_incident(uow, command.incident_id)
        if incident.status is IncidentStatus.CLOSED:
            raise Conflict("the incident is closed", detail={})
        title_zh, title_en = command.title_zh.strip(), command.title_en.strip()
        if not (title_zh or title_en):
            raise ValidationFailed("a task needs a title", field="title")
        if not 1 <= command.ack_minutes <= command.due_minutes <= 30 * 24 * 60:
            raise ValidationFailed(
                "need 1 ≤ acknowledgement minutes ≤ due minutes ≤ 30 days",
                field="due_minutes",
            )
        for code in (command.lead_department, *command.supporting_departments):
            if identity_queries.get_department(uow.conn, code) is None:
                raise ValidationFailed(
                    f"department {code} does not exist", field="lead"
                )
        clock = clocked(uow)
        event = TaskAssigned(
            task_id=task_id, incident_id=incident.id, template_key=None,
            title_zh=title_zh or title_en, title_en=title_en or title_zh,
            lead_department=command.lead_department,
            supporting_departments=command.supporting_departments,
            due_at=clock.after(command.due_minutes),
            ack_due_at=clock.after(command.ack_minutes), depends_on=(),
            checklist=command.checklist, from_plan=False,
        )  # fmt: skip
        uow.append(f"task-{task_id}", [event], expected_version=0)
        uow.commit()
    return task_id


def handle_reassign_task(command: ReassignTask, uow: UnitOfWork) -> str:
    """Move a task to another department; return that department."""
    with uow:
        task = load_task(uow, command.task_id)
        if load_incident(uow, task.incident_id).status is IncidentStatus.CLOSED:
            # A new acknowledgement deadline would escalate a finished response.
            raise Conflict("the incident is closed", detail={"task_id": task.id})
        if identity_queries.get_department(uow.conn, command.to_department) is None:
            raise ValidationFailed(
                f"department {command.to_department} does not exist",
                field="to_department",
            )
        events = domain.reassign(
            task, command.to_department, reason=command.reason, actor=uow.actor,
            ack_due_at=clocked(uow).after(REASSIGN_ACK_MINUTES),
        )  # fmt: skip
        uow.append(f"task-{task.id}", events, expected_version=task.version)
        uow.commit()
    return command.to_department


def handle_skip_task(command: SkipTask, uow: UnitOfWork) -> str:
    """Skip a task with a reason."""
    with uow:
        task = load_task(uow, command.task_id)
        events = domain.skip(task, reason=command.reason, actor=uow.actor)
        uow.append(f"task-{task.id}", events, expected_version=task.version)
        uow.commit()
    return "skipped"


def handle_check_item(command: CheckChecklistItem, uow: UnitOfWork) -> str:
    """Tick or untick a checklist item: changed / unchanged."""
    with uow:
        task = load_task(uow, command.task_id)
        events = domain.check_item(
            task, command.index, command.checked, actor=uow.actor
        )
        if not events:
            return "unchanged"
        uow.append(f"task-{task.id}", events, expected_version=task.version)
        uow.commit()
    return "changed"


TASK_HANDLERS: dict[type[Command], Handler] = {
    ActOnTask: handle_act_on_task,
    AddTask: handle_add_task,
    ReassignTask: handle_reassign_task,
    SkipTask: handle_skip_task,
    CheckChecklistItem: handle_check_item,
}

__all__ = ["TASK_HANDLERS", "load_task", "task_from_row"]
