"""Resource types, resources and statuses: the resources part's rules (stdlib only).

The typing catalog says what kinds of resources exist: a type has a kind (team,
vehicle, equipment, facility, supply), a counting ``unit`` (team, vehicle, litre …), an
optional capability ``measure`` (m³/h for a pump, kW for a generator, persons for a
team or a shelter, beds, patients, seats) and, where it is tiered, the tiers it comes
in (I the most capable, then II and III). A resource is what one department keeps:
so many units of a type, each with the capability in the type's measure, at a place,
in a status, ready within so many minutes.

Statuses follow a resource through a response (``TRANSITIONS``): available →
assigned → en route → on scene → released → available; any status but out of
service may go out of service (with a reason), and out of service comes back as
available. Imported by the handlers, the queries, the pages and the pack's
resources.yaml checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from muster.resources.domain.errors import (
    ResourceInvalid,
    ResourceTypeInvalid,
    TransitionNotAllowed,
)

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_NAME = 200
MAX_NOTES = 1000
MAX_REASON = 500
MAX_QUANTITY = 1_000_000_000
MAX_CAPABILITY = 10_000_000.0
MAX_READY_MINUTES = 7 * 24 * 60


class Kind(StrEnum):
    """What sort of thing a resource type is."""

    TEAM = "team"
    VEHICLE = "vehicle"
    EQUIPMENT = "equipment"
    FACILITY = "facility"
    SUPPLY = "supply"


class Status(StrEnum):
    """Where a resource stands in a response."""

    AVAILABLE = "available"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    OUT_OF_SERVICE = "out_of_service"
    RELEASED = "released"


UNITS = (
    "team", "vehicle", "boat", "unit", "set", "tent", "site", "bed", "seat",
    "litre", "kg", "ration", "item", "bag",
)  # fmt: skip
"""The counting units a type may use (labels in both languages on the pages)."""

MEASURES = ("m3_per_h", "kW", "persons", "beds", "patients", "seats")
"""The capability measures a type may use: per unit of the resource."""

TIERS = ("I", "II", "III")
"""Tiers, most capable first (NIMS resource typing: Type I is the largest)."""

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.AVAILABLE: frozenset({Status.ASSIGNED, Status.OUT_OF_SERVICE}),
    Status.ASSIGNED: frozenset(
        {Status.EN_ROUTE, Status.RELEASED, Status.OUT_OF_SERVICE}
    ),
    Status.EN_ROUTE: frozenset(
        {Status.ON_SCENE, Status.RELEASED, Status.OUT_OF_SERVICE}
    ),
    Status.ON_SCENE: frozenset({Status.RELEASED, Status.OUT_OF_SERVICE}),
    Status.RELEASED: frozenset({Status.AVAILABLE, Status.OUT_OF_SERVICE}),
    Status.OUT_OF_SERVICE: frozenset({Status.AVAILABLE}),
}
"""The statuses a resource may move to from each status."""

ENGAGED = frozenset({Status.ASSIGNED, Status.EN_ROUTE, Status.ON_SCENE})
"""Statuses in which a resource works for an incident (it may name one)."""

INITIAL = frozenset({Status.AVAILABLE, Status.OUT_OF_SERVICE})
"""Statuses a resource may be registered in."""

STATUS_ORDER = tuple(Status)
"""The statuses in the order boards list them."""


@dataclass(frozen=True, slots=True)
class ResourceType:
    """An entry of the typing catalog."""

    code: str
    name_zh: str
    name_en: str
    kind: Kind
    unit: str
    measure: str | None = None
    tiers: tuple[str, ...] = ()

    def name(self, language: str) -> str:
        """Return the name in the given language."""
        return self.name_zh if language == "zh-CN" else self.name_en


@dataclass(frozen=True, slots=True)
class Resource:
    """A department's resource: ``quantity`` units of a type, each with
    ``capability`` in the type's measure (None for types without one)."""

    id: str
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
    status: Status = Status.AVAILABLE
    status_reason: str = ""
    incident_id: str | None = None

    @property
    def total_capability(self) -> float | None:
        """Return the capability of all units together (None without a measure)."""
        return None if self.capability is None else self.capability * self.quantity

    def details(self) -> tuple[object, ...]:
        """Return what the pack or a register command describes (not the status)."""
        return (
            self.department, self.type_code, self.name, self.quantity,
            self.capability, self.tier, self.latitude, self.longitude,
            self.location_name, self.ready_minutes, self.notes,
        )  # fmt: skip


