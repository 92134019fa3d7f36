"""Tables owned by the sharing part, all projected from its events (R8).

Agreements (with their data), access requests, scenario grants, break-glass access,
the access log (one row per decision), personal-information notices, and a policy
version the decision point caches its compiled policy set under. Imported by the
sharing projections, handlers and queries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, Table, Text

from muster.core.db import metadata

agreements = Table(
    "sharing_agreements",
    metadata,
    Column("code", Text, primary_key=True),
    Column("dataset", Text, nullable=False, index=True),
    Column("provider", Text, nullable=False, index=True),
    Column("data", Text, nullable=False),  # JSON of Agreement.to_data()
    Column("status", Text, nullable=False),  # active | revoked
    Column("source", Text, nullable=False),
    Column("registered_at", Text, nullable=False),
    Column("registered_by", Text, nullable=False),
    Column("revoked_at", Text, nullable=True),
    Column("revoke_reason", Text, nullable=True),
)

requests = Table(
    "sharing_requests",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("dataset", Text, nullable=False),
    Column("provider", Text, nullable=False, index=True),
    Column("consumer", Text, nullable=False, index=True),
    Column("fields", Text, nullable=False),
    Column("purposes", Text, nullable=False),
    Column("justification", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("requested_at", Text, nullable=False),
    Column("status", Text, nullable=False),  # pending | approved | denied
    Column("decided_by", Text, nullable=True),
    Column("decided_at", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("agreement_code", Text, nullable=True),
)

grants = Table(
    "sharing_grants",
    metadata,
    Column("grant_id", Text, primary_key=True),
    Column("agreement_code", Text, nullable=False),
    Column("dataset", Text, nullable=False),
    Column("incident_id", Text, nullable=False, index=True),
    Column("level", Text, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("radius_km", Float, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("activated_at", Text, nullable=False),
    Column("ended_at", Text, nullable=True),
    Column("end_reason", Text, nullable=True),
    Column("records_shared", Integer, nullable=False),
)

break_glass = Table(
    "sharing_break_glass",
    metadata,
    Column("break_glass_id", Text, primary_key=True),
    Column("dataset", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("incident_id", Text, nullable=True),
    Column("justification", Text, nullable=False),
    Column("opened_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False, index=True),
)

access_log = Table(
    "sharing_access_log",
    metadata,
    Column("access_id", Text, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("at", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("department", Text, nullable=True),
    Column("dataset", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("purpose", Text, nullable=True),
    Column("incident_id", Text, nullable=True),
    Column("decision", Text, nullable=False),  # allow | aggregate | deny
    Column("policies", Text, nullable=False),  # JSON list
    Column("masks", Text, nullable=False),  # JSON object field -> mask
    Column("records", Integer, nullable=False),
    Column("aggregated", Integer, nullable=False),
    Column("channel", Text, nullable=False),
    Column("reason", Text, nullable=False),
)
Index("ix_sharing_access_log_provider_seq", access_log.c.provider, access_log.c.seq)

notices = Table(
    "sharing_notices",
    metadata,
    Column("notice_id", Text, primary_key=True),
    Column("provider", Text, nullable=False, index=True),
    Column("dataset", Text, nullable=False),
    Column("agreement_code", Text, nullable=False),
    Column("incident_id", Text, nullable=False),
    Column("records_shared", Integer, nullable=False),
    Column("due_at", Text, nullable=False),
    Column("status", Text, nullable=False),  # open | done
    Column("note", Text, nullable=True),
    Column("done_at", Text, nullable=True),
)

policy_version = Table(
    "sharing_policy_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

PROJECTED_TABLES = [
    agreements,
    requests,
    grants,
    break_glass,
    access_log,
    notices,
    policy_version,
]

__all__ = [
    "PROJECTED_TABLES",
    "access_log",
    "agreements",
    "break_glass",
    "grants",
    "notices",
    "policy_version",
    "requests",
]
