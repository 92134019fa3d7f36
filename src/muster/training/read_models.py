"""Tables owned by the training part, written by ``muster.training.projections`` and
read through ``muster.training.queries``.

- ``training_courses``: the course catalogue (role, tier, validity).
- ``training_records``: who completed which course on which day, until when it
  counts; one row per (user, course, day), the latest recording wins.

Drill participation is not projected: ``muster.training.drill_log`` reads the
``drills.DrillCompleted`` events from the log by type name.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, Table, Text

from muster.core.db import metadata

courses = Table(
    "training_courses",
    metadata,
    Column("code", Text, primary_key=True),
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("tier", Text, nullable=False),  # basic, advanced
    Column("validity_months", Integer, nullable=True),  # None: does not expire
    Column("registered_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),  # last event that changed the course
)

records = Table(
    "training_records",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("course", Text, primary_key=True),
    Column("completed_on", Text, primary_key=True),  # YYYY-MM-DD
    Column("username", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("expires_on", Text, nullable=True),  # YYYY-MM-DD, exclusive; None: never
    Column("recorded_at", Text, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_training_records_course", "course"),
)

PROJECTED_TABLES = [courses, records]

__all__ = ["PROJECTED_TABLES", "courses", "records"]
