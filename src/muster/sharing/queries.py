"""Read-side queries of the sharing part (R8).

Imported by its handlers, pages, API and CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.catalog import queries as catalog
from muster.core.clock import isoformat_utc, parse_utc
from muster.response import queries as response
from muster.sharing.domain.agreements import (
    Agreement,
    DatasetFacts,
    FieldFacts,
    agreement_from_data,
)
from muster.sharing.domain.grants import Grant, IncidentState
from muster.sharing.domain.policies import BreakGlass
from muster.sharing.read_models import (
    access_log,
    agreements,
    break_glass,
    grants,
    notices,
    policy_version,
    requests,
)


def dataset_facts(conn: Connection, code: str) -> DatasetFacts | None:
    """Return what sharing needs of a catalog dataset, or None."""
    view = catalog.get_dataset(conn, code)
    if view is None:
        return None
    return DatasetFacts(
        code=view.code,
        owner=view.owner_department,
        sharing_class=view.sharing_class,
        grade=view.data_grade,
        format=view.format,
        fields=tuple(
            FieldFacts(name=item.name, type=item.type, sensitivity=item.sensitivity)
            for item in view.fields
        ),
    )


def current_policy_version(conn: Connection) -> int:
    """Return the log position of the last change to the policy set (0: none yet)."""
    value = conn.execute(select(policy_version.c.version)).scalar()
    return int(value or 0)


def active_agreements(conn: Connection) -> list[Agreement]:
    """Return every agreement not revoked (expiry is the policy's business)."""
    rows = conn.execute(
        select(agreements.c.data)
        .where(agreements.c.status == "active")
        .order_by(agreements.c.code)
    )
    return [agreement_from_data(json.loads(row.data)) for row in rows]


def active_grants(conn: Connection) -> list[Grant]:
    """Return the grants in force."""
    rows = conn.execute(
        select(grants).where(grants.c.active.is_(True)).order_by(grants.c.grant_id)
    )
    return [_grant(row) for row in rows]


def _grant(row: Any) -> Grant:
    return Grant(
        grant_id=row.grant_id,
        agreement_code=row.agreement_code,
        dataset=row.dataset,
        incident_id=row.incident_id,
        level=row.level,
        latitude=row.latitude,
        longitude=row.longitude,
        radius_km=row.radius_km,
    )


def grant_records_shared(conn: Connection, grant_id: str) -> int:
    """Return how many records were read under a grant."""
    value = conn.execute(
        select(grants.c.records_shared).where(grants.c.grant_id == grant_id)
    ).scalar()
    return int(value or 0)


def open_break_glass(conn: Connection, now: datetime) -> list[BreakGlass]:
    """Return break-glass access that has not expired."""
    rows = conn.execute(
        select(break_glass)
        .where(break_glass.c.expires_at > isoformat_utc(now))
        .order_by(break_glass.c.break_glass_id)
    )
    return [
        BreakGlass(
            break_glass_id=row.break_glass_id,
            dataset=row.dataset,
            user_id=row.user_id,
            incident_id=row.incident_id,
            expires_at=parse_utc(row.expires_at),
        )
        for row in rows
    ]


def incident_states(conn: Connection) -> list[IncidentState]:
    """Return every incident that is not closed, as grants see it."""
    return [
        IncidentState(
            id=item.id,
            type_code=item.type_code,
            level=item.level,
            status=item.status,
            latitude=item.latitude,
            longitude=item.longitude,
        )
        for item in response.open_incidents(conn)
    ]


def list_agreements(
    conn: Connection, *, provider: str | None = None
) -> list[dict[str, Any]]:
    """Return agreements (newest first) with their data decoded."""
    query = select(agreements).order_by(agreements.c.registered_at.desc())
    if provider:
        query = query.where(agreements.c.provider == provider)
    return [
        {**row._mapping, "data": json.loads(row.data)} for row in conn.execute(query)
    ]


def get_agreement(conn: Connection, code: str) -> dict[str, Any] | None:
    """Return one agreement row with its data decoded, or None."""
    row = conn.execute(select(agreements).where(agreements.c.code == code)).first()
    return None if row is None else {**row._mapping, "data": json.loads(row.data)}


def get_request(conn: Connection, request_id: str) -> dict[str, Any] | None:
    """Return one access request, or None."""
    row = conn.execute(
        select(requests).where(requests.c.request_id == request_id)
    ).first()
    return None if row is None else _request(row)


def list_requests(
    conn: Connection, *, department: str | None = None
) -> list[dict[str, Any]]:
    """Return requests a department made or received (all for None), newest first."""
    query = select(requests).order_by(requests.c.requested_at.desc())
    if department:
        query = query.where(
            (requests.c.provider == department) | (requests.c.consumer == department)
        )
    return [_request(row) for row in conn.execute(query)]


def _request(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    values["fields"] = json.loads(values["fields"])
    values["purposes"] = json.loads(values["purposes"])
    return values


def list_grants(conn: Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    """Return grants, active first, newest first."""
    query = (
        select(grants)
        .order_by(grants.c.active.desc(), grants.c.activated_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def list_break_glass(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """Return break-glass access, newest first."""
    query = select(break_glass).order_by(break_glass.c.opened_at.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Filters of the access log."""

    provider: str | None = None
    dataset: str | None = None
    department: str | None = None
    decision: str | None = None
    incident_id: str | None = None
    since: str | None = None
    until: str | None = None


def access_entries(
    conn: Connection, where: LogFilter, *, limit: int = 500
) -> list[dict[str, Any]]:
    """Return access-log entries matching the filter, newest first."""
    query = select(access_log).order_by(access_log.c.seq.desc()).limit(limit)
    for column, value in (
        (access_log.c.provider, where.provider),
        (access_log.c.dataset, where.dataset),
        (access_log.c.department, where.department),
        (access_log.c.decision, where.decision),
        (access_log.c.incident_id, where.incident_id),
    ):
        if value:
            query = query.where(column == value)
    if where.since:
        query = query.where(access_log.c.at >= where.since)
    if where.until:
        query = query.where(access_log.c.at < where.until)
    rows = []
    for row in conn.execute(query):
        values = dict(row._mapping)
        values["policies"] = json.loads(values["policies"])
        values["masks"] = json.loads(values["masks"])
        rows.append(values)
    return rows


def list_notices(
    conn: Connection, *, provider: str | None = None
) -> list[dict[str, Any]]:
    """Return personal-information notice obligations, open first."""
    query = select(notices).order_by(notices.c.status.desc(), notices.c.due_at)
    if provider:
        query = query.where(notices.c.provider == provider)
    return [dict(row._mapping) for row in conn.execute(query)]


def get_notice(conn: Connection, notice_id: str) -> dict[str, Any] | None:
    """Return one notice obligation, or None."""
    row = conn.execute(select(notices).where(notices.c.notice_id == notice_id)).first()
    return None if row is None else dict(row._mapping)


__all__ = [
    "LogFilter",
    "access_entries",
    "active_agreements",
    "active_grants",
    "current_policy_version",
    "dataset_facts",
    "get_agreement",
    "get_notice",
    "get_request",
    "grant_records_shared",
    "incident_states",
    "list_agreements",
    "list_break_glass",
    "list_grants",
    "list_notices",
    "list_requests",
    "open_break_glass",
]
