"""Who gets what: response and sharing events (and a drill's scenario messages)
mapped to bilingual notices (pure).

``notices_for`` turns one response or sharing event into messages per recipient and
channel, asking a ``Directory`` (implemented over identity's and sharing's queries by
the delivery tick) who holds a role, who has an e-mail address, which departments have
a webhook and, for sharing events, who made a request and whose an agreement is
(``sharing_audience``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from muster.core.messages import Event
from muster.drills.domain.events import MessageInjected
from muster.notify.domain.model import Channel, mark_exercise, notification_id
from muster.notify.domain.sharing_audience import (
    AgreementFacts,
    RequestFacts,
    sharing_message,
)
from muster.response.domain import events as response

DUTY_OFFICER = "duty_officer"
HEAD = "head"
COMMANDER = "commander"


class Directory(Protocol):
    """What the mapping needs to know about people and departments."""

    def role_holders(self, department: str, role: str) -> list[str]:
        """Return the ids of active users of a department holding a role."""
        ...

    def users_with_role(self, role: str) -> list[str]:
        """Return the ids of active users holding a role in any department."""
        ...

    def has_email(self, user_id: str) -> bool:
        """Tell whether e-mail can reach the user."""
        ...

    def has_webhook(self, department: str) -> bool:
        """Tell whether the department has a webhook."""
        ...

    def user_name(self, user_id: str) -> str:
        """Return the name people know a user by (the id if unknown)."""
        ...

    def access_request(self, request_id: str) -> RequestFacts | None:
        """Return an access request's facts, or None if there is no such request."""
        ...

    def agreement(self, code: str) -> AgreementFacts | None:
        """Return an agreement's facts, or None if there is no such agreement."""
        ...


@dataclass(frozen=True, slots=True)
class Cause:
    """The envelope facts of the event that caused the notices."""

    event_id: str
    type: str
    is_exercise: bool


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to queue: a recipient over a channel, in zh-CN and en."""

    notification_id: str
    recipient: str
    channel: Channel
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    link: str
    incident_id: str | None
    is_exercise: bool = False
    """Exercise whatever the cause's envelope says (a CAP alert of status Exercise)."""


@dataclass(frozen=True, slots=True)
class _Message:
    users: tuple[str, ...]
    departments: tuple[str, ...]
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    incident_id: str | None
    link: str = ""


def notices_for(event: Event, cause: Cause, directory: Directory) -> list[Notice]:
    """Return the notices a response or sharing event causes (none for others)."""
    message = _message(event, directory)
    if message is None:
        return []
    subject_zh, subject_en = mark_exercise(
        message.subject_zh, message.subject_en, is_exercise=cause.is_exercise
    )
    body_zh, body_en = mark_exercise(
        message.body_zh, message.body_en, is_exercise=cause.is_exercise
    )
    link = message.link
    if not link and message.incident_id:
        link = f"/incidents/{message.incident_id}"
    targets: list[tuple[str, Channel]] = []
    for user in _unique(message.users):
        targets.append((user, Channel.IN_APP))
        if directory.has_email(user):
            targets.append((user, Channel.EMAIL))
    for department in _unique(message.departments):
        if directory.has_webhook(department):
            targets.append((department, Channel.WEBHOOK))
    return [
        Notice(
            notification_id=notification_id(
                cause_event_id=cause.event_id, channel=channel, recipient=recipient
            ),
            recipient=recipient,
            channel=channel,
            subject_zh=subject_zh,
            subject_en=subject_en,
            body_zh=body_zh,
            body_en=body_en,
            link=link,
            incident_id=message.incident_id,
        )
        for recipient, channel in targets
    ]


def _unique(items: Iterable[str]) -> list[str]:
    return [item for item in dict.fromkeys(items) if item]


def _holders(
    directory: Directory, departments: Iterable[str], *roles: str
) -> list[str]:
    return [
        user
        for department in departments
        for role in roles
        for user in directory.role_holders(department, role)
    ]


