"""Events of the resources part (wire names ``resources.*``).

Projected by ``muster.resources.projections``. Statuses are the values of
``muster.resources.domain.model.Status``; capabilities are per unit, in the type's
measure.
"""

from __future__ import annotations

from dataclasses import dataclass

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


__all__ = [
    "ResourceRegistered",
    "ResourceStatusChanged",
    "ResourceTypeRegistered",
    "ResourceTypeUpdated",
    "ResourceUpdated",
]
