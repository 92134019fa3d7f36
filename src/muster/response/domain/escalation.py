"""Escalation chains: who is told, and when, that a task is still unacknowledged.

Pure (stdlib only). A department's chain is ordered steps — wait N minutes, then
notify role X — run ``repeat`` times; an acknowledgement stops it. The first step's
wait counts from the task's acknowledgement deadline, every other wait from the step
before; a repeated round starts ``repeat_after`` minutes after the previous round's
last step. When the last step of the last round fires, the department is marked
unresponsive on the incident.

Firing is decided from the timer's *scheduled* time, not from when the scheduler
happened to run, so a restart resumes the chain on its original schedule: steps that
fell due while Muster was down fire, in order, on the first tick after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from muster.core.errors import ValidationFailed
from muster.core.messages import Event
from muster.response.domain.events import (
    DepartmentMarkedUnresponsive,
    EscalationStepReached,
)
from muster.response.domain.tasks import Task, TaskStatus

NOTIFIABLE_ROLES = ("duty_officer", "head", "commander", "admin")
MAX_STEPS = 10
MAX_REPEAT = 10


@dataclass(frozen=True, slots=True)
class Step:
    """Wait ``after_minutes``, then notify ``notify`` (a role)."""

    after_minutes: int
    notify: str


@dataclass(frozen=True, slots=True)
class Chain:
    """A department's escalation chain."""

    department: str
    steps: tuple[Step, ...]
    repeat: int = 1
    repeat_after: int = 10


def default_chain(department: str) -> Chain:
    """The chain of a department whose pack sets none: duty officer, head, commander."""
    return Chain(
        department=department,
        steps=(Step(0, "duty_officer"), Step(10, "head"), Step(10, "commander")),
    )


def chain_from_data(
    department: str,
    steps: Sequence[Mapping[str, Any]],
    repeat: int,
    repeat_after: int = 10,
) -> Chain:
    """Check and build a chain from its recorded or configured form."""
    if not steps:
        raise ValidationFailed(f"the chain of {department} has no steps", field="steps")
    if len(steps) > MAX_STEPS:
        raise ValidationFailed(f"a chain has at most {MAX_STEPS} steps", field="steps")
    if not 1 <= repeat <= MAX_REPEAT:
        raise ValidationFailed(f"repeat must be 1-{MAX_REPEAT}", field="repeat")
    if repeat_after < 1:
        raise ValidationFailed("repeat_after must be at least 1 minute", field="repeat")
    built: list[Step] = []
    for index, item in enumerate(steps, start=1):
        role = str(item.get("notify", ""))
        minutes = item.get("after_minutes", 0)
        if role not in NOTIFIABLE_ROLES:
            raise ValidationFailed(
                f"step {index}: notify must be one of {', '.join(NOTIFIABLE_ROLES)}",
                field="steps",
            )
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
            raise ValidationFailed(
                f"step {index}: after_minutes must be a whole number ≥ 0", field="steps"
            )
        built.append(Step(minutes, role))
    return Chain(department, tuple(built), repeat, repeat_after)


def first_step_at(chain: Chain, ack_due_at: datetime) -> datetime:
    """When the first step fires for a task with this acknowledgement deadline."""
    return ack_due_at + timedelta(minutes=chain.steps[0].after_minutes)


def next_position(chain: Chain, round_: int, step: int) -> tuple[int, int] | None:
    """The (round, step) after the one that fired; ``(0, 0)`` means none fired yet."""
    if round_ == 0:
        return (1, 1)
    if step < len(chain.steps):
        return (round_, step + 1)
    if round_ < chain.repeat:
        return (round_ + 1, 1)
    return None


def wait_before(chain: Chain, round_: int, step: int) -> int:
    """Minutes between the previous step and (round, step)."""
    if step == 1 and round_ > 1:
        return chain.repeat_after
    return chain.steps[step - 1].after_minutes


RoleResolver = Callable[[str, str], tuple[str, tuple[str, ...]]]
"""(department, role) -> (department actually notified, user ids)."""


def fire(
    task: Task,
    chain: Chain,
    *,
    fired: tuple[int, int],
    scheduled_at: datetime,
    resolve: RoleResolver,
    isoformat: Callable[[datetime], str],
) -> list[Event]:
    """Fire the next step of a task's chain; nothing if the task was acknowledged."""
    if task.status is not TaskStatus.ASSIGNED:
        return []
    position = next_position(chain, *fired)
    if position is None:
        return []
    round_, step = position
    role = chain.steps[step - 1].notify
    notified, recipients = resolve(task.lead_department, role)
    following = next_position(chain, round_, step)
    next_at = (
        scheduled_at + timedelta(minutes=wait_before(chain, *following))
        if following is not None
        else None
    )
    events: list[Event] = [
        EscalationStepReached(
            task_id=task.id,
            incident_id=task.incident_id,
            department=task.lead_department,
            round=round_,
            step=step,
            notify_role=role,
            notify_department=notified,
            recipients=recipients,
            next_step_at=isoformat(next_at) if next_at is not None else None,
        )
    ]
    if following is None:
        events.append(
            DepartmentMarkedUnresponsive(
                incident_id=task.incident_id,
                department=task.lead_department,
                task_id=task.id,
            )
        )
    return events


__all__ = [
    "NOTIFIABLE_ROLES",
    "Chain",
    "RoleResolver",
    "Step",
    "chain_from_data",
    "default_chain",
    "fire",
    "first_step_at",
    "next_position",
]
