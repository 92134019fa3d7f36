"""Read resource requests, commitments, declines and allocation proposals.

Used by the request handlers (checks), the projections (restating a request), the
CLI, the API, the board, the map layer, the allocation service and the EDXL-RM
export. Pure reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Row

from muster.resources.domain.requests import (
    ACTIVE,
    Commitment,
    CommitmentStatus,
    Decline,
    RequestStatus,
    ResourceRequest,
)
from muster.resources.read_models import (
    allocation_proposals,
    request_declines,
    resource_commitments,
    resource_requests,
)

OPEN_STATUSES = (RequestStatus.OPEN.value, RequestStatus.PARTLY_COMMITTED.value)


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request as stored, with its derived status and who answered it."""

    request: ResourceRequest
    status: RequestStatus
    committed_units: int
    requested_at: str
    cancel_reason: str
    external_ref: str

    @property
    def open_units(self) -> int:
        """Return the units still to be committed (0 unless open)."""
        if self.status not in (RequestStatus.OPEN, RequestStatus.PARTLY_COMMITTED):
            return 0
        return max(self.request.quantity - self.committed_units, 0)

    def to_json(self) -> dict[str, Any]:
        """Return the request as the API and ``--json`` print it."""
        item = self.request
        return {
            "id": item.id,
            "incident_id": item.incident_id,
            "requested_by": item.requested_by,
            "type": item.type_code,
            "quantity": item.quantity,
            "committed_units": self.committed_units,
            "open_units": self.open_units,
            "min_capability": item.min_capability,
            "max_tier": item.max_tier,
            "location": {
                "lat": item.latitude,
                "lon": item.longitude,
                "name": item.location_name,
            },
            "needed_by": item.needed_by,
            "priority": item.priority,
            "to_department": item.to_department,
            "task_id": item.task_id,
            "note": item.note,
            "status": self.status.value,
            "cancel_reason": self.cancel_reason,
            "requested_at": self.requested_at,
            "external_ref": self.external_ref,
        }


