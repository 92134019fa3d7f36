"""Command handlers of the review part: improvement items and timeline pins (R6).

Load → decide (``domain.improvements``, ``domain.pins``) → append. Incidents and their
timelines are read through ``muster.response.queries`` and departments through
``muster.identity.queries``; an item's and an incident's pins are rebuilt from their
own streams. Bootstrap merges ``COMMAND_HANDLERS``.
"""

from __future__ import annotations

import uuid
from functools import reduce

from muster.core.bus import Handler
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity
from muster.response import queries as response
from muster.review.domain import improvements, pins
from muster.review.domain.commands import (
    AdoptImprovementItems,
    ChangeImprovementItem,
    PinTimelineEvent,
    UnpinTimelineEvent,
)
from muster.review.domain.errors import (
    NotOnTimeline,
    UnknownImprovementItem,
    UnknownReviewIncident,
)


def improvement_stream(item_id: str) -> str:
    """Return the stream of one improvement item."""
    return f"improvement-{item_id}"


def pins_stream(incident_id: str) -> str:
    """Return the stream of an incident's timeline pins."""
    return f"timeline-pins-{incident_id}"


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _require_incident(uow: UnitOfWork, incident_id: str) -> None:
    if response.get_incident(uow.conn, incident_id) is None:
        raise UnknownReviewIncident(f"no incident {incident_id}", incident=incident_id)


def adopt_improvement_items(
    command: AdoptImprovementItems, uow: UnitOfWork
) -> tuple[str, ...]:
    """Adopt an incident's improvement items; return their ids in the given order."""
    with uow:
        departments = frozenset(
            item.code for item in identity.list_departments(uow.conn)
        )
        events = improvements.adopt(
            command.items,
            incident_id=command.incident_id,
            actor=uow.actor,
            departments=departments,
            now=uow.clock.now(),
            new_id=_new_id,
        )
        _require_incident(uow, command.incident_id)
        uow.append_many(
            [(improvement_stream(event.item_id), [event], 0) for event in events]
        )
        uow.commit()
    return tuple(event.item_id for event in events)


def change_improvement_item(command: ChangeImprovementItem, uow: UnitOfWork) -> str:
    """Start, complete or cancel an item; return its new status."""
    stream = improvement_stream(command.item_id)
    with uow:
        recorded = uow.context.store.read_stream(uow.conn, stream)
        item = reduce(
            improvements.evolve,
            (entry.event for entry in recorded),
            None,
        )
        if item is None:
            raise UnknownImprovementItem(
                f"no improvement item {command.item_id}", item=command.item_id
            )
        event = improvements.change(
            item, action=command.action, note=command.note, actor=uow.actor
        )
        uow.append(stream, [event], expected_version=len(recorded))
        uow.commit()
    return event.to_status


def _pins_and_version(uow: UnitOfWork, incident_id: str) -> tuple[dict[int, str], int]:
    recorded = uow.context.store.read_stream(uow.conn, pins_stream(incident_id))
    empty: dict[int, str] = {}
    state = reduce(pins.evolve, (entry.event for entry in recorded), empty)
    return state, len(recorded)


def _require_on_timeline(uow: UnitOfWork, incident_id: str, seq: int) -> None:
    found = response.incident_timeline(uow.conn, incident_id, after=seq - 1, limit=1)
    if not found or found[0].seq != seq:
        raise NotOnTimeline(
            f"event {seq} is not on incident {incident_id}'s timeline",
            incident=incident_id,
            seq=seq,
        )


def pin_timeline_event(command: PinTimelineEvent, uow: UnitOfWork) -> str:
    """Pin an event of an incident's timeline; return pinned or unchanged."""
    with uow:
        current, version = _pins_and_version(uow, command.incident_id)
        events = pins.pin(
            current,
            incident_id=command.incident_id,
            seq=command.seq,
            note=command.note,
            actor=uow.actor,
        )
        _require_incident(uow, command.incident_id)
        _require_on_timeline(uow, command.incident_id, command.seq)
        if not events:
            return "unchanged"
        uow.append(pins_stream(command.incident_id), events, expected_version=version)
        uow.commit()
    return "pinned"


def unpin_timeline_event(command: UnpinTimelineEvent, uow: UnitOfWork) -> str:
    """Unpin an event of an incident's timeline; return unpinned."""
    with uow:
        current, version = _pins_and_version(uow, command.incident_id)
        events = pins.unpin(
            current, incident_id=command.incident_id, seq=command.seq, actor=uow.actor
        )
        uow.append(pins_stream(command.incident_id), events, expected_version=version)
        uow.commit()
    return "unpinned"


COMMAND_HANDLERS: dict[type[Command], Handler] = {
    AdoptImprovementItems: adopt_improvement_items,
    ChangeImprovementItem: change_improvement_item,
    PinTimelineEvent: pin_timeline_event,
    UnpinTimelineEvent: unpin_timeline_event,
}

__all__ = [
    "COMMAND_HANDLERS",
    "adopt_improvement_items",
    "change_improvement_item",
    "improvement_stream",
    "pin_timeline_event",
    "pins_stream",
    "unpin_timeline_event",
]
