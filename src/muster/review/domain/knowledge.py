"""What a department knew at a moment, folded from the log (pure, stdlib only).

Imported by ``muster.review.knowledge``, which reads the log records up to the moment
and hands them to ``fold_knowledge``. A department "knew" what the log shows reached
it: the shared data its users and API keys were shown (the sharing part's access
decisions), its access requests and their answers, the notifications addressed to its
users or its webhook, the tasks assigned to it (as they stood at the moment), the
situation reports addressed to it, the joint decisions and risk assessments it was
invited to, and the escalations that named it. Every item carries the seq of the
event that told it, so anyone can check it against the log.

CAP alerts are not addressed to departments in the log; a department received one
when a notification caused by it reached its users (``Notice.is_warning``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from muster.review.domain.knowledge_items import (
    AccessRequest,
    AssessmentInvitation,
    DataAccess,
    DecisionInvitation,
    Escalation,
    Knowledge,
    Notice,
    ReportReceived,
    TaskKnown,
)
from muster.review.domain.records import LogRecord

# Wire names of the events read here (the parts' event modules declare them).
DEPARTMENT_REGISTERED = "identity.DepartmentRegistered"
DEPARTMENT_UPDATED = "identity.DepartmentUpdated"
USER_REGISTERED = "identity.UserRegistered"
ACCESS_DECIDED = "sharing.AccessDecided"
ACCESS_REQUESTED = "sharing.AccessRequested"
ACCESS_REQUEST_DECIDED = "sharing.AccessRequestDecided"
NOTIFICATION_QUEUED = "notify.NotificationQueued"
DELIVERY_ATTEMPTED = "notify.DeliveryAttempted"
NOTIFICATION_READ = "notify.NotificationRead"
TASK_ASSIGNED = "response.TaskAssigned"
TASK_REASSIGNED = "response.TaskReassigned"
TASK_OVERDUE = "response.TaskOverdue"
REPORT_SENT = "response.SituationReportSent"
DECISION_PROPOSED = "response.DecisionProposed"
DECISION_SIGNED = "response.DecisionSigned"
DECISION_CLOSED = "response.DecisionClosed"
ESCALATION_STEP = "response.EscalationStepReached"
ASSESSMENT_OPENED = "situation.AssessmentOpened"
VIEW_SUBMITTED = "situation.ViewSubmitted"
ASSESSMENT_CONCLUDED = "situation.AssessmentConcluded"

TASK_STATUS_BY_EVENT: Mapping[str, str] = {
    "response.TaskAcknowledged": "acknowledged",
    "response.TaskStarted": "in_progress",
    "response.TaskCompleted": "done",
    "response.TaskDeclined": "declined",
    "response.TaskBlocked": "blocked",
    "response.TaskSkipped": "skipped",
}
REASSIGNED_AWAY = "reassigned"
"""A task's status for a department after it was moved to another one."""


@dataclass(slots=True)
class _Fold:
    """The running state of the fold: who belongs where, and the items so far."""

    department: str
    incident_id: str | None
    names: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    data_access: list[DataAccess] = field(default_factory=list)
    requests: dict[str, AccessRequest] = field(default_factory=dict)
    notices: dict[str, Notice] = field(default_factory=dict)
    tasks: dict[str, TaskKnown] = field(default_factory=dict)
    reports: list[ReportReceived] = field(default_factory=list)
    decisions: dict[str, DecisionInvitation] = field(default_factory=dict)
    assessments: dict[str, AssessmentInvitation] = field(default_factory=dict)
    escalations: list[Escalation] = field(default_factory=list)

    def concerns(self, incident_id: str | None) -> bool:
        """Tell whether an item of this incident is in scope."""
        return self.incident_id is None or incident_id == self.incident_id

    def is_ours(self, recipient: str) -> bool:
        """Tell whether a recipient (user id, code or name) is this department."""
        return recipient in self.users or recipient.strip().casefold() in self.names


def _identity(fold: _Fold, record: LogRecord) -> None:
    if record.type in (DEPARTMENT_REGISTERED, DEPARTMENT_UPDATED):
        if record.text("code") == fold.department:
            for key in ("code", "name_zh", "name_en"):
                if record.text(key):
                    fold.names.add(record.text(key).strip().casefold())
    elif record.text("department_code") == fold.department:  # a user registered
        fold.users.add(record.text("user_id"))


