"""Tables owned by the resources part, written by ``muster.resources.projections`` and
read through ``muster.resources.queries``.

- ``resource_types``: the typing catalog (kind, unit, capability measure, tiers).
- ``resources``: each department's resources with their current status; the
  history of statuses stays in the log (``resources.ResourceStatusChanged``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, Table, Text

from muster.core.db import metadata

resource_types = Table(
    "resource_types",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("kind", Text, nullable=False),  # team, vehicle, equipment, facility, supply
    Column("unit", Text, nullable=False),
    Column("measure", Text, nullable=True),  # None: counted only
    Column("tiers", Text, nullable=False),  # "I,II,III"; "": not tiered
    Column("registered_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),  # last event that changed the type
)

resources = Table(
    "resources",
    metadata,
    Column("id", Text, primary_key=True),
    Column("department", Text, nullable=False),
    Column("type_code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("capability", Float, nullable=True),  # per unit, in the type's measure
    Column("tier", Text, nullable=True),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("location_name", Text, nullable=False),
    Column("ready_minutes", Integer, nullable=False),
    Column("notes", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("incident_id", Text, nullable=True),  # while assigned/en route/on scene
    Column("status_changed_at", Text, nullable=False),
    Column("registered_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),  # last event that changed the row
    Index("ix_resources_department", "department"),
    Index("ix_resources_type_code", "type_code"),
    Index("ix_resources_status", "status"),
)

PROJECTED_TABLES = [resource_types, resources]

__all__ = ["PROJECTED_TABLES", "resource_types", "resources"]
