"""Row helpers shared by the response projections: JSON text and timer rows."""

from __future__ import annotations

import json

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from muster.response.read_models import timers


def to_json(value: object) -> str:
    """Write a JSON column value (stable key order, Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def set_timer(
    conn: Connection,
    kind: str,
    subject: str,
    incident_id: str,
    due_at: str,
    *,
    round_: int = 0,
    step: int = 0,
) -> None:
    """Create or move the timer ``kind:subject``."""
    timer_id = f"{kind}:{subject}"
    conn.execute(delete(timers).where(timers.c.id == timer_id))
    conn.execute(
        insert(timers),
        {
            "id": timer_id, "kind": kind, "subject_id": subject,
            "incident_id": incident_id, "due_at": due_at, "round": round_,
            "step": step,
        },
    )  # fmt: skip


def clear_timer(conn: Connection, kind: str, subject: str) -> None:
    """Remove the timer ``kind:subject`` if it exists."""
    conn.execute(delete(timers).where(timers.c.id == f"{kind}:{subject}"))


__all__ = ["clear_timer", "set_timer", "to_json"]
