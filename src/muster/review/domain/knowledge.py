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
    REVIEW_ROLES,
    AccessRequest,
    AssessmentInvitation,
    DataAccess,
    DecisionInvitation,
    Escalation,
    Knowledge,
    Notice,
    ReportReceived,
    TaskKnown,
    may_see_knowledge,
    require_may_see,
)
from muster.review.domain.metrics import LogRecord

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


def _text(record: LogRecord, key: str) -> str:
    return str(record.data.get(key) or "")


def _optional(record: LogRecord, key: str) -> str | None:
    value = record.data.get(key)
    return str(value) if value is not None and value != "" else None


def _strings(record: LogRecord, key: str) -> tuple[str, ...]:
    value = record.data.get(key)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return ()


def _pairs(record: LogRecord, key: str) -> tuple[tuple[str, str], ...]:
    value = record.data.get(key)
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(name), str(item)) for name, item in value.items()))


def _number(record: LogRecord, key: str) -> int:
    value = record.data.get(key)
    return int(value) if isinstance(value, int | float) else 0


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
        if _text(record, "code") == fold.department:
            for key in ("code", "name_zh", "name_en"):
                if _text(record, key):
                    fold.names.add(_text(record, key).strip().casefold())
    elif _text(record, "department_code") == fold.department:  # a user registered
        fold.users.add(_text(record, "user_id"))


def _sharing(fold: _Fold, record: LogRecord) -> None:
    if record.type == ACCESS_DECIDED:
        incident_id = _optional(record, "incident_id")
        if _text(record, "department") != fold.department or not fold.concerns(
            incident_id
        ):
            return
        fold.data_access.append(
            DataAccess(
                seq=record.seq, at=record.occurred_at,
                user_id=_text(record, "user_id"), dataset=_text(record, "dataset"),
                provider=_text(record, "provider"),
                decision=_text(record, "decision"),
                purpose=_optional(record, "purpose"), incident_id=incident_id,
                masks=_pairs(record, "masks"), records=_number(record, "records"),
                aggregated=_number(record, "aggregated"),
                channel=_text(record, "channel"), reason=_text(record, "reason"),
            )
        )  # fmt: skip
    elif record.type == ACCESS_REQUESTED:
        # A request belongs to no incident: listed only without an incident filter.
        if _text(record, "consumer") != fold.department or fold.incident_id:
            return
        request_id = _text(record, "request_id")
        fold.requests[request_id] = AccessRequest(
            seq=record.seq, at=record.occurred_at, request_id=request_id,
            dataset=_text(record, "dataset"), provider=_text(record, "provider"),
            fields=_strings(record, "fields"), purposes=_strings(record, "purposes"),
            seqs=(record.seq,),
        )  # fmt: skip
    elif record.type == ACCESS_REQUEST_DECIDED:
        found = fold.requests.get(_text(record, "request_id"))
        if found is not None:
            fold.requests[found.request_id] = replace(
                found,
                state="approved" if record.data.get("approved") else "denied",
                answer_reason=_text(record, "reason"),
                seqs=(*found.seqs, record.seq),
            )


