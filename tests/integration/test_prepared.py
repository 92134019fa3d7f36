"""Prepared statements and append-only rows write what ``conn.execute`` would write.

``core/eventlog/prepared.py`` compiles a Core statement once per dialect and sends its
SQL text itself (``exec_driver_sql`` live, the DB-API cursor on replay's scratch
connection, where SQLite gets many-row INSERTs); ``AppendRow``/``RowBuffer`` insert
timeline-like rows now or a page at a time. Both run on SQLite and PostgreSQL (the
PostgreSQL pass of CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    create_engine,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from muster.core.db import make_engine
from muster.core.eventlog.prepared import DIRECT_OPTION, Direct, Prepared
from muster.core.eventlog.projections import AppendRow, Row, RowBuffer
from muster.core.eventlog.store import Envelope
from muster.response.read_models import incidents, tasks, timeline

INSERT_INCIDENT = Prepared(insert(incidents))
UPDATE_INCIDENT = Prepared(
    update(incidents).where(incidents.c.id == bindparam("match_id"))
)
UPDATE_TASK = Prepared(
    update(tasks)
    .where(tasks.c.id == bindparam("match_id"))
    .values(version=tasks.c.version + 1)
)
TASK_OVERDUE = Prepared(select(tasks.c.overdue).where(tasks.c.id == bindparam("task")))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Return a migrated, empty database (SQLite, or PostgreSQL in its pass)."""
    made = make_engine(database_url)
    yield made
    made.dispose()


def _incident(key: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": key, "title": "内涝 / flooding", "category": "NATURAL_DISASTER",
        "latitude": 28, "longitude": 112.9, "description": "", "status": "reported",
        "reporting_department": "EMB", "opened_at": "2026-07-01T06:00:00.000000Z",
        "opened_by": "alice", "type_code": None, "updated_at": None,
    }  # fmt: skip
    return {**row, **changes}


def _task(key: str) -> dict[str, Any]:
    return {
        "id": key, "incident_id": "i", "template_key": None, "title_zh": "巡查",
        "title_en": "Patrol", "lead_department": "WATER",
        "supporting_departments": "[]", "status": "assigned",
        "due_at": "2026-07-01T08:00:00.000000Z",
        "ack_due_at": "2026-07-01T06:10:00.000000Z", "depends_on": "[]",
        "checklist": "[]", "checked": "[]", "from_plan": True, "overdue": False,
        "escalation_round": 0, "escalation_step": 0,
        "assigned_at": "2026-07-01T06:00:00.000000Z", "last_note": "", "version": 1,
    }  # fmt: skip


def _rows(conn: Connection, table: Any) -> dict[str, tuple[Any, ...]]:
    found = conn.execute(select(table).order_by(table.c.id)).all()
    return {row.id: tuple(row)[1:] for row in found}


def _direct(conn: Connection) -> Direct:
    direct = Direct(conn)
    conn.execution_options(**{DIRECT_OPTION: direct})
    return direct


@pytest.mark.parametrize("route", ["driver_sql", "direct"])
class TestPreparedWritesAsExecute:
    def test_given_rows_when_inserted_and_updated_both_ways_then_rows_are_identical(
        self, engine: Engine, route: str
    ) -> None:
        """Insert, SET from the parameters given, an int into a Float column: alike."""
        with engine.connect() as conn, conn.begin():
            if route == "direct":
                _direct(conn)
            conn.execute(insert(incidents), _incident("a"))
            INSERT_INCIDENT.run(conn, _incident("b"))
            conn.execute(
                update(incidents)
                .where(incidents.c.id == "a")
                .values(status="closed", facts='{"x": 1}')
            )
            matched = UPDATE_INCIDENT.run(
                conn, {"match_id": "b", "status": "closed", "facts": '{"x": 1}'}
            )
            missing = UPDATE_INCIDENT.run(conn, {"match_id": "z", "status": "x"})
            conn.execution_options(**{DIRECT_OPTION: None})
            stored = _rows(conn, incidents)

        assert (matched, missing) == (1, 0)
        assert stored["a"] == stored["b"]
        assert stored["b"][incidents.c.keys().index("latitude") - 1] == 28.0

    def test_given_a_task_when_updated_with_a_boolean_and_a_version_bump_then_alike(
        self, engine: Engine, route: str
    ) -> None:
        """Bind processors (Boolean) and constants (``version + 1``) are applied."""
        with engine.connect() as conn, conn.begin():
            conn.execute(insert(tasks), [_task("a"), _task("b")])
            if route == "direct":
                _direct(conn)
            conn.execute(
                update(tasks)
                .where(tasks.c.id == "a")
                .values(overdue=True, status="done", version=tasks.c.version + 1)
            )
            UPDATE_TASK.run(conn, {"match_id": "b", "overdue": True, "status": "done"})
            conn.execution_options(**{DIRECT_OPTION: None})
            stored = _rows(conn, tasks)

        assert stored["a"] == stored["b"]
        assert stored["b"][-1] == 2

    def test_given_a_row_when_inserted_twice_then_sqlalchemy_integrity_error(
        self, engine: Engine, route: str
    ) -> None:
        """A driver error surfaces as ``conn.execute`` would raise it."""
        with engine.connect() as conn, conn.begin():
            if route == "direct":
                _direct(conn)
            INSERT_INCIDENT.run(conn, _incident("a"))
            with pytest.raises(IntegrityError):
                INSERT_INCIDENT.run(conn, _incident("a"))


