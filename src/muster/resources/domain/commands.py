"""Commands of the resources part: register types and resources, change a status.

Sent by the pack loader (``resources.yaml``), the CLI, the API and the resource
board; handled by ``muster.resources.handlers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterResourceType(Command):
    """Add a type to the typing catalog, or update it if the code exists."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    unit: str
    measure: str | None = None
    tiers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterResource(Command):
    """Add a department's resource, or update its description if the id exists.

    ``status`` (available or out_of_service) counts only when the resource is new:
    registering again (loading the pack again) never resets a status changed since.
    ``capability`` is per unit, in the type's measure.
    """

    resource_id: str
    department: str
    type_code: str
    name: str
    quantity: int
    latitude: float
    longitude: float
    capability: float | None = None
    tier: str | None = None
    location_name: str = ""
    ready_minutes: int = 0
    notes: str = ""
    status: str = "available"
    status_reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeResourceStatus(Command):
    """Move a resource to another status (out of service needs a reason); an
    engaged status may name the incident the resource works for."""

    resource_id: str
    status: str
    reason: str = ""
    incident_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestResource(Command):
    """Ask for units of a type for an incident (a task's lead, a commander, or an
    EDXL-RM RequestResource). ``priority`` None: from the incident's response
    level; ``request_id`` None: a new id. ``external_ref`` names the EDXL-RM
    message and element it came from, if any."""

    incident_id: str
    requested_by: str
    type_code: str
    quantity: int
    latitude: float | None = None  # None: the incident's position
    longitude: float | None = None
    location_name: str = ""
    min_capability: float | None = None
    max_tier: str | None = None
    needed_by: str | None = None
    priority: int | None = None
    to_department: str | None = None
    task_id: str | None = None
    note: str = ""
    request_id: str | None = None
    external_ref: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelRequest(Command):
    """Withdraw a request (its requester, a commander or an admin)."""

    request_id: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CommitResource(Command):
    """Commit ``units`` of one of a department's resources to a request.

    ``proposal_id`` is set when a commander's approved allocation commits it."""

    request_id: str
    resource_id: str
    units: int = 1
    eta: str | None = None
    note: str = ""
    proposal_id: str | None = None
    commitment_id: str | None = None
    external_ref: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class DeclineRequest(Command):
    """A department declines a request, with its reason."""

    request_id: str
    department: str
    reason: str
    external_ref: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeCommitmentStatus(Command):
    """Track committed units: en route, on scene, released."""

    commitment_id: str
    status: str
    note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordAllocationProposal(Command):
    """Record what the optimiser proposed for an incident's open requests.

    ``proposal`` is the JSON form (``Proposal.as_dict``) plus the inputs' summary."""

    incident_id: str
    proposal: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class DecideAllocation(Command):
    """A commander approves (possibly edited) or rejects a recorded proposal.

    ``assignments`` (approve only) are the ones to commit: each a dict with
    ``supply_id`` (a resource id), ``request_id`` and ``units``; None approves the
    proposal as it stands."""

    proposal_id: str
    decision: str  # approve, reject
    reason: str = ""
    assignments: tuple[dict[str, Any], ...] | None = None


__all__ = [
    "CancelRequest",
    "ChangeCommitmentStatus",
    "ChangeResourceStatus",
    "CommitResource",
    "DecideAllocation",
    "DeclineRequest",
    "RecordAllocationProposal",
    "RegisterResource",
    "RegisterResourceType",
    "RequestResource",
]
