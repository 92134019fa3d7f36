"""A drill's data never reaches the live deployment (ADR 0013), on both databases.

The example pack's rainstorm scenario is played unattended (observations, hotline
records, a CAP alert, field reports, messages, a trigger-opened incident, plan tasks,
escalations, notifications); then the live read models, scorecards and audit export
are searched for anything the drill created.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from muster.bootstrap import Muster, bootstrap
from muster.core.db import make_engine, metadata
from muster.core.eventlog.audit import export_log
from muster.core.eventlog.signing import create_signing_key
from muster.core.eventlog.store import Recorded, SqlEventStore
from muster.drills.outcome import DrillReport
from muster.drills.runner import run_unattended
from muster.drills.scenarios import load_scenarios
from muster.ingest.read_models import cap_alerts
from muster.pack.loader import load_pack
from muster.pack.validation import read_pack
from muster.review.metrics_queries import scorecards
from muster.settings import Settings
from tests.conftest import IS_POSTGRES, PG_URL, TEST_SECRET, _admin_engine

SCENARIO = "RAINSTORM_CHAIN"
_LOG_TABLES = frozenset({"events", "checkpoints", "projection_positions"})


@dataclass(frozen=True)
class Drilled:
    """The live deployment after a drill, with the drill's sandbox open."""

    live: Muster
    report: DrillReport
    live_head_before: int
    sandbox: Engine


@contextmanager
def _fresh_database(template: str, folder: Path) -> Iterator[str]:
    """A fresh migrated database, as conftest's ``database_url`` gives one per test."""
    if not IS_POSTGRES:
        shutil.copyfile(template, folder / "muster.db")
        yield f"sqlite:///{folder / 'muster.db'}"
        return
    name = f"muster_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def drilled(
    template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Drilled]:
    """The example pack loaded live, then its rainstorm scenario played unattended
    (once for the module: every test here only reads)."""
    folder = tmp_path_factory.mktemp("drill")
    with _fresh_database(template_database, folder) as url:
        settings = Settings(
            mode="test", secret_key=TEST_SECRET, database_url=url,
            data_dir=folder / "data", checkpoint_every=50,
        )  # fmt: skip
        create_signing_key(settings.effective_signing_key_file)
        muster = bootstrap(settings)
        with as_file(files("muster") / "examples" / "lanjiang") as pack_dir:
            pack = read_pack(Path(pack_dir))
            load_pack(muster, pack)
            scenarios = {s.code: s for s in load_scenarios(Path(pack_dir), pack=pack)}
        with muster.engine.connect() as conn:
            before = muster.store.head(conn)[0]
        report = run_unattended(muster, scenarios[SCENARIO])
        sandbox = make_engine(f"sqlite:///{report.sandbox_path}")
        yield Drilled(muster, report, before, sandbox)
        sandbox.dispose()
        muster.engine.dispose()


def _events(engine: Engine, *, after: int = 0) -> list[Recorded]:
    with engine.connect() as conn:
        return SqlEventStore().read_all(conn, after=after)


def _drill_markers(drilled: Drilled) -> set[str]:
    """Ids the drill created: every ``*_id`` value of a sandbox event that the
    copied live prefix never mentions (incidents, tasks, tickets, notifications…)."""
    prefix = "\n".join(
        json.dumps(item.envelope.data, ensure_ascii=False)
        for item in _events(drilled.sandbox)[: drilled.report.live_head_seq]
    )
    found = {
        value
        for item in _events(drilled.sandbox, after=drilled.report.live_head_seq)
        for key, value in item.envelope.data.items()
        if key.endswith("_id") and isinstance(value, str) and len(value) >= 8
    }
    found.add(str(drilled.report.incident_id))
    return {value for value in found if value not in prefix}


def test_given_a_drill_when_the_live_read_models_are_searched_then_none_holds_drill_data(  # noqa: E501
    drilled: Drilled,
) -> None:
    """No live incident, task, notification, observation, record, quality measure or
    any other read-model row mentions an id the drill created."""
    markers = _drill_markers(drilled)
    leaks: list[tuple[str, str]] = []
    with drilled.live.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in _LOG_TABLES:
                continue
            for row in conn.execute(select(table)):
                text = " ".join(str(value) for value in row)
                leaks += [(table.name, m) for m in markers if m in text]

    assert len(markers) > 20  # incidents, tasks, batches, tickets, notifications, …
    assert leaks == []


