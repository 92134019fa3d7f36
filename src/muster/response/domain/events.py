"""Events of the response part: plans, incidents, levels, tasks, escalation, decisions.

Streams: ``plan-{code}``, ``chain-{department}``, ``incident-{id}``, ``task-{id}``,
``decision-{id}``. Times are ISO-8601 UTC strings; deadlines are recorded in the event
that sets them, so timers, replay and scorecards never recompute them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from muster.core.messages import Event, event_type

# --- plans and escalation chains (configuration, loaded from the pack) -------------


@event_type("response.PlanRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class PlanRegistered(Event):
    """A contingency plan (预案) version was registered; ``document`` is the plan."""

    plan_code: str
    version: int
    document: dict[str, Any]


@event_type("response.EscalationChainSet", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class EscalationChainSet(Event):
    """A department's escalation chain: steps of (wait minutes, role to notify)."""

    department: str
    steps: tuple[dict[str, Any], ...]
    repeat: int
    repeat_after: int = 10


# --- incidents ------------------------------------------------------------------------


@event_type("response.IncidentOpened", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentOpened(Event):
    """An incident was opened at a place, in a category, by a department."""

    incident_id: str
    title: str
    category: str
    latitude: float
    longitude: float
    description: str
    reporting_department: str
    type_code: str | None = None


@event_type("response.IncidentStatusChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentStatusChanged(Event):
    """An incident moved in its lifecycle (verified, recovering, closed)."""

    incident_id: str
    from_status: str
    to_status: str
    reason: str
    type_code: str | None = None


@event_type("response.IncidentFactsRecorded", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentFactsRecorded(Event):
    """Facts about an incident were recorded (rain_24h_mm, deaths, …): plans' level
    activation conditions are evaluated on them."""

    incident_id: str
    facts: dict[str, Any]


@event_type("response.ResponseActivated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResponseActivated(Event):
    """A plan was activated for an incident at a response level."""

    incident_id: str
    plan_code: str
    plan_version: int
    level: str
    lead_department: str
    supporting_departments: tuple[str, ...]
    command_roles: dict[str, str]
    reason: str


@event_type("response.ResponseLevelChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResponseLevelChanged(Event):
    """The response level changed, by a commander's order or an approved decision."""

    incident_id: str
    from_level: str
    to_level: str
    lead_department: str
    supporting_departments: tuple[str, ...]
    reason: str
    decision_id: str | None = None


@event_type("response.DepartmentMarkedUnresponsive", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DepartmentMarkedUnresponsive(Event):
    """A department's escalation chain ran out without an acknowledgement."""

    incident_id: str
    department: str
    task_id: str


@event_type("response.ReportDueSet", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ReportDueSet(Event):
    """A reporting obligation's clock: the next report is due at ``due_at``."""

    incident_id: str
    obligation: str
    name_zh: str
    name_en: str
    department: str
    recipient: str
    due_at: str
    follow_up_minutes: int | None


@event_type("response.ReportOverdue", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ReportOverdue(Event):
    """A report was not sent by its deadline (迟报): recorded for scorecards."""

    incident_id: str
    obligation: str
    department: str
    due_at: str
    recipients: tuple[str, ...]


@event_type("response.SituationReportSent", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class SituationReportSent(Event):
    """A situation report (信息报告) was signed off and sent."""

    incident_id: str
    report_id: str
    obligation: str | None
    department: str
    recipient: str
    content: dict[str, str]
    next_due_at: str | None


# --- tasks ----------------------------------------------------------------------------


@event_type("response.TaskAssigned", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskAssigned(Event):
    """A task was assigned to a lead department (from a plan, or added by hand)."""

    task_id: str
    incident_id: str
    template_key: str | None
    title_zh: str
    title_en: str
    lead_department: str
    supporting_departments: tuple[str, ...]
    due_at: str
    ack_due_at: str
    depends_on: tuple[str, ...]
    checklist: tuple[str, ...]
    from_plan: bool


@event_type("response.TaskAcknowledged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskAcknowledged(Event):
    """The lead department accepted responsibility for a task."""

    task_id: str
    incident_id: str
    department: str
    note: str = ""


@event_type("response.TaskStarted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskStarted(Event):
    """Work on a task began (or resumed after a blocker)."""

    task_id: str
    incident_id: str
    department: str
    note: str = ""


@event_type("response.TaskCompleted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskCompleted(Event):
    """A task was done."""

    task_id: str
    incident_id: str
    department: str
    note: str = ""
    late: bool = False


@event_type("response.TaskDeclined", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskDeclined(Event):
    """The department declined a task, with a reason."""

    task_id: str
    incident_id: str
    department: str
    reason: str


@event_type("response.TaskBlocked", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskBlocked(Event):
    """The department reported a blocker."""

    task_id: str
    incident_id: str
    department: str
    reason: str


@event_type("response.TaskReassigned", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskReassigned(Event):
    """A commander moved a task to another department (a deviation from the plan)."""

    task_id: str
    incident_id: str
    from_department: str
    to_department: str
    reason: str
    ack_due_at: str


@event_type("response.TaskSkipped", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskSkipped(Event):
    """A commander skipped a plan task (a deviation from the plan)."""

    task_id: str
    incident_id: str
    reason: str


@event_type("response.ChecklistItemChecked", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ChecklistItemChecked(Event):
    """A checklist item of a task was ticked or unticked."""

    task_id: str
    incident_id: str
    index: int
    checked: bool


@event_type("response.TaskOverdue", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TaskOverdue(Event):
    """A task passed its due time without being done."""

    task_id: str
    incident_id: str
    department: str
    due_at: str


@event_type("response.EscalationStepReached", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class EscalationStepReached(Event):
    """A task was still unacknowledged: a step of the department's chain fired.

    ``recipients`` are the user ids resolved when the step fired (the role in the
    department, or in its parent when the department has nobody in that role).
    """

    task_id: str
    incident_id: str
    department: str
    round: int
    step: int
    notify_role: str
    notify_department: str
    recipients: tuple[str, ...]
    next_step_at: str | None


# --- joint decisions ------------------------------------------------------------------


@event_type("response.DecisionProposed", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionProposed(Event):
    """A joint decision (会商) was proposed to named departments."""

    decision_id: str
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


@event_type("response.DecisionSigned", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionSigned(Event):
    """A department concurred with or objected to a proposal, with a comment."""

    decision_id: str
    incident_id: str
    department: str
    position: str
    comment: str


@event_type("response.DecisionClosed", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionClosed(Event):
    """A decision closed: approved, rejected or expired; immutable from now on."""

    decision_id: str
    incident_id: str
    outcome: str
    concur: tuple[str, ...]
    object: tuple[str, ...]
    silent: tuple[str, ...]


__all__ = [
    "ChecklistItemChecked",
    "DecisionClosed",
    "DecisionProposed",
    "DecisionSigned",
    "DepartmentMarkedUnresponsive",
    "EscalationChainSet",
    "EscalationStepReached",
    "IncidentFactsRecorded",
    "IncidentOpened",
    "IncidentStatusChanged",
    "PlanRegistered",
    "ReportDueSet",
    "ReportOverdue",
    "ResponseActivated",
    "ResponseLevelChanged",
    "SituationReportSent",
    "TaskAcknowledged",
    "TaskAssigned",
    "TaskBlocked",
    "TaskCompleted",
    "TaskDeclined",
    "TaskOverdue",
    "TaskReassigned",
    "TaskSkipped",
    "TaskStarted",
]
