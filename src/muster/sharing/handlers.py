"""Command handlers of sharing: agreements, requests, break-glass, grants, notices.

Who may do what on a dataset is Cedar's decision (``policy_state.authorize``); the rules
of an agreement are the domain's (``domain.agreements``). Reads of shared records are in
``reads.py``. Bootstrap binds the decision point with ``command_handlers``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

from muster.core.bus import Handler
from muster.core.clock import isoformat_utc
from muster.core.messages import Command, Event
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity
from muster.ingest.domain.errors import UnknownDataset
from muster.sharing import queries
from muster.sharing.domain.agreements import (
    PERSONAL,
    Agreement,
    DatasetFacts,
    Mode,
    agreement_from_data,
    parse_agreement,
)
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    OpenBreakGlass,
    ReadShared,
    ReconcileGrants,
    RecordNoticeGiven,
    RegisterAgreement,
    RequestAccess,
    RevokeAgreement,
)
from muster.sharing.domain.errors import (
    AgreementInvalid,
    BreakGlassInvalid,
    RequestAlreadyDecided,
    UnknownAccessRequest,
    UnknownAgreement,
    UnknownNotice,
)
from muster.sharing.domain.events import (
    AccessRequestDecided,
    AccessRequested,
    AgreementRegistered,
    AgreementRevoked,
    BreakGlassOpened,
    GrantActivated,
    GrantEnded,
    PersonalDataNoticeDue,
    PersonalDataNoticeGiven,
)
from muster.sharing.domain.grants import Grant, reconcile
from muster.sharing.domain.policies import BREAK_GLASS, MANAGE, REQUEST
from muster.sharing.pdp import DecisionPoint
from muster.sharing.policy_state import authorize
from muster.sharing.reads import handle_read

MIN_JUSTIFICATION = 10  # characters; ten Chinese characters say a lot
MAX_BREAK_GLASS_MINUTES = 24 * 60


def dataset_or_refuse(uow: UnitOfWork, code: str) -> DatasetFacts:
    """Return a dataset's facts, or raise UnknownDataset."""
    facts = queries.dataset_facts(uow.conn, code)
    if facts is None:
        raise UnknownDataset(f"no dataset {code} in the catalog", dataset=code)
    return facts


def _departments(uow: UnitOfWork) -> frozenset[str]:
    return frozenset(item.code for item in identity.list_departments(uow.conn))


def register_agreement(
    command: RegisterAgreement, uow: UnitOfWork, *, pdp: DecisionPoint
) -> str:
    """Check and register an agreement; return created, updated or unchanged."""
    with uow:
        facts = dataset_or_refuse(uow, str(command.agreement.get("dataset") or ""))
        authorize(
            uow.conn,
            pdp,
            uow.actor,
            MANAGE,
            facts,
            uow.clock.now(),
            refusal=f"only {facts.owner} registers agreements on {facts.code}",
        )
        agreement = parse_agreement(
            command.agreement, facts, departments=_departments(uow)
        )
        current = queries.get_agreement(uow.conn, agreement.code)
        if current is not None and current["dataset"] != facts.code:
            raise AgreementInvalid(
                f"agreement {agreement.code} belongs to {current['dataset']}",
                field="code",
                agreement=agreement.code,
            )
        data = agreement.to_data()
        if (
            current is not None
            and current["status"] == "active"
            and current["data"] == data
        ):
            return "unchanged"
        stream = f"agreement-{agreement.code}"
        version = uow.context.store.stream_version(uow.conn, stream)
        uow.append(
            stream,
            [
                AgreementRegistered(
                    code=agreement.code, agreement=data, source=command.source
                )
            ],
            expected_version=version,
        )
        reconcile_in(uow)
        uow.commit()
    return "created" if current is None else "updated"


