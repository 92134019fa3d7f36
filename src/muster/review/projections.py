"""Projections of the review part: improvement items and timeline pins into
``review_improvements`` and ``review_pins``. Imported by bootstrap only.

The ``review_settings`` table has its own projection set; this one owns only the two
tables above, so a rebuild of "review" leaves the settings alone.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.review.domain import events as ev
from muster.review.domain.improvements import CLOSED, OPEN
from muster.review.read_models import improvements, pins


def on_improvement_item_adopted(
    event: ev.ImprovementItemAdopted, envelope: Envelope, conn: Connection
) -> None:
    """Add the adopted item, open."""
    conn.execute(
        insert(improvements),
        {
            "id": event.item_id,
            "incident_id": event.incident_id,
            "finding": event.finding,
            "title_zh": event.title_zh,
            "title_en": event.title_en,
            "owner_department": event.owner_department,
            "due_at": event.due_at,
            "status": OPEN,
            "source_seqs": json.dumps(list(event.source_seqs)),
            "adopted_at": envelope.occurred_at,
            "adopted_by": envelope.actor_id,
            "closed_at": None,
            "note": None,
            "seq": envelope.seq,
        },
    )


def on_improvement_item_changed(
    event: ev.ImprovementItemChanged, envelope: Envelope, conn: Connection
) -> None:
    """Move the item to its new status, keeping the latest note."""
    values: dict[str, object] = {
        "status": event.to_status,
        "closed_at": envelope.occurred_at if event.to_status in CLOSED else None,
        "seq": envelope.seq,
    }
    if event.note:
        values["note"] = event.note
    conn.execute(
        update(improvements).where(improvements.c.id == event.item_id).values(values)
    )


def on_timeline_event_pinned(
    event: ev.TimelineEventPinned, envelope: Envelope, conn: Connection
) -> None:
    """Pin the event (replacing an earlier pin's note, author and time)."""
    where = (pins.c.incident_id == event.incident_id) & (pins.c.seq == event.seq)
    conn.execute(delete(pins).where(where))
    conn.execute(
        insert(pins),
        {
            "incident_id": event.incident_id,
            "seq": event.seq,
            "pinned_by": envelope.actor_id,
            "pinned_at": envelope.occurred_at,
            "note": event.note,
        },
    )


def on_timeline_event_unpinned(
    event: ev.TimelineEventUnpinned, _envelope: Envelope, conn: Connection
) -> None:
    """Remove the pin."""
    conn.execute(
        delete(pins).where(
            (pins.c.incident_id == event.incident_id) & (pins.c.seq == event.seq)
        )
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    ev.ImprovementItemAdopted: [on_improvement_item_adopted],
    ev.ImprovementItemChanged: [on_improvement_item_changed],
    ev.TimelineEventPinned: [on_timeline_event_pinned],
    ev.TimelineEventUnpinned: [on_timeline_event_unpinned],
}

PROJECTIONS = ProjectionSet(
    name="review", handlers=_PROJECTORS, tables=[improvements, pins]
)

__all__ = ["PROJECTIONS"]
