"""Read the resources part's tables: the typing catalog, resources and their tallies.

Used by the handlers (idempotency), the API, the board, the CLI, the map layer and
the allocation optimiser. Pure reads; labels in people's languages are added at the
edges (``muster.resources.geojson``, the pages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.resources.domain.model import (
    STATUS_ORDER,
    Kind,
    Resource,
    ResourceType,
    Status,
)
from muster.resources.read_models import resource_types, resources


@dataclass(frozen=True, slots=True)
class ResourceView:
    """A resource as stored, with since when it is in its status."""

    resource: Resource
    status_since: str

    def to_json(self, of_type: ResourceType | None = None) -> dict[str, Any]:
        """Return the resource as the API and ``--json`` print it."""
        item = self.resource
        return {
            "id": item.id,
            "department": item.department,
            "type": item.type_code,
            "kind": of_type.kind.value if of_type else None,
            "name": item.name,
            "quantity": item.quantity,
            "unit": of_type.unit if of_type else None,
            "capability": item.capability,
            "measure": of_type.measure if of_type else None,
            "total_capability": item.total_capability,
            "tier": item.tier,
            "location": {
                "lat": item.latitude,
                "lon": item.longitude,
                "name": item.location_name,
            },
            "status": item.status.value,
            "status_reason": item.status_reason,
            "status_since": self.status_since,
            "incident_id": item.incident_id,
            "ready_minutes": item.ready_minutes,
            "notes": item.notes,
        }


def type_json(of_type: ResourceType) -> dict[str, Any]:
    """Return a catalog entry as the API and ``--json`` print it."""
    return {
        "code": of_type.code,
        "name_zh": of_type.name_zh,
        "name_en": of_type.name_en,
        "kind": of_type.kind.value,
        "unit": of_type.unit,
        "measure": of_type.measure,
        "tiers": list(of_type.tiers),
    }


def list_types(conn: Connection) -> list[ResourceType]:
    """Return the typing catalog by kind and code."""
    rows = conn.execute(select(resource_types).order_by(resource_types.c.code))
    kinds = list(Kind)
    return sorted((_type(row) for row in rows), key=lambda t: kinds.index(t.kind))


def get_type(conn: Connection, code: str) -> ResourceType | None:
    """Return one catalog entry, or None."""
    query = select(resource_types).where(resource_types.c.code == code)
    row = conn.execute(query).first()
    return _type(row) if row is not None else None


def get_resource(conn: Connection, resource_id: str) -> ResourceView | None:
    """Return one resource, or None."""
    row = conn.execute(select(resources).where(resources.c.id == resource_id)).first()
    return _view(row) if row is not None else None


def list_resources(
    conn: Connection,
    *,
    department: str | None = None,
    type_code: str | None = None,
    status: str | None = None,
) -> list[ResourceView]:
    """Return resources by department and id, optionally of one department, type
    or status."""
    query = select(resources).order_by(resources.c.department, resources.c.id)
    if department is not None:
        query = query.where(resources.c.department == department)
    if type_code is not None:
        query = query.where(resources.c.type_code == type_code)
    if status is not None:
        query = query.where(resources.c.status == status)
    return [_view(row) for row in conn.execute(query)]


@dataclass(slots=True)
class Tally:
    """One department's units of one type, by status, and their capability."""

    department: str
    type_code: str
    by_status: dict[str, int] = field(
        default_factory=lambda: {status.value: 0 for status in STATUS_ORDER}
    )
    capability: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return the units of the type in every status."""
        return sum(self.by_status.values())


def tally(
    views: Iterable[ResourceView], types: Mapping[str, ResourceType]
) -> list[Tally]:
    """Sum units per department and type, by status (capability only for types with
    a measure), in department and catalog order."""
    found: dict[tuple[str, str], Tally] = {}
    for view in views:
        item = view.resource
        key = (item.department, item.type_code)
        counted = found.setdefault(key, Tally(item.department, item.type_code))
        counted.by_status[item.status.value] += item.quantity
        if item.total_capability is not None:
            held = counted.capability.get(item.status.value, 0.0)
            counted.capability[item.status.value] = held + item.total_capability
    order = {code: index for index, code in enumerate(types)}
    return sorted(
        found.values(),
        key=lambda t: (t.department, order.get(t.type_code, len(order)), t.type_code),
    )


def _type(row: Any) -> ResourceType:
    return ResourceType(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        kind=Kind(row.kind),
        unit=row.unit,
        measure=row.measure,
        tiers=tuple(tier for tier in str(row.tiers).split(",") if tier),
    )


def _view(row: Any) -> ResourceView:
    resource = Resource(
        id=row.id,
        department=row.department,
        type_code=row.type_code,
        name=row.name,
        quantity=int(row.quantity),
        latitude=float(row.latitude),
        longitude=float(row.longitude),
        capability=None if row.capability is None else float(row.capability),
        tier=row.tier,
        location_name=row.location_name,
        ready_minutes=int(row.ready_minutes),
        notes=row.notes,
        status=Status(row.status),
        status_reason=row.status_reason,
        incident_id=row.incident_id,
    )
    return ResourceView(resource=resource, status_since=row.status_changed_at)


__all__ = [
    "ResourceView",
    "Tally",
    "get_resource",
    "get_type",
    "list_resources",
    "list_types",
    "tally",
    "type_json",
]
