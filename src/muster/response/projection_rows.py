"""Row helpers shared by the response projections: JSON text and timer rows."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.engine import Connection

from muster.core.eventlog.prepared import Prepared
from muster.response.read_models import timers

# One encoder for every call: ``json.dumps`` with options builds one each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def to_json(value: object) -> str:
    """Write a JSON column value (stable key order, Chinese kept readable)."""
    return _ENCODER.encode(value)


_DELETE_TIMER = Prepared(delete(timers).where(timers.c.id == bindparam("timer_id")))
_INSERT_TIMER = Prepared(insert(timers))


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
    _DELETE_TIMER.run(conn, {"timer_id": timer_id})
    _INSERT_TIMER.run(
        conn,
        {
            "id": timer_id, "kind": kind, "subject_id": subject,
            "incident_id": incident_id, "due_at": due_at, "round": round_,
            "step": step,
        },
    )  # fmt: skip


def clear_timer(conn: Connection, kind: str, subject: str) -> None:
    """Remove the timer ``kind:subject`` if it exists."""
    _DELETE_TIMER.run(conn, {"timer_id": f"{kind}:{subject}"})


__all__ = ["clear_timer", "set_timer", "to_json"]
