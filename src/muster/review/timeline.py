"""An incident's timeline for review: each event classified into a kind, filtered by
department, kind, pins and time, with its pin and a summary in every language.

Owned by review so that response does not depend on review: it reads
``muster.response.queries.incident_timeline`` and the review pins. Summaries come from
the caller (``summarise``: the web edge passes ``muster.web.summaries.Summarizer``),
so this module knows no HTTP. Imported by the review API and pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from muster.core.clock import parse_utc
from muster.core.eventlog.store import SqlEventStore
from muster.response import queries as response
from muster.review.domain.errors import UnknownReviewIncident
from muster.review.queries import PinView, incident_pins

KINDS = (
    "level", "plan", "task", "decision", "report", "escalation", "status", "data",
    "sharing", "situation", "notification", "other",
)  # fmt: skip
TIMELINE_LIMIT = 10_000
# Parts whose every event is one kind.
_PART_KINDS = {
    "catalog": "data",
    "ingest": "data",
    "sharing": "sharing",
    "situation": "situation",
    "notify": "notification",
}
# Within response (and any other part): the first fragment of the name that matches.
_NAME_KINDS = (
    ("Escalation", "escalation"),
    ("Unresponsive", "escalation"),
    ("Level", "level"),
    ("Decision", "decision"),
    ("Report", "report"),
    ("Task", "task"),
    ("Checklist", "task"),
    ("Plan", "plan"),
    ("ResponseActivated", "plan"),
    ("Incident", "status"),
)
# Payload keys that name a department an event concerns (besides its actor's).
_DEPARTMENT_KEYS = (
    "department", "lead_department", "reporting_department", "from_department",
    "to_department", "notify_department", "owner_department", "provider", "consumer",
)  # fmt: skip
_DEPARTMENT_LISTS = ("supporting_departments", "departments")

Summarise = Callable[
    [Connection, list[response.TimelineEntry]], Sequence[Mapping[str, str]]
]
"""Turns timeline entries into summaries by language (``Summarizer.timeline``)."""


def kind_of(event_type: str) -> str:
    """Return the kind of an event type (``response.TaskStarted`` → ``task``)."""
    part, _, name = event_type.partition(".")
    if part in _PART_KINDS:
        return _PART_KINDS[part]
    for fragment, kind in _NAME_KINDS:
        if fragment in name:
            return kind
    return "other"


def departments_of(entry: response.TimelineEntry) -> frozenset[str]:
    """Return the departments an entry concerns: its actor's and those it names."""
    found = {entry.department} if entry.department else set()
    data = entry.data
    found.update(str(data[key]) for key in _DEPARTMENT_KEYS if data.get(key))
    for key in _DEPARTMENT_LISTS:
        value = data.get(key)
        if isinstance(value, list | tuple):
            found.update(str(item) for item in value if item)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    """Which entries to keep; empty sets and None keep everything."""

    departments: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = field(default_factory=frozenset)
    pinned_only: bool = False
    since: datetime | None = None
    until: datetime | None = None

    def keeps(self, entry: response.TimelineEntry, kind: str, *, pinned: bool) -> bool:
        """Tell whether an entry passes the filter."""
        if self.kinds and kind not in self.kinds:
            return False
        if self.pinned_only and not pinned:
            return False
        if self.departments and not self.departments & departments_of(entry):
            return False
        if self.since is not None or self.until is not None:
            at = parse_utc(entry.at)
            if self.since is not None and at < self.since:
                return False
            if self.until is not None and at > self.until:
                return False
        return True


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """One timeline event as review shows it."""

    seq: int
    at: str
    type: str
    kind: str
    actor_id: str
    department: str | None
    departments: tuple[str, ...]
    summaries: Mapping[str, str]
    pin: PinView | None
    data: dict[str, Any]

    @property
    def pinned(self) -> bool:
        """Tell whether the event is pinned as significant."""
        return self.pin is not None

    def to_json(self, language: str) -> dict[str, Any]:
        """Return the entry as a JSON-ready dict with its summary in a language."""
        pin = self.pin
        return {
            "seq": self.seq, "at": self.at, "type": self.type, "kind": self.kind,
            "actor_id": self.actor_id, "department": self.department,
            "departments": list(self.departments), "summary": self.summaries[language],
            "pinned": pin is not None, "pin_note": pin.note if pin else None,
            "pinned_by": pin.pinned_by if pin else None,
            "pinned_at": pin.pinned_at if pin else None, "data": self.data,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReviewTimeline:
    """An incident's filtered timeline and the log it was read from."""

    incident_id: str
    entries: tuple[ReviewEntry, ...]
    total: int  # entries before filtering
    head_seq: int
    head_hash: str

    def log_range(self) -> dict[str, Any]:
        """Return the seqs shown and the chain head the timeline was read at."""
        seqs = [entry.seq for entry in self.entries]
        return {
            "first_seq": min(seqs, default=None),
            "last_seq": max(seqs, default=None),
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
        }


def review_timeline(
    conn: Connection,
    incident_id: str,
    *,
    summarise: Summarise,
    where: TimelineFilter | None = None,
) -> ReviewTimeline:
    """Read an incident's timeline, keep what the filter asks for and summarise it."""
    if response.get_incident(conn, incident_id) is None:
        raise UnknownReviewIncident(f"no incident {incident_id}", incident=incident_id)
    where = where or TimelineFilter()
    head_seq, head_hash = SqlEventStore().head(conn)
    entries = response.incident_timeline(conn, incident_id, limit=TIMELINE_LIMIT)
    pinned = incident_pins(conn, incident_id)
    kept = [
        (entry, kind)
        for entry in entries
        if where.keeps(entry, kind := kind_of(entry.type), pinned=entry.seq in pinned)
    ]
    summaries = summarise(conn, [entry for entry, _kind in kept])
    result = tuple(
        ReviewEntry(
            seq=entry.seq, at=entry.at, type=entry.type, kind=kind,
            actor_id=entry.actor_id, department=entry.department,
            departments=tuple(sorted(departments_of(entry))), summaries=summary,
            pin=pinned.get(entry.seq), data=entry.data,
        )
        for (entry, kind), summary in zip(kept, summaries, strict=True)
    )  # fmt: skip
    return ReviewTimeline(
        incident_id=incident_id,
        entries=result,
        total=len(entries),
        head_seq=head_seq,
        head_hash=head_hash.hex(),
    )


def parse_list(values: Iterable[str]) -> frozenset[str]:
    """Return the items of repeated or comma-separated query values."""
    return frozenset(
        item.strip() for value in values for item in value.split(",") if item.strip()
    )


__all__ = [
    "KINDS",
    "ReviewEntry",
    "ReviewTimeline",
    "Summarise",
    "TimelineFilter",
    "departments_of",
    "kind_of",
    "parse_list",
    "review_timeline",
]