def revoke_agreement(
    command: RevokeAgreement, uow: UnitOfWork, *, pdp: DecisionPoint
) -> None:
    """End an agreement now; its grants end with it."""
    with uow:
        current = queries.get_agreement(uow.conn, command.code)
        if current is None or current["status"] != "active":
            raise UnknownAgreement(
                f"no active agreement {command.code}", agreement=command.code
            )
        facts = dataset_or_refuse(uow, current["dataset"])
        authorize(
            uow.conn,
            pdp,
            uow.actor,
            MANAGE,
            facts,
            uow.clock.now(),
            refusal=f"only {facts.owner} revokes agreements on {facts.code}",
        )
        if not command.reason.strip():
            raise AgreementInvalid("say why the agreement ends", field="reason")
        stream = f"agreement-{command.code}"
        uow.append(
            stream,
            [AgreementRevoked(code=command.code, reason=command.reason.strip())],
            expected_version=uow.context.store.stream_version(uow.conn, stream),
        )
        reconcile_in(uow)
        uow.commit()


def request_access(
    command: RequestAccess, uow: UnitOfWork, *, pdp: DecisionPoint
) -> str:
    """A consumer's person asks the provider for access; return the request id."""
    actor = uow.actor
    with uow:
        facts = dataset_or_refuse(uow, command.dataset)
        authorize(
            uow.conn, pdp, actor, REQUEST, facts, uow.clock.now(),
            refusal=f"requests for {facts.code} are made by people of departments "
            f"other than {facts.owner}",
        )  # fmt: skip
        unknown = [name for name in command.fields if facts.field(name) is None]
        if unknown:
            raise AgreementInvalid(
                f"{facts.code} has no field {unknown[0]!r}", field="fields"
            )
        if len(command.justification.strip()) < MIN_JUSTIFICATION:
            raise AgreementInvalid(
                f"explain the need in at least {MIN_JUSTIFICATION} characters",
                field="justification",
            )
        if facts.grade in ("IMPORTANT", "CORE") and not any(
            item.strip() for item in command.purposes
        ):
            raise AgreementInvalid(
                f"{facts.grade} data is shared only for stated purposes",
                field="purposes",
            )
        if facts.sharing_class == "NOT_SHARED":
            raise AgreementInvalid(
                f"{facts.code} is not shared (不予共享): its records leave only under "
                "the provider's emergency agreements or break-glass",
                field="dataset",
            )
        request_id = uuid.uuid4().hex[:12]
        event = AccessRequested(
            request_id=request_id,
            dataset=facts.code,
            provider=facts.owner,
            consumer=actor.department or "",
            fields=tuple(command.fields) or facts.names,
            purposes=tuple(item.strip() for item in command.purposes if item.strip()),
            justification=command.justification.strip(),
        )
        uow.append(f"access-request-{request_id}", [event], expected_version=0)
        uow.commit()
    return request_id


def decide_request(
    command: DecideAccessRequest, uow: UnitOfWork, *, pdp: DecisionPoint
) -> str | None:
    """Approve (making an agreement) or deny a request; return the agreement code."""
    with uow:
        request = queries.get_request(uow.conn, command.request_id)
        if request is None:
            raise UnknownAccessRequest(
                f"no request {command.request_id}", request=command.request_id
            )
        facts = dataset_or_refuse(uow, request["dataset"])
        authorize(
            uow.conn,
            pdp,
            uow.actor,
            MANAGE,
            facts,
            uow.clock.now(),
            refusal=f"only {facts.owner} decides requests for {facts.code}",
        )
        if request["status"] != "pending":
            raise RequestAlreadyDecided(
                f"request {command.request_id} is {request['status']}"
            )
        if not command.reason.strip():
            raise AgreementInvalid("give the requester a reason", field="reason")
        events: list[tuple[str, list[Event], int]] = []
        code = None
        if command.approve:
            agreement = _agreement_for(request, facts, command, uow)
            code = agreement.code
            events.append(
                (
                    f"agreement-{code}",
                    [
                        AgreementRegistered(
                            code=code,
                            agreement=agreement.to_data(),
                            source=f"request:{command.request_id}",
                        )
                    ],
                    0,
                )
            )
        decided = AccessRequestDecided(
            request_id=command.request_id,
            approved=command.approve,
            reason=command.reason.strip(),
            agreement_code=code,
        )
        events.append((f"access-request-{command.request_id}", [decided], 1))
        uow.append_many(events)
        uow.commit()
    return code