def check_type(
    *,
    code: str,
    name_zh: str,
    name_en: str,
    kind: str,
    unit: str,
    measure: str | None = None,
    tiers: tuple[str, ...] = (),
) -> ResourceType:
    """Return the resource type these fields describe, or refuse them naming the
    field."""
    if not CODE.match(code):
        raise ResourceTypeInvalid(
            "a type code is 1-64 letters, digits, '.', '_' or '-'", field="code"
        )
    for field, name in (("name_zh", name_zh), ("name_en", name_en)):
        if not name.strip() or len(name) > MAX_NAME:
            raise ResourceTypeInvalid(
                f"{field} must be 1-{MAX_NAME} characters", field=field
            )
    if kind not in {item.value for item in Kind}:
        kinds = ", ".join(item.value for item in Kind)
        raise ResourceTypeInvalid(f"kind must be one of {kinds}", field="kind")
    if unit not in UNITS:
        raise ResourceTypeInvalid(
            f"unit must be one of {', '.join(UNITS)}", field="unit"
        )
    if measure is not None and measure not in MEASURES:
        raise ResourceTypeInvalid(
            f"measure must be one of {', '.join(MEASURES)} (or left out)",
            field="measure",
        )
    if len(set(tiers)) != len(tiers) or not set(tiers) <= set(TIERS):
        raise ResourceTypeInvalid(
            f"tiers are distinct values of {', '.join(TIERS)}", field="tiers"
        )
    return ResourceType(
        code=code,
        name_zh=name_zh.strip(),
        name_en=name_en.strip(),
        kind=Kind(kind),
        unit=unit,
        measure=measure,
        tiers=tuple(tier for tier in TIERS if tier in tiers),
    )


def check_resource(
    *,
    resource_id: str,
    department: str,
    of_type: ResourceType,
    name: str,
    quantity: int,
    latitude: float,
    longitude: float,
    capability: float | None = None,
    tier: str | None = None,
    location_name: str = "",
    ready_minutes: int = 0,
    notes: str = "",
    status: str = Status.AVAILABLE.value,
    status_reason: str = "",
) -> Resource:
    """Return the resource these fields describe (of type ``of_type``), or refuse
    them naming the field."""
    if not CODE.match(resource_id):
        raise ResourceInvalid(
            "a resource id is 1-64 letters, digits, '.', '_' or '-'", field="id"
        )
    if not name.strip() or len(name) > MAX_NAME:
        raise ResourceInvalid(f"name must be 1-{MAX_NAME} characters", field="name")
    if isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise ResourceInvalid(
            f"quantity must be a whole number from 1 to {MAX_QUANTITY}",
            field="quantity",
        )
    _check_capability(of_type, capability)
    _check_tier(of_type, tier)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ResourceInvalid(
            "the latitude must be -90..90 and the longitude -180..180",
            field="location",
        )
    if not 0 <= ready_minutes <= MAX_READY_MINUTES:
        raise ResourceInvalid(
            f"ready_minutes must be 0-{MAX_READY_MINUTES}", field="ready_minutes"
        )
    if len(location_name) > MAX_NAME:
        raise ResourceInvalid(
            f"the location name must be at most {MAX_NAME} characters",
            field="location_name",
        )
    if len(notes) > MAX_NOTES:
        raise ResourceInvalid(
            f"notes must be at most {MAX_NOTES} characters", field="notes"
        )
    if status not in {item.value for item in INITIAL}:
        raise ResourceInvalid(
            "a resource is registered available or out_of_service", field="status"
        )
    if status == Status.OUT_OF_SERVICE and not status_reason.strip():
        raise ResourceInvalid(
            "a resource out of service needs a reason", field="status_reason"
        )
    if len(status_reason) > MAX_REASON:
        raise ResourceInvalid(
            f"the reason must be at most {MAX_REASON} characters",
            field="status_reason",
        )
    return Resource(
        id=resource_id,
        department=department,
        type_code=of_type.code,
        name=name.strip(),
        quantity=quantity,
        latitude=float(latitude),
        longitude=float(longitude),
        capability=None if capability is None else float(capability),
        tier=tier,
        location_name=location_name.strip(),
        ready_minutes=ready_minutes,
        notes=notes.strip(),
        status=Status(status),
        status_reason=status_reason.strip() if status != Status.AVAILABLE else "",
    )