def _notify(fold: _Fold, record: LogRecord) -> None:
    if record.type == NOTIFICATION_QUEUED:
        incident_id = _optional(record, "incident_id")
        recipient = _text(record, "recipient")
        if not fold.is_ours(recipient) or not fold.concerns(incident_id):
            return
        notification_id = _text(record, "notification_id")
        fold.notices[notification_id] = Notice(
            seq=record.seq, at=record.occurred_at, notification_id=notification_id,
            recipient=recipient, channel=_text(record, "channel"),
            subject_zh=_text(record, "subject_zh"),
            subject_en=_text(record, "subject_en"), link=_text(record, "link"),
            incident_id=incident_id, cause_type=_text(record, "cause_type"),
            seqs=(record.seq,),
        )  # fmt: skip
        return
    found = fold.notices.get(_text(record, "notification_id"))
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
    task_id = _text(record, "task_id")
    if record.type == TASK_ASSIGNED:
        lead = _text(record, "lead_department")
        supporting = _strings(record, "supporting_departments")
        incident_id = _text(record, "incident_id")
        if fold.department not in (lead, *supporting) or not fold.concerns(incident_id):
            return
        fold.tasks[task_id] = TaskKnown(
            seq=record.seq, at=record.occurred_at, task_id=task_id,
            incident_id=incident_id, title_zh=_text(record, "title_zh"),
            title_en=_text(record, "title_en"),
            role="lead" if lead == fold.department else "supporting",
            status="assigned", due_at=_text(record, "due_at"),
            ack_due_at=_text(record, "ack_due_at"), seqs=(record.seq,),
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
    task_id = _text(record, "task_id")
    if _text(record, "to_department") == fold.department and found is not None:
        fold.tasks[task_id] = replace(
            found,
            role="lead",
            status="assigned",
            ack_due_at=_text(record, "ack_due_at"),
            seqs=(*found.seqs, record.seq),
        )
    elif _text(record, "to_department") == fold.department:
        # Moved here from another department: known from this event on.
        fold.tasks[task_id] = TaskKnown(
            seq=record.seq, at=record.occurred_at, task_id=task_id,
            incident_id=_text(record, "incident_id"), title_zh="", title_en="",
            role="lead", status="assigned", due_at="",
            ack_due_at=_text(record, "ack_due_at"), seqs=(record.seq,),
        )  # fmt: skip
    elif found is not None and found.role == "lead":
        fold.tasks[task_id] = replace(
            found, status=REASSIGNED_AWAY, seqs=(*found.seqs, record.seq)
        )


def _response(fold: _Fold, record: LogRecord) -> None:
    incident_id = _text(record, "incident_id")
    if record.type == REPORT_SENT:
        if fold.is_ours(_text(record, "recipient")) and fold.concerns(incident_id):
            fold.reports.append(
                ReportReceived(
                    seq=record.seq, at=record.occurred_at,
                    report_id=_text(record, "report_id"), incident_id=incident_id,
                    obligation=_optional(record, "obligation"),
                    sender=_text(record, "department"),
                    recipient=_text(record, "recipient"),
                    content=_pairs(record, "content"),
                )
            )  # fmt: skip
    elif record.type == DECISION_PROPOSED:
        if fold.department in _strings(record, "departments") and fold.concerns(
            incident_id
        ):
            decision_id = _text(record, "decision_id")
            fold.decisions[decision_id] = DecisionInvitation(
                seq=record.seq, at=record.occurred_at, decision_id=decision_id,
                incident_id=incident_id, title=_text(record, "title"),
                deadline_at=_text(record, "deadline_at"), seqs=(record.seq,),
            )  # fmt: skip
    elif record.type in (DECISION_SIGNED, DECISION_CLOSED):
        _decision_changed(fold, record)
    elif record.type == ESCALATION_STEP:
        named = _text(record, "notify_department") == fold.department or any(
            user in fold.users for user in _strings(record, "recipients")
        )
        if named and fold.concerns(incident_id):
            fold.escalations.append(
                Escalation(
                    seq=record.seq, at=record.occurred_at,
                    task_id=_text(record, "task_id"), incident_id=incident_id,
                    task_department=_text(record, "department"),
                    round=_number(record, "round"), step=_number(record, "step"),
                    notify_role=_text(record, "notify_role"),
                )
            )  # fmt: skip


def _decision_changed(fold: _Fold, record: LogRecord) -> None:
    found = fold.decisions.get(_text(record, "decision_id"))
    if found is None:
        return
    if record.type == DECISION_SIGNED:
        if _text(record, "department") != fold.department:
            return
        changed = replace(found, position=_text(record, "position"))
    else:
        changed = replace(found, outcome=_text(record, "outcome"))
    fold.decisions[found.decision_id] = replace(changed, seqs=(*found.seqs, record.seq))


def _situation(fold: _Fold, record: LogRecord) -> None:
    assessment_id = _text(record, "assessment_id")
    if record.type == ASSESSMENT_OPENED:
        incident_id = _text(record, "incident_id")
        if fold.department in _strings(record, "departments") and fold.concerns(
            incident_id
        ):
            fold.assessments[assessment_id] = AssessmentInvitation(
                seq=record.seq, at=record.occurred_at, assessment_id=assessment_id,
                incident_id=incident_id, topic=_text(record, "topic"),
                seqs=(record.seq,),
            )  # fmt: skip
        return
    found = fold.assessments.get(assessment_id)
    if found is None:
        return
    if record.type == VIEW_SUBMITTED:
        if _text(record, "department") != fold.department:
            return
        changed = replace(found, view_level=_text(record, "level"))
    else:
        changed = replace(found, conclusion=_text(record, "conclusion"))
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


__all__ = [
    "REVIEW_ROLES",
    "AccessRequest",
    "AssessmentInvitation",
    "DataAccess",
    "DecisionInvitation",
    "Escalation",
    "Knowledge",
    "Notice",
    "ReportReceived",
    "TaskKnown",
    "fold_knowledge",
    "may_see_knowledge",
    "require_may_see",
]
