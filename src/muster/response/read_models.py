"""Tables owned by the response part. Written by projections.py; read by queries.py.

JSON-valued columns hold text written with ``json.dumps`` (lists, small objects).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, Table, Text

from muster.core.db import metadata

incidents = Table(
    "response_incidents",
    metadata,
    Column("id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reporting_department", Text, nullable=False),
    Column("opened_at", Text, nullable=False, index=True),
    Column("opened_by", Text, nullable=False),
    Column("type_code", Text, nullable=True),
    Column("plan_code", Text, nullable=True),
    Column("plan_version", Integer, nullable=True),
    Column("level", Text, nullable=True),
    Column("lead_department", Text, nullable=True),
    Column("supporting_departments", Text, nullable=False, server_default="[]"),
    Column("command_roles", Text, nullable=False, server_default="{}"),
    Column("updated_at", Text, nullable=True),
    Column("facts", Text, nullable=False, server_default="{}"),
)

plans = Table(
    "response_plans",
    metadata,
    Column("code", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("categories", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("registered_at", Text, nullable=False),
)

chains = Table(
    "response_chains",
    metadata,
    Column("department", Text, primary_key=True),  # "*" is the default chain
    Column("steps", Text, nullable=False),
    Column("repeat", Integer, nullable=False),
    Column("repeat_after", Integer, nullable=False),
)

tasks = Table(
    "response_tasks",
    metadata,
    Column("id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False, index=True),
    Column("template_key", Text, nullable=True),
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("lead_department", Text, nullable=False, index=True),
    Column("supporting_departments", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("due_at", Text, nullable=False),
    Column("ack_due_at", Text, nullable=False),
    Column("depends_on", Text, nullable=False),
    Column("checklist", Text, nullable=False),
    Column("checked", Text, nullable=False),
    Column("from_plan", Boolean, nullable=False),
    Column("overdue", Boolean, nullable=False),
    Column("escalation_round", Integer, nullable=False),
    Column("escalation_step", Integer, nullable=False),
    Column("assigned_at", Text, nullable=False),
    Column("acknowledged_at", Text, nullable=True),
    Column("done_at", Text, nullable=True),
    Column("last_note", Text, nullable=False),
    Column("version", Integer, nullable=False),
)

timers = Table(
    "response_timers",
    metadata,
    Column("id", Text, primary_key=True),  # kind:subject
    Column("kind", Text, nullable=False),  # ack | due | report | decision
    Column("subject_id", Text, nullable=False),
    Column("incident_id", Text, nullable=False, index=True),
    Column("due_at", Text, nullable=False),
    Column("round", Integer, nullable=False),
    Column("step", Integer, nullable=False),
    Index("ix_response_timers_due", "due_at", "id"),
)

decisions = Table(
    "response_decisions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False, index=True),
    Column("decision_key", Text, nullable=True),
    Column("title", Text, nullable=False),
    Column("proposal", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("departments", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("veto", Text, nullable=False),
    Column("deadline_at", Text, nullable=False),
    Column("raises_to", Text, nullable=True),
    Column("positions", Text, nullable=False),  # {dept: {position, comment, at, by}}
    Column("outcome", Text, nullable=True),
    Column("proposed_at", Text, nullable=False),
    Column("proposed_by", Text, nullable=False),
    Column("closed_at", Text, nullable=True),
)

reports = Table(
    "response_reports",
    metadata,
    Column("incident_id", Text, primary_key=True),
    Column("obligation", Text, primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("due_at", Text, nullable=True),
    Column("follow_up_minutes", Integer, nullable=True),
    Column("sent_count", Integer, nullable=False),
    Column("overdue_count", Integer, nullable=False),
    Column("last_sent_at", Text, nullable=True),
)

sitreps = Table(
    "response_sitreps",
    metadata,
    Column("id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False, index=True),
    Column("obligation", Text, nullable=True),
    Column("department", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("sent_at", Text, nullable=False),
    Column("sent_by", Text, nullable=False),
)

unresponsive = Table(
    "response_unresponsive",
    metadata,
    Column("incident_id", Text, primary_key=True),
    Column("department", Text, primary_key=True),
    Column("task_id", Text, nullable=False),
    Column("marked_at", Text, nullable=False),
)

timeline = Table(
    "response_timeline",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("incident_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("actor_id", Text, nullable=False),
    Column("department", Text, nullable=True),
    Column("data", Text, nullable=False),
    Index("ix_response_timeline_incident", "incident_id", "seq"),
)

PROJECTED_TABLES = [
    incidents,
    plans,
    chains,
    tasks,
    timers,
    decisions,
    reports,
    sitreps,
    unresponsive,
    timeline,
]

__all__ = [
    "PROJECTED_TABLES",
    "chains",
    "decisions",
    "incidents",
    "plans",
    "reports",
    "sitreps",
    "tasks",
    "timeline",
    "timers",
    "unresponsive",
]
