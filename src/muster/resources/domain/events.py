"""Events of the resources part (wire names ``resources.*``).

Projected by ``muster.resources.projections``. Statuses are the values of
``muster.resources.domain.model.Status``; capabilities are per unit, in the type's
measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from muster.core.messages import Event, event_type


@event_type("resources.ResourceTypeRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceTypeRegistered(Event):
    """A type joined the typing catalog."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    unit: str
    measure: str | None = None
    tiers: tuple[str, ...] = ()


@event_type("resources.ResourceTypeUpdated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceTypeUpdated(Event):
    """A type's names, kind, unit, measure or tiers changed."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    unit: str
    measure: str | None = None
    tiers: tuple[str, ...] = ()


@event_type("resources.ResourceRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceRegistered(Event):
    """A department's resource was registered, in ``status`` (available or out of
    service, with ``status_reason``)."""

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


@event_type("resources.ResourceUpdated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceUpdated(Event):
    """A resource's description changed (type, quantity, capability, tier, place,
    readiness or notes); its status did not."""

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


@event_type("resources.ResourceStatusChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceStatusChanged(Event):
    """A resource moved from one status to another (or, engaged, to another
    incident), with the reason given and the incident it works for."""

    resource_id: str
    department: str
    from_status: str
    to_status: str
    reason: str = ""
    incident_id: str | None = None


@event_type("resources.ResourceRequested", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceRequested(Event):
    """Units of a type were requested for an incident (``external_ref``: the
    EDXL-RM message and element it came from)."""

    request_id: str
    incident_id: str
    requested_by: str
    type_code: str
    quantity: int
    latitude: float
    longitude: float
    priority: int
    location_name: str = ""
    min_capability: float | None = None
    max_tier: str | None = None
    needed_by: str | None = None
    to_department: str | None = None
    task_id: str | None = None
    note: str = ""
    external_ref: str = ""


@event_type("resources.RequestCancelled", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class RequestCancelled(Event):
    """A request was withdrawn."""

    request_id: str
    incident_id: str
    reason: str


@event_type("resources.ResourceCommitted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceCommitted(Event):
    """A department committed units of its resource to a request (by itself, or
    by a commander's approved allocation ``proposal_id``)."""

    commitment_id: str
    request_id: str
    incident_id: str
    resource_id: str
    department: str
    units: int
    eta: str | None = None
    note: str = ""
    proposal_id: str | None = None
    external_ref: str = ""


@event_type("resources.RequestDeclined", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class RequestDeclined(Event):
    """A department declined a request, with its reason."""

    request_id: str
    incident_id: str
    department: str
    reason: str
    external_ref: str = ""


@event_type("resources.CommitmentStatusChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class CommitmentStatusChanged(Event):
    """Committed units moved on (en route, on scene, released)."""

    commitment_id: str
    request_id: str
    incident_id: str
    resource_id: str
    department: str
    from_status: str
    to_status: str
    note: str = ""


@event_type("resources.AllocationProposed", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AllocationProposed(Event):
    """The optimiser's proposal for an incident's open requests, as shown."""

    proposal_id: str
    incident_id: str
    proposal: dict[str, Any]


@event_type("resources.AllocationDecided", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AllocationDecided(Event):
    """A commander's arbitration: approved (as proposed or edited) or rejected.

    ``assignments`` are the ones approved; ``edited`` says they differ from the
    proposal."""

    proposal_id: str
    incident_id: str
    decision: str
    reason: str
    edited: bool
    assignments: tuple[dict[str, Any], ...] = ()


__all__ = [
    "AllocationDecided",
    "AllocationProposed",
    "CommitmentStatusChanged",
    "RequestCancelled",
    "RequestDeclined",
    "ResourceCommitted",
    "ResourceRegistered",
    "ResourceRequested",
    "ResourceStatusChanged",
    "ResourceTypeRegistered",
    "ResourceTypeUpdated",
    "ResourceUpdated",
]
