"""Projections of resource requests, commitments, declines and allocation proposals.

``PROJECTIONS`` (the set "resource_requests", owning the four tables of
``read_models.REQUEST_TABLES``) is listed in ``muster.bootstrap.PROJECTIONS``. A
request's ``status`` and ``committed_units`` are recomputed from its rows whenever a
commitment, decline or cancellation touches it (``domain.requests.request_status``).
"""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.resources.domain.events import (
    AllocationDecided,
    AllocationProposed,
    CommitmentStatusChanged,
    RequestCancelled,
    RequestDeclined,
    ResourceCommitted,
    ResourceRequested,
)
from muster.resources.domain.requests import (
    RequestStatus,
    committed_units,
    request_status,
)
from muster.resources.read_models import (
    REQUEST_TABLES,
    allocation_proposals,
    request_declines,
    resource_commitments,
    resource_requests,
)
from muster.resources.request_queries import (
    commitments_of,
    declines_of,
    request_from_row,
)


def on_requested(
    event: ResourceRequested, envelope: Envelope, conn: Connection
) -> None:
    """Add the request, open."""
    conn.execute(
        delete(resource_requests).where(resource_requests.c.id == event.request_id)
    )
    conn.execute(
        insert(resource_requests),
        {
            "id": event.request_id,
            "incident_id": event.incident_id,
            "requested_by": event.requested_by,
            "type_code": event.type_code,
            "quantity": event.quantity,
            "min_capability": event.min_capability,
            "max_tier": event.max_tier,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "location_name": event.location_name,
            "needed_by": event.needed_by,
            "priority": event.priority,
            "to_department": event.to_department,
            "task_id": event.task_id,
            "note": event.note,
            "external_ref": event.external_ref,
            "status": RequestStatus.OPEN.value,
            "committed_units": 0,
            "cancel_reason": "",
            "requested_at": envelope.occurred_at,
            "seq": envelope.seq,
        },
    )


def on_cancelled(event: RequestCancelled, envelope: Envelope, conn: Connection) -> None:
    """Mark the request cancelled, with the reason."""
    conn.execute(
        update(resource_requests)
        .where(resource_requests.c.id == event.request_id)
        .values(cancel_reason=event.reason, seq=envelope.seq)
    )
    _restate(conn, event.request_id, envelope.seq)


def on_committed(
    event: ResourceCommitted, envelope: Envelope, conn: Connection
) -> None:
    """Add the commitment and restate its request."""
    conn.execute(
        insert(resource_commitments),
        {
            "id": event.commitment_id,
            "request_id": event.request_id,
            "incident_id": event.incident_id,
            "resource_id": event.resource_id,
            "department": event.department,
            "units": event.units,
            "status": "committed",
            "eta": event.eta,
            "note": event.note,
            "proposal_id": event.proposal_id,
            "external_ref": event.external_ref,
            "committed_at": envelope.occurred_at,
            "status_changed_at": envelope.occurred_at,
            "seq": envelope.seq,
        },
    )
    _restate(conn, event.request_id, envelope.seq)


def on_declined(event: RequestDeclined, envelope: Envelope, conn: Connection) -> None:
    """Record the department's refusal and restate the request."""
    table = request_declines
    conn.execute(
        delete(table).where(
            (table.c.request_id == event.request_id)
            & (table.c.department == event.department)
        )
    )
    conn.execute(
        insert(table),
        {
            "request_id": event.request_id,
            "department": event.department,
            "reason": event.reason,
            "external_ref": event.external_ref,
            "declined_at": envelope.occurred_at,
            "seq": envelope.seq,
        },
    )
    _restate(conn, event.request_id, envelope.seq)


def on_commitment_changed(
    event: CommitmentStatusChanged, envelope: Envelope, conn: Connection
) -> None:
    """Move the commitment on and restate its request (released units leave it)."""
    conn.execute(
        update(resource_commitments)
        .where(resource_commitments.c.id == event.commitment_id)
        .values(
            status=event.to_status,
            status_changed_at=envelope.occurred_at,
            seq=envelope.seq,
        )
    )
    _restate(conn, event.request_id, envelope.seq)


def on_proposed(
    event: AllocationProposed, envelope: Envelope, conn: Connection
) -> None:
    """Keep the proposal as shown, awaiting the commander."""
    conn.execute(
        insert(allocation_proposals),
        {
            "id": event.proposal_id,
            "incident_id": event.incident_id,
            "document": json.dumps(event.proposal, ensure_ascii=False, sort_keys=True),
            "status": "proposed",
            "edited": 0,
            "decision_reason": "",
            "decided_by": None,
            "approved": "[]",
            "proposed_by": envelope.actor_id,
            "proposed_at": envelope.occurred_at,
            "decided_at": None,
            "seq": envelope.seq,
        },
    )


def on_decided(event: AllocationDecided, envelope: Envelope, conn: Connection) -> None:
    """Record the commander's decision on the proposal."""
    conn.execute(
        update(allocation_proposals)
        .where(allocation_proposals.c.id == event.proposal_id)
        .values(
            status="approved" if event.decision == "approve" else "rejected",
            edited=int(event.edited),
            decision_reason=event.reason,
            decided_by=envelope.actor_id,
            approved=json.dumps(list(event.assignments), sort_keys=True),
            decided_at=envelope.occurred_at,
            seq=envelope.seq,
        )
    )


def _restate(conn: Connection, request_id: str, seq: int) -> None:
    """Recompute a request's status and committed units from its rows."""
    row = conn.execute(
        select(resource_requests).where(resource_requests.c.id == request_id)
    ).first()
    if row is None:
        return
    request = request_from_row(row)
    made = commitments_of(conn, request_id)
    status = request_status(request, made, declines_of(conn, request_id))
    conn.execute(
        update(resource_requests)
        .where(resource_requests.c.id == request_id)
        .values(status=status.value, committed_units=committed_units(made), seq=seq)
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    ResourceRequested: [on_requested],
    RequestCancelled: [on_cancelled],
    ResourceCommitted: [on_committed],
    RequestDeclined: [on_declined],
    CommitmentStatusChanged: [on_commitment_changed],
    AllocationProposed: [on_proposed],
    AllocationDecided: [on_decided],
}

PROJECTIONS = ProjectionSet(
    name="resource_requests", handlers=_PROJECTORS, tables=list(REQUEST_TABLES)
)

__all__ = ["PROJECTIONS"]
