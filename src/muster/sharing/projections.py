"""Projections of the sharing part: events -> its tables. Imported by bootstrap.

Events that change what the policy set holds (agreements, grants, break-glass) bump
``sharing_policy_version`` in the same transaction, so every worker's decision point
recompiles when, and only when, the policies changed.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from muster.core.clock import isoformat_utc, parse_utc
from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.sharing.domain import events as ev
from muster.sharing.read_models import (
    PROJECTED_TABLES,
    access_log,
    agreements,
    break_glass,
    grants,
    notices,
    policy_version,
    requests,
)

NOTICE_DAYS = 30


def _dump(value: object) -> str:
    return json.dumps(_canonical(value), ensure_ascii=False, sort_keys=True)


def _canonical(value: object) -> object:
    """Write whole floats as integers, as the log's canonical JSON does (RFC 8785), so
    a rebuild from the log gives the same rows as the live projection."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def bump_policy_version(conn: Connection, seq: int) -> None:
    """Record that the policy set changed at log position seq."""
    if conn.execute(select(policy_version.c.id)).first() is None:
        conn.execute(insert(policy_version), {"id": 1, "version": seq})
    else:
        conn.execute(update(policy_version).values(version=seq))


def on_agreement_registered(
    event: ev.AgreementRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Add or replace the agreement (a replaced agreement is active again)."""
    conn.execute(delete(agreements).where(agreements.c.code == event.code))
    conn.execute(
        insert(agreements),
        {
            "code": event.code,
            "dataset": event.agreement["dataset"],
            "provider": str(event.agreement.get("provider") or ""),
            "data": _dump(event.agreement),
            "status": "active",
            "source": event.source,
            "registered_at": envelope.occurred_at,
            "registered_by": envelope.actor_id,
            "revoked_at": None,
            "revoke_reason": None,
        },
    )
    bump_policy_version(conn, envelope.seq)


def on_agreement_revoked(
    event: ev.AgreementRevoked, envelope: Envelope, conn: Connection
) -> None:
    """Mark the agreement revoked."""
    conn.execute(
        update(agreements)
        .where(agreements.c.code == event.code)
        .values(
            status="revoked",
            revoked_at=envelope.occurred_at,
            revoke_reason=event.reason,
        )
    )
    bump_policy_version(conn, envelope.seq)


def on_access_requested(
    event: ev.AccessRequested, envelope: Envelope, conn: Connection
) -> None:
    """Add the pending request."""
    conn.execute(
        insert(requests),
        {
            "request_id": event.request_id,
            "dataset": event.dataset,
            "provider": event.provider,
            "consumer": event.consumer,
            "fields": _dump(list(event.fields)),
            "purposes": _dump(list(event.purposes)),
            "justification": event.justification,
            "requested_by": envelope.actor_id,
            "requested_at": envelope.occurred_at,
            "status": "pending",
            "decided_by": None,
            "decided_at": None,
            "reason": None,
            "agreement_code": None,
        },
    )


def on_request_decided(
    event: ev.AccessRequestDecided, envelope: Envelope, conn: Connection
) -> None:
    """Close the request as approved or denied."""
    conn.execute(
        update(requests)
        .where(requests.c.request_id == event.request_id)
        .values(
            status="approved" if event.approved else "denied",
            decided_by=envelope.actor_id,
            decided_at=envelope.occurred_at,
            reason=event.reason,
            agreement_code=event.agreement_code,
        )
    )


def on_grant_activated(
    event: ev.GrantActivated, envelope: Envelope, conn: Connection
) -> None:
    """Add (or reopen) the grant as active."""
    conn.execute(delete(grants).where(grants.c.grant_id == event.grant_id))
    conn.execute(
        insert(grants),
        {
            "grant_id": event.grant_id,
            "agreement_code": event.agreement_code,
            "dataset": event.dataset,
            "incident_id": event.incident_id,
            "level": event.level,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "radius_km": event.radius_km,
            "active": True,
            "activated_at": envelope.occurred_at,
            "ended_at": None,
            "end_reason": None,
            "records_shared": 0,
        },
    )
    bump_policy_version(conn, envelope.seq)


def on_grant_ended(event: ev.GrantEnded, envelope: Envelope, conn: Connection) -> None:
    """Mark the grant ended with its reason."""
    conn.execute(
        update(grants)
        .where(grants.c.grant_id == event.grant_id)
        .values(active=False, ended_at=envelope.occurred_at, end_reason=event.reason)
    )
    bump_policy_version(conn, envelope.seq)


def on_break_glass_opened(
    event: ev.BreakGlassOpened, envelope: Envelope, conn: Connection
) -> None:
    """Add the break-glass access."""
    conn.execute(
        insert(break_glass),
        {
            "break_glass_id": event.break_glass_id,
            "dataset": event.dataset,
            "provider": event.provider,
            "user_id": event.user_id,
            "department": event.department,
            "incident_id": event.incident_id,
            "justification": event.justification,
            "opened_at": envelope.occurred_at,
            "expires_at": event.expires_at,
        },
    )
    bump_policy_version(conn, envelope.seq)


def on_access_decided(
    event: ev.AccessDecided, envelope: Envelope, conn: Connection
) -> None:
    """Add the decision to the access log; count records shared under each grant."""
    conn.execute(
        insert(access_log),
        {
            "access_id": event.access_id,
            "seq": envelope.seq,
            "at": envelope.occurred_at,
            "user_id": event.user_id,
            "department": event.department,
            "dataset": event.dataset,
            "provider": event.provider,
            "action": event.action,
            "purpose": event.purpose,
            "incident_id": event.incident_id,
            "decision": event.decision,
            "policies": _dump(list(event.policies)),
            "masks": _dump(event.masks),
            "records": event.records,
            "aggregated": event.aggregated,
            "channel": event.channel,
            "reason": event.reason,
        },
    )
    if event.records:
        for policy in event.policies:
            if policy.startswith("grant:"):
                conn.execute(
                    update(grants)
                    .where(grants.c.grant_id == policy.removeprefix("grant:"))
                    .values(records_shared=grants.c.records_shared + event.records)
                )


def on_notice_due(
    event: ev.PersonalDataNoticeDue, envelope: Envelope, conn: Connection
) -> None:
    """Add the provider's open obligation to tell the people concerned."""
    due = parse_utc(envelope.occurred_at) + timedelta(days=NOTICE_DAYS)
    conn.execute(
        insert(notices),
        {
            "notice_id": event.notice_id,
            "provider": event.provider,
            "dataset": event.dataset,
            "agreement_code": event.agreement_code,
            "incident_id": event.incident_id,
            "records_shared": event.records_shared,
            "due_at": isoformat_utc(due),
            "status": "open",
            "note": None,
            "done_at": None,
        },
    )


def on_notice_given(
    event: ev.PersonalDataNoticeGiven, envelope: Envelope, conn: Connection
) -> None:
    """Close the obligation with the provider's note."""
    conn.execute(
        update(notices)
        .where(notices.c.notice_id == event.notice_id)
        .values(status="done", note=event.note, done_at=envelope.occurred_at)
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    ev.AgreementRegistered: [on_agreement_registered],
    ev.AgreementRevoked: [on_agreement_revoked],
    ev.AccessRequested: [on_access_requested],
    ev.AccessRequestDecided: [on_request_decided],
    ev.GrantActivated: [on_grant_activated],
    ev.GrantEnded: [on_grant_ended],
    ev.BreakGlassOpened: [on_break_glass_opened],
    ev.AccessDecided: [on_access_decided],
    ev.PersonalDataNoticeDue: [on_notice_due],
    ev.PersonalDataNoticeGiven: [on_notice_given],
}

PROJECTIONS = ProjectionSet(
    name="sharing", handlers=_PROJECTORS, tables=PROJECTED_TABLES
)

__all__ = ["PROJECTIONS", "bump_policy_version"]
