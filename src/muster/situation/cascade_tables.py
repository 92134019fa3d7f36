"""The situation part's table of the cascade model in force, projected from
``CascadeModelRegistered`` (R8). Imported by the cascade handlers (its projector)
and the assessment service.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Table, Text

from muster.core.db import metadata

cascade_model = Table(
    "situation_cascade_model",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # always 1
    Column("document", Text, nullable=False),  # JSON: the checked cascades.yaml
    Column("hazards", BigInteger, nullable=False),
    Column("rules", BigInteger, nullable=False),
    Column("registered_at", Text, nullable=False),
)

CASCADE_TABLES = (cascade_model,)

__all__ = ["CASCADE_TABLES", "cascade_model"]
