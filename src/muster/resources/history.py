"""Resources as they stood at a past moment, folded from the log (for the situation
map's time slider).

Selects the ``resources.Resource*`` events recorded up to the moment, in log order,
and applies them the way the projections do: registered, described anew, status
changed. Types are the catalog as it is now. Imported by ``muster.situation.api``.
"""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import Text, cast, select
from sqlalchemy.engine import Connection

from muster.core.eventlog.tables import events
from muster.core.messages import event_from_data
from muster.resources.domain.events import (
    ResourceRegistered,
    ResourceStatusChanged,
    ResourceUpdated,
)
from muster.resources.domain.model import Resource, Status
from muster.resources.queries import ResourceView

FOLDED = (
    "resources.ResourceRegistered",
    "resources.ResourceUpdated",
    "resources.ResourceStatusChanged",
)


def resources_at(conn: Connection, until: str) -> list[ResourceView]:
    """Return the resources as of ``until`` (ISO UTC, like ``recorded_at``), by
    department and id."""
    query = (
        select(cast(events.c.body, Text))
        .where(events.c.type.in_(FOLDED), events.c.recorded_at <= until)
        .order_by(events.c.seq)
    )
    found: dict[str, ResourceView] = {}
    for (body,) in conn.execute(query):
        envelope = json.loads(body)
        event = event_from_data(envelope["type"], envelope["version"], envelope["data"])
        at = str(envelope["occurred_at"])
        if isinstance(event, ResourceRegistered):
            found[event.resource_id] = ResourceView(_registered(event), at)
        elif isinstance(event, ResourceUpdated) and event.resource_id in found:
            view = found[event.resource_id]
            described = _described(view.resource, event)
            found[event.resource_id] = ResourceView(described, view.status_since)
        elif isinstance(event, ResourceStatusChanged) and event.resource_id in found:
            resource = dataclasses.replace(
                found[event.resource_id].resource,
                status=Status(event.to_status),
                status_reason=event.reason,
                incident_id=event.incident_id,
            )
            found[event.resource_id] = ResourceView(resource, at)
    return sorted(found.values(), key=lambda v: (v.resource.department, v.resource.id))


def _registered(event: ResourceRegistered) -> Resource:
    return Resource(
        id=event.resource_id,
        department=event.department,
        type_code=event.type_code,
        name=event.name,
        quantity=event.quantity,
        latitude=event.latitude,
        longitude=event.longitude,
        capability=event.capability,
        tier=event.tier,
        location_name=event.location_name,
        ready_minutes=event.ready_minutes,
        notes=event.notes,
        status=Status(event.status),
        status_reason=event.status_reason,
    )


def _described(resource: Resource, event: ResourceUpdated) -> Resource:
    return dataclasses.replace(
        resource,
        department=event.department,
        type_code=event.type_code,
        name=event.name,
        quantity=event.quantity,
        latitude=event.latitude,
        longitude=event.longitude,
        capability=event.capability,
        tier=event.tier,
        location_name=event.location_name,
        ready_minutes=event.ready_minutes,
        notes=event.notes,
    )


__all__ = ["FOLDED", "resources_at"]
