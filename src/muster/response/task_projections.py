"""Projections of tasks, escalation and joint decisions (part of ``projections.py``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from muster.core.clock import isoformat_utc, parse_utc
from muster.core.eventlog.prepared import Prepared
from muster.core.eventlog.projections import Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.response.domain import escalation
from muster.response.domain import events as ev
from muster.response.projection_rows import clear_timer, set_timer, to_json
from muster.response.read_models import chains, decisions, tasks, timers

# SET takes the columns of the parameters given, and bumps the version.
_UPDATE_TASK = Prepared(
    update(tasks)
    .where(tasks.c.id == bindparam("match_id"))
    .values(version=tasks.c.version + 1)
)


def _update_task(conn: Connection, task_id: str, **values: Any) -> None:
    _UPDATE_TASK.run(conn, {"match_id": task_id, **values})


def _first_step_at(conn: Connection, department: str, ack_due_at: str) -> str:
    """When the department's escalation chain fires its first step for a task.

    The first step waits its ``after_minutes`` from the acknowledgement deadline;
    chains are projected before any task of theirs, so replay gives the same time.
    """
    rows = {
        row.department: json.loads(row.steps)
        for row in conn.execute(
            select(chains.c.department, chains.c.steps).where(
                chains.c.department.in_((department, "*"))
            )
        )
    }
    steps = rows.get(department) or rows.get("*")
    chain = (
        escalation.chain_from_data(department, steps, 1)
        if steps
        else escalation.default_chain(department)
    )
    return isoformat_utc(escalation.first_step_at(chain, parse_utc(ack_due_at)))


def on_task_assigned(
    event: ev.TaskAssigned, envelope: Envelope, conn: Connection
) -> None:
    """A new task with its acknowledgement and due timers."""
    conn.execute(
        insert(tasks),
        {
            "id": event.task_id, "incident_id": event.incident_id,
            "template_key": event.template_key, "title_zh": event.title_zh,
            "title_en": event.title_en, "lead_department": event.lead_department,
            "supporting_departments": to_json(list(event.supporting_departments)),
            "status": "assigned", "due_at": event.due_at,
            "ack_due_at": event.ack_due_at,
            "depends_on": to_json(list(event.depends_on)),
            "checklist": to_json(list(event.checklist)), "checked": "[]",
            "from_plan": event.from_plan, "overdue": False,
            "escalation_round": 0, "escalation_step": 0,
            "assigned_at": envelope.recorded_at, "last_note": "", "version": 1,
        },
    )  # fmt: skip
    first = _first_step_at(conn, event.lead_department, event.ack_due_at)
    set_timer(conn, "ack", event.task_id, event.incident_id, first)
    set_timer(conn, "due", event.task_id, event.incident_id, event.due_at)


def on_task_acknowledged(
    event: ev.TaskAcknowledged, envelope: Envelope, conn: Connection
) -> None:
    """Acknowledgement stops the escalation chain."""
    _update_task(
        conn, event.task_id, status="acknowledged",
        acknowledged_at=envelope.recorded_at, last_note=event.note,
    )  # fmt: skip
    clear_timer(conn, "ack", event.task_id)


def on_task_started(
    event: ev.TaskStarted, envelope: Envelope, conn: Connection
) -> None:
    """Work began."""
    _update_task(conn, event.task_id, status="in_progress", last_note=event.note)


def on_task_completed(
    event: ev.TaskCompleted, envelope: Envelope, conn: Connection
) -> None:
    """Done: no more timers."""
    _update_task(
        conn, event.task_id, status="done", done_at=envelope.recorded_at,
        last_note=event.note,
    )  # fmt: skip
    clear_timer(conn, "due", event.task_id)


def on_task_declined(
    event: ev.TaskDeclined, envelope: Envelope, conn: Connection
) -> None:
    """Declined: waits for a commander to reassign it."""
    _update_task(conn, event.task_id, status="declined", last_note=event.reason)
    clear_timer(conn, "ack", event.task_id)


def on_task_blocked(
    event: ev.TaskBlocked, envelope: Envelope, conn: Connection
) -> None:
    """A blocker was reported."""
    _update_task(conn, event.task_id, status="blocked", last_note=event.reason)


def on_task_reassigned(
    event: ev.TaskReassigned, envelope: Envelope, conn: Connection
) -> None:
    """Another department; acknowledgement and escalation start over."""
    _update_task(
        conn, event.task_id, status="assigned", lead_department=event.to_department,
        ack_due_at=event.ack_due_at, acknowledged_at=None, last_note=event.reason,
        escalation_round=0, escalation_step=0,
    )  # fmt: skip
    first = _first_step_at(conn, event.to_department, event.ack_due_at)
    set_timer(conn, "ack", event.task_id, event.incident_id, first)


def on_task_skipped(
    event: ev.TaskSkipped, envelope: Envelope, conn: Connection
) -> None:
    """Skipped: no more timers."""
    _update_task(conn, event.task_id, status="skipped", last_note=event.reason)
    clear_timer(conn, "ack", event.task_id)
    clear_timer(conn, "due", event.task_id)


def on_item_checked(
    event: ev.ChecklistItemChecked, envelope: Envelope, conn: Connection
) -> None:
    """Tick or untick a checklist item."""
    row = conn.execute(select(tasks.c.checked).where(tasks.c.id == event.task_id))
    marks = set(json.loads(row.scalar_one()))
    marks = marks | {event.index} if event.checked else marks - {event.index}
    _update_task(conn, event.task_id, checked=to_json(sorted(marks)))


def on_task_overdue(
    event: ev.TaskOverdue, envelope: Envelope, conn: Connection
) -> None:
    """Past due: flagged once."""
    _update_task(conn, event.task_id, overdue=True)
    clear_timer(conn, "due", event.task_id)


_ESCALATED = Prepared(
    update(tasks)
    .where(tasks.c.id == bindparam("task"))
    .values(
        escalation_round=bindparam("round_"),
        escalation_step=bindparam("step_"),
        version=tasks.c.version + 1,
    )
)
_MOVE_TIMER = Prepared(
    update(timers)
    .where(timers.c.id == bindparam("timer"))
    .values(due_at=bindparam("due"), round=bindparam("round_"), step=bindparam("step_"))
)


def on_escalation_step(
    event: ev.EscalationStepReached, envelope: Envelope, conn: Connection
) -> None:
    """Remember the step that fired; schedule the next or end the chain.

    Prebuilt statements: a scheduler tick may fire hundreds of steps at once.
    """
    position = {"round_": event.round, "step_": event.step}
    _ESCALATED.run(conn, {"task": event.task_id, **position})
    if event.next_step_at is None:
        clear_timer(conn, "ack", event.task_id)
        return
    moved = _MOVE_TIMER.run(
        conn,
        {"timer": f"ack:{event.task_id}", "due": event.next_step_at, **position},
    )
    if moved == 0:  # not there (a partial rebuild): create it
        set_timer(
            conn, "ack", event.task_id, event.incident_id, event.next_step_at,
            round_=event.round, step=event.step,
        )  # fmt: skip


def on_decision_proposed(
    event: ev.DecisionProposed, envelope: Envelope, conn: Connection
) -> None:
    """A new open decision with its deadline timer."""
    conn.execute(
        insert(decisions),
        {
            "id": event.decision_id, "incident_id": event.incident_id,
            "decision_key": event.decision_key, "title": event.title,
            "proposal": event.proposal, "evidence": to_json(list(event.evidence)),
            "departments": to_json(list(event.departments)), "rule": event.rule,
            "veto": to_json(list(event.veto)), "deadline_at": event.deadline_at,
            "raises_to": event.raises_to, "positions": "{}",
            "proposed_at": envelope.recorded_at, "proposed_by": envelope.actor_id,
        },
    )  # fmt: skip
    set_timer(conn, "decision", event.decision_id, event.incident_id, event.deadline_at)


def on_decision_signed(
    event: ev.DecisionSigned, envelope: Envelope, conn: Connection
) -> None:
    """Add a department's position."""
    row = conn.execute(
        select(decisions.c.positions).where(decisions.c.id == event.decision_id)
    )
    positions = json.loads(row.scalar_one())
    positions[event.department] = {
        "position": event.position,
        "comment": event.comment,
        "at": envelope.recorded_at,
        "by": envelope.actor_id,
    }
    conn.execute(
        update(decisions)
        .where(decisions.c.id == event.decision_id)
        .values(positions=to_json(positions))
    )


