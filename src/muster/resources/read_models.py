"""Tables owned by the resources part, written by ``muster.resources.projections`` and
read through ``muster.resources.queries``.

- ``resource_types``: the typing catalog (kind, unit, capability measure, tiers).
- ``resources``: each department's resources with their current status; the
  history of statuses stays in the log (``resources.ResourceStatusChanged``).
- ``resource_requests``, ``resource_commitments``, ``resource_request_declines``:
  requests for resources, the units committed to them (tracked until released) and
  departments' refusals; a request's status is derived from them.
- ``resource_allocation_proposals``: the optimiser's recorded proposals and the
  commander's decision on each.
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

resource_requests = Table(
    "resource_requests",
    metadata,
    Column("id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("type_code", Text, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("min_capability", Float, nullable=True),
    Column("max_tier", Text, nullable=True),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("location_name", Text, nullable=False),
    Column("needed_by", Text, nullable=True),
    Column("priority", Integer, nullable=False),
    Column("to_department", Text, nullable=True),
    Column("task_id", Text, nullable=True),
    Column("note", Text, nullable=False),
    Column("external_ref", Text, nullable=False),
    Column("status", Text, nullable=False),  # RequestStatus, derived
    Column("committed_units", BigInteger, nullable=False),  # active commitments
    Column("cancel_reason", Text, nullable=False),
    Column("requested_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_resource_requests_incident", "incident_id"),
    Index("ix_resource_requests_status", "status"),
)

resource_commitments = Table(
    "resource_commitments",
    metadata,
    Column("id", Text, primary_key=True),
    Column("request_id", Text, nullable=False),
    Column("incident_id", Text, nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("status", Text, nullable=False),  # CommitmentStatus
    Column("eta", Text, nullable=True),
    Column("note", Text, nullable=False),
    Column("proposal_id", Text, nullable=True),
    Column("external_ref", Text, nullable=False),
    Column("committed_at", Text, nullable=False),
    Column("status_changed_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_resource_commitments_request", "request_id"),
    Index("ix_resource_commitments_resource", "resource_id"),
)

request_declines = Table(
    "resource_request_declines",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("department", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("external_ref", Text, nullable=False),
    Column("declined_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

allocation_proposals = Table(
    "resource_allocation_proposals",
    metadata,
    Column("id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("document", Text, nullable=False),  # JSON: the proposal as shown
    Column("status", Text, nullable=False),  # proposed, approved, rejected
    Column("edited", Integer, nullable=False),
    Column("decision_reason", Text, nullable=False),
    Column("decided_by", Text, nullable=True),
    Column("approved", Text, nullable=False),  # JSON: the assignments approved
    Column("proposed_by", Text, nullable=False),
    Column("proposed_at", Text, nullable=False),
    Column("decided_at", Text, nullable=True),
    Column("seq", BigInteger, nullable=False),
    Index("ix_resource_allocation_proposals_incident", "incident_id"),
)

PROJECTED_TABLES = [resource_types, resources]
REQUEST_TABLES = [
    resource_requests,
    resource_commitments,
    request_declines,
    allocation_proposals,
]

__all__ = [
    "PROJECTED_TABLES",
    "REQUEST_TABLES",
    "allocation_proposals",
    "request_declines",
    "resource_commitments",
    "resource_requests",
    "resource_types",
    "resources",
]