class TestPreparedQueries:
    def test_given_a_boolean_column_when_selected_then_it_comes_back_as_a_bool(
        self, engine: Engine
    ) -> None:
        """Result processing is needed, so the query runs through ``conn.execute``."""
        with engine.connect() as conn, conn.begin():
            conn.execute(insert(tasks), {**_task("a"), "overdue": True})
            _direct(conn)
            found = TASK_OVERDUE.first(conn, {"task": "a"})
            absent = TASK_OVERDUE.first(conn, {"task": "z"})

        assert found == (True,)
        assert found is not None
        assert found[0] is True
        assert absent is None

    def test_given_python_side_column_defaults_when_run_then_sqlalchemy_applies_them(
        self,
    ) -> None:
        """Defaults computed in Python (insert or update) leave it to conn.execute."""
        table = Table(
            "defaults",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("made", Text, default=lambda: "made"),
            Column("kind", Text, default="plain"),
            Column("touched", Text, onupdate="touched"),
        )
        engine = create_engine("sqlite://")
        table.create(engine)
        inserted = Prepared(insert(table))
        updated = Prepared(update(table).where(table.c.id == bindparam("match_id")))
        with engine.connect() as conn, conn.begin():
            inserted.run(conn, {"id": 1})
            updated.run(conn, {"match_id": 1, "kind": "special"})
            stored = conn.execute(select(table)).one()
        engine.dispose()

        assert tuple(stored) == (1, "made", "special", "touched")

    def test_given_the_postgresql_dialect_when_prepared_then_named_parameters_bound(
        self,
    ) -> None:
        """The SQL text is PostgreSQL's own, with processed named parameters."""
        dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
        plan = UPDATE_TASK._plan(dialect, {"match_id": "t", "overdue": True})

        assert plan.sql is not None
        assert "%(match_id)s" in plan.sql
        assert "version + %(version_1)s" in plan.sql
        bound = plan.bind({"match_id": "t", "overdue": True})
        assert bound == {"overdue": True, "version_1": 1, "match_id": "t"}


def _timeline_row(event: str, envelope: Envelope) -> Row | None:
    if event == "skip":
        return None
    row: dict[str, object] = {
        "seq": envelope.seq, "incident_id": "i1", "type": event,
        "at": envelope.recorded_at, "actor_id": envelope.actor_id, "data": "{}",
    }  # fmt: skip
    if envelope.actor_department is not None:
        row["department"] = envelope.actor_department
    return row


def _envelope(seq: int, department: str | None) -> Envelope:
    moment = f"2026-07-01T06:00:{seq:02d}.000000Z"
    return Envelope(
        seq=seq, event_id=f"e{seq}", type="t", version=1, stream_id="s",
        stream_version=seq, occurred_at=moment, recorded_at=moment,
        actor_kind="user", actor_id="alice", actor_department=department,
        data={}, metadata={},
    )  # fmt: skip


class TestAppendRow:
    def test_given_events_when_appended_live_and_buffered_then_same_rows_in_order(
        self, engine: Engine
    ) -> None:
        """Buffered rows wait for ``flush``; then the table is what live gave."""
        appender = AppendRow(timeline, _timeline_row)
        steps = [("a", "EMB"), ("b", None), ("skip", None), ("c", "FIRE")]
        steps += [("d", None), ("e", "EMB")]
        with engine.connect() as conn, conn.begin():
            for seq, (event, department) in enumerate(steps, 1):
                appender(event, _envelope(seq, department), conn)
            live = conn.execute(select(timeline).order_by(timeline.c.seq)).all()
            conn.execute(timeline.delete())

            buffer = RowBuffer()
            for seq, (event, department) in enumerate(steps, 1):
                buffer.add(appender, event, _envelope(seq, department))
            held = conn.execute(select(timeline)).all()
            buffer.flush(conn)
            buffered = conn.execute(select(timeline).order_by(timeline.c.seq)).all()

        assert held == []
        assert [row.type for row in live] == ["a", "b", "c", "d", "e"]
        assert buffered == live


class TestDirectManyRows:
    def test_given_many_rows_when_inserted_directly_then_as_executemany_in_order(
        self, engine: Engine
    ) -> None:
        """Many-row INSERTs (SQLite) hold the same rows, inserted in the same order."""
        keys = [f"i{index:03d}" for index in range(300, 0, -1)]  # not in key order
        rows = [_incident(key, latitude=index) for index, key in enumerate(keys)]
        stored: dict[str, list[Any]] = {}
        for route in ("driver_sql", "direct"):
            with engine.connect() as conn, conn.begin():
                if route == "direct":
                    direct = _direct(conn)
                INSERT_INCIDENT.run_many(conn, rows)
                if route == "direct":
                    conn.execution_options(**{DIRECT_OPTION: None})
                    direct.close()
                order = "rowid" if engine.dialect.name == "sqlite" else "id"
                stored[route] = [
                    tuple(row)
                    for row in conn.execute(select(incidents).order_by(text(order)))
                ]
                conn.execute(incidents.delete())

        assert len(stored["direct"]) == 300
        assert stored["direct"] == stored["driver_sql"]
        if engine.dialect.name == "sqlite":
            assert [row[0] for row in stored["direct"]] == keys

    def test_given_a_duplicate_among_many_rows_when_inserted_directly_then_it_fails(
        self, engine: Engine
    ) -> None:
        """A failing row fails the batch with SQLAlchemy's IntegrityError."""
        rows = [_incident(f"i{index:03d}") for index in range(200)]
        rows[150] = _incident("i007")
        with engine.connect() as conn, conn.begin():
            _direct(conn)
            with pytest.raises(IntegrityError):
                INSERT_INCIDENT.run_many(conn, rows)
            conn.execution_options(**{DIRECT_OPTION: None})
