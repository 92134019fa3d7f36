"""Replay's held incident rows and deferred indexes leave what live projection leaves.

``replay_into`` holds the response part's incident rows for a page
(``response.projection_rows.IncidentRows``) and builds the timeline's plain indexes
once at the end (``replay_into._drop_indexes``). ``replay.rebuild`` runs the same
projection functions writing at once, as live: on a log with events the commands
would refuse (changes to an incident never opened, facts after closing, facts merged
across pages), every page size must give the rebuilt tables. Runs on SQLite and
PostgreSQL (the source log; the scratch database is SQLite).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from muster.bootstrap import PROJECTIONS
from muster.core.db import WRITE_OPTION, make_engine
from muster.core.eventlog.replay import rebuild
from muster.core.eventlog.replay_into import replay_into, scratch_engine
from muster.core.eventlog.store import NewEvent, SqlEventStore
from muster.core.messages import Event
from muster.response.domain import events as ev
from tests.integration.test_replay_property import read_state

AT = "2026-07-01T06:00:00.000000Z"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Return a migrated, empty database (SQLite, or PostgreSQL in its pass)."""
    made = make_engine(database_url)
    yield made
    made.dispose()


def _opened(incident_id: str, type_code: str | None = None) -> ev.IncidentOpened:
    return ev.IncidentOpened(
        incident_id=incident_id, title="内涝 / flooding", category="NATURAL_DISASTER",
        latitude=28.2, longitude=112.9, description="", reporting_department="EMB",
        type_code=type_code,
    )  # fmt: skip


def _status(incident_id: str, to: str, type_code: str | None = None) -> Event:
    return ev.IncidentStatusChanged(
        incident_id=incident_id, from_status="reported", to_status=to,
        reason="", type_code=type_code,
    )  # fmt: skip


def _facts(incident_id: str, **facts: Any) -> Event:
    return ev.IncidentFactsRecorded(incident_id=incident_id, facts=facts)


def _append(engine: Engine, events: list[Event]) -> None:
    """Append the events as they are: no command checks them, nothing projects."""
    store = SqlEventStore()
    writer = engine.connect().execution_options(**{WRITE_OPTION: True})
    with writer as conn, conn.begin():
        for event in events:
            stream = f"incident-{getattr(event, 'incident_id', 'x')}"
            version = store.stream_version(conn, stream) + 1
            new = NewEvent(
                event=event, stream_id=stream, stream_version=version,
                event_id=str(uuid.uuid4()), occurred_at=AT, actor_kind="user",
                actor_id="alice", actor_department="EMB",
            )  # fmt: skip
            store.append(conn, [new], recorded_at=AT)


ODD_LOG: list[Event] = [
    _status("ghost", "verified"),  # never opened: the UPDATE matches nothing
    _facts("ghost", x=1),
    _opened("a"),
    _facts("a", rain_24h_mm=10),
    _opened("b", "11A00"),
    _status("a", "verified", "11B00"),
    _facts("a", rain_24h_mm=20, deaths=1),  # merged with the first facts
    ev.ResponseActivated(
        incident_id="a",
        plan_code="FLOOD_URBAN",
        plan_version=1,
        level="L4",
        lead_department="WATER",
        supporting_departments=("EMB", "TRANSPORT"),
        command_roles={"commander": "alice"},
        reason="rain",
    ),
    _facts("b", x=2),
    ev.ResponseLevelChanged(
        incident_id="a",
        from_level="L4",
        to_level="L3",
        lead_department="WATER",
        supporting_departments=("EMB",),
        reason="worse",
    ),
    _status("a", "closed"),
    _facts("a", late=True),  # after closing
    _opened("c"),
    _status("ghost", "closed"),
]


def _replayed(engine: Engine, batch: int) -> dict[str, Any]:
    replayed = replay_into(engine, PROJECTIONS, batch=batch)
    try:
        return read_state(replayed.engine)
    finally:
        replayed.engine.dispose()


def test_given_events_commands_would_refuse_when_replayed_in_any_page_size_then_it_equals_a_rebuild(  # noqa: E501
    engine: Engine,
) -> None:
    """Held incident rows: unknown ids, merged facts, page ends anywhere: as live."""
    _append(engine, ODD_LOG)
    rebuild(engine, PROJECTIONS)
    live = read_state(engine)

    states = {batch: _replayed(engine, batch) for batch in (1, 2, 3, 5, 2000)}

    assert {row[0] for row in live["response_incidents"]} == {"a", "b", "c"}
    for batch, state in states.items():
        assert state == live, f"pages of {batch}"


@pytest.mark.parametrize("batch", [1, 2000])
def test_given_an_incident_opened_twice_when_replayed_then_it_fails_as_live_does(
    engine: Engine, batch: int
) -> None:
    """A second INSERT of an id fails on replay too, held row or stored row."""
    _append(engine, [_opened("a"), _facts("a", x=1), _opened("a")])

    with pytest.raises(IntegrityError):
        rebuild(engine, PROJECTIONS)
    with pytest.raises(IntegrityError):
        replay_into(engine, PROJECTIONS, batch=batch)


def _indexes(target: Engine) -> list[tuple[str, str, str]]:
    with target.connect() as conn:
        found = conn.execute(
            text(
                "SELECT name, tbl_name, sql FROM sqlite_master"
                " WHERE type = 'index' ORDER BY name"
            )
        )
        return [tuple(row) for row in found]


def test_given_a_replay_into_a_scratch_file_when_done_or_failed_then_its_indexes_are_the_schema_s(  # noqa: E501
    engine: Engine, tmp_path: Any
) -> None:
    """The timeline's indexes, dropped while replaying, are there again after it."""
    fresh = scratch_engine()
    expected = _indexes(fresh)
    fresh.dispose()
    _append(engine, [_opened("a"), _status("a", "verified")])

    done = scratch_engine(tmp_path / "done.db")
    replay_into(engine, PROJECTIONS, target=done)
    _append(engine, [_opened("a")])
    failed = scratch_engine(tmp_path / "failed.db")
    with pytest.raises(IntegrityError):
        replay_into(engine, PROJECTIONS, target=failed)

    assert "ix_response_timeline_incident" in {name for name, _t, _s in expected}
    assert _indexes(done) == expected
    assert _indexes(failed) == expected
    done.dispose()
    failed.dispose()
