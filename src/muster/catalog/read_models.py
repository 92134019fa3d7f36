"""Tables owned by the catalog part. Written by projections.py; read by queries.py."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, Table, Text

from muster.core.db import metadata

datasets = Table(
    "catalog_datasets",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("owner_department", Text, nullable=False, index=True),
    Column("sharing_class", Text, nullable=False),
    Column("sharing_conditions", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("data_grade", Text, nullable=False),
    Column("update_interval_minutes", Integer, nullable=False),
    Column("format", Text, nullable=False),
    Column("connector", Text, nullable=False),
    Column("feed_url", Text, nullable=True),
    Column("csv_mapping", Text, nullable=False),  # JSON object: CSV header -> field
    Column("csv_encoding", Text, nullable=True),
    Column("keywords", Text, nullable=False),  # JSON list of strings
    Column("schema_version", Integer, nullable=False),  # 0 until the first schema
    # Lower-cased code, names, description, keywords and field names, so that one
    # LIKE finds a term case-insensitively on SQLite and PostgreSQL alike.
    Column("search_text", Text, nullable=False),
    Column("registered_at", Text, nullable=False),
    Column("registered_by", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

# The fields of each dataset's current schema version, in schema order.
dataset_fields = Table(
    "catalog_dataset_fields",
    metadata,
    Column("dataset_code", Text, primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("unit", Text, nullable=True),
    Column("required", Boolean, nullable=False),
    Column("sensitivity", Text, nullable=False),
    Column("choices", Text, nullable=False),  # JSON list of strings
    Column("minimum", Float, nullable=True),
    Column("maximum", Float, nullable=True),
    Column("max_length", Integer, nullable=True),
    Column("description_zh", Text, nullable=False),
    Column("description_en", Text, nullable=False),
)

# Every schema version of every dataset, as recorded (fields as a JSON list).
schema_versions = Table(
    "catalog_dataset_schema_versions",
    metadata,
    Column("dataset_code", Text, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("fields", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("recorded_by", Text, nullable=False),
)

PROJECTED_TABLES = [datasets, dataset_fields, schema_versions]

__all__ = ["PROJECTED_TABLES", "dataset_fields", "datasets", "schema_versions"]
