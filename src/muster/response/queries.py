"""Read functions of the response part: incidents, tasks, inboxes, decisions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.response.read_models import (
    decisions,
    incidents,
    plans,
    reports,
    sitreps,
    tasks,
    timeline,
    unresponsive,
)


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident as listed and shown."""

    id: str
    title: str
    category: str
    latitude: float
    longitude: float
    description: str
    status: str
    reporting_department: str
    opened_at: str
    opened_by: str
    type_code: str | None = None
    plan_code: str | None = None
    plan_version: int | None = None
    level: str | None = None
    lead_department: str | None = None
    supporting_departments: tuple[str, ...] = ()
    command_roles: dict[str, str] | None = None
    updated_at: str | None = None
    facts: dict[str, Any] | None = None


def _incident(row: Any) -> IncidentView:
    values = dict(row._mapping)
    values["supporting_departments"] = tuple(
        json.loads(values["supporting_departments"])
    )
    values["command_roles"] = json.loads(values["command_roles"])
    values["facts"] = json.loads(values["facts"])
    return IncidentView(**values)


def list_incidents(conn: Connection, *, limit: int = 200) -> list[IncidentView]:
    """Return incidents, newest first."""
    rows = conn.execute(
        select(incidents).order_by(incidents.c.opened_at.desc()).limit(limit)
    )
    return [_incident(row) for row in rows]


def open_incidents(conn: Connection) -> list[IncidentView]:
    """Return every incident that is not closed, oldest first (sharing's grants)."""
    rows = conn.execute(
        select(incidents)
        .where(incidents.c.status != "closed")
        .order_by(incidents.c.opened_at, incidents.c.id)
    )
    return [_incident(row) for row in rows]