def _sharing(fold: _Fold, record: LogRecord) -> None:
    if record.type == ACCESS_DECIDED:
        incident_id = record.optional("incident_id")
        if record.text("department") != fold.department or not fold.concerns(
            incident_id
        ):
            return
        fold.data_access.append(
            DataAccess(
                seq=record.seq, at=record.occurred_at,
                user_id=record.text("user_id"), dataset=record.text("dataset"),
                provider=record.text("provider"),
                decision=record.text("decision"),
                purpose=record.optional("purpose"), incident_id=incident_id,
                masks=record.pairs("masks"), records=record.number("records"),
                aggregated=record.number("aggregated"),
                channel=record.text("channel"), reason=record.text("reason"),
            )
        )  # fmt: skip
    elif record.type == ACCESS_REQUESTED:
        # A request belongs to no incident: listed only without an incident filter.
        if record.text("consumer") != fold.department or fold.incident_id:
            return
        request_id = record.text("request_id")
        fold.requests[request_id] = AccessRequest(
            seq=record.seq, at=record.occurred_at, request_id=request_id,
            dataset=record.text("dataset"), provider=record.text("provider"),
            fields=record.texts("fields"), purposes=record.texts("purposes"),
            seqs=(record.seq,),
        )  # fmt: skip
    elif record.type == ACCESS_REQUEST_DECIDED:
        found = fold.requests.get(record.text("request_id"))
        if found is not None:
            fold.requests[found.request_id] = replace(
                found,
                state="approved" if record.data.get("approved") else "denied",
                answer_reason=record.text("reason"),
                seqs=(*found.seqs, record.seq),
            )


def _notify(fold: _Fold, record: LogRecord) -> None:
    if record.type == NOTIFICATION_QUEUED:
        incident_id = record.optional("incident_id")
        recipient = record.text("recipient")
        if not fold.is_ours(recipient) or not fold.concerns(incident_id):
            return
        notification_id = record.text("notification_id")
        fold.notices[notification_id] = Notice(
            seq=record.seq, at=record.occurred_at, notification_id=notification_id,
            recipient=recipient, channel=record.text("channel"),
            subject_zh=record.text("subject_zh"),
            subject_en=record.text("subject_en"), link=record.text("link"),
            incident_id=incident_id, cause_type=record.text("cause_type"),
            seqs=(record.seq,),
        )  # fmt: skip
        return
    found = fold.notices.get(record.text("notification_id"))
    if found is None:
        return
    if record.type == NOTIFICATION_READ:
        state = "read"
    elif found.state == "read":
        state = "read"  # a late delivery report does not unread it
    else:
        state = "delivered" if record.data.get("ok") else "failed"
    fold.notices[found.notification_id] = replace(
        found, state=state, seqs=(*found.seqs, record.seq)
    )


def _tasks(fold: _Fold, record: LogRecord) -> None:
    task_id = record.text("task_id")
    if record.type == TASK_ASSIGNED:
        lead = record.text("lead_department")
        supporting = record.texts("supporting_departments")
        incident_id = record.text("incident_id")
        if fold.department not in (lead, *supporting) or not fold.concerns(incident_id):
            return
        fold.tasks[task_id] = TaskKnown(
            seq=record.seq, at=record.occurred_at, task_id=task_id,
            incident_id=incident_id, title_zh=record.text("title_zh"),
            title_en=record.text("title_en"),
            role="lead" if lead == fold.department else "supporting",
            status="assigned", due_at=record.text("due_at"),
            ack_due_at=record.text("ack_due_at"), seqs=(record.seq,),
        )  # fmt: skip
        return
    found = fold.tasks.get(task_id)
    if record.type == TASK_REASSIGNED:
        _reassigned(fold, record, found)
        return
    if found is None or found.status == REASSIGNED_AWAY:
        return  # not ours, or moved away: what happens to it next is not ours
    if record.type == TASK_OVERDUE:
        changed = replace(found, overdue=True)
    else:  # supporting departments follow the lead's progress on the board
        changed = replace(found, status=TASK_STATUS_BY_EVENT[record.type])
    fold.tasks[task_id] = replace(changed, seqs=(*found.seqs, record.seq))


def _reassigned(fold: _Fold, record: LogRecord, found: TaskKnown | None) -> None:
    task_id = record.text("task_id")
    if record.text("to_department") == fold.department and found is not None:
        fold.tasks[task_id] = replace(
            found,
            role="lead",
            status="assigned",
            ack_due_at=record.text("ack_due_at"),
            seqs=(*found.seqs, record.seq),
        )
    elif record.text("to_department") == fold.department:
        # Moved here from another department: known from this event on.
        fold.tasks[task_id] = TaskKnown(
            seq=record.seq, at=record.occurred_at, task_id=task_id,
            incident_id=record.text("incident_id"), title_zh="", title_en="",
            role="lead", status="assigned", due_at="",
            ack_due_at=record.text("ack_due_at"), seqs=(record.seq,),
        )  # fmt: skip
    elif found is not None and found.role == "lead":
        fold.tasks[task_id] = replace(
            found, status=REASSIGNED_AWAY, seqs=(*found.seqs, record.seq)
        )


