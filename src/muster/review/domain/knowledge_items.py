"""The items of a department's knowledge at a moment, and who may see them (pure).

Imported by ``muster.review.domain.knowledge`` (which folds the log into them), by
``muster.review.knowledge`` (the report) and by the knowledge pages (who may see it).
Times are aware UTC datetimes; the deadlines copied from events stay ISO-8601 strings
as logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from muster.core.errors import PermissionDenied

WARNING_CAUSES = frozenset(
    {"ingest.CapAlertReceived", "situation.TriggerFired", "ingest.QualityChanged"}
)
"""Causes of notifications that count as warnings (CAP alerts, triggers, quality)."""

REVIEW_ROLES = ("commander", "admin")
"""Roles that may see what any department knew (others only their own)."""


@dataclass(frozen=True, slots=True)
class DataAccess:
    """A read of shared data by one of the department's users or API keys."""

    seq: int
    at: datetime
    user_id: str
    dataset: str
    provider: str
    decision: str
    purpose: str | None
    incident_id: str | None
    masks: tuple[tuple[str, str], ...]
    records: int
    aggregated: int
    channel: str
    reason: str


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """An access request the department made, and its answer as of the moment."""

    seq: int
    at: datetime
    request_id: str
    dataset: str
    provider: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    state: str = "requested"  # requested | approved | denied
    answer_reason: str = ""
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to one of the department's users or its webhook."""

    seq: int
    at: datetime
    notification_id: str
    recipient: str
    channel: str
    subject_zh: str
    subject_en: str
    link: str
    incident_id: str | None
    cause_type: str
    state: str = "queued"  # queued | delivered | failed | read
    seqs: tuple[int, ...] = ()

    @property
    def is_warning(self) -> bool:
        """Tell whether the notification passed on a warning (CAP, trigger, quality)."""
        return self.cause_type in WARNING_CAUSES


@dataclass(frozen=True, slots=True)
class TaskKnown:
    """A task assigned to the department (lead or supporting), as it stood."""

    seq: int
    at: datetime
    task_id: str
    incident_id: str
    title_zh: str
    title_en: str
    role: str  # lead | supporting
    status: str
    due_at: str
    ack_due_at: str
    overdue: bool = False
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportReceived:
    """A situation report addressed to the department."""

    seq: int
    at: datetime
    report_id: str
    incident_id: str
    obligation: str | None
    sender: str
    recipient: str
    content: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class DecisionInvitation:
    """A joint decision the department was asked to sign, and where it stood."""

    seq: int
    at: datetime
    decision_id: str
    incident_id: str
    title: str
    deadline_at: str
    position: str | None = None
    outcome: str | None = None
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AssessmentInvitation:
    """A joint risk assessment the department was asked for its view in."""

    seq: int
    at: datetime
    assessment_id: str
    incident_id: str
    topic: str
    view_level: str | None = None
    conclusion: str | None = None
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Escalation:
    """An escalation step that notified the department about an unanswered task."""

    seq: int
    at: datetime
    task_id: str
    incident_id: str
    task_department: str
    round: int
    step: int
    notify_role: str


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Everything the log shows reached a department up to a moment."""

    department: str
    at: datetime
    incident_id: str | None
    data_access: tuple[DataAccess, ...] = ()
    access_requests: tuple[AccessRequest, ...] = ()
    notifications: tuple[Notice, ...] = ()
    tasks: tuple[TaskKnown, ...] = ()
    reports: tuple[ReportReceived, ...] = ()
    decisions: tuple[DecisionInvitation, ...] = ()
    assessments: tuple[AssessmentInvitation, ...] = ()
    escalations: tuple[Escalation, ...] = ()

    @property
    def warnings(self) -> tuple[Notice, ...]:
        """Return the notifications that passed on warnings."""
        return tuple(item for item in self.notifications if item.is_warning)

    @property
    def is_empty(self) -> bool:
        """Tell whether nothing reached the department."""
        return not any(
            (
                self.data_access,
                self.access_requests,
                self.notifications,
                self.tasks,
                self.reports,
                self.decisions,
                self.assessments,
                self.escalations,
            )
        )


def may_see_knowledge(
    *, actor_department: str | None, actor_roles: Iterable[str], department: str
) -> bool:
    """Tell whether a person may see what a department knew (own, or reviewers)."""
    roles = set(actor_roles)
    return actor_department == department or any(r in roles for r in REVIEW_ROLES)


def require_may_see(
    *, actor_department: str | None, actor_roles: Iterable[str], department: str
) -> None:
    """Refuse unless the person may see what the department knew."""
    if not may_see_knowledge(
        actor_department=actor_department,
        actor_roles=actor_roles,
        department=department,
    ):
        raise PermissionDenied(
            "only the department itself, commanders and administrators may see "
            "what a department knew",
            action="review.knew",
            department=department,
        )


__all__ = [
    "REVIEW_ROLES",
    "WARNING_CAUSES",
    "AccessRequest",
    "AssessmentInvitation",
    "DataAccess",
    "DecisionInvitation",
    "Escalation",
    "Knowledge",
    "Notice",
    "ReportReceived",
    "TaskKnown",
    "may_see_knowledge",
    "require_may_see",
]
