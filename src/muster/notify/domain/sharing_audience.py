"""Who hears about governed sharing: sharing events mapped to bilingual messages (pure).

``sharing_message`` turns one ``sharing.*`` event into the users (and departments, for
webhooks) to tell, with a subject, a body and a link; ``audience.notices_for`` turns
it into notices per channel. Break-glass goes at once to the provider's duty officers,
heads and commander; requests and PIPL notices to its duty officers and heads;
decisions to the person who asked; grants switching on or off to its duty officers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from muster.core.messages import Event
from muster.sharing.domain import events as sharing

DUTY_OFFICER = "duty_officer"
HEAD = "head"
COMMANDER = "commander"
SHARING_PAGE = "/sharing"

END_REASONS: dict[str, tuple[str, str]] = {
    "agreement_revoked": ("协议已撤销", "the agreement was revoked"),
    "agreement_expired": ("协议已到期", "the agreement expired"),
    "incident_closed": ("事件已关闭", "the incident closed"),
    "agreement_changed": ("协议已变更", "the agreement changed"),
    "level_below_condition": (
        "响应级别低于协议条件",
        "the level fell below the agreement's condition",
    ),
    "category_changed": ("事件类别已变更", "the incident's category changed"),
    "area_changed": ("事件位置已超出范围", "the incident moved out of the area"),
}


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What a decision's message needs of the access request it answers."""

    requested_by: str
    dataset: str
    provider: str


@dataclass(frozen=True, slots=True)
class AgreementFacts:
    """What a grant's message needs of its agreement."""

    provider: str
    dataset: str
    name_zh: str
    name_en: str


class SharingDirectory(Protocol):
    """What the sharing mapping needs to know about people, requests and agreements."""

    def role_holders(self, department: str, role: str) -> list[str]:
        """Return the ids of active users of a department holding a role."""
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
class SharingMessage:
    """Who to tell about a sharing event, and what."""

    users: tuple[str, ...]
    departments: tuple[str, ...]
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    incident_id: str | None
    link: str


def sharing_message(event: Event, directory: SharingDirectory) -> SharingMessage | None:
    """Return the message a sharing event causes (None for other events)."""
    match event:
        case sharing.BreakGlassOpened():
            return _break_glass(event, directory)
        case sharing.AccessRequested():
            return _requested(event, directory)
        case sharing.AccessRequestDecided():
            return _decided(event, directory)
        case sharing.PersonalDataNoticeDue():
            return _notice_due(event, directory)
        case sharing.GrantActivated() | sharing.GrantEnded():
            return _grant(event, directory)
    return None


def _to_provider(
    directory: SharingDirectory,
    provider: str,
    roles: tuple[str, ...],
    subject: tuple[str, str],
    body: tuple[str, str],
    *,
    incident_id: str | None = None,
    link: str = SHARING_PAGE,
    besides: str | None = None,
) -> SharingMessage:
    """Return a message to the provider's holders of ``roles`` (but ``besides``) and to
    its webhooks; ``subject`` and ``body`` are (Chinese, English)."""
    holders = [
        user for role in roles for user in directory.role_holders(provider, role)
    ]
    return SharingMessage(
        users=tuple(user for user in holders if user != besides),
        departments=(provider,),
        subject_zh=subject[0],
        subject_en=subject[1],
        body_zh=body[0],
        body_en=body[1],
        incident_id=incident_id,
        link=link,
    )


def _break_glass(
    event: sharing.BreakGlassOpened, directory: SharingDirectory
) -> SharingMessage:
    who = directory.user_name(event.user_id)
    incident_zh = event.incident_id or "未关联事件"
    incident_en = event.incident_id or "none"
    return _to_provider(
        directory,
        event.provider,
        (DUTY_OFFICER, HEAD, COMMANDER),
        (
            f"紧急授权：{who}（{event.department}）已开启 {event.dataset} 的访问",
            f"Break-glass: {who} ({event.department}) opened access to {event.dataset}",
        ),
        (
            f"{who}（{event.department}）以紧急授权方式开启了 {event.dataset} 的访问，"
            f"有效期至 {event.expires_at}。\n事件：{incident_zh}\n"
            f"理由：{event.justification}\n请在访问日志中核查每一次读取。",
            f"{who} ({event.department}) opened break-glass access to "
            f"{event.dataset} until {event.expires_at}.\nIncident: {incident_en}\n"
            f"Justification: {event.justification}\n"
            "Review every read in the access log.",
        ),
        incident_id=event.incident_id,
        link=f"{SHARING_PAGE}/log?dataset={quote(event.dataset, safe='')}",
        besides=event.user_id,
    )


