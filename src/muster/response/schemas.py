"""Pydantic models of the response API (the edge only; never stored)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from muster.response import queries
from muster.response.domain.model import MAX_DESCRIPTION, MAX_TITLE, Category
from muster.response.queries import IncidentView
from muster.response.views import ResponseOverview


class IncidentIn(BaseModel):
    """What a client sends to open an incident."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=MAX_TITLE * 2)
    category: Category
    latitude: float
    longitude: float
    description: str = Field(default="", max_length=MAX_DESCRIPTION * 2)
    reporting_department: str | None = Field(
        default=None,
        description="Defaults to the caller's department; a key may only use its own.",
    )


class IncidentCreated(BaseModel):
    """The id of a newly opened incident."""

    id: str


class IncidentOut(BaseModel):
    """An incident as listed and shown."""

    model_config = ConfigDict(frozen=True)

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

    @classmethod
    def of(cls, view: IncidentView) -> IncidentOut:
        """Build the response model from the read model."""
        return cls(
            id=view.id,
            title=view.title,
            category=view.category,
            latitude=view.latitude,
            longitude=view.longitude,
            description=view.description,
            status=view.status,
            reporting_department=view.reporting_department,
            opened_at=view.opened_at,
            opened_by=view.opened_by,
        )


# --- commands ------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatusIn(_In):
    """Move an incident in its lifecycle."""

    to_status: Literal["verified", "responding", "recovering", "closed"]
    reason: str = Field(default="", max_length=2000)
    type_code: str | None = None


class FactsIn(_In):
    """Facts about an incident, by name: numbers or short texts (rain_24h_mm: 120)."""

    facts: dict[str, float | int | str] = Field(min_length=1, max_length=40)


class ActivationIn(_In):
    """Activate a plan for an incident at a response level (L1-L4 or I-IV)."""

    plan_code: str = Field(max_length=100)
    level: str = Field(max_length=10)
    reason: str = Field(default="", max_length=2000)


class LevelIn(_In):
    """Change the response level directly (a commander's order)."""

    level: str = Field(max_length=10)
    reason: str = Field(max_length=2000)


class TaskIn(_In):
    """Add a task the plan does not have (a recorded deviation)."""

    title_zh: str = Field(max_length=400)
    title_en: str = Field(max_length=400)
    lead_department: str
    due_minutes: int = Field(ge=1, le=7 * 24 * 60)
    ack_minutes: int = Field(default=15, ge=1, le=24 * 60)
    supporting_departments: list[str] = Field(default_factory=list)
    checklist: list[str] = Field(default_factory=list)


class TaskActionIn(_In):
    """Act on a task; ``expected_version`` turns a race into a 409 conflict."""

    action: Literal["acknowledge", "start", "complete", "decline", "block"]
    note: str = Field(default="", max_length=2000)
    expected_version: int | None = Field(default=None, ge=0)


class ReassignIn(_In):
    """Move a task to another department."""

    to_department: str
    reason: str = Field(max_length=2000)


class SkipIn(_In):
    """Skip a plan task."""

    reason: str = Field(max_length=2000)


class ChecklistIn(_In):
    """Tick or untick one checklist item (0-based index)."""

    index: int = Field(ge=0)
    checked: bool = True


class DecisionIn(_In):
    """Propose a joint decision to named departments."""

    title: str = Field(max_length=400)
    proposal: str = Field(default="", max_length=5000)
    departments: list[str]
    rule: Literal["all", "majority", "veto"] = "all"
    veto: list[str] = Field(default_factory=list)
    deadline_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    raises_to: str | None = None
    evidence: list[str] = Field(default_factory=list)


class SignatureIn(_In):
    """Concur with or object to a proposal for the caller's department."""

    position: Literal["concur", "object"]
    comment: str = Field(default="", max_length=2000)


class ReportIn(_In):
    """Send a situation report; ``content`` must say ``what`` happened."""

    content: dict[str, str] = Field(
        description="Sections: time, place, what, measures, casualties, requests."
    )
    obligation: str | None = None
    recipient: str = ""


