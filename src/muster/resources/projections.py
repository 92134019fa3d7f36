"""Projections of the resources part: the typing catalog and the resources.

``PROJECTIONS`` (the set "resources", owning ``resource_types`` and ``resources``) is
listed in ``muster.bootstrap.PROJECTIONS``.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.resources.domain.events import (
    ResourceRegistered,
    ResourceStatusChanged,
    ResourceTypeRegistered,
    ResourceTypeUpdated,
    ResourceUpdated,
)
from muster.resources.read_models import resource_types, resources


def on_resource_type_registered(
    event: ResourceTypeRegistered | ResourceTypeUpdated,
    envelope: Envelope,
    conn: Connection,
) -> None:
    """Keep the type's current description (one row per code)."""
    conn.execute(delete(resource_types).where(resource_types.c.code == event.code))
    conn.execute(
        insert(resource_types),
        {
            "code": event.code,
            "name_zh": event.name_zh,
            "name_en": event.name_en,
            "kind": event.kind,
            "unit": event.unit,
            "measure": event.measure,
            "tiers": ",".join(event.tiers),
            "registered_at": envelope.occurred_at,
            "seq": envelope.seq,
        },
    )


def _description(event: ResourceRegistered | ResourceUpdated) -> dict[str, object]:
    return {
        "department": event.department,
        "type_code": event.type_code,
        "name": event.name,
        "quantity": event.quantity,
        "capability": event.capability,
        "tier": event.tier,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "location_name": event.location_name,
        "ready_minutes": event.ready_minutes,
        "notes": event.notes,
    }


def on_resource_registered(
    event: ResourceRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Add the resource in the status it was registered in."""
    conn.execute(delete(resources).where(resources.c.id == event.resource_id))
    conn.execute(
        insert(resources),
        {
            "id": event.resource_id,
            **_description(event),
            "status": event.status,
            "status_reason": event.status_reason,
            "incident_id": None,
            "status_changed_at": envelope.occurred_at,
            "registered_at": envelope.occurred_at,
            "seq": envelope.seq,
        },
    )


def on_resource_updated(
    event: ResourceUpdated, envelope: Envelope, conn: Connection
) -> None:
    """Change the resource's description; its status stays."""
    conn.execute(
        update(resources)
        .where(resources.c.id == event.resource_id)
        .values(**_description(event), seq=envelope.seq)
    )


def on_resource_status_changed(
    event: ResourceStatusChanged, envelope: Envelope, conn: Connection
) -> None:
    """Record the resource's new status, its reason and incident."""
    conn.execute(
        update(resources)
        .where(resources.c.id == event.resource_id)
        .values(
            status=event.to_status,
            status_reason=event.reason,
            incident_id=event.incident_id,
            status_changed_at=envelope.occurred_at,
            seq=envelope.seq,
        )
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    ResourceTypeRegistered: [on_resource_type_registered],
    ResourceTypeUpdated: [on_resource_type_registered],
    ResourceRegistered: [on_resource_registered],
    ResourceUpdated: [on_resource_updated],
    ResourceStatusChanged: [on_resource_status_changed],
}

PROJECTIONS = ProjectionSet(
    name="resources", handlers=_PROJECTORS, tables=[resource_types, resources]
)

__all__ = [
    "PROJECTIONS",
    "on_resource_registered",
    "on_resource_status_changed",
    "on_resource_type_registered",
    "on_resource_updated",
]