def _check_capability(of_type: ResourceType, capability: float | None) -> None:
    if of_type.measure is None:
        if capability is not None:
            raise ResourceInvalid(
                f"type {of_type.code} has no capability measure; leave capability out",
                field="capability",
            )
        return
    if capability is None or not 0 < capability <= MAX_CAPABILITY:
        raise ResourceInvalid(
            f"type {of_type.code} needs a capability above 0 in {of_type.measure} "
            "(per unit)",
            field="capability",
        )


def _check_tier(of_type: ResourceType, tier: str | None) -> None:
    if not of_type.tiers:
        if tier is not None:
            raise ResourceInvalid(
                f"type {of_type.code} has no tiers; leave tier out", field="tier"
            )
        return
    if tier not in of_type.tiers:
        raise ResourceInvalid(
            f"type {of_type.code} needs a tier: {', '.join(of_type.tiers)}",
            field="tier",
        )


def parse_status(text: str) -> Status:
    """Return the status a text names, or refuse it."""
    try:
        return Status(text)
    except ValueError:
        statuses = ", ".join(item.value for item in Status)
        raise ResourceInvalid(
            f"status must be one of {statuses}", field="status"
        ) from None


def next_statuses(status: Status) -> tuple[Status, ...]:
    """Return the statuses a resource may move to, in board order."""
    allowed = TRANSITIONS[status]
    return tuple(item for item in STATUS_ORDER if item in allowed)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A checked status change: the new status, its reason and incident."""

    status: Status
    reason: str
    incident_id: str | None


def change_status(
    resource: Resource, to: str, *, reason: str = "", incident_id: str | None = None
) -> StatusChange | None:
    """Check moving a resource to status ``to``; None when it is already there
    (same status and incident).

    Going out of service needs a reason. An incident may be named only for the
    engaged statuses (assigned, en route, on scene); without one, a resource moving
    on within them keeps its incident. An engaged resource may be moved to another
    incident without changing its status.
    """
    target = parse_status(to)
    reason = reason.strip()
    incident = (incident_id or "").strip() or None
    if len(reason) > MAX_REASON:
        raise ResourceInvalid(
            f"the reason must be at most {MAX_REASON} characters", field="reason"
        )
    if incident is not None and target not in ENGAGED:
        raise ResourceInvalid(
            "only an assigned, en-route or on-scene resource works for an incident",
            field="incident_id",
        )
    if incident is None and target in ENGAGED and resource.status in ENGAGED:
        incident = resource.incident_id
    if target is resource.status and incident == resource.incident_id:
        return None
    moves_incident = target is resource.status and target in ENGAGED
    if not moves_incident and target not in TRANSITIONS[resource.status]:
        raise TransitionNotAllowed(
            f"a resource {resource.status.value} cannot become {target.value}",
            current=resource.status.value,
            requested=target.value,
        )
    if target is Status.OUT_OF_SERVICE and not reason:
        raise ResourceInvalid("going out of service needs a reason", field="reason")
    return StatusChange(status=target, reason=reason, incident_id=incident)


__all__ = [
    "CODE",
    "ENGAGED",
    "INITIAL",
    "MEASURES",
    "STATUS_ORDER",
    "TIERS",
    "TRANSITIONS",
    "UNITS",
    "Kind",
    "Resource",
    "ResourceType",
    "Status",
    "StatusChange",
    "change_status",
    "check_resource",
    "check_type",
    "next_statuses",
    "parse_status",
]
