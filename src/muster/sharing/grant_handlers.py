"""Grant and notice handlers of the sharing part: scenario grants follow the incidents
(``ReconcileGrants``, also run inside every read), and PIPL notice obligations.

Imported by ``sharing.handlers`` (which binds them) and the read path.
"""

from __future__ import annotations

import uuid

from muster.core.messages import Event
from muster.core.uow import UnitOfWork
from muster.sharing import queries
from muster.sharing.domain.agreements import Agreement, agreement_from_data
from muster.sharing.domain.commands import ReconcileGrants, RecordNoticeGiven
from muster.sharing.domain.errors import UnknownNotice
from muster.sharing.domain.events import (
    GrantActivated,
    GrantEnded,
    PersonalDataNoticeDue,
    PersonalDataNoticeGiven,
)
from muster.sharing.domain.grants import Grant, reconcile
from muster.sharing.pdp import DecisionPoint
from muster.sharing.policy_state import managed_dataset, stated_reason


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
        managed_dataset(
            uow, pdp, notice["dataset"], refusal="only {owner} records its notices"
        )
        note = stated_reason(
            command.note, missing="say how the people were told", field="note"
        )
        uow.append(
            f"pi-notice-{command.notice_id}",
            [PersonalDataNoticeGiven(notice_id=command.notice_id, note=note)],
            expected_version=1,
        )
        uow.commit()


__all__ = ["reconcile_grants", "reconcile_in", "record_notice_given"]
