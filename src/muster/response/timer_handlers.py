"""The timer tick: fire every response deadline that is due by the clock (R6).

One ``RunTimers`` command is one scheduler tick: it reads the due rows of
``response_timers`` (a read model rebuilt from the log), decides each with the pure
domain functions and appends the results in one transaction. The clock decides what
is due, so a simulated clock drives escalation in tests and drills, and a restarted
process carries on from the table the log left.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from muster.core.bus import Handler
from muster.core.clock import isoformat_utc, parse_utc
from muster.core.messages import Command, Event
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity_queries
from muster.response.domain import decisions as dec
from muster.response.domain import escalation
from muster.response.domain import tasks as domain
from muster.response.domain.commands import RunTimers
from muster.response.domain.errors import UnknownDecision
from muster.response.domain.events import DepartmentMarkedUnresponsive, ReportOverdue
from muster.response.read_models import chains, reports, tasks, timers
from muster.response.task_handlers import task_from_row

REPORT_ESCALATION_ROLES = ("head", "commander")


class _Tick:
    """What one tick has loaded and appended so far (versions move as it appends)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.pending: dict[str, list[Event]] = {}
        self.base: dict[str, int] = {}
        self.chains = {
            row.department: escalation.chain_from_data(
                row.department, json.loads(row.steps), row.repeat, row.repeat_after
            )
            for row in uow.conn.execute(select(chains))
        }
        self.holders: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
        # Task stream versions as the read model holds them (every task event moves
        # ``response_tasks.version``), so appending needs no version query.
        self.known: dict[str, int] = {}

    def chain(self, department: str) -> escalation.Chain:
        chain = self.chains.get(department) or self.chains.get("*")
        if chain is None:
            return escalation.default_chain(department)
        return escalation.Chain(
            department, chain.steps, chain.repeat, chain.repeat_after
        )

    def resolve(self, department: str, role: str) -> tuple[str, tuple[str, ...]]:
        """Users holding ``role`` in the department, else in its nearest parent."""
        key = (department, role)
        if key not in self.holders:
            current: str | None = department
            found: tuple[str, tuple[str, ...]] = (department, ())
            seen: set[str] = set()
            while current is not None and current not in seen:
                seen.add(current)
                users = identity_queries.role_holders(self.uow.conn, current, role)
                if users:
                    found = (current, tuple(users))
                    break
                view = identity_queries.get_department(self.uow.conn, current)
                current = view.parent_code if view is not None else None
            self.holders[key] = found
        return self.holders[key]

    def append(self, stream: str, events: Sequence[Event]) -> None:
        """Queue events for a stream; ``flush`` appends every stream at once."""
        if not events:
            return
        if stream not in self.pending:
            version = self.known.get(stream)
            if version is None:
                version = self.uow.stream_version(stream)
            self.base[stream] = version
            self.pending[stream] = []
        self.pending[stream].extend(events)

    def queued(self, stream: str) -> list[Event]:
        """Events this tick has queued for a stream so far."""
        return self.pending.get(stream, [])

    def flush(self) -> None:
        """Append everything queued: one chain-head read, one insert."""
        self.uow.append_many(
            [
                (stream, events, self.base[stream])
                for stream, events in self.pending.items()
            ]
        )


def handle_run_timers(command: RunTimers, uow: UnitOfWork) -> int:
    """Fire the due timers (at most ``limit``); return how many fired."""
    with uow:
        now = isoformat_utc(uow.clock.now())
        due = uow.conn.execute(
            select(timers)
            .where(timers.c.due_at <= now)
            .order_by(timers.c.due_at, timers.c.id)
            .limit(command.limit)
        ).all()
        if not due:
            return 0
        tick = _Tick(uow)
        task_ids = [row.subject_id for row in due if row.kind in ("ack", "due")]
        task_rows = {
            row.id: row
            for row in uow.conn.execute(select(tasks).where(tasks.c.id.in_(task_ids)))
        }
        fired = 0
        for timer in due:
            fired += _fire(tick, timer, task_rows)
        tick.flush()
        uow.commit()
    return fired


def _fire(tick: _Tick, timer: Any, task_rows: dict[str, Any]) -> int:
    if timer.kind in ("ack", "due"):
        row = task_rows.get(timer.subject_id)
        if row is None:
            return 0
        stream = f"task-{row.id}"
        tick.known[stream] = int(row.version)
        task = task_from_row(row)
        for event in tick.queued(stream):  # both timers of a task fire this tick
            task = domain.evolve(task, event) or task
        if timer.kind == "due":
            events = domain.overdue(task)
            tick.append(stream, events)
            return len(events)
        return _escalate(tick, timer, task, stream)
    if timer.kind == "report":
        return _report_overdue(tick, timer)
    if timer.kind == "decision":
        return _expire_decision(tick, timer)
    return 0


def _escalate(tick: _Tick, timer: Any, task: domain.Task, stream: str) -> int:
    chain = tick.chain(task.lead_department)
    # The timer stands where the step is due: the first step's wait after the
    # acknowledgement deadline is added when the task is projected.
    scheduled_at = parse_utc(timer.due_at)
    events = escalation.fire(
        task, chain, fired=(timer.round, timer.step),
        scheduled_at=scheduled_at, resolve=tick.resolve, isoformat=isoformat_utc,
    )  # fmt: skip
    if not events and task.status is domain.TaskStatus.ASSIGNED:
        # The chain was shortened under a running escalation: it has run out.
        events = [
            DepartmentMarkedUnresponsive(
                incident_id=task.incident_id,
                department=task.lead_department,
                task_id=task.id,
            )
        ]
    unresponsive = DepartmentMarkedUnresponsive
    own = [event for event in events if not isinstance(event, unresponsive)]
    marks = [event for event in events if isinstance(event, unresponsive)]
    tick.append(stream, own)
    tick.append(f"incident-{task.incident_id}", marks)
    return len(events)


def _report_overdue(tick: _Tick, timer: Any) -> int:
    incident_id, _, obligation = timer.subject_id.partition(":")
    row = tick.uow.conn.execute(
        select(reports).where(
            reports.c.incident_id == incident_id, reports.c.obligation == obligation
        )
    ).first()
    if row is None or row.due_at != timer.due_at:
        return 0
    recipients: list[str] = []
    for role in REPORT_ESCALATION_ROLES:
        recipients.extend(tick.resolve(row.department, role)[1])
    event = ReportOverdue(
        incident_id=incident_id,
        obligation=obligation,
        department=row.department,
        due_at=row.due_at,
        recipients=tuple(dict.fromkeys(recipients)),
    )
    tick.append(f"incident-{incident_id}", [event])
    return 1


def _expire_decision(tick: _Tick, timer: Any) -> int:
    stream = f"decision-{timer.subject_id}"
    recorded = tick.uow.context.store.read_stream(tick.uow.conn, stream)
    decision = dec.fold(item.event for item in recorded)
    if decision is None:
        raise UnknownDecision(f"no decision {timer.subject_id}")
    events = dec.expire(decision)
    tick.append(stream, events)
    return len(events)


TIMER_HANDLERS: dict[type[Command], Handler] = {RunTimers: handle_run_timers}

__all__ = ["TIMER_HANDLERS", "handle_run_timers"]