def get_incident(conn: Connection, incident_id: str) -> IncidentView | None:
    """Return one incident, or None."""
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    return _incident(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as shown on a board or in an inbox."""

    id: str
    incident_id: str
    template_key: str | None
    title_zh: str
    title_en: str
    lead_department: str
    supporting_departments: tuple[str, ...]
    status: str
    due_at: str
    ack_due_at: str
    depends_on: tuple[str, ...]
    checklist: tuple[str, ...]
    checked: tuple[int, ...]
    from_plan: bool
    overdue: bool
    escalation_round: int
    escalation_step: int
    assigned_at: str
    acknowledged_at: str | None
    done_at: str | None
    last_note: str
    version: int

    def title(self, language: str) -> str:
        """Return the title in a language (zh-CN or en)."""
        return self.title_zh if language.startswith("zh") else self.title_en


def _task(row: Any) -> TaskView:
    values = dict(row._mapping)
    for name in ("supporting_departments", "depends_on", "checklist", "checked"):
        values[name] = tuple(json.loads(values[name]))
    values["from_plan"] = bool(values["from_plan"])
    values["overdue"] = bool(values["overdue"])
    return TaskView(**values)


def incident_tasks(conn: Connection, incident_id: str) -> list[TaskView]:
    """Return an incident's tasks in the order they were assigned."""
    rows = conn.execute(
        select(tasks)
        .where(tasks.c.incident_id == incident_id)
        .order_by(tasks.c.assigned_at, tasks.c.id)
    )
    return [_task(row) for row in rows]


def department_inbox(
    conn: Connection, department: str, *, include_closed: bool = False
) -> list[TaskView]:
    """Return a department's tasks (lead), open ones first by deadline."""
    query = select(tasks).where(tasks.c.lead_department == department)
    if not include_closed:
        query = query.where(tasks.c.status.not_in(("done", "skipped")))
    rows = conn.execute(query.order_by(tasks.c.ack_due_at, tasks.c.id))
    return [_task(row) for row in rows]


def get_task(conn: Connection, task_id: str) -> TaskView | None:
    """Return one task, or None."""
    row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
    return _task(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class DecisionView:
    """A joint decision with every department's position."""

    id: str
    incident_id: str
    decision_key: str | None
    title: str
    proposal: str
    evidence: tuple[str, ...]
    departments: tuple[str, ...]
    rule: str
    veto: tuple[str, ...]
    deadline_at: str
    raises_to: str | None
    positions: dict[str, dict[str, str]]
    outcome: str | None
    proposed_at: str
    proposed_by: str
    closed_at: str | None


def incident_decisions(conn: Connection, incident_id: str) -> list[DecisionView]:
    """Return an incident's decisions, newest first."""
    rows = conn.execute(
        select(decisions)
        .where(decisions.c.incident_id == incident_id)
        .order_by(decisions.c.proposed_at.desc())
    )
    result = []
    for row in rows:
        values = dict(row._mapping)
        for name in ("evidence", "departments", "veto"):
            values[name] = tuple(json.loads(values[name]))
        values["positions"] = json.loads(values["positions"])
        result.append(DecisionView(**values))
    return result


@dataclass(frozen=True, slots=True)
class ReportClockView:
    """A reporting obligation's clock on an incident."""

    obligation: str
    name_zh: str
    name_en: str
    department: str
    recipient: str
    due_at: str | None
    follow_up_minutes: int | None
    sent_count: int
    overdue_count: int
    last_sent_at: str | None


def report_clocks(conn: Connection, incident_id: str) -> list[ReportClockView]:
    """Return the incident's reporting clocks."""
    rows = conn.execute(
        select(reports)
        .where(reports.c.incident_id == incident_id)
        .order_by(reports.c.obligation)
    )
    return [
        ReportClockView(**{k: v for k, v in row._mapping.items() if k != "incident_id"})
        for row in rows
    ]


def sent_reports(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    """Return the situation reports sent for an incident, newest first."""
    rows = conn.execute(
        select(sitreps)
        .where(sitreps.c.incident_id == incident_id)
        .order_by(sitreps.c.sent_at.desc())
    )
    return [{**dict(row._mapping), "content": json.loads(row.content)} for row in rows]


def unresponsive_departments(conn: Connection, incident_id: str) -> list[str]:
    """Return the departments marked unresponsive on an incident."""
    rows = conn.execute(
        select(unresponsive.c.department)
        .where(unresponsive.c.incident_id == incident_id)
        .order_by(unresponsive.c.department)
    )
    return [department for (department,) in rows]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event of an incident's timeline."""

    seq: int
    type: str
    at: str
    actor_id: str
    department: str | None
    data: dict[str, Any]


def incident_timeline(
    conn: Connection, incident_id: str, *, after: int = 0, limit: int = 500
) -> list[TimelineEntry]:
    """Return an incident's events in order."""
    rows = conn.execute(
        select(timeline)
        .where(timeline.c.incident_id == incident_id, timeline.c.seq > after)
        .order_by(timeline.c.seq)
        .limit(limit)
    )
    return [
        TimelineEntry(
            seq=row.seq, type=row.type, at=row.at, actor_id=row.actor_id,
            department=row.department, data=json.loads(row.data),
        )
        for row in rows
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """A registered plan as listed."""

    code: str
    version: int
    name_zh: str
    name_en: str
    categories: tuple[str, ...]
    levels: tuple[str, ...]
    document: dict[str, Any]


def list_plans(conn: Connection) -> list[PlanSummary]:
    """Return the registered plans by code."""
    rows = conn.execute(select(plans).order_by(plans.c.code))
    result = []
    for row in rows:
        document = json.loads(row.document)
        result.append(
            PlanSummary(
                code=row.code, version=row.version, name_zh=row.name_zh,
                name_en=row.name_en, categories=tuple(json.loads(row.categories)),
                levels=tuple(item["level"] for item in document.get("levels", [])),
                document=document,
            )
        )  # fmt: skip
    return result


__all__ = [
    "DecisionView",
    "IncidentView",
    "PlanSummary",
    "ReportClockView",
    "TaskView",
    "TimelineEntry",
    "department_inbox",
    "get_incident",
    "get_task",
    "incident_decisions",
    "incident_tasks",
    "incident_timeline",
    "list_incidents",
    "list_plans",
    "open_incidents",
    "report_clocks",
    "sent_reports",
    "unresponsive_departments",
]
