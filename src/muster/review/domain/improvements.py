"""Rules of the improvement plan (HSEEP IP): adopting items and moving them along.

Pure (stdlib only). The review handlers load what the rules need (departments, the
item's events, the clock) and call ``adopt``, ``change`` and ``evolve``; the review
pages and queries use ``may_change`` and ``is_overdue`` so that what a person is
offered matches what the handler allows.

An item's life: ``open`` → ``in_progress`` → ``done``, or ``cancelled`` from either
open state. Closed items (done, cancelled) never change again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from muster.core.errors import PermissionDenied
from muster.core.messages import Actor, Event
from muster.review.domain.commands import ImprovementAction, ImprovementItemDraft
from muster.review.domain.errors import (
    ImprovementInvalid,
    ImprovementItemClosed,
    ImprovementTransitionRefused,
)
from muster.review.domain.events import ImprovementItemAdopted, ImprovementItemChanged

OPEN = "open"
IN_PROGRESS = "in_progress"
DONE = "done"
CANCELLED = "cancelled"
STATUSES = (OPEN, IN_PROGRESS, DONE, CANCELLED)
CLOSED = frozenset({DONE, CANCELLED})
ADOPTING_ROLES = ("commander", "admin", "system")
OWNER_ROLES = ("duty_officer", "head")
MAX_ITEMS = 100
MAX_TITLE = 300
MAX_NOTE = 2000
# What each action needs the item to be, and what it makes it.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({OPEN}), IN_PROGRESS),
    "complete": (frozenset({OPEN, IN_PROGRESS}), DONE),
    "cancel": (frozenset({OPEN, IN_PROGRESS}), CANCELLED),
}
NOTE_REQUIRED = frozenset({"complete", "cancel"})


@dataclass(frozen=True, slots=True)
class ImprovementItem:
    """An adopted item as its events leave it."""

    item_id: str
    incident_id: str
    owner_department: str
    due_at: str
    status: str
    version: int


def may_adopt(actor: Actor) -> bool:
    """Tell whether the actor may adopt improvement items (commander or admin)."""
    return actor.has_role(*ADOPTING_ROLES)


def may_change(actor: Actor, owner_department: str) -> bool:
    """Tell whether the actor may move an item of this department along: its duty
    officer or head, or a commander or admin."""
    if actor.has_role(*ADOPTING_ROLES):
        return True
    return actor.department == owner_department and actor.has_role(*OWNER_ROLES)


def is_overdue(due_at: str, status: str, now: datetime) -> bool:
    """Tell whether an item is past its due time and still not closed."""
    return status not in CLOSED and _moment(due_at) < now


def adopt(
    drafts: Iterable[ImprovementItemDraft],
    *,
    incident_id: str,
    actor: Actor,
    departments: frozenset[str],
    now: datetime,
    new_id: Callable[[], str],
) -> list[ImprovementItemAdopted]:
    """Check the drafts and return one adoption event per item, or refuse them all."""
    if not may_adopt(actor):
        raise PermissionDenied(
            "adopting improvement items needs the commander or admin role",
            action="adopt_improvements",
        )
    items = list(drafts)
    if not items or len(items) > MAX_ITEMS:
        raise ImprovementInvalid(
            f"adopt 1 to {MAX_ITEMS} improvement items at once", field="items"
        )
    return [_adopted(draft, incident_id, departments, now, new_id()) for draft in items]


def _adopted(
    draft: ImprovementItemDraft,
    incident_id: str,
    departments: frozenset[str],
    now: datetime,
    item_id: str,
) -> ImprovementItemAdopted:
    finding = draft.finding.strip()
    title_zh, title_en = draft.title_zh.strip(), draft.title_en.strip()
    if not finding:
        raise ImprovementInvalid("name the finding the item answers", field="finding")
    if not title_zh or not title_en:
        raise ImprovementInvalid(
            "give the item a title in Chinese and in English", field="title"
        )
    if len(title_zh) > MAX_TITLE or len(title_en) > MAX_TITLE:
        raise ImprovementInvalid(
            f"titles have at most {MAX_TITLE} characters", field="title"
        )
    if draft.owner_department not in departments:
        raise ImprovementInvalid(
            f"no department {draft.owner_department}",
            field="owner_department",
            department=draft.owner_department,
        )
    due = _due(draft.due_at)
    if due <= now:
        raise ImprovementInvalid(
            f"the due time {draft.due_at} is not in the future", field="due_at"
        )
    if any(seq < 1 for seq in draft.source_seqs):
        raise ImprovementInvalid("event seqs start at 1", field="source_seqs")
    return ImprovementItemAdopted(
        item_id=item_id,
        incident_id=incident_id,
        finding=finding,
        owner_department=draft.owner_department,
        title_zh=title_zh,
        title_en=title_en,
        due_at=_iso(due),
        source_seqs=tuple(sorted(set(draft.source_seqs))),
    )


def change(
    item: ImprovementItem, *, action: ImprovementAction, note: str, actor: Actor
) -> ImprovementItemChanged:
    """Start, complete or cancel an item, or explain why not."""
    if not may_change(actor, item.owner_department):
        raise PermissionDenied(
            f"only {item.owner_department}'s duty officer or head, or a commander, "
            "changes this item",
            action="change_improvement",
            department=item.owner_department,
        )
    if item.status in CLOSED:
        raise ImprovementItemClosed(
            f"item {item.item_id} is {item.status}; closed items do not change",
            item=item.item_id,
            status=item.status,
        )
    if action not in TRANSITIONS:
        raise ImprovementInvalid(
            "the action is start, complete or cancel", field="action"
        )
    allowed, to_status = TRANSITIONS[action]
    if item.status not in allowed:
        raise ImprovementTransitionRefused(
            f"item {item.item_id} is {item.status}; it cannot {action}",
            item=item.item_id,
            status=item.status,
        )
    text = note.strip()
    if action in NOTE_REQUIRED and not text:
        raise ImprovementInvalid(f"say why you {action} the item", field="note")
    if len(text) > MAX_NOTE:
        raise ImprovementInvalid(
            f"notes have at most {MAX_NOTE} characters", field="note"
        )
    return ImprovementItemChanged(
        item_id=item.item_id,
        incident_id=item.incident_id,
        owner_department=item.owner_department,
        action=action,
        from_status=item.status,
        to_status=to_status,
        note=text,
    )


def evolve(item: ImprovementItem | None, event: Event) -> ImprovementItem | None:
    """Apply one event of an item's stream (the only code that changes an item)."""
    match event:
        case ImprovementItemAdopted():
            return ImprovementItem(
                item_id=event.item_id,
                incident_id=event.incident_id,
                owner_department=event.owner_department,
                due_at=event.due_at,
                status=OPEN,
                version=1,
            )
        case ImprovementItemChanged() if item is not None:
            return ImprovementItem(
                item_id=item.item_id,
                incident_id=item.incident_id,
                owner_department=item.owner_department,
                due_at=item.due_at,
                status=event.to_status,
                version=item.version + 1,
            )
    return item


def _due(text: str) -> datetime:
    try:
        return _moment(text)
    except ValueError:
        raise ImprovementInvalid(
            f"the due time {text!r} is no ISO-8601 time with a zone", field="due_at"
        ) from None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without timezone: {text!r}")
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    # The log's own format (core.clock.isoformat_utc), so stored times sort as text.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


__all__ = [
    "CANCELLED",
    "CLOSED",
    "DONE",
    "IN_PROGRESS",
    "OPEN",
    "STATUSES",
    "ImprovementItem",
    "adopt",
    "change",
    "evolve",
    "is_overdue",
    "may_adopt",
    "may_change",
]
