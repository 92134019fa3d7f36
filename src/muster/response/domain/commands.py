"""Commands of the response part."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenIncident(Command):
    """Open an incident with a title, category, point location and description."""

    title: str
    category: str
    latitude: float
    longitude: float
    description: str = ""
    reporting_department: str | None = None
    type_code: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterPlan(Command):
    """Register (or update) a plan from its checked pack document."""

    document: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class SetEscalationChain(Command):
    """Set a department's escalation chain: ordered (wait minutes, role) steps."""

    department: str
    steps: tuple[dict[str, Any], ...]
    repeat: int = 1
    repeat_after: int = 10


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeIncidentStatus(Command):
    """Verify, move to recovery or close an incident, with a reason."""

    incident_id: str
    to_status: str
    reason: str = ""
    type_code: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordIncidentFacts(Command):
    """Record facts about an incident (numbers or short texts by name)."""

    incident_id: str
    facts: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class ActivatePlan(Command):
    """Activate a plan for an incident at a response level (idempotent)."""

    incident_id: str
    plan_code: str
    level: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeResponseLevel(Command):
    """A commander raises or lowers the level directly, with a recorded reason."""

    incident_id: str
    level: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AddTask(Command):
    """Add a task the plan does not have (a recorded deviation)."""

    incident_id: str
    title_zh: str
    title_en: str
    lead_department: str
    due_minutes: int
    ack_minutes: int = 15
    supporting_departments: tuple[str, ...] = ()
    checklist: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ActOnTask(Command):
    """A duty officer acts on a task: acknowledge, start, complete, decline, block.

    ``expected_version`` (the task stream version the user saw) turns a race between
    two users into a clear conflict for the second, never a duplicate event.
    """

    task_id: str
    action: str
    note: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReassignTask(Command):
    """Move a task to another department (a recorded deviation)."""

    task_id: str
    to_department: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SkipTask(Command):
    """Skip a plan task (a recorded deviation)."""

    task_id: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckChecklistItem(Command):
    """Tick or untick one checklist item of a task."""

    task_id: str
    index: int
    checked: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class ProposeDecision(Command):
    """Propose a joint decision; ``raises_to`` is the level it would set if approved."""

    incident_id: str
    title: str
    proposal: str = ""
    departments: tuple[str, ...] = ()
    rule: str = "all"
    veto: tuple[str, ...] = ()
    deadline_minutes: int = 60
    raises_to: str | None = None
    decision_key: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, kw_only=True, slots=True)
class SignDecision(Command):
    """Concur with or object to a proposal for the signer's department."""

    decision_id: str
    position: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class SendSituationReport(Command):
    """Sign off and send a situation report (信息报告) for an incident."""

    incident_id: str
    content: dict[str, str]
    obligation: str | None = None
    recipient: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunTimers(Command):
    """Fire every response timer due by now (escalation, overdue, reports, decisions).

    Sent by the scheduler on each tick; the clock decides what is due, so a simulated
    clock drives it in tests and drills.
    """

    limit: int = 500