def _response(fold: _Fold, record: LogRecord) -> None:
    incident_id = record.text("incident_id")
    if record.type == REPORT_SENT:
        if fold.is_ours(record.text("recipient")) and fold.concerns(incident_id):
            fold.reports.append(
                ReportReceived(
                    seq=record.seq, at=record.occurred_at,
                    report_id=record.text("report_id"), incident_id=incident_id,
                    obligation=record.optional("obligation"),
                    sender=record.text("department"),
                    recipient=record.text("recipient"),
                    content=record.pairs("content"),
                )
            )  # fmt: skip
    elif record.type == DECISION_PROPOSED:
        if fold.department in record.texts("departments") and fold.concerns(
            incident_id
        ):
            decision_id = record.text("decision_id")
            fold.decisions[decision_id] = DecisionInvitation(
                seq=record.seq, at=record.occurred_at, decision_id=decision_id,
                incident_id=incident_id, title=record.text("title"),
                deadline_at=record.text("deadline_at"), seqs=(record.seq,),
            )  # fmt: skip
    elif record.type in (DECISION_SIGNED, DECISION_CLOSED):
        _decision_changed(fold, record)
    elif record.type == ESCALATION_STEP:
        named = record.text("notify_department") == fold.department or any(
            user in fold.users for user in record.texts("recipients")
        )
        if named and fold.concerns(incident_id):
            fold.escalations.append(
                Escalation(
                    seq=record.seq, at=record.occurred_at,
                    task_id=record.text("task_id"), incident_id=incident_id,
                    task_department=record.text("department"),
                    round=record.number("round"), step=record.number("step"),
                    notify_role=record.text("notify_role"),
                )
            )  # fmt: skip


def _decision_changed(fold: _Fold, record: LogRecord) -> None:
    found = fold.decisions.get(record.text("decision_id"))
    if found is None:
        return
    if record.type == DECISION_SIGNED:
        if record.text("department") != fold.department:
            return
        changed = replace(found, position=record.text("position"))
    else:
        changed = replace(found, outcome=record.text("outcome"))
    fold.decisions[found.decision_id] = replace(changed, seqs=(*found.seqs, record.seq))


def _situation(fold: _Fold, record: LogRecord) -> None:
    assessment_id = record.text("assessment_id")
    if record.type == ASSESSMENT_OPENED:
        incident_id = record.text("incident_id")
        if fold.department in record.texts("departments") and fold.concerns(
            incident_id
        ):
            fold.assessments[assessment_id] = AssessmentInvitation(
                seq=record.seq, at=record.occurred_at, assessment_id=assessment_id,
                incident_id=incident_id, topic=record.text("topic"),
                seqs=(record.seq,),
            )  # fmt: skip
        return
    found = fold.assessments.get(assessment_id)
    if found is None:
        return
    if record.type == VIEW_SUBMITTED:
        if record.text("department") != fold.department:
            return
        changed = replace(found, view_level=record.text("level"))
    else:
        changed = replace(found, conclusion=record.text("conclusion"))
    fold.assessments[assessment_id] = replace(changed, seqs=(*found.seqs, record.seq))


_IDENTITY = frozenset({DEPARTMENT_REGISTERED, DEPARTMENT_UPDATED, USER_REGISTERED})
_SHARING = frozenset({ACCESS_DECIDED, ACCESS_REQUESTED, ACCESS_REQUEST_DECIDED})
_NOTIFY = frozenset({NOTIFICATION_QUEUED, DELIVERY_ATTEMPTED, NOTIFICATION_READ})
_TASKS = frozenset({TASK_ASSIGNED, TASK_REASSIGNED, TASK_OVERDUE}) | frozenset(
    TASK_STATUS_BY_EVENT
)
_RESPONSE = frozenset(
    {REPORT_SENT, DECISION_PROPOSED, DECISION_SIGNED, DECISION_CLOSED, ESCALATION_STEP}
)
_SITUATION = frozenset({ASSESSMENT_OPENED, VIEW_SUBMITTED, ASSESSMENT_CONCLUDED})


def fold_knowledge(
    records: Iterable[LogRecord],
    *,
    department: str,
    at: datetime,
    incident_id: str | None = None,
) -> Knowledge:
    """Return what reached a department up to ``at`` (records in log order).

    Records after ``at`` (by ``occurred_at``) are ignored, so the caller may pass
    the whole log. With ``incident_id`` only items of that incident are kept.
    """
    fold = _Fold(department=department, incident_id=incident_id or None)
    fold.names.add(department.strip().casefold())
    for record in records:
        if record.occurred_at > at:
            continue
        kind = record.type
        if kind in _IDENTITY:
            _identity(fold, record)
        elif kind in _SHARING:
            _sharing(fold, record)
        elif kind in _NOTIFY:
            _notify(fold, record)
        elif kind in _TASKS:
            _tasks(fold, record)
        elif kind in _RESPONSE:
            _response(fold, record)
        elif kind in _SITUATION:
            _situation(fold, record)
    return Knowledge(
        department=department,
        at=at,
        incident_id=fold.incident_id,
        data_access=tuple(fold.data_access),
        access_requests=tuple(fold.requests.values()),
        notifications=tuple(fold.notices.values()),
        tasks=tuple(fold.tasks.values()),
        reports=tuple(fold.reports),
        decisions=tuple(fold.decisions.values()),
        assessments=tuple(fold.assessments.values()),
        escalations=tuple(fold.escalations),
    )


__all__ = ["REASSIGNED_AWAY", "TASK_STATUS_BY_EVENT", "fold_knowledge"]
