"""Commands of the resources part: register types and resources, change a status.

Sent by the pack loader (``resources.yaml``), the CLI, the API and the resource
board; handled by ``muster.resources.handlers``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


__all__ = ["ChangeResourceStatus", "RegisterResource", "RegisterResourceType"]
