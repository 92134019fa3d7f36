"""Rules of timeline pins: who marks an incident's events as significant, and when a
pin or unpin is needed at all.

Pure (stdlib only). The review handlers check that the event is on the incident's
timeline (a read of the response part) and pass the incident's current pins, rebuilt
from its pin stream with ``evolve``.
"""

from __future__ import annotations

from collections.abc import Mapping

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor, Event
from muster.review.domain.errors import NotPinned
from muster.review.domain.events import TimelineEventPinned, TimelineEventUnpinned

PINNING_ROLES = ("commander", "duty_officer", "head", "admin", "system")
MAX_PIN_NOTE = 500


def may_pin(actor: Actor) -> bool:
    """Tell whether the actor may pin and unpin timeline events."""
    return actor.has_role(*PINNING_ROLES)


def _require_pinner(actor: Actor) -> None:
    if not may_pin(actor):
        raise PermissionDenied(
            "pinning timeline events needs the commander, duty officer, head or "
            "admin role",
            action="pin_timeline_event",
        )


def pin(
    pins: Mapping[int, str], *, incident_id: str, seq: int, note: str, actor: Actor
) -> list[Event]:
    """Pin an event (or change its note); nothing when it is pinned with this note."""
    _require_pinner(actor)
    text = note.strip()
    if len(text) > MAX_PIN_NOTE:
        raise ValidationFailed(
            f"pin notes have at most {MAX_PIN_NOTE} characters", field="note"
        )
    if pins.get(seq) == text:
        return []
    return [TimelineEventPinned(incident_id=incident_id, seq=seq, note=text)]


def unpin(
    pins: Mapping[int, str], *, incident_id: str, seq: int, actor: Actor
) -> list[Event]:
    """Unpin an event, or refuse when it is not pinned."""
    _require_pinner(actor)
    if seq not in pins:
        raise NotPinned(f"event {seq} is not pinned", seq=seq)
    return [TimelineEventUnpinned(incident_id=incident_id, seq=seq)]


def evolve(pins: dict[int, str], event: Event) -> dict[int, str]:
    """Apply one event of an incident's pin stream: seq -> note."""
    match event:
        case TimelineEventPinned():
            return {**pins, event.seq: event.note}
        case TimelineEventUnpinned():
            return {key: value for key, value in pins.items() if key != event.seq}
    return pins


__all__ = ["MAX_PIN_NOTE", "PINNING_ROLES", "evolve", "may_pin", "pin", "unpin"]