def _agreement_for(
    request: dict[str, object],
    facts: DatasetFacts,
    command: DecideAccessRequest,
    uow: UnitOfWork,
) -> Agreement:
    fields = list(request["fields"])  # type: ignore[call-overload]
    personal = any(
        (item := facts.field(name)) is not None and item.sensitivity in PERSONAL
        for name in fields
    )
    until = uow.clock.now() + timedelta(days=max(1, min(command.valid_days, 3650)))
    data: dict[str, object] = {
        "code": f"REQ_{str(request['request_id']).upper()}",
        "dataset": facts.code,
        "consumers": [request["consumer"]],
        "fields": fields,
        "purposes": request["purposes"],
        "mode": Mode.RECORDS.value,
        "masks": dict(command.masks),
        "legal_basis": "STATUTORY_DUTY" if personal else None,
        "valid_from": isoformat_utc(uow.clock.now()),
        "valid_until": isoformat_utc(until),
        "name_zh": f"依申请 {request['request_id']}",
        "name_en": f"On request {request['request_id']}",
    }
    if command.tlp:
        data["tlp"] = command.tlp
    return parse_agreement(data, facts, departments=_departments(uow))


def open_break_glass(
    command: OpenBreakGlass, uow: UnitOfWork, *, pdp: DecisionPoint
) -> str:
    """Open time-limited access for a commander; the provider is notified at once."""
    actor = uow.actor
    with uow:
        facts = dataset_or_refuse(uow, command.dataset)
        authorize(
            uow.conn,
            pdp,
            actor,
            BREAK_GLASS,
            facts,
            uow.clock.now(),
            refusal="only a commander opens break-glass access",
        )
        if len(command.justification.strip()) < MIN_JUSTIFICATION:
            raise BreakGlassInvalid(
                f"write a justification of at least {MIN_JUSTIFICATION} characters",
                field="justification",
            )
        if not 1 <= command.minutes <= MAX_BREAK_GLASS_MINUTES:
            raise BreakGlassInvalid(
                "break-glass lasts 1 minute to 24 hours", field="minutes"
            )
        break_glass_id = uuid.uuid4().hex[:12]
        event = BreakGlassOpened(
            break_glass_id=break_glass_id,
            dataset=facts.code,
            provider=facts.owner,
            user_id=actor.id,
            department=actor.department or "",
            incident_id=command.incident_id,
            justification=command.justification.strip(),
            expires_at=isoformat_utc(
                uow.clock.now() + timedelta(minutes=command.minutes)
            ),
        )
        uow.append(f"break-glass-{break_glass_id}", [event], expected_version=0)
        uow.commit()
    return break_glass_id


def reconcile_in(uow: UnitOfWork) -> int:
    """Activate and end grants to match the incidents, inside the caller's transaction;
    return how many grant events were appended."""
    now = uow.clock.now()
    agreements = {item.code: item for item in queries.active_agreements(uow.conn)}
    active = {item.grant_id: item for item in queries.active_grants(uow.conn)}
    start, end = reconcile(agreements, queries.incident_states(uow.conn), active, now)
    batches: list[tuple[str, list[Event], int]] = []
    store = uow.context.store
    for grant, reason in end:
        stream = f"grant-{grant.grant_id}"
        events: list[Event] = [
            GrantEnded(
                grant_id=grant.grant_id,
                agreement_code=grant.agreement_code,
                incident_id=grant.incident_id,
                reason=reason,
            )
        ]
        batches.append((stream, events, store.stream_version(uow.conn, stream)))
        batches.extend(_notice_due(uow, grant, reason, agreements))
    for grant in start:
        stream = f"grant-{grant.grant_id}"
        version = store.stream_version(uow.conn, stream)
        version += sum(len(item[1]) for item in batches if item[0] == stream)
        batches.append((stream, [_activated(grant)], version))
    if batches:
        uow.append_many(batches)
    return sum(len(item[1]) for item in batches)


