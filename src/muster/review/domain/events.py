"""Events of the review part: improvement items and timeline pins.

Streams: ``improvement-{item_id}`` (adopted, then its changes) and
``timeline-pins-{incident_id}`` (pins and unpins of that incident's events). Times
are ISO-8601 UTC strings. Imported by the review handlers and projections, and by
any part that wants to follow them.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, event_type


@event_type("review.ImprovementItemAdopted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ImprovementItemAdopted(Event):
    """An improvement item was adopted for an incident and given to a department."""

    item_id: str
    incident_id: str
    finding: str
    owner_department: str
    title_zh: str
    title_en: str
    due_at: str
    source_seqs: tuple[int, ...]


@event_type("review.ImprovementItemChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ImprovementItemChanged(Event):
    """An item was started, completed or cancelled (status from → to, with a note)."""

    item_id: str
    incident_id: str
    owner_department: str
    action: str
    from_status: str
    to_status: str
    note: str


@event_type("review.TimelineEventPinned", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TimelineEventPinned(Event):
    """An event of an incident's timeline was marked significant (or its note
    changed)."""

    incident_id: str
    seq: int
    note: str


@event_type("review.TimelineEventUnpinned", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TimelineEventUnpinned(Event):
    """The significant mark was removed from a timeline event."""

    incident_id: str
    seq: int


__all__ = [
    "ImprovementItemAdopted",
    "ImprovementItemChanged",
    "TimelineEventPinned",
    "TimelineEventUnpinned",
]
