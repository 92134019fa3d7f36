"""Replay into a separate database gives the live read models, now and as of any moment.

Property: for random command sequences (incidents opened, moved, given facts, plans
activated, tasks acted on, timers run on a simulated clock), replaying the log into an
empty scratch database up to the last event equals the live read models, and replaying
up to a moment T (or its seq) equals the snapshot taken at T during the run; so does
replaying in pages of a few events (rows projectors hold for a page, then write). The
log grows across examples on one deployment, so later examples replay longer histories.

``test_replay.py`` checks in-place rebuilds; here the live database is only read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from muster.bootstrap import PROJECTIONS, Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.core.errors import MusterError
from muster.core.eventlog.chain import GENESIS_HASH
from muster.core.eventlog.replay_into import replay_into
from muster.core.eventlog.tables import projection_positions
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.response import queries as response_queries
from muster.response.domain.commands import (
    ActivatePlan,
    ActOnTask,
    ChangeIncidentStatus,
    OpenIncident,
    RecordIncidentFacts,
    RunTimers,
)
from muster.settings import Settings
from tests.integration.test_replay import Workload
from tests.response_setup import World, build_world

State = dict[str, Any]
STATUSES = ("verified", "responding", "recovering", "closed")
ACTIONS = ("acknowledge", "start", "complete", "decline", "block")
TYPE_CODES = ("11A00", "11B00", None)

steps = st.one_of(
    st.tuples(st.just("open"), st.sampled_from(TYPE_CODES)),
    st.tuples(st.just("status"), st.integers(0, 9), st.sampled_from(STATUSES)),
    st.tuples(st.just("facts"), st.integers(0, 9), st.integers(0, 400)),
    st.tuples(st.just("activate"), st.integers(0, 9)),
    st.tuples(st.just("act"), st.integers(0, 29), st.sampled_from(ACTIONS)),
    st.tuples(st.just("timers"), st.integers(5, 40)),
)


def read_state(engine: Engine) -> State:
    """Return every row of every projected table, sorted, and the positions."""
    with engine.connect() as conn:
        state: State = {
            table.name: sorted(
                (tuple(row) for row in conn.execute(select(table))), key=repr
            )
            for projection in PROJECTIONS
            for table in projection.tables
        }
        saved = {
            row.name: int(row.position)
            for row in conn.execute(select(projection_positions))
        }
    state["positions"] = {p.name: saved.get(p.name, 0) for p in PROJECTIONS}
    return state


def replayed_state(muster: Muster, **until: Any) -> tuple[State, int, bytes]:
    """Replay the live log into a scratch database; return its state and position."""
    replayed = replay_into(muster.engine, PROJECTIONS, **until)
    try:
        return read_state(replayed.engine), replayed.position, replayed.head_hash
    finally:
        replayed.engine.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock, so timers fire and moments are exact."""
    return SimulatedClock(datetime(2026, 7, 1, 6, 0, tzinfo=UTC))