def _activated(grant: Grant) -> GrantActivated:
    return GrantActivated(
        grant_id=grant.grant_id,
        agreement_code=grant.agreement_code,
        dataset=grant.dataset,
        incident_id=grant.incident_id,
        level=grant.level,
        latitude=grant.latitude,
        longitude=grant.longitude,
        radius_km=grant.radius_km,
    )


def _notice_due(
    uow: UnitOfWork, grant: Grant, reason: str, agreements: dict[str, Agreement]
) -> list[tuple[str, list[Event], int]]:
    """PIPL Art. 18: personal data was shared under the emergency basis and that
    emergency access ended (``reason``: incident closed, level dropped, agreement
    ended): the provider must tell the people concerned."""
    agreement = agreements.get(grant.agreement_code)
    if agreement is None:
        row = queries.get_agreement(uow.conn, grant.agreement_code)
        agreement = agreement_from_data(row["data"]) if row is not None else None
    if agreement is None or agreement.legal_basis != "EMERGENCY" or not reason:
        return []
    shared = queries.grant_records_shared(uow.conn, grant.grant_id)
    if shared == 0:
        return []
    notice_id = uuid.uuid4().hex[:12]
    event = PersonalDataNoticeDue(
        notice_id=notice_id,
        provider=agreement.provider,
        dataset=grant.dataset,
        agreement_code=grant.agreement_code,
        incident_id=grant.incident_id,
        records_shared=shared,
    )
    return [(f"pi-notice-{notice_id}", [event], 0)]


def reconcile_grants(_command: ReconcileGrants, uow: UnitOfWork) -> int:
    """One tick: reconcile grants with the incidents; return the events appended."""
    with uow:
        appended = reconcile_in(uow)
        if appended:
            uow.commit()
    return appended


def record_notice_given(
    command: RecordNoticeGiven, uow: UnitOfWork, *, pdp: DecisionPoint
) -> None:
    """The provider records that the people concerned were told."""
    with uow:
        notice = queries.get_notice(uow.conn, command.notice_id)
        if notice is None or notice["status"] != "open":
            raise UnknownNotice(
                f"no open notice {command.notice_id}", notice=command.notice_id
            )
        facts = dataset_or_refuse(uow, notice["dataset"])
        authorize(
            uow.conn,
            pdp,
            uow.actor,
            MANAGE,
            facts,
            uow.clock.now(),
            refusal=f"only {facts.owner} records its notices",
        )
        if not command.note.strip():
            raise AgreementInvalid("say how the people were told", field="note")
        uow.append(
            f"pi-notice-{command.notice_id}",
            [
                PersonalDataNoticeGiven(
                    notice_id=command.notice_id, note=command.note.strip()
                )
            ],
            expected_version=1,
        )
        uow.commit()


def command_handlers(*, pdp: DecisionPoint) -> dict[type[Command], Handler]:
    """Return the sharing handlers bound to the process's decision point."""
    return {
        RegisterAgreement: partial(register_agreement, pdp=pdp),
        RevokeAgreement: partial(revoke_agreement, pdp=pdp),
        RequestAccess: partial(request_access, pdp=pdp),
        DecideAccessRequest: partial(decide_request, pdp=pdp),
        OpenBreakGlass: partial(open_break_glass, pdp=pdp),
        ReconcileGrants: reconcile_grants,
        ReadShared: partial(handle_read, pdp=pdp, reconcile=reconcile_in),
        RecordNoticeGiven: partial(record_notice_given, pdp=pdp),
    }


__all__ = ["command_handlers", "dataset_or_refuse", "reconcile_in"]
