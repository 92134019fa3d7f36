"""Loading state for response handlers: folded streams and read-model lookups."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select

from muster.core.clock import isoformat_utc
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity_queries
from muster.response.domain import activation as act
from muster.response.domain.errors import UnknownIncident, UnknownPlan
from muster.response.domain.model import Incident, fold_incident
from muster.response.domain.plans import Plan, plan_from_document
from muster.response.read_models import plans, reports, tasks

S = TypeVar("S")


def load(
    uow: UnitOfWork, stream: str, fold: Callable[[Any], S | None], missing: Exception
) -> S:
    """Fold a stream into its state, or raise ``missing``."""
    state = fold(item.event for item in uow.context.store.read_stream(uow.conn, stream))
    if state is None:
        raise missing
    return state


def load_incident(uow: UnitOfWork, incident_id: str) -> Incident:
    """Rebuild an incident from its stream."""
    return load(
        uow,
        f"incident-{incident_id}",
        fold_incident,
        UnknownIncident(f"no incident {incident_id}", incident=incident_id),
    )


def load_plan(uow: UnitOfWork, code: str) -> Plan:
    """Return the registered plan with this code."""
    row = conn_first(uow, select(plans.c.document).where(plans.c.code == code))
    if row is None:
        raise UnknownPlan(f"no plan {code}", plan=code)
    return plan_from_document(json.loads(row[0]))


def conn_first(uow: UnitOfWork, query: Any) -> Any:
    """Return the first row of a read-model query in the unit of work."""
    return uow.conn.execute(query).first()


def existing_parts(uow: UnitOfWork, incident_id: str) -> act.Existing:
    """Task ids by plan template key and started report clocks of an incident."""
    task_rows = uow.conn.execute(
        select(tasks.c.template_key, tasks.c.id).where(
            tasks.c.incident_id == incident_id, tasks.c.template_key.is_not(None)
        )
    )
    report_rows = uow.conn.execute(
        select(reports.c.obligation).where(reports.c.incident_id == incident_id)
    )
    return act.Existing(
        tasks_by_key={str(key): str(task_id) for key, task_id in task_rows},
        report_keys=frozenset(key for (key,) in report_rows),
    )


def apply_activation(
    uow: UnitOfWork, incident: Incident, result: act.Activation
) -> None:
    """Append an activation's events: the incident stream, then one per task."""
    if result.incident_events:
        uow.append(
            f"incident-{incident.id}",
            result.incident_events,
            expected_version=incident.version,
        )
    for task in result.tasks:
        uow.append(f"task-{task.task_id}", [task], expected_version=0)


def clocked(uow: UnitOfWork) -> act.Clocked:
    """The unit of work's moment, for deadlines."""
    return act.Clocked(now=uow.clock.now(), isoformat=isoformat_utc)


def unknown_departments(uow: UnitOfWork, named: set[str]) -> list[str]:
    """Return the codes among ``named`` that are no registered department."""
    return sorted(
        code
        for code in named
        if identity_queries.get_department(uow.conn, code) is None
    )


__all__ = [
    "apply_activation",
    "clocked",
    "conn_first",
    "existing_parts",
    "load",
    "load_incident",
    "load_plan",
    "unknown_departments",
]
