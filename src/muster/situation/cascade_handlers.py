"""Setting the cascade model: the handler of ``RegisterCascadeModel`` and the
projector of ``CascadeModelRegistered``.

``CASCADE_HANDLERS`` and ``CASCADE_PROJECTORS`` are merged into the situation part's
command table (``muster.situation.handlers``) and projections
(``muster.situation.projections``); the table is ``cascade_tables.cascade_model``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from muster.core.bus import Handler
from muster.core.errors import PermissionDenied
from muster.core.eventlog.projections import Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Command, Event, JsonValue
from muster.core.uow import UnitOfWork
from muster.situation.cascade_tables import cascade_model
from muster.situation.domain.cascade_events import (
    CascadeModelRegistered,
    RegisterCascadeModel,
)
from muster.situation.domain.cascade_parse import parse_cascades

STREAM = "cascade-model"


def register_cascade_model(command: RegisterCascadeModel, uow: UnitOfWork) -> str:
    """Set the cascade model: created / updated / unchanged.

    The document is parsed again here (structure, graph, references between its
    sections); references to the pack's departments and datasets were checked with
    the pack (``muster.pack.cascades``).
    """
    document = _as_logged(command.document)
    model = parse_cascades(document)
    with uow:
        if not uow.actor.has_role("admin", "system"):
            raise PermissionDenied(
                "setting the cascade model needs the admin role",
                action="set cascade model",
            )
        recorded = uow.context.store.read_stream(uow.conn, STREAM)
        last = recorded[-1].event if recorded else None
        if isinstance(last, CascadeModelRegistered) and last.document == document:
            return "unchanged"
        event = CascadeModelRegistered(
            document=document,
            hazards=len(model.hazards),
            rules=len(model.rules),
            source=command.source,
        )
        uow.append(STREAM, [event], expected_version=len(recorded))
        uow.commit()
    return "updated" if recorded else "created"


def _as_logged(value: JsonValue) -> Any:
    """Return a JSON value as the log stores it (RFC 8785 writes 3.0 as 3), so the
    live projection, a rebuild and the unchanged check all see the same document."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_as_logged(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_logged(item) for key, item in value.items()}
    return value


def on_cascade_model_registered(
    event: CascadeModelRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Keep the model in force (one row)."""
    conn.execute(delete(cascade_model))
    conn.execute(
        insert(cascade_model),
        {
            "id": 1,
            "document": json.dumps(event.document, ensure_ascii=False, sort_keys=True),
            "hazards": event.hazards,
            "rules": event.rules,
            "registered_at": envelope.occurred_at,
        },
    )


CASCADE_HANDLERS: dict[type[Command], Handler] = {
    RegisterCascadeModel: register_cascade_model,
}
CASCADE_PROJECTORS: dict[type[Event], list[Projector]] = {
    CascadeModelRegistered: [on_cascade_model_registered],
}

__all__ = [
    "CASCADE_HANDLERS",
    "CASCADE_PROJECTORS",
    "on_cascade_model_registered",
    "register_cascade_model",
]
