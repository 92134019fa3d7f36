"""Command handlers for allocation proposals: record one, and a commander's decision.

``ALLOCATION_HANDLERS`` is merged into the resources part's table. Recording a
proposal keeps what the optimiser showed (``AllocationProposed``); deciding it is the
recorded arbitration (``AllocationDecided``): approving commits every approved
assignment in the same transaction (each checked as a department's own commitment
would be), rejecting needs a reason. The tasks that go with an approval are added by
``muster.resources.allocation_service.decide`` in the same batch.
"""

from __future__ import annotations

import uuid
from typing import Any

from muster.core.bus import Handler
from muster.core.errors import NotFound, PermissionDenied, ValidationFailed
from muster.core.messages import Actor, Command
from muster.core.uow import UnitOfWork
from muster.resources import queries, request_queries
from muster.resources.domain.commands import DecideAllocation, RecordAllocationProposal
from muster.resources.domain.errors import (
    RequestConflict,
    ResourceInvalid,
    UnknownResource,
)
from muster.resources.domain.events import AllocationDecided, AllocationProposed
from muster.resources.request_handlers import append_commitment, commit_events
from muster.response import queries as response

DECISIONS = ("approve", "reject")


def proposal_stream(proposal_id: str) -> str:
    """Return the stream of an allocation proposal and its decision."""
    return f"resource-allocation-{proposal_id}"


def _require_commander(actor: Actor, action: str) -> None:
    if not actor.has_role("commander", "admin", "system"):
        raise PermissionDenied(f"{action} needs the commander role", action=action)


def record_proposal(command: RecordAllocationProposal, uow: UnitOfWork) -> str:
    """Record a proposal for an incident; answer its id."""
    with uow:
        _require_commander(uow.actor, "recording an allocation proposal")
        if response.get_incident(uow.conn, command.incident_id) is None:
            raise NotFound(
                f"no incident {command.incident_id}", incident=command.incident_id
            )
        proposal_id = f"AP-{uuid.uuid4().hex[:12]}"
        event = AllocationProposed(
            proposal_id=proposal_id,
            incident_id=command.incident_id,
            proposal=dict(command.proposal),
        )
        uow.append(proposal_stream(proposal_id), [event], expected_version=0)
        uow.commit()
    return proposal_id


def normalise(assignments: Any) -> list[dict[str, Any]]:
    """Return assignments as ``{supply_id, request_id, units}``, or refuse them."""
    if not isinstance(assignments, list | tuple):
        raise ResourceInvalid("assignments are a list", field="assignments")
    clean: dict[tuple[str, str], int] = {}
    for item in assignments:
        if not isinstance(item, dict):
            raise ResourceInvalid("an assignment is an object", field="assignments")
        supply, request, units = (
            item.get(k) for k in ("supply_id", "request_id", "units")
        )
        if not (isinstance(supply, str) and isinstance(request, str)):
            raise ResourceInvalid(
                "an assignment names supply_id and request_id", field="assignments"
            )
        if not isinstance(units, int) or isinstance(units, bool) or units < 0:
            raise ResourceInvalid("units are a whole number ≥ 0", field="units")
        clean[(supply, request)] = clean.get((supply, request), 0) + units
    return [
        {"supply_id": s, "request_id": r, "units": n}
        for (s, r), n in sorted(clean.items())
        if n > 0
    ]


def decide_allocation(command: DecideAllocation, uow: UnitOfWork) -> dict[str, Any]:
    """Approve (committing the assignments) or reject a recorded proposal."""
    if command.decision not in DECISIONS:
        raise ValidationFailed("decision is approve or reject", field="decision")
    with uow:
        _require_commander(uow.actor, "deciding an allocation")
        proposal = request_queries.get_proposal(uow.conn, command.proposal_id)
        if proposal is None:
            raise NotFound(
                f"no proposal {command.proposal_id}", proposal=command.proposal_id
            )
        if proposal.status != "proposed":
            raise RequestConflict(
                f"proposal {proposal.id} was already {proposal.status}",
                proposal_id=proposal.id,
            )
        proposed = normalise(proposal.document.get("assignments", []))
        approved: list[dict[str, Any]] = []
        commitments: list[str] = []
        if command.decision == "reject":
            if not command.reason.strip():
                raise ResourceInvalid(
                    "say why the proposal is rejected", field="reason"
                )
        else:
            wanted = command.assignments
            approved = proposed if wanted is None else normalise(list(wanted))
            for item in approved:
                view = request_queries.get_request(uow.conn, item["request_id"])
                if view is None or view.request.incident_id != proposal.incident_id:
                    raise NotFound(
                        f"no request {item['request_id']} in the incident",
                        request=item["request_id"],
                    )
                found = queries.get_resource(uow.conn, item["supply_id"])
                if found is None:
                    raise UnknownResource(
                        f"no resource {item['supply_id']}", resource=item["supply_id"]
                    )
                event, moved = commit_events(
                    uow,
                    view,
                    found.resource,
                    item["units"],
                    proposal_id=proposal.id,
                    note=command.reason,
                )
                append_commitment(uow, event, moved)
                commitments.append(event.commitment_id)
        decided = AllocationDecided(
            proposal_id=proposal.id,
            incident_id=proposal.incident_id,
            decision=command.decision,
            reason=command.reason.strip(),
            edited=command.decision == "approve" and approved != proposed,
            assignments=tuple(approved),
        )
        stream = proposal_stream(proposal.id)
        uow.append(stream, [decided], expected_version=uow.stream_version(stream))
        uow.commit()
    return {
        "proposal_id": proposal.id,
        "decision": command.decision,
        "edited": decided.edited,
        "commitments": commitments,
    }


ALLOCATION_HANDLERS: dict[type[Command], Handler] = {
    RecordAllocationProposal: record_proposal,
    DecideAllocation: decide_allocation,
}

__all__ = ["ALLOCATION_HANDLERS", "normalise", "proposal_stream"]