def test_given_a_drill_when_the_live_log_is_exported_then_it_holds_no_sandbox_event(
    drilled: Drilled, tmp_path: Path
) -> None:
    """The live audit export has the live events only: the drill adds its start and
    completion, nothing the sandbox appended."""
    key = drilled.live.require_signing_key()
    count, _checkpoints = export_log(
        drilled.live.engine, tmp_path / "export", public_key_pem=key.public_pem()
    )
    lines = (tmp_path / "export" / "events.jsonl").read_text("utf-8").splitlines()
    bodies = [json.loads(json.loads(line)["body"]) for line in lines]
    sandbox_ids = {
        item.envelope.event_id
        for item in _events(drilled.sandbox, after=drilled.report.live_head_seq)
    }

    assert count == drilled.live_head_before + 2
    assert [b["type"] for b in bodies[drilled.live_head_before :]] == [
        "drills.DrillStarted", "drills.DrillCompleted",
    ]  # fmt: skip
    assert not sandbox_ids & {body["event_id"] for body in bodies}


def test_given_a_drill_when_the_live_scorecards_are_computed_then_they_count_no_drill_incident(  # noqa: E501
    drilled: Drilled,
) -> None:
    """The live scorecards see no incident at all: the drill's stayed in its sandbox."""
    now = drilled.live.clock.now()
    with drilled.live.engine.connect() as conn:
        report = scorecards(
            conn, start=now - timedelta(days=1), end=now + timedelta(days=1)
        )

    assert (report.context.live_incidents, report.context.drill_incidents) == (0, 0)


def test_given_a_drill_when_its_sandbox_is_read_then_every_new_event_is_an_exercise(
    drilled: Drilled,
) -> None:
    """Every sandbox event after the copied live prefix is marked as this drill's."""
    new = _events(drilled.sandbox, after=drilled.report.live_head_seq)

    assert len(new) > 50
    assert {
        (item.envelope.is_exercise, item.envelope.metadata.get("drill_id"))
        for item in new
    } == {(True, drilled.report.drill_id)}


def test_given_a_drill_when_its_sandbox_is_read_then_every_cap_alert_is_an_exercise(
    drilled: Drilled,
) -> None:
    """The CAP alerts the drill filed (those the live database lacks) all have
    status Exercise."""
    with drilled.live.engine.connect() as conn:
        live = {row.alert_key for row in conn.execute(select(cap_alerts))}
    with drilled.sandbox.connect() as conn:
        statuses = [
            row.status
            for row in conn.execute(select(cap_alerts))
            if row.alert_key not in live
        ]

    assert statuses
    assert set(statuses) == {"Exercise"}


def test_given_a_live_database_when_a_drill_runs_then_its_sandbox_is_sqlite_under_the_data_folder(  # noqa: E501
    drilled: Drilled,
) -> None:
    """Whatever the live database, the sandbox is an SQLite file in <data>/drills."""
    path = Path(drilled.report.sandbox_path)

    assert path.parent == (drilled.live.settings.data_dir / "drills").resolve()
    assert path.name == f"{drilled.report.drill_id}.db"
    assert drilled.sandbox.dialect.name == "sqlite"


def _by_status(results: tuple[dict[str, object], ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"met": [], "late": [], "missed": []}
    for row in results:
        found[str(row["status"])].append(str(row["id"]))
    return found


def test_given_the_rainstorm_scenario_when_played_unattended_then_its_evaluation_is_the_scripted_one(  # noqa: E501
    drilled: Drilled,
) -> None:
    """The scripted participants give exactly the mix the scenario states: 18 met,
    late E10 E12 E13 E16, missed E18 E23 E24; every inject and step was accepted."""
    found = _by_status(drilled.report.results)

    assert len(found["met"]) == 18
    assert sorted(found["late"]) == ["E10", "E12", "E13", "E16"]
    assert sorted(found["missed"]) == ["E18", "E23", "E24"]
    assert drilled.report.incident_id is not None
    assert all(step.ok for step in drilled.report.steps), drilled.report.steps
