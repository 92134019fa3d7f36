"""Tables of the event log: events, checkpoints and projection positions.

Only ``core.eventlog.store`` and ``core.uow`` write to them (R7). The event envelope is
stored once, as the exact RFC 8785 bytes that were hashed; every other event column is a
generated column over it, so no column can drift from what the chain covers (ADR 0002).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import UserDefinedType

from muster.core.db import metadata


class CanonicalJsonText(UserDefinedType[str]):
    """Exact JSON text: TEXT on SQLite, ``json`` (keeps input text) on PostgreSQL."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        """Return the SQLite column type."""
        return "TEXT"


@compiles(CanonicalJsonText, "postgresql")
def _json_on_postgres(_type: CanonicalJsonText, _compiler: Any, **_kw: Any) -> str:
    return "JSON"


Seq = BigInteger().with_variant(Integer(), "sqlite")


def _generated(path: str, *, integer: bool = False) -> Computed:
    expression = f"body ->> '{path}'"
    if integer:
        expression = f"CAST({expression} AS BIGINT)"
    return Computed(expression, persisted=True)


events = Table(
    "events",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("body", CanonicalJsonText(), nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("event_id", Text, _generated("event_id")),
    Column("type", Text, _generated("type")),
    Column("version", BigInteger, _generated("version", integer=True)),
    Column("stream_id", Text, _generated("stream_id")),
    Column("stream_version", BigInteger, _generated("stream_version", integer=True)),
    Column("occurred_at", Text, _generated("occurred_at")),
    Column("recorded_at", Text, _generated("recorded_at")),
    Column("actor_id", Text, _generated("actor_id")),
    Column("actor_department", Text, _generated("actor_department")),
    UniqueConstraint("stream_id", "stream_version"),
    UniqueConstraint("event_id"),
)
Index("ix_events_type", events.c.type)
Index("ix_events_recorded_at", events.c.recorded_at)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)

projection_positions = Table(
    "projection_positions",
    metadata,
    Column("name", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

__all__ = ["CanonicalJsonText", "checkpoints", "events", "projection_positions"]
