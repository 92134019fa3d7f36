"""Read functions of the review part: improvement items (with ``overdue`` against the
clock) and an incident's timeline pins.

Imported by the review edges (API, pages, CLI) and by ``muster.review.timeline``;
reads only the review tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.core.clock import isoformat_utc
from muster.review.domain.improvements import CLOSED, STATUSES
from muster.review.read_models import improvements, pins

ACTIVE = "active"  # open or in progress
OVERDUE = "overdue"  # active and past due
STATUS_FILTERS = (*STATUSES, ACTIVE, OVERDUE)


@dataclass(frozen=True, slots=True)
class ImprovementView:
    """An improvement item as listed, with ``overdue`` computed at read time."""

    id: str
    incident_id: str
    finding: str
    title_zh: str
    title_en: str
    owner_department: str
    due_at: str
    status: str
    source_seqs: tuple[int, ...]
    adopted_at: str
    adopted_by: str
    closed_at: str | None
    note: str | None
    seq: int
    overdue: bool

    def title(self, language: str) -> str:
        """Return the title in the given language."""
        return self.title_zh if language == "zh-CN" else self.title_en

    @property
    def is_closed(self) -> bool:
        """Tell whether the item is done or cancelled."""
        return self.status in CLOSED

    def to_json(self) -> dict[str, Any]:
        """Return the item as a JSON-ready dict."""
        return {
            "id": self.id, "incident_id": self.incident_id, "finding": self.finding,
            "title_zh": self.title_zh, "title_en": self.title_en,
            "owner_department": self.owner_department, "due_at": self.due_at,
            "status": self.status, "overdue": self.overdue,
            "source_seqs": list(self.source_seqs), "adopted_at": self.adopted_at,
            "adopted_by": self.adopted_by, "closed_at": self.closed_at,
            "note": self.note, "seq": self.seq,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class PinView:
    """A pinned timeline event: who pinned it, when, and why."""

    incident_id: str
    seq: int
    pinned_by: str
    pinned_at: str
    note: str


def _improvement(row: Any, now: str) -> ImprovementView:
    return ImprovementView(
        id=row.id, incident_id=row.incident_id, finding=row.finding,
        title_zh=row.title_zh, title_en=row.title_en,
        owner_department=row.owner_department, due_at=row.due_at, status=row.status,
        source_seqs=tuple(json.loads(row.source_seqs)), adopted_at=row.adopted_at,
        adopted_by=row.adopted_by, closed_at=row.closed_at, note=row.note,
        seq=row.seq, overdue=row.status not in CLOSED and row.due_at < now,
    )  # fmt: skip


def list_improvements(
    conn: Connection,
    *,
    now: datetime,
    incident_id: str | None = None,
    department: str | None = None,
    status: str | None = None,
) -> list[ImprovementView]:
    """Return improvement items by due time and department, filtered by incident,
    owner department and status (one of ``STATUS_FILTERS``; ``active`` is open or in
    progress, ``overdue`` is active and past due at ``now``)."""
    at = isoformat_utc(now)
    query = select(improvements).order_by(
        improvements.c.due_at,
        improvements.c.owner_department,
        improvements.c.adopted_at,
        improvements.c.id,
    )
    if incident_id:
        query = query.where(improvements.c.incident_id == incident_id)
    if department:
        query = query.where(improvements.c.owner_department == department)
    if status in STATUSES:
        query = query.where(improvements.c.status == status)
    elif status in (ACTIVE, OVERDUE):
        query = query.where(improvements.c.status.not_in(sorted(CLOSED)))
    if status == OVERDUE:
        query = query.where(improvements.c.due_at < at)
    return [_improvement(row, at) for row in conn.execute(query)]


def get_improvement(
    conn: Connection, item_id: str, *, now: datetime
) -> ImprovementView | None:
    """Return one improvement item, or None."""
    row = conn.execute(select(improvements).where(improvements.c.id == item_id)).first()
    return _improvement(row, isoformat_utc(now)) if row is not None else None


def incident_pins(conn: Connection, incident_id: str) -> dict[int, PinView]:
    """Return an incident's pinned events by seq."""
    rows = conn.execute(
        select(pins).where(pins.c.incident_id == incident_id).order_by(pins.c.seq)
    )
    return {
        row.seq: PinView(
            incident_id=row.incident_id, seq=row.seq, pinned_by=row.pinned_by,
            pinned_at=row.pinned_at, note=row.note,
        )
        for row in rows
    }  # fmt: skip


__all__ = [
    "ACTIVE",
    "OVERDUE",
    "STATUS_FILTERS",
    "ImprovementView",
    "PinView",
    "get_improvement",
    "incident_pins",
    "list_improvements",
]