def _requested(
    event: sharing.AccessRequested, directory: SharingDirectory
) -> SharingMessage:
    fields = ", ".join(event.fields)
    purposes = ", ".join(event.purposes) or "-"
    return _to_provider(
        directory,
        event.provider,
        (DUTY_OFFICER, HEAD),
        (
            f"数据申请：{event.consumer} 申请使用 {event.dataset}",
            f"Access request: {event.consumer} asks for {event.dataset}",
        ),
        (
            f"{event.consumer} 申请使用 {event.dataset}。\n字段：{fields}\n"
            f"用途：{purposes}\n理由：{event.justification}\n请在共享页面审批。",
            f"{event.consumer} asks for access to {event.dataset}.\n"
            f"Fields: {fields}\nPurposes: {purposes}\n"
            f"Justification: {event.justification}\n"
            "Approve or deny it on the sharing page.",
        ),
    )


def _decided(
    event: sharing.AccessRequestDecided, directory: SharingDirectory
) -> SharingMessage | None:
    request = directory.access_request(event.request_id)
    if request is None:
        return None
    if event.approved:
        outcome_zh, outcome_en = "已批准", "approved"
        code = event.agreement_code or "-"
        extra_zh = f"（共享协议 {code}）"
        extra_en = f" (agreement {code})"
    else:
        outcome_zh, outcome_en = "被拒绝", "denied"
        extra_zh = extra_en = ""
    return SharingMessage(
        users=(request.requested_by,),
        departments=(),
        subject_zh=f"数据申请{outcome_zh}：{request.dataset}",
        subject_en=f"Access request {outcome_en}: {request.dataset}",
        body_zh=(
            f"{request.provider} {outcome_zh}你对 {request.dataset} 的申请"
            f"{extra_zh}。\n理由：{event.reason}"
        ),
        body_en=(
            f"{request.provider} {outcome_en} your request for {request.dataset}"
            f"{extra_en}.\nReason: {event.reason}"
        ),
        incident_id=None,
        link=SHARING_PAGE,
    )


def _notice_due(
    event: sharing.PersonalDataNoticeDue, directory: SharingDirectory
) -> SharingMessage:
    count = event.records_shared
    return _to_provider(
        directory,
        event.provider,
        (DUTY_OFFICER, HEAD),
        (
            f"个人信息告知待办：{event.dataset}",
            f"Tell the people concerned: {event.dataset}",
        ),
        (
            f"事件 {event.incident_id} 期间，{event.dataset} 中 {count} 条个人信息"
            f"记录依紧急情况例外（协议 {event.agreement_code}）被共享。"
            "请依《个人信息保护法》第十八条告知相关个人，并在共享页面登记告知情况。",
            f"Personal data from {event.dataset} ({count} records) was shared under "
            f"the emergency exception (agreement {event.agreement_code}) during "
            f"incident {event.incident_id}. Tell the people concerned (PIPL Art. 18) "
            "and record it on the sharing page.",
        ),
        incident_id=event.incident_id,
    )


def _grant(
    event: sharing.GrantActivated | sharing.GrantEnded, directory: SharingDirectory
) -> SharingMessage | None:
    agreement = directory.agreement(event.agreement_code)
    if agreement is None:
        return None
    code = event.agreement_code
    name_zh = agreement.name_zh or code
    name_en = agreement.name_en or code
    if isinstance(event, sharing.GrantActivated):
        area_zh = area_en = ""
        if event.radius_km is not None:
            area_zh = f"，范围为事件周边 {event.radius_km:g} 公里"
            area_en = f", within {event.radius_km:g} km of the incident"
        subject = (
            f"情景共享已启用：{name_zh}",
            f"Scenario sharing switched on: {name_en}",
        )
        body = (
            f"事件 {event.incident_id}（{event.level} 级）满足协议 {code} 的条件，"
            f"{event.dataset} 已按该协议对此事件共享{area_zh}。",
            f"Incident {event.incident_id} (level {event.level}) meets the "
            f"conditions of agreement {code}: {event.dataset} is shared under it "
            f"for this incident{area_en}.",
        )
    else:
        why_zh, why_en = END_REASONS.get(event.reason, (event.reason, event.reason))
        subject = (
            f"情景共享已停止：{name_zh}",
            f"Scenario sharing switched off: {name_en}",
        )
        body = (
            f"协议 {code}（{agreement.dataset}）对事件 {event.incident_id} 的共享"
            f"已停止：{why_zh}。",
            f"Sharing under agreement {code} ({agreement.dataset}) for incident "
            f"{event.incident_id} stopped: {why_en}.",
        )
    return _to_provider(
        directory,
        agreement.provider,
        (DUTY_OFFICER,),
        subject,
        body,
        incident_id=event.incident_id,
    )


__all__ = [
    "AgreementFacts",
    "RequestFacts",
    "SharingDirectory",
    "SharingMessage",
    "sharing_message",
]
