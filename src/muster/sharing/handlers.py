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
from muster.sharing import queries
from muster.sharing.domain.agreements import (
    PERSONAL,
    Agreement,
    DatasetFacts,
    Mode,
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
)
from muster.sharing.domain.events import (
    AccessRequestDecided,
    AccessRequested,
    AgreementRegistered,
    AgreementRevoked,
    BreakGlassOpened,
)
from muster.sharing.domain.policies import BREAK_GLASS, REQUEST
from muster.sharing.grant_handlers import (
    reconcile_grants,
    reconcile_in,
    record_notice_given,
)
from muster.sharing.pdp import DecisionPoint
from muster.sharing.policy_state import (
    authorize,
    dataset_or_refuse,
    managed_dataset,
    stated_reason,
)
from muster.sharing.reads import handle_read

MIN_JUSTIFICATION = 10  # characters; ten Chinese characters say a lot
MAX_BREAK_GLASS_MINUTES = 24 * 60


def _departments(uow: UnitOfWork) -> frozenset[str]:
    return frozenset(item.code for item in identity.list_departments(uow.conn))


def register_agreement(
    command: RegisterAgreement, uow: UnitOfWork, *, pdp: DecisionPoint
) -> str:
    """Check and register an agreement; return created, updated or unchanged."""
    with uow:
        facts = managed_dataset(
            uow,
            pdp,
            str(command.agreement.get("dataset") or ""),
            refusal="only {owner} registers agreements on {code}",
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
        managed_dataset(
            uow,
            pdp,
            current["dataset"],
            refusal="only {owner} revokes agreements on {code}",
        )
        reason = stated_reason(
            command.reason, missing="say why the agreement ends", field="reason"
        )
        stream = f"agreement-{command.code}"
        uow.append(
            stream,
            [AgreementRevoked(code=command.code, reason=reason)],
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
        facts = dataset_or_refuse(uow.conn, command.dataset)
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
        facts = managed_dataset(
            uow,
            pdp,
            request["dataset"],
            refusal="only {owner} decides requests for {code}",
        )
        if request["status"] != "pending":
            raise RequestAlreadyDecided(
                f"request {command.request_id} is {request['status']}"
            )
        reason = stated_reason(
            command.reason, missing="give the requester a reason", field="reason"
        )
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
            reason=reason,
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
        facts = dataset_or_refuse(uow.conn, command.dataset)
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


__all__ = ["command_handlers"]
