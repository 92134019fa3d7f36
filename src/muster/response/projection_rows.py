"""Row helpers shared by the response projections: JSON text, timer and incident rows.

Incident rows are written by ``write_incident``/``update_incident`` and read by
``incident_facts``: at once (live and ``replay.rebuild``), or held in an
``IncidentRows`` write-back for a page of ``replay_into`` (see below).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.prepared import Prepared
from muster.core.eventlog.projections import page_buffer
from muster.response.read_models import incidents, timers

# One encoder for every call: ``json.dumps`` with options builds one each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
# The C encoder ``JSONEncoder.iterencode`` makes for one-shot ``encode`` calls.
_C_ENCODER: Callable[..., Callable[[object, int], list[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_IDLE = threading.local()  # each thread's C encoder, there while no call uses it


def _c_encoder(
    make: Callable[..., Callable[[object, int], list[str]]],
) -> Callable[[object, int], list[str]]:
    return make(
        {},  # its circular-reference check, empty again after each encoding
        _ENCODER.default,
        json.encoder.encode_basestring,  # ensure_ascii=False
        _ENCODER.indent,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        _ENCODER.sort_keys,
        _ENCODER.skipkeys,
        _ENCODER.allow_nan,
    )


def to_json(value: object) -> str:
    """Write a JSON column value (stable key order, Chinese kept readable).

    The text of ``_ENCODER.encode(value)``: the C encoder ``encode`` makes for each
    call, with the same settings, made once per thread and kept between calls
    (replay writes a timeline row per event). An encoder is taken while in use and
    put back only after a call that succeeded, so no call ever sees another's
    circular-reference marks (a failed call may leave some: that encoder is dropped).
    """
    make = _C_ENCODER
    if make is None:  # pragma: no cover - CPython has the C accelerator
        return _ENCODER.encode(value)
    encode = vars(_IDLE).pop("encode", None) or _c_encoder(make)
    text = "".join(encode(value, 0))
    _IDLE.encode = encode
    return text


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


# --- incidents ------------------------------------------------------------------------

_INSERT_INCIDENT = Prepared(insert(incidents))
# SET takes the columns of the parameters given; ``match_id`` is the row's id.
_UPDATE_INCIDENT = Prepared(
    update(incidents).where(incidents.c.id == bindparam("match_id"))
)
_INCIDENT_FACTS = Prepared(
    select(incidents.c.facts).where(incidents.c.id == bindparam("incident_id"))
)
_INCIDENT_ROW = Prepared(
    select(incidents).where(incidents.c.id == bindparam("incident_id"))
)


def _server_default(column: Column[Any]) -> object:
    """The value the database gives a column left out of an INSERT."""
    default = column.server_default
    if default is None:
        return None
    value = getattr(default, "arg", None)
    if not isinstance(value, str):  # pragma: no cover - the table's defaults are text
        raise TypeError(f"{column.name}: only text server defaults can be held")
    return value


# A new incident row as the INSERT leaves it: every column, defaults filled in.
_BLANK_INCIDENT = {column.name: _server_default(column) for column in incidents.c}
_INCIDENT_COLUMNS = tuple(_BLANK_INCIDENT)


class IncidentRows:
    """Incident rows held for one page of ``replay_into`` (a ``WriteBack``).

    Only the three functions below read or write ``response_incidents``, and only
    with plain values (an INSERT of given columns, an UPDATE setting given columns of
    one id, a read of one id's facts), so the table can be kept here for a page and
    written at its end: rows first inserted in the page with one ``executemany`` of
    their final values (in the order live inserted them), rows stored before with
    one UPDATE of the columns the page set. Reads see the held rows. The table ends
    each page as live projection leaves it (``tests/integration/test_replay_batched.
    py``, ``test_replay_property.py``); a second INSERT of an id fails, as live.
    """

    __slots__ = ("_changed", "_new", "_rows")

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any] | None] = {}
        """Rows read or written this page, by id (None: no such incident)."""
        self._new: dict[str, dict[str, Any]] = {}
        """Rows inserted this page, in the order they were inserted."""
        self._changed: dict[str, dict[str, Any]] = {}
        """Columns set this page on rows stored before it, by id."""

    def insert(self, conn: Connection, values: dict[str, Any]) -> None:
        """Hold a new row (an id already held as a row: insert now, and fail)."""
        incident_id = values["id"]
        if self._rows.get(incident_id) is not None:
            self.flush(conn)
            _INSERT_INCIDENT.run(conn, values)  # raises as live does
            return
        row = {**_BLANK_INCIDENT, **values}
        self._rows[incident_id] = self._new[incident_id] = row

    def update(
        self, conn: Connection, incident_id: str, values: dict[str, Any]
    ) -> None:
        """Set columns of one incident (none matched: nothing, as an UPDATE)."""
        row = self._row(conn, incident_id)
        if row is None:
            return
        row.update(values)
        if incident_id not in self._new:
            self._changed.setdefault(incident_id, {}).update(values)

    def facts(self, conn: Connection, incident_id: str) -> str | None:
        """Return the incident's facts column (None: no such incident)."""
        row = self._row(conn, incident_id)
        return None if row is None else str(row["facts"])

    def flush(self, conn: Connection) -> None:
        """Write the page's rows and forget them."""
        if self._new:
            _INSERT_INCIDENT.run_many(conn, list(self._new.values()))
        for incident_id, values in self._changed.items():
            _UPDATE_INCIDENT.run(conn, {"match_id": incident_id, **values})
        self._rows.clear()
        self._new.clear()
        self._changed.clear()

    def _row(self, conn: Connection, incident_id: str) -> dict[str, Any] | None:
        if incident_id in self._rows:
            return self._rows[incident_id]
        stored = _INCIDENT_ROW.first(conn, {"incident_id": incident_id})
        row = (
            None
            if stored is None
            else dict(zip(_INCIDENT_COLUMNS, stored, strict=True))
        )
        self._rows[incident_id] = row
        return row


def _held_incidents(conn: Connection) -> IncidentRows | None:
    buffer = page_buffer(conn)
    return None if buffer is None else buffer.held(IncidentRows)


def write_incident(conn: Connection, values: dict[str, Any]) -> None:
    """Insert a new incident row."""
    held = _held_incidents(conn)
    if held is None:
        _INSERT_INCIDENT.run(conn, values)
    else:
        held.insert(conn, values)


def update_incident(conn: Connection, incident_id: str, values: dict[str, Any]) -> None:
    """Set columns of one incident row (no such row: nothing happens)."""
    held = _held_incidents(conn)
    if held is None:
        _UPDATE_INCIDENT.run(conn, {"match_id": incident_id, **values})
    else:
        held.update(conn, incident_id, values)


def incident_facts(conn: Connection, incident_id: str) -> str | None:
    """Return an incident's facts column as stored (None: no such incident)."""
    held = _held_incidents(conn)
    if held is not None:
        return held.facts(conn, incident_id)
    row = _INCIDENT_FACTS.first(conn, {"incident_id": incident_id})
    return None if row is None else row[0]


__all__ = [
    "IncidentRows",
    "clear_timer",
    "incident_facts",
    "set_timer",
    "to_json",
    "update_incident",
    "write_incident",
]
