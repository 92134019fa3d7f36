"""Read functions of the situation part, for web, CLI and tests.

Trigger history (firings and clearings, newest last), the instances active now, the
rules in force, and how many batches and alerts wait for evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from muster.situation.read_models import pending, trigger_rules, trigger_state
from muster.situation.read_models import trigger_history as history


@dataclass(frozen=True, slots=True)
class TriggerChange:
    """A rule instance fired or cleared."""

    seq: int
    rule: str
    instance: str
    change: str
    value: float
    threshold: float
    observed_at: str
    incident_id: str | None
    action: str | None
    explanation: str
    recorded_at: str


@dataclass(frozen=True, slots=True)
class ActiveTrigger:
    """A rule instance that holds now."""

    rule: str
    instance: str
    value: float
    threshold: float
    since: str
    incident_id: str | None
    latitude: float | None
    longitude: float | None


def trigger_history(
    conn: Connection,
    *,
    rule: str | None = None,
    incident_id: str | None = None,
    limit: int = 500,
) -> list[TriggerChange]:
    """Return firings and clearings, oldest first (the newest ``limit``)."""
    query = select(history).order_by(history.c.seq.desc()).limit(limit)
    if rule is not None:
        query = query.where(history.c.rule == rule)
    if incident_id is not None:
        query = query.where(history.c.incident_id == incident_id)
    rows = list(conn.execute(query))
    return [TriggerChange(**dict(row._mapping)) for row in reversed(rows)]


def active_triggers(conn: Connection) -> list[ActiveTrigger]:
    """Return the instances that hold now."""
    query = (
        select(trigger_state)
        .where(trigger_state.c.active.is_(True))
        .order_by(trigger_state.c.changed_at, trigger_state.c.rule)
    )
    return [
        ActiveTrigger(
            rule=row.rule,
            instance=row.instance,
            value=row.value,
            threshold=row.threshold,
            since=row.changed_at,
            incident_id=row.incident_id,
            latitude=row.latitude,
            longitude=row.longitude,
        )
        for row in conn.execute(query)
    ]


def rules_document(conn: Connection) -> dict[str, Any] | None:
    """Return the trigger rules in force (the triggers document), or None."""
    row = conn.execute(select(trigger_rules.c.document)).first()
    return dict(json.loads(row[0])) if row is not None else None


def pending_count(conn: Connection) -> int:
    """Return how many batches and alerts wait for evaluation."""
    return int(conn.execute(select(func.count()).select_from(pending)).scalar_one())


__all__ = [
    "ActiveTrigger",
    "TriggerChange",
    "active_triggers",
    "pending_count",
    "rules_document",
    "trigger_history",
]
