"""Tables owned by the situation part, all projected from events (R8).

The trigger rules in force, the state of each rule instance (rule × station, group
or alert area: active or not, last value, the incident it fed), the history of
firings and clearings, fused reports and their clusters, and the queue of
observation batches, records batches and CAP alerts not yet evaluated (filled from
ingest's events in the ingest transaction, emptied by ``TriggersEvaluated``: nothing
is skipped, even after a crash). Imported by the situation projections, service and
queries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Table, Text

from muster.core.db import metadata
from muster.situation.cascade_tables import cascade_model

trigger_rules = Table(
    "situation_trigger_rules",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # always 1
    Column("document", Text, nullable=False),
    Column("rules", BigInteger, nullable=False),
    Column("registered_at", Text, nullable=False),
)

trigger_state = Table(
    "situation_trigger_state",
    metadata,
    Column("rule", Text, primary_key=True),
    Column("instance", Text, primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("value", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("changed_at", Text, nullable=False),
    Column("incident_id", Text, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
)

trigger_history = Table(
    "situation_trigger_history",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("rule", Text, nullable=False, index=True),
    Column("instance", Text, nullable=False),
    Column("change", Text, nullable=False),  # fired | cleared
    Column("value", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("observed_at", Text, nullable=False),
    Column("incident_id", Text, nullable=True, index=True),
    Column("action", Text, nullable=True),
    Column("explanation", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
)

pending = Table(
    "situation_pending",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", Text, nullable=False),  # observations | cap
    Column("ref", Text, nullable=False),  # batch id | alert key
    Column("dataset_code", Text, nullable=True),
    Column("added_at", Text, nullable=False),
)

reports = Table(
    "situation_reports",
    metadata,
    Column("report_id", Text, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("received_at", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("cluster_id", Text, nullable=False, index=True),
    Column("joined", Boolean, nullable=False),
    Column("relation", Text, nullable=True),
    Column("distance_km", Float, nullable=True),
    Column("minutes_apart", Float, nullable=True),
    Column("score", Float, nullable=False),
)

clusters = Table(
    "situation_clusters",
    metadata,
    Column("cluster_id", Text, primary_key=True),
    Column("status", Text, nullable=False),  # open | merged
    Column("merged_into", Text, nullable=True),
    Column("incident_id", Text, nullable=True, index=True),
    Column("link_action", Text, nullable=True),
    Column("link_explanation", Text, nullable=True),
    Column("category", Text, nullable=False),
    Column("first_at", Text, nullable=False),
    Column("last_at", Text, nullable=False, index=True),
    Column("reports", BigInteger, nullable=False),
)

assessments = Table(
    "situation_assessments",
    metadata,
    Column("assessment_id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False, index=True),
    Column("topic", Text, nullable=False),
    Column("departments", Text, nullable=False),  # JSON list
    Column("status", Text, nullable=False),  # open | concluded
    Column("opened_by", Text, nullable=False),
    Column("opened_at", Text, nullable=False),
    Column("conclusion", Text, nullable=True),
    Column("level", Text, nullable=True),
    Column("decision_id", Text, nullable=True),
    Column("concluded_at", Text, nullable=True),
)

views = Table(
    "situation_assessment_views",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("assessment_id", Text, nullable=False, index=True),
    Column("department", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("confidence", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", Text, nullable=False),
)

PROJECTED_TABLES = (
    cascade_model,
    assessments,
    views,
    trigger_rules,
    trigger_state,
    trigger_history,
    pending,
    reports,
    clusters,
)

__all__ = [
    "PROJECTED_TABLES",
    "assessments",
    "clusters",
    "pending",
    "reports",
    "trigger_history",
    "trigger_rules",
    "trigger_state",
    "views",
]