@dataclass(frozen=True, slots=True)
class CommitmentView:
    """A commitment as stored, with when it was made and last moved."""

    commitment: Commitment
    incident_id: str
    proposal_id: str | None
    external_ref: str
    committed_at: str
    status_changed_at: str

    def to_json(self) -> dict[str, Any]:
        """Return the commitment as the API and ``--json`` print it."""
        item = self.commitment
        return {
            "id": item.id,
            "request_id": item.request_id,
            "incident_id": self.incident_id,
            "resource_id": item.resource_id,
            "department": item.department,
            "units": item.units,
            "status": item.status.value,
            "eta": item.eta,
            "note": item.note,
            "proposal_id": self.proposal_id,
            "external_ref": self.external_ref,
            "committed_at": self.committed_at,
            "status_changed_at": self.status_changed_at,
        }


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A recorded allocation proposal and the commander's decision on it."""

    id: str
    incident_id: str
    document: dict[str, Any]
    status: str  # proposed, approved, rejected
    edited: bool
    decision_reason: str
    decided_by: str | None
    approved: list[dict[str, Any]]
    proposed_by: str
    proposed_at: str
    decided_at: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the proposal and its decision as JSON-ready data."""
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "status": self.status,
            "edited": self.edited,
            "decision_reason": self.decision_reason,
            "decided_by": self.decided_by,
            "approved_assignments": self.approved,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at,
            "decided_at": self.decided_at,
            **self.document,
        }


def request_from_row(row: Row[Any]) -> ResourceRequest:
    """Return the request a ``resource_requests`` row holds."""
    return ResourceRequest(
        id=row.id,
        incident_id=row.incident_id,
        requested_by=row.requested_by,
        type_code=row.type_code,
        quantity=int(row.quantity),
        latitude=row.latitude,
        longitude=row.longitude,
        priority=int(row.priority),
        location_name=row.location_name,
        min_capability=row.min_capability,
        max_tier=row.max_tier,
        needed_by=row.needed_by,
        to_department=row.to_department,
        task_id=row.task_id,
        note=row.note,
        cancelled=bool(row.cancel_reason),
    )


def _view(row: Row[Any]) -> RequestView:
    return RequestView(
        request=request_from_row(row),
        status=RequestStatus(row.status),
        committed_units=int(row.committed_units),
        requested_at=row.requested_at,
        cancel_reason=row.cancel_reason,
        external_ref=row.external_ref,
    )


def _commitment(row: Row[Any]) -> CommitmentView:
    return CommitmentView(
        commitment=Commitment(
            id=row.id,
            request_id=row.request_id,
            resource_id=row.resource_id,
            department=row.department,
            units=int(row.units),
            status=CommitmentStatus(row.status),
            eta=row.eta,
            note=row.note,
        ),
        incident_id=row.incident_id,
        proposal_id=row.proposal_id,
        external_ref=row.external_ref,
        committed_at=row.committed_at,
        status_changed_at=row.status_changed_at,
    )


def get_request(conn: Connection, request_id: str) -> RequestView | None:
    """Return a request, or None."""
    row = conn.execute(
        select(resource_requests).where(resource_requests.c.id == request_id)
    ).first()
    return None if row is None else _view(row)


def list_requests(
    conn: Connection,
    *,
    incident_id: str | None = None,
    statuses: Iterable[str] | None = None,
    department: str | None = None,
) -> list[RequestView]:
    """Return requests, most urgent first (priority, then needed-by, then age).

    ``department`` keeps requests it made or that are addressed to it or to all."""
    query = select(resource_requests)
    table = resource_requests.c
    if incident_id is not None:
        query = query.where(table.incident_id == incident_id)
    if statuses is not None:
        query = query.where(table.status.in_(list(statuses)))
    if department is not None:
        query = query.where(
            (table.requested_by == department)
            | (table.to_department == department)
            | table.to_department.is_(None)
        )
    rows = conn.execute(query.order_by(table.requested_at, table.id))
    views = [_view(row) for row in rows]
    return sorted(
        views,
        key=lambda v: (-v.request.priority, v.request.needed_by or "~", v.requested_at),
    )


def commitments_of(conn: Connection, request_id: str) -> list[Commitment]:
    """Return the commitments made to a request (released ones included)."""
    return [view.commitment for view in list_commitments(conn, request_id=request_id)]


def list_commitments(
    conn: Connection,
    *,
    request_id: str | None = None,
    resource_id: str | None = None,
    incident_id: str | None = None,
    department: str | None = None,
    active_only: bool = False,
) -> list[CommitmentView]:
    """Return commitments in the order they were made."""
    table = resource_commitments.c
    query = select(resource_commitments)
    for column, value in (
        (table.request_id, request_id),
        (table.resource_id, resource_id),
        (table.incident_id, incident_id),
        (table.department, department),
    ):
        if value is not None:
            query = query.where(column == value)
    if active_only:
        query = query.where(table.status.in_([s.value for s in ACTIVE]))
    rows = conn.execute(query.order_by(table.committed_at, table.id))
    return [_commitment(row) for row in rows]


def get_commitment(conn: Connection, commitment_id: str) -> CommitmentView | None:
    """Return a commitment, or None."""
    row = conn.execute(
        select(resource_commitments).where(resource_commitments.c.id == commitment_id)
    ).first()
    return None if row is None else _commitment(row)


def committed_by_resource(conn: Connection) -> dict[str, int]:
    """Return the units under active commitments per resource id."""
    table = resource_commitments.c
    rows = conn.execute(
        select(table.resource_id, func.sum(table.units))
        .where(table.status.in_([s.value for s in ACTIVE]))
        .group_by(table.resource_id)
    )
    return {resource_id: int(units or 0) for resource_id, units in rows}


def declines_of(conn: Connection, request_id: str) -> list[Decline]:
    """Return the departments' refusals of a request."""
    rows = conn.execute(
        select(request_declines)
        .where(request_declines.c.request_id == request_id)
        .order_by(request_declines.c.declined_at)
    )
    return [Decline(row.request_id, row.department, row.reason) for row in rows]


def _proposal(row: Row[Any]) -> ProposalView:
    return ProposalView(
        id=row.id,
        incident_id=row.incident_id,
        document=json.loads(row.document),
        status=row.status,
        edited=bool(row.edited),
        decision_reason=row.decision_reason,
        decided_by=row.decided_by,
        approved=json.loads(row.approved),
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        decided_at=row.decided_at,
    )


def get_proposal(conn: Connection, proposal_id: str) -> ProposalView | None:
    """Return a recorded proposal, or None."""
    row = conn.execute(
        select(allocation_proposals).where(allocation_proposals.c.id == proposal_id)
    ).first()
    return None if row is None else _proposal(row)


def list_proposals(
    conn: Connection, *, incident_id: str | None = None
) -> list[ProposalView]:
    """Return recorded proposals, newest first."""
    query = select(allocation_proposals)
    if incident_id is not None:
        query = query.where(allocation_proposals.c.incident_id == incident_id)
    rows = conn.execute(query.order_by(allocation_proposals.c.proposed_at.desc()))
    return [_proposal(row) for row in rows]


__all__ = [
    "OPEN_STATUSES",
    "CommitmentView",
    "ProposalView",
    "RequestView",
    "commitments_of",
    "committed_by_resource",
    "declines_of",
    "get_commitment",
    "get_proposal",
    "get_request",
    "list_commitments",
    "list_proposals",
    "list_requests",
    "request_from_row",
]
