"""Read-only views composed from the response queries for the API and the pages.

One incident's whole coordination picture (tasks, decisions, clocks, unresponsive
departments, plan), a plan's responsibilities at a level, and one sent report. No
writes; imported by ``api.py`` and the ``*_pages.py`` modules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.response import queries
from muster.response.domain.plans import plan_from_document, suggested_level
from muster.response.read_models import sitreps

LEVEL_ORDER = ("L1", "L2", "L3", "L4")


@dataclass(frozen=True, slots=True)
class Responsibility:
    """What a supporting department does under the plan, in both languages."""

    department: str
    zh: str
    en: str

    def text(self, language: str) -> str:
        """Return the responsibility in a language (zh-CN or en)."""
        return self.zh if language.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class ResponseOverview:
    """Everything the incident page and the incident API show."""

    incident: queries.IncidentView
    tasks: list[queries.TaskView]
    decisions: list[queries.DecisionView]
    clocks: list[queries.ReportClockView]
    unresponsive: list[str]
    plan: queries.PlanSummary | None
    responsibilities: list[Responsibility]
    reports: list[dict[str, Any]]

    @property
    def open_decisions(self) -> list[queries.DecisionView]:
        """Return the decisions still waiting for signatures."""
        return [item for item in self.decisions if item.outcome is None]

    def tasks_by_department(self) -> dict[str, list[queries.TaskView]]:
        """Group the tasks by lead department (lead first, then by code)."""
        grouped: dict[str, list[queries.TaskView]] = {}
        lead = self.incident.lead_department
        for task in sorted(
            self.tasks, key=lambda t: (t.lead_department != lead, t.lead_department)
        ):
            grouped.setdefault(task.lead_department, []).append(task)
        return grouped


def get_plan(conn: Connection, code: str | None) -> queries.PlanSummary | None:
    """Return a registered plan by code, or None."""
    if code is None:
        return None
    return next((plan for plan in queries.list_plans(conn) if plan.code == code), None)


def plans_for_type(
    plans: list[queries.PlanSummary], type_code: str | None
) -> list[queries.PlanSummary]:
    """Return the plans covering an incident type (the rule activation applies)."""
    if not type_code:
        return plans
    return [
        plan for plan in plans if plan_from_document(plan.document).covers(type_code)
    ]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The level a plan's activation conditions suggest for an incident's facts."""

    plan_code: str
    level: str
    conditions: tuple[str, ...]


def suggestions(
    plans: list[queries.PlanSummary], facts: dict[str, Any] | None
) -> list[Suggestion]:
    """Per plan, the highest level whose activation conditions all hold."""
    found: list[Suggestion] = []
    for summary in plans:
        plan = plan_from_document(summary.document)
        level = suggested_level(plan, facts or {})
        if level is None:
            continue
        definition = plan.level(level)
        conditions = tuple(
            f"{item.attribute} {item.op} {item.value}"
            for item in (definition.conditions if definition else ())
        )
        found.append(Suggestion(summary.code, level.value, conditions))
    return found


def responsibilities(
    plan: queries.PlanSummary | None, level: str | None
) -> list[Responsibility]:
    """Return the supporting responsibilities in force at a level (cumulative)."""
    if plan is None or level not in LEVEL_ORDER:
        return []
    rank = LEVEL_ORDER.index(str(level))
    found: dict[str, Responsibility] = {}
    for item in plan.document.get("levels", []):
        code = str(item.get("level", ""))
        if code not in LEVEL_ORDER or LEVEL_ORDER.index(code) < rank:
            continue
        for support in item.get("supporting", []):
            department = str(support.get("department", ""))
            found[department] = Responsibility(
                department=department,
                zh=str(support.get("responsibility_zh", "")),
                en=str(support.get("responsibility_en", "")),
            )
    return [found[code] for code in sorted(found)]


def overview(conn: Connection, incident_id: str) -> ResponseOverview | None:
    """Return an incident's coordination picture, or None if there is no incident."""
    incident = queries.get_incident(conn, incident_id)
    if incident is None:
        return None
    plan = get_plan(conn, incident.plan_code)
    return ResponseOverview(
        incident=incident,
        tasks=queries.incident_tasks(conn, incident_id),
        decisions=queries.incident_decisions(conn, incident_id),
        clocks=queries.report_clocks(conn, incident_id),
        unresponsive=queries.unresponsive_departments(conn, incident_id),
        plan=plan,
        responsibilities=responsibilities(plan, incident.level),
        reports=queries.sent_reports(conn, incident_id),
    )


def get_report(
    conn: Connection, incident_id: str, report_id: str
) -> dict[str, Any] | None:
    """Return one sent situation report of an incident, or None."""
    row = conn.execute(
        select(sitreps).where(
            sitreps.c.id == report_id, sitreps.c.incident_id == incident_id
        )
    ).first()
    if row is None:
        return None
    return {**dict(row._mapping), "content": json.loads(row.content)}


__all__ = [
    "ResponseOverview",
    "Responsibility",
    "get_plan",
    "get_report",
    "overview",
    "plans_for_type",
    "responsibilities",
]