@pytest.fixture
def muster(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment on the simulated clock (overrides conftest's)."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def world(muster: Muster) -> World:
    """Return the response world (departments, users, the flood plan)."""
    return build_world(muster)


class Driver:
    """Turns drawn steps into commands; a refused command is part of the run."""

    def __init__(self, muster: Muster, clock: SimulatedClock, world: World) -> None:
        self.muster = muster
        self.clock = clock
        self.world = world
        self.on_duty: dict[str, Actor] = {
            "EMB": world.emb_duty,
            "WATER": world.water_duty,
            "TRANSPORT": world.transport_duty,
        }

    def incidents(self) -> list[str]:
        with self.muster.engine.connect() as conn:
            views = response_queries.list_incidents(conn, limit=10_000)
        # By opening time, not by (random) id: the drawn steps act on the same
        # incidents and tasks in every run, so the run is repeatable.
        return [view.id for view in sorted(views, key=lambda v: (v.opened_at, v.id))]

    def tasks(self) -> list[response_queries.TaskView]:
        with self.muster.engine.connect() as conn:
            return [
                task
                for incident_id in self.incidents()
                for task in sorted(
                    response_queries.incident_tasks(conn, incident_id),
                    key=lambda t: (t.assigned_at, t.template_key or "", t.title_en),
                )
            ]

    def run(self, step: tuple[Any, ...]) -> None:
        self.clock.advance(
            timedelta(minutes=1)
        )  # every event after a snapshot is later
        kind = step[0]
        if kind == "timers":
            self.clock.advance(timedelta(minutes=step[1]))
            self.muster.bus.handle(RunTimers(), SYSTEM_ACTOR)
            return
        if kind == "open":
            command: Any = OpenIncident(
                title="内涝：滨江路积水",
                category="NATURAL_DISASTER",
                latitude=28.2,
                longitude=112.9,
                type_code=step[1],
            )
            self.muster.bus.handle(command, self.world.commander)
            return
        actor = self.world.commander
        if kind == "act":
            tasks = self.tasks()
            if not tasks:
                return
            task = tasks[step[1] % len(tasks)]
            actor = self.on_duty.get(task.lead_department, actor)
            command = ActOnTask(task_id=task.id, action=step[2])
        else:
            incidents = self.incidents()
            if not incidents:
                return
            incident_id = incidents[step[1] % len(incidents)]
            if kind == "status":
                command = ChangeIncidentStatus(
                    incident_id=incident_id, to_status=step[2]
                )
            elif kind == "facts":
                facts = {"rain_24h_mm": step[2]}
                command = RecordIncidentFacts(incident_id=incident_id, facts=facts)
            else:
                command = ActivatePlan(
                    incident_id=incident_id, plan_code="FLOOD_URBAN", level="L4"
                )
        # Refused: nothing written, or the refusal itself is logged.
        with contextlib.suppress(MusterError):
            self.muster.bus.handle(command, actor)


def check_one_run(driver: Driver, commands: list[tuple[Any, ...]], cut: int) -> None:
    """Run the commands, snapshot after step ``cut``, then compare the replays.

    One more replay to the end runs in pages of 1 to 6 events (rows projectors hold
    for a page). The size is not drawn: a draw, or any edit of the test's body,
    changes the derandomized command sequences and the coverage asserted after them.
    """
    page = 1 + (len(commands) + cut) % 6
    muster, clock = driver.muster, driver.clock
    snapshot, moment = read_state(muster.engine), clock.now()
    for index, step in enumerate(commands, start=1):
        driver.run(step)
        if index == cut:
            snapshot, moment = read_state(muster.engine), clock.now()
    with muster.engine.connect() as conn:
        head_seq, head_hash = muster.store.head(conn)
    snapshot_seq = _last_seq_at(muster, moment)

    live, position, hash_ = replayed_state(muster)
    in_pages, _, _ = replayed_state(muster, batch=page)
    as_of_moment, moment_position, _ = replayed_state(muster, until=moment)
    as_of_seq, _, moment_hash = replayed_state(muster, until_seq=snapshot_seq)

    assert live == read_state(muster.engine)
    assert in_pages == live
    assert (position, hash_) == (head_seq, head_hash)
    assert as_of_moment == snapshot
    assert as_of_seq == snapshot
    assert moment_position == snapshot_seq
    assert moment_hash == _hash_at(muster, snapshot_seq)


def test_given_random_commands_when_replayed_into_a_scratch_database_then_it_equals_live_and_each_snapshot(  # noqa: E501
    muster: Muster, clock: SimulatedClock, world: World
) -> None:
    """Replay to the last event equals live; replay to T equals the snapshot at T."""
    driver = Driver(muster, clock, world)

    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,  # the same sequences every run: CI is repeatable
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(commands=st.lists(steps, min_size=1, max_size=8), data=st.data())
    def runs(commands: list[tuple[Any, ...]], data: st.DataObject) -> None:
        cut = data.draw(st.integers(0, len(commands)), label="snapshot after step")
        check_one_run(driver, commands, cut)

    runs()
    # The runs moved incidents, activated the plan and acted on its tasks.
    with muster.engine.connect() as conn:
        logged = {item.envelope.type for item in muster.store.read_all(conn)}
    assert {
        "response.IncidentStatusChanged",
        "response.IncidentFactsRecorded",
        "response.ResponseActivated",
        "response.TaskAssigned",
    } <= logged
    assert logged & {"response.TaskAcknowledged", "response.TaskDeclined"}


def _last_seq_at(muster: Muster, moment: datetime) -> int:
    """Return the seq of the last event recorded at or before the moment."""
    with muster.engine.connect() as conn:
        recorded = muster.store.read_all(conn)
    times = [
        item for item in recorded if item.envelope.recorded_at <= isoformat_utc(moment)
    ]
    return times[-1].envelope.seq if times else 0


def _hash_at(muster: Muster, seq: int) -> bytes:
    if seq == 0:
        return GENESIS_HASH
    with muster.engine.connect() as conn:
        page = muster.store.read_all(conn, after=seq - 1, limit=1)
    return page[0].hash


def test_given_the_full_workload_when_replayed_into_a_scratch_database_then_every_table_and_snapshot_matches(  # noqa: E501
    muster: Muster, clock: SimulatedClock
) -> None:
    """Every projected event type replays into a separate database as it ran live."""
    workload = Workload(muster, clock)
    workload.run()
    live = read_state(muster.engine)

    replayed, _, _ = replayed_state(muster)
    as_of = {
        seq: replayed_state(muster, until_seq=seq)[0] for seq in workload.snapshots
    }

    assert replayed == live
    for seq, state in as_of.items():
        del state["positions"]  # the workload's snapshots hold tables only
        assert state == workload.snapshots[seq]
