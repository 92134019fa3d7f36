"""Tables owned by the alerting part, written by ``muster.alerting.projections`` and
read through ``muster.alerting.queries``.

- ``alerting_templates``: the warning templates in force (one row).
- ``alerts``: every alert with its workflow state, its content and, once published,
  the exact CAP XML that went out.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, Table, Text

from muster.core.db import metadata

templates = Table(
    "alerting_templates",
    metadata,
    Column("key", Text, primary_key=True),  # "current"
    Column("document", Text, nullable=False),  # JSON
    Column("seq", BigInteger, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("hazard", Text, nullable=False),
    Column("colour", Text, nullable=False),
    Column("state", Text, nullable=False),  # draft, approved, published, discarded
    Column("msg_type", Text, nullable=False),
    Column("status", Text, nullable=False),  # Actual, Exercise
    Column("identifier", Text, nullable=False),
    Column("sender", Text, nullable=False),
    Column("headline", Text, nullable=False),  # the first info's
    Column("content", Text, nullable=False),  # JSON: content_to_dict
    Column("required_departments", Text, nullable=False),  # JSON list
    Column("decision_id", Text, nullable=True),
    Column("follows", Text, nullable=True),
    Column("superseded_by", Text, nullable=True),
    Column("author", Text, nullable=False),
    Column("author_department", Text, nullable=True),
    Column("approver", Text, nullable=True),
    Column("approved_at", Text, nullable=True),
    Column("population", Integer, nullable=True),
    Column("sent", Text, nullable=True),
    Column("xml", Text, nullable=True),
    Column("digest", Text, nullable=True),
    Column("signed", Boolean, nullable=False),
    Column("drafted_at", Text, nullable=False),
    Column("published_at", Text, nullable=True),
    Column("discard_reason", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_alerts_incident", "incident_id"),
    Index("ix_alerts_state", "state"),
    Index("ix_alerts_identifier", "identifier"),
    Index("ix_alerts_published_at", "published_at"),
)

PROJECTED_TABLES = [templates, alerts]

__all__ = ["PROJECTED_TABLES", "alerts", "templates"]