def _message(event: Event, directory: Directory) -> _Message | None:
    match event:
        case MessageInjected():
            # A scenario message of a drill (sandbox only; marked EXERCISE).
            return _Message(
                users=tuple(_holders(directory, event.to, DUTY_OFFICER, HEAD)),
                departments=event.to,
                subject_zh=event.subject_zh,
                subject_en=event.subject_en,
                body_zh=event.body_zh,
                body_en=event.body_en,
                incident_id=None,
            )
        case response.TaskAssigned():
            return _Message(
                users=tuple(_holders(directory, [event.lead_department], DUTY_OFFICER)),
                departments=(event.lead_department,),
                subject_zh=f"新任务：{event.title_zh}",
                subject_en=f"New task: {event.title_en}",
                body_zh=(
                    f"{event.lead_department} 牵头任务“{event.title_zh}”，"
                    f"请于 {event.ack_due_at} 前确认，{event.due_at} 前完成。"
                ),
                body_en=(
                    f"{event.lead_department} leads the task “{event.title_en}”: "
                    f"acknowledge by {event.ack_due_at}, complete by {event.due_at}."
                ),
                incident_id=event.incident_id,
            )
        case response.EscalationStepReached():
            return _Message(
                users=event.recipients,
                departments=(event.notify_department,),
                subject_zh=f"升级提醒：{event.department} 任务未确认",
                subject_en=f"Escalation: task not acknowledged by {event.department}",
                body_zh=(
                    f"{event.department} 尚未确认任务 {event.task_id}"
                    f"（第 {event.round} 轮第 {event.step} 步，通知 "
                    f"{event.notify_department} 的 {event.notify_role}）。"
                ),
                body_en=(
                    f"{event.department} has not acknowledged task {event.task_id} "
                    f"(round {event.round}, step {event.step}; notifying "
                    f"{event.notify_role} of {event.notify_department})."
                ),
                incident_id=event.incident_id,
            )
        case response.ReportOverdue():
            return _Message(
                users=event.recipients,
                departments=(event.department,),
                subject_zh=f"迟报：{event.department} 的 {event.obligation} 报告逾期",
                subject_en=(
                    f"Report overdue: {event.obligation} from {event.department}"
                ),
                body_zh=f"应于 {event.due_at} 报送的 {event.obligation} 报告尚未报送。",
                body_en=(
                    f"The {event.obligation} report due at {event.due_at} "
                    "has not been sent."
                ),
                incident_id=event.incident_id,
            )
        case response.DecisionProposed():
            return _Message(
                users=tuple(_holders(directory, event.departments, HEAD, DUTY_OFFICER)),
                departments=event.departments,
                subject_zh=f"会商待签：{event.title}",
                subject_en=f"Decision to sign: {event.title}",
                body_zh=f"{event.proposal}\n请于 {event.deadline_at} 前会签。",
                body_en=f"{event.proposal}\nPlease sign by {event.deadline_at}.",
                incident_id=event.incident_id,
            )
        case response.DepartmentMarkedUnresponsive():
            return _Message(
                users=tuple(directory.users_with_role(COMMANDER)),
                departments=(),
                subject_zh=f"{event.department} 无响应",
                subject_en=f"{event.department} is unresponsive",
                body_zh=(
                    f"{event.department} 的升级链已用尽，任务 {event.task_id} "
                    "仍未确认。"
                ),
                body_en=(
                    f"{event.department}'s escalation chain ran out; task "
                    f"{event.task_id} is still unacknowledged."
                ),
                incident_id=event.incident_id,
            )
        case response.ResponseActivated() | response.ResponseLevelChanged():
            return _level_message(event, directory)
        case response.SituationReportSent():
            return _report_message(event, directory)
    shared = sharing_message(event, directory)
    if shared is None:
        return None
    return _Message(
        users=shared.users,
        departments=shared.departments,
        subject_zh=shared.subject_zh,
        subject_en=shared.subject_en,
        body_zh=shared.body_zh,
        body_en=shared.body_en,
        incident_id=shared.incident_id,
        link=shared.link,
    )


def _report_message(
    event: response.SituationReportSent, directory: Directory
) -> _Message:
    """A sent report goes to its recipient department's duty officers and head (the
    recipient may be a department code), else to the commanders."""
    addressed = _holders(directory, [event.recipient], DUTY_OFFICER, HEAD)
    users = addressed or directory.users_with_role(COMMANDER)
    what = event.content.get("what", "")
    measures = event.content.get("measures", "")
    return _Message(
        users=tuple(users),
        departments=(event.recipient,) if addressed else (),
        subject_zh=f"信息报告：{event.department} 报 {event.recipient}",
        subject_en=f"Situation report from {event.department} to {event.recipient}",
        body_zh=f"事件情况：{what}\n已采取措施：{measures}",
        body_en=f"What happened: {what}\nMeasures taken: {measures}",
        incident_id=event.incident_id,
    )


def _level_message(
    event: response.ResponseActivated | response.ResponseLevelChanged,
    directory: Directory,
) -> _Message:
    level = (
        event.level if isinstance(event, response.ResponseActivated) else event.to_level
    )
    departments = (event.lead_department, *event.supporting_departments)
    return _Message(
        users=tuple(_holders(directory, departments, DUTY_OFFICER)),
        departments=departments,
        subject_zh=f"应急响应：{level} 级",
        subject_en=f"Emergency response at level {level}",
        body_zh=f"牵头部门 {event.lead_department}。{event.reason}",
        body_en=f"Lead department {event.lead_department}. {event.reason}",
        incident_id=event.incident_id,
    )


__all__ = ["Cause", "Directory", "Notice", "notices_for"]
