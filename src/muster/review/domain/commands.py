"""Commands of the review part: adopt and track improvement items, pin timeline events.

Imported by the review handlers (which decide them) and the review edges (API, pages,
CLI), which build them. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from muster.core.messages import Command

ImprovementAction = Literal["start", "complete", "cancel"]
IMPROVEMENT_ACTIONS: tuple[ImprovementAction, ...] = ("start", "complete", "cancel")


@dataclass(frozen=True, kw_only=True, slots=True)
class ImprovementItemDraft:
    """One item of an improvement plan as proposed (HSEEP IP): what to fix, who owns
    it, by when, and the events (seqs) of the finding it answers."""

    finding: str
    owner_department: str
    title_zh: str
    title_en: str
    due_at: str  # ISO-8601 with a zone
    source_seqs: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class AdoptImprovementItems(Command):
    """A commander adopts improvement items for an incident; each becomes a task."""

    incident_id: str
    items: tuple[ImprovementItemDraft, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeImprovementItem(Command):
    """The owner department (or a commander) starts, completes or cancels an item."""

    item_id: str
    action: ImprovementAction
    note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class PinTimelineEvent(Command):
    """Mark an event of an incident's timeline as significant, with a note."""

    incident_id: str
    seq: int
    note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class UnpinTimelineEvent(Command):
    """Remove the significant mark from a timeline event."""

    incident_id: str
    seq: int


__all__ = [
    "IMPROVEMENT_ACTIONS",
    "AdoptImprovementItems",
    "ChangeImprovementItem",
    "ImprovementAction",
    "ImprovementItemDraft",
    "PinTimelineEvent",
    "UnpinTimelineEvent",
]
