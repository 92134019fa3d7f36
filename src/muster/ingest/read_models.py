"""Tables owned by the ingest part.

Two kinds (ADR 0006): *projected* tables rebuilt from events (batches, quality), and
the *batch store* (records, observations, quarantine, CAP alerts, resource messages),
written by the handlers in the same transaction as the event that records each batch's
count and digest. Record contents never go into the log: volume, and personal data.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
)

from muster.core.db import metadata

batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", Text, primary_key=True),
    Column("dataset_code", Text, nullable=False, index=True),
    Column("kind", Text, nullable=False),  # records | observations
    Column("source", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("encoding", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("received_at", Text, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    UniqueConstraint("dataset_code", "digest"),
)

quality = Table(
    "ingest_quality",
    metadata,
    Column("dataset_code", Text, primary_key=True),
    Column("measure", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("value", Float, nullable=True),
    Column("detail", Text, nullable=False),
    Column("changed_at", Text, nullable=False),
)

PROJECTED_TABLES = [batches, quality]

records = Table(
    "ingest_records",
    metadata,
    Column("batch_id", Text, primary_key=True),
    Column("ordinal", Integer, primary_key=True),
    Column("dataset_code", Text, nullable=False, index=True),
    Column("locator", Text, nullable=False),
    Column("record_values", Text, nullable=False),  # JSON object of typed values
    Column("geometry", Text, nullable=True),  # GeoJSON geometry
    Column("received_at", Text, nullable=False),
)

observations = Table(
    "ingest_observations",
    metadata,
    Column("batch_id", Text, primary_key=True),
    Column("ordinal", Integer, primary_key=True),
    Column("dataset_code", Text, nullable=False),
    Column("station", Text, nullable=False),
    Column("metric", Text, nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", Text, nullable=True),
    Column("observed_at", Text, nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
)
Index(
    "ix_ingest_observations_dataset_time",
    observations.c.dataset_code,
    observations.c.observed_at,
)
Index(
    "ix_ingest_observations_station_time",
    observations.c.station,
    observations.c.observed_at,
)

quarantine = Table(
    "ingest_quarantine",
    metadata,
    Column("id", Text, primary_key=True),
    Column("dataset_code", Text, nullable=True),
    Column("batch_id", Text, nullable=True),
    Column("source", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("locator", Text, nullable=False),
    Column("line", Integer, nullable=True),
    Column("content", Text, nullable=False),  # JSON values, or the document's text
    Column("reasons", Text, nullable=False),  # JSON list of {field, rule, message}
    Column("status", Text, nullable=False),  # open | accepted | discarded
    Column("created_at", Text, nullable=False),
    Column("resolved_at", Text, nullable=True),
    Column("resolution", Text, nullable=True),
)
Index(
    "ix_ingest_quarantine_dataset_status",
    quarantine.c.dataset_code,
    quarantine.c.status,
)

cap_alerts = Table(
    "ingest_cap_alerts",
    metadata,
    Column("alert_key", Text, primary_key=True),  # sender,identifier,sent
    Column("identifier", Text, nullable=False),
    Column("sender", Text, nullable=False),
    Column("sent", Text, nullable=False),
    Column("msg_type", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("digest", Text, nullable=False, unique=True),
    Column("signature", Text, nullable=False),
    Column("signature_detail", Text, nullable=False),
    Column("infos", Integer, nullable=False),
    Column("areas", Integer, nullable=False),
    Column("summary", Text, nullable=False),  # JSON: infos, areas, parameters, codes
    Column("raw", Text, nullable=False),  # the document as received (decoded)
    Column("dataset_code", Text, nullable=True),
    Column("source", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)

cap_references = Table(
    "ingest_cap_references",
    metadata,
    Column("alert_key", Text, primary_key=True),
    Column("referenced_key", Text, primary_key=True),
)

resource_messages = Table(
    "ingest_resource_messages",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("message_type", Text, nullable=False),
    Column("sent", Text, nullable=True),
    Column("digest", Text, nullable=False, unique=True),
    Column("content", Text, nullable=False),  # JSON of the parsed message
    Column("source", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)

__all__ = [
    "PROJECTED_TABLES",
    "batches",
    "cap_alerts",
    "cap_references",
    "observations",
    "quality",
    "quarantine",
    "records",
    "resource_messages",
]
