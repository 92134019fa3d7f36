"""Command handlers of the resources part: the typing catalog, resources, statuses (R6).

``COMMAND_HANDLERS`` is merged by ``muster.bootstrap``. Registering is idempotent and
answers created / updated / unchanged, so loading a pack twice changes nothing; a
status change answers the new status, or "unchanged" when the resource is already
there.
"""

from __future__ import annotations

from dataclasses import asdict

from muster.core.bus import Handler
from muster.core.errors import NotFound, PermissionDenied
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity
from muster.resources import queries
from muster.resources.domain.commands import (
    ChangeResourceStatus,
    RegisterResource,
    RegisterResourceType,
)
from muster.resources.domain.errors import (
    ResourceInvalid,
    UnknownResource,
    UnknownResourceType,
)
from muster.resources.domain.events import (
    ResourceRegistered,
    ResourceStatusChanged,
    ResourceTypeRegistered,
    ResourceTypeUpdated,
    ResourceUpdated,
)
from muster.resources.domain.model import change_status, check_resource, check_type
from muster.resources.domain.permissions import may_change_status, may_register
from muster.response import queries as response


def type_stream(code: str) -> str:
    """Return the stream of a catalog entry."""
    return f"resource-type-{code}"


def resource_stream(resource_id: str) -> str:
    """Return the stream of a resource."""
    return f"resource-{resource_id}"


def register_resource_type(command: RegisterResourceType, uow: UnitOfWork) -> str:
    """Add or update a catalog entry (admins and Muster itself)."""
    checked = check_type(
        code=command.code,
        name_zh=command.name_zh,
        name_en=command.name_en,
        kind=command.kind,
        unit=command.unit,
        measure=command.measure,
        tiers=tuple(command.tiers),
    )
    with uow:
        if not uow.actor.has_role("admin", "system"):
            raise PermissionDenied(
                "registering a resource type needs the admin role",
                action="register resource type",
            )
        existing = queries.get_type(uow.conn, checked.code)
        if existing == checked:
            return "unchanged"
        kind = ResourceTypeRegistered if existing is None else ResourceTypeUpdated
        event = kind(
            code=checked.code,
            name_zh=checked.name_zh,
            name_en=checked.name_en,
            kind=checked.kind.value,
            unit=checked.unit,
            measure=checked.measure,
            tiers=checked.tiers,
        )
        stream = type_stream(checked.code)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "created" if existing is None else "updated"


def register_resource(command: RegisterResource, uow: UnitOfWork) -> str:
    """Add a resource or update its description (admins, Muster itself, and the
    owning department's duty officers, heads and API keys); its status is kept."""
    with uow:
        if not may_register(uow.actor, command.department):
            raise PermissionDenied(
                "registering a resource needs the admin role, or a duty officer, "
                "head or API key of its department",
                action="register resource",
            )
        if identity.get_department(uow.conn, command.department) is None:
            raise NotFound(
                f"no department {command.department}", department=command.department
            )
        of_type = queries.get_type(uow.conn, command.type_code)
        if of_type is None:
            raise UnknownResourceType(
                f"no resource type {command.type_code}", type=command.type_code
            )
        checked = check_resource(
            resource_id=command.resource_id,
            department=command.department,
            of_type=of_type,
            name=command.name,
            quantity=command.quantity,
            latitude=command.latitude,
            longitude=command.longitude,
            capability=command.capability,
            tier=command.tier,
            location_name=command.location_name,
            ready_minutes=command.ready_minutes,
            notes=command.notes,
            status=command.status,
            status_reason=command.status_reason,
        )
        before = queries.get_resource(uow.conn, checked.id)
        if before is not None and before.resource.department != checked.department:
            raise ResourceInvalid(
                f"resource {checked.id} belongs to {before.resource.department}",
                field="department",
            )
        if before is not None and before.resource.details() == checked.details():
            return "unchanged"
        described = ResourceUpdated(
            resource_id=checked.id,
            department=checked.department,
            type_code=checked.type_code,
            name=checked.name,
            quantity=checked.quantity,
            latitude=checked.latitude,
            longitude=checked.longitude,
            capability=checked.capability,
            tier=checked.tier,
            location_name=checked.location_name,
            ready_minutes=checked.ready_minutes,
            notes=checked.notes,
        )
        event: ResourceRegistered | ResourceUpdated = (
            ResourceRegistered(
                **asdict(described),
                status=checked.status.value,
                status_reason=checked.status_reason,
            )
            if before is None
            else described
        )
        stream = resource_stream(checked.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "created" if before is None else "updated"


def change_resource_status(command: ChangeResourceStatus, uow: UnitOfWork) -> str:
    """Move a resource to another status (admins, commanders, Muster itself, and the
    owning department's duty officers, heads and API keys); answer the new status."""
    with uow:
        found = queries.get_resource(uow.conn, command.resource_id)
        if found is None:
            raise UnknownResource(
                f"no resource {command.resource_id}", resource=command.resource_id
            )
        resource = found.resource
        if not may_change_status(uow.actor, resource.department):
            raise PermissionDenied(
                "changing a resource's status needs a duty officer, head or API key "
                "of its department, a commander or an admin",
                action="change resource status",
            )
        change = change_status(
            resource,
            command.status,
            reason=command.reason,
            incident_id=command.incident_id,
        )
        if change is None:
            return "unchanged"
        incident = change.incident_id
        is_new_incident = incident is not None and incident != resource.incident_id
        if is_new_incident and response.get_incident(uow.conn, str(incident)) is None:
            raise NotFound(f"no incident {incident}", incident=incident)
        event = ResourceStatusChanged(
            resource_id=resource.id,
            department=resource.department,
            from_status=resource.status.value,
            to_status=change.status.value,
            reason=change.reason,
            incident_id=incident,
        )
        stream = resource_stream(resource.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return change.status.value


COMMAND_HANDLERS: dict[type[Command], Handler] = {
    RegisterResourceType: register_resource_type,
    RegisterResource: register_resource,
    ChangeResourceStatus: change_resource_status,
}

__all__ = [
    "COMMAND_HANDLERS",
    "change_resource_status",
    "register_resource",
    "register_resource_type",
    "resource_stream",
    "type_stream",
]