class Outcome(BaseModel):
    """What a command returned: an id or an outcome word."""

    result: str


# --- read models ---------------------------------------------------------------------


class TaskOut(BaseModel):
    """A task on the board or in an inbox."""

    id: str
    incident_id: str
    template_key: str | None
    title_zh: str
    title_en: str
    lead_department: str
    supporting_departments: list[str]
    status: str
    due_at: str
    ack_due_at: str
    depends_on: list[str]
    checklist: list[str]
    checked: list[int]
    from_plan: bool
    overdue: bool
    escalation_round: int
    escalation_step: int
    acknowledged_at: str | None
    done_at: str | None
    last_note: str
    version: int

    @classmethod
    def of(cls, view: queries.TaskView) -> TaskOut:
        """Build the response model from the read model."""
        return cls.model_validate(
            {name: getattr(view, name) for name in cls.model_fields}
        )


class DecisionOut(BaseModel):
    """A joint decision with each department's position."""

    id: str
    incident_id: str
    title: str
    proposal: str
    departments: list[str]
    rule: str
    veto: list[str]
    deadline_at: str
    raises_to: str | None
    positions: dict[str, dict[str, str]]
    outcome: str | None
    proposed_at: str
    closed_at: str | None

    @classmethod
    def of(cls, view: queries.DecisionView) -> DecisionOut:
        """Build the response model from the read model."""
        return cls.model_validate(
            {name: getattr(view, name) for name in cls.model_fields}
        )


class ReportClockOut(BaseModel):
    """A reporting obligation's clock."""

    obligation: str
    name_zh: str
    name_en: str
    department: str
    recipient: str
    due_at: str | None
    sent_count: int
    overdue_count: int
    last_sent_at: str | None


class ResponseOut(IncidentOut):
    """An incident with its response: level, departments, tasks, decisions, clocks."""

    type_code: str | None
    plan_code: str | None
    level: str | None
    lead_department: str | None
    supporting_departments: list[str]
    command_roles: dict[str, str]
    facts: dict[str, float | int | str]
    tasks: list[TaskOut]
    decisions: list[DecisionOut]
    report_clocks: list[ReportClockOut]
    unresponsive: list[str]

    @classmethod
    def of_overview(cls, view: ResponseOverview) -> ResponseOut:
        """Build the response model from the overview."""
        incident = view.incident
        return cls(
            **IncidentOut.of(incident).model_dump(),
            type_code=incident.type_code,
            plan_code=incident.plan_code,
            level=incident.level,
            lead_department=incident.lead_department,
            supporting_departments=list(incident.supporting_departments),
            command_roles=dict(incident.command_roles or {}),
            facts=dict(incident.facts or {}),
            tasks=[TaskOut.of(task) for task in view.tasks],
            decisions=[DecisionOut.of(item) for item in view.decisions],
            report_clocks=[
                ReportClockOut.model_validate(
                    {name: getattr(clock, name) for name in ReportClockOut.model_fields}
                )
                for clock in view.clocks
            ],
            unresponsive=view.unresponsive,
        )


class PlanOut(BaseModel):
    """A registered plan."""

    code: str
    version: int
    name_zh: str
    name_en: str
    categories: list[str]
    levels: list[str]
    document: dict[str, Any]


class TimelineEntryOut(BaseModel):
    """One event of an incident's timeline, with a summary in the caller's language."""

    seq: int
    type: str
    at: str
    actor_id: str
    department: str | None
    summary: str
    data: dict[str, Any]


__all__ = [
    "ActivationIn",
    "ChecklistIn",
    "DecisionIn",
    "DecisionOut",
    "FactsIn",
    "IncidentCreated",
    "IncidentIn",
    "IncidentOut",
    "LevelIn",
    "Outcome",
    "PlanOut",
    "ReassignIn",
    "ReportIn",
    "ResponseOut",
    "SignatureIn",
    "SkipIn",
    "StatusIn",
    "TaskActionIn",
    "TaskIn",
    "TaskOut",
    "TimelineEntryOut",
]