def on_decision_closed(
    event: ev.DecisionClosed, envelope: Envelope, conn: Connection
) -> None:
    """The outcome; the deadline timer goes."""
    conn.execute(
        update(decisions)
        .where(decisions.c.id == event.decision_id)
        .values(outcome=event.outcome, closed_at=envelope.recorded_at)
    )
    clear_timer(conn, "decision", event.decision_id)


TASK_PROJECTORS: dict[type[Event], list[Projector]] = {
    ev.TaskAssigned: [on_task_assigned],
    ev.TaskAcknowledged: [on_task_acknowledged],
    ev.TaskStarted: [on_task_started],
    ev.TaskCompleted: [on_task_completed],
    ev.TaskDeclined: [on_task_declined],
    ev.TaskBlocked: [on_task_blocked],
    ev.TaskReassigned: [on_task_reassigned],
    ev.TaskSkipped: [on_task_skipped],
    ev.ChecklistItemChecked: [on_item_checked],
    ev.TaskOverdue: [on_task_overdue],
    ev.EscalationStepReached: [on_escalation_step],
    ev.DecisionProposed: [on_decision_proposed],
    ev.DecisionSigned: [on_decision_signed],
    ev.DecisionClosed: [on_decision_closed],
}

__all__ = ["TASK_PROJECTORS"]
