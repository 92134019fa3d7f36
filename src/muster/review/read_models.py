"""The review part's tables, projected from its events (R8).

Imported by the review projections (their writers) and the review queries (their
readers). Everything else the review part reports is computed from the log itself.

- ``review_improvements``: the improvement plan's items (HSEEP IP), each a tracked
  task with an owner department, a due date and a status.
- ``review_pins``: events pinned as significant on an incident's timeline.
- ``review_settings``: the pack's review settings in force (scorecard weights).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text

from muster.core.db import metadata

improvements = Table(
    "review_improvements",
    metadata,
    Column("id", Text, primary_key=True),
    Column("incident_id", Text, nullable=False),
    Column("finding", Text, nullable=False),  # the finding kind it answers
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("owner_department", Text, nullable=False),
    Column("due_at", Text, nullable=False),
    Column("status", Text, nullable=False),  # open, in_progress, done, cancelled
    Column("source_seqs", Text, nullable=False),  # JSON list of event seqs
    Column("adopted_at", Text, nullable=False),
    Column("adopted_by", Text, nullable=False),
    Column("closed_at", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("seq", BigInteger, nullable=False),  # last event that changed the item
    Index("ix_review_improvements_incident", "incident_id"),
    Index("ix_review_improvements_owner", "owner_department", "status"),
)

pins = Table(
    "review_pins",
    metadata,
    Column("incident_id", Text, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("pinned_by", Text, nullable=False),
    Column("pinned_at", Text, nullable=False),
    Column("note", Text, nullable=False),
)

settings = Table(
    "review_settings",
    metadata,
    Column("key", Text, primary_key=True),  # "scorecard"
    Column("document", Text, nullable=False),  # JSON
    Column("set_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

PROJECTED_TABLES = [improvements, pins, settings]

__all__ = ["PROJECTED_TABLES", "improvements", "pins", "settings"]
