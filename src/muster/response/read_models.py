"""Tables owned by the response part. Written by projections.py; read by queries.py."""

from __future__ import annotations

from sqlalchemy import Column, Float, Table, Text

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
)

PROJECTED_TABLES = [incidents]

__all__ = ["PROJECTED_TABLES", "incidents"]
