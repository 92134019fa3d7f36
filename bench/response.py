"""Benchmark the response core: plan activation and the escalation scheduler tick.

Setup: a temporary SQLite deployment on a simulated clock, a root department and ten
departments (each with a duty officer and a head; the root has the commander), a plan
whose level IV assigns 20 tasks spread over the departments (acknowledge within 15
minutes, due in 60-240 minutes, one report clock). 1,000 incidents are opened and the
plan is activated on each, half a simulated second apart, so their acknowledgement
deadlines are spread over 8 minutes: 20,000 tasks, 41,000 pending timers.

(a) plan activation: wall time of each ``ActivatePlan`` (median, p90, per second).
(b) idle tick: one ``RunTimers`` when nothing is due (the due query over 41,000
    pending timers, plus the bus and unit of work around it).
(c) due tick (``tick_ms``): one ``RunTimers`` when one incident's 20 acknowledgement
    deadlines are due (what a 5-second tick meets when a plan was activated 15
    minutes earlier), over all the pending timers. Median of several.
(c+) burst tick (``tick_burst_ms``): the clock moved so that the acknowledgement
    deadlines of 1 % of all tasks (200) passed at once; each fires step 1 of its
    escalation chain. Measured over several successive slices, median reported.
(d) floor for (c+), same run: raw ``sqlite3`` on a copy of the same database (same
    tables, indexes, pragmas: WAL, synchronous=FULL) doing exactly the SQL writes
    the tick leaves behind, with no Python decision work: the same due-timer query,
    the fired tasks' rows read, then executemany of the very event rows our tick
    stored (same bytes, same hash columns; SQLite computes the generated columns),
    the task row updates, the timer moves, the timeline rows and the projection
    position, in one fsynced transaction. It excludes canonical JSON, hashing,
    the escalation decision, role lookups and SQLAlchemy.

Usage:  python bench/response.py [--incidents 1000]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.core.db import make_engine
from muster.core.eventlog.signing import create_signing_key
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.core.migrate import upgrade
from muster.identity import queries as identity_queries
from muster.identity.domain.commands import RegisterDepartment, RegisterUser
from muster.response.domain.commands import (
    ActivatePlan,
    OpenIncident,
    RegisterPlan,
    RunTimers,
)
from muster.settings import Settings

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
TASKS_PER_INCIDENT = 20
DEPARTMENTS = tuple(f"D{index:02d}" for index in range(1, 11))
ACK_MINUTES = 15
SPACING = timedelta(milliseconds=500)  # between two activations (simulated)
SLICE_INCIDENTS = 10  # 10 incidents x 20 tasks = 200 = 1 % of 20,000 tasks
DUE_SLICES = 6  # the first is a warm-up
SMALL_TICKS = 7  # ticks firing one incident's 20 acknowledgement deadlines
TARGET_MS = 50.0
BENCH_PASSWORD = "bench-password-9"  # noqa: S105 - a throwaway bench account


def _plan() -> dict[str, Any]:
    tasks: list[dict[str, Any]] = []
    for index in range(TASKS_PER_INCIDENT):
        task: dict[str, Any] = {
            "key": f"t{index:02d}",
            "title_zh": f"任务{index}",
            "title_en": f"Task {index}",
            "lead_department": DEPARTMENTS[index % len(DEPARTMENTS)],
            "supporting_departments": [DEPARTMENTS[(index + 3) % len(DEPARTMENTS)]],
            "due_minutes": 60 + (index * 37) % 181,
            "ack_minutes": ACK_MINUTES,
            "checklist": ["Crew dispatched", "Reported back"],
        }
        if index % 5 == 4:  # a few tasks wait for the one before them
            task["depends_on"] = [f"t{index - 1:02d}"]
        tasks.append(task)
    return {
        "code": "BENCH_FLOOD",
        "version": 1,
        "name_zh": "基准预案",
        "name_en": "Bench plan",
        "categories": ["11A00"],
        "levels": [
            {
                "level": "L4",
                "lead_department": "D01",
                "supporting": [
                    {"department": code, "responsibility_zh": "支援",
                     "responsibility_en": "Support"}
                    for code in DEPARTMENTS[1:]
                ],
                "command_roles": {"commander": "EMB"},
                "tasks": tasks,
                "reports": [
                    {"key": "initial", "name_zh": "初报", "name_en": "Initial",
                     "recipient": "City government", "initial_minutes": 120,
                     "follow_up_minutes": 120},
                ],
            }
        ],
    }  # fmt: skip


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _user(muster: Muster, username: str, department: str, role: str) -> Actor:
    muster.bus.handle(
        RegisterUser(
            username=username, display_name=username, department_code=department,
            roles=(role,), password=BENCH_PASSWORD, language="en",
        ),
        SYSTEM_ACTOR,
    )  # fmt: skip
    with muster.engine.connect() as conn:
        view = identity_queries.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def _deployment(folder: Path, clock: SimulatedClock) -> tuple[Muster, Actor]:
    url = f"sqlite:///{folder / 'muster.db'}"
    settings = Settings(
        mode="test", secret_key="b" * 40, database_url=url, data_dir=folder
    )
    engine = make_engine(url)
    upgrade(engine)
    create_signing_key(settings.effective_signing_key_file)
    muster = bootstrap(settings, engine=engine, clock=clock)
    for code, parent in (("EMB", None), *((code, "EMB") for code in DEPARTMENTS)):
        muster.bus.handle(
            RegisterDepartment(
                code=code, name_zh=f"{code}部门", name_en=f"{code} dept",
                type="other", parent_code=parent,
            ),
            SYSTEM_ACTOR,
        )  # fmt: skip
    commander = _user(muster, "commander", "EMB", "commander")
    for code in DEPARTMENTS:
        _user(muster, f"{code.lower()}.duty", code, "duty_officer")
        _user(muster, f"{code.lower()}.head", code, "head")
    muster.bus.handle(RegisterPlan(document=_plan()), SYSTEM_ACTOR)
    return muster, commander


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _activate_all(
    muster: Muster, clock: SimulatedClock, commander: Actor, count: int
) -> list[float]:
    """Open ``count`` incidents and activate the plan on each; return ms each."""
    timings: list[float] = []
    for index in range(count):
        if index:
            clock.advance(SPACING)
        incident_id = muster.bus.handle(
            OpenIncident(
                title=f"内涝 / Flooding #{index}", category="NATURAL_DISASTER",
                latitude=28.2 + index * 1e-5, longitude=112.9, type_code="11A00",
            ),
            commander,
        )  # fmt: skip
        command = ActivatePlan(
            incident_id=str(incident_id), plan_code="BENCH_FLOOD", level="L4"
        )
        started = time.perf_counter()
        outcome = muster.bus.handle(command, commander)
        timings.append((time.perf_counter() - started) * 1000)
        if outcome != "activated":
            raise SystemExit(f"activation refused: {outcome}")
        if (index + 1) % 100 == 0:
            _progress(
                f"  activated {index + 1}/{count} "
                f"(median so far {statistics.median(timings):.1f} ms)"
            )
    return timings


def _tick(muster: Muster) -> tuple[float, int]:
    started = time.perf_counter()
    fired = int(muster.bus.handle(RunTimers(), SYSTEM_ACTOR))
    return (time.perf_counter() - started) * 1000, fired


def _raw(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


_DUE = (
    "SELECT id, kind, subject_id, incident_id, due_at, round, step"
    " FROM response_timers WHERE due_at <= ? ORDER BY due_at, id LIMIT 500"
)


def _slice_writes(path: Path, first_seq: int, last_seq: int) -> dict[str, Any]:
    """The rows one tick wrote, read back from our database for the floor."""
    connection = _raw(path)
    events = connection.execute(
        "SELECT seq, body, prev_hash, hash FROM events WHERE seq > ? AND seq <= ?"
        " ORDER BY seq",
        (first_seq, last_seq),
    ).fetchall()
    timeline = connection.execute(
        "SELECT seq, incident_id, type, at, actor_id, department, data"
        " FROM response_timeline WHERE seq > ? AND seq <= ? ORDER BY seq",
        (first_seq, last_seq),
    ).fetchall()
    connection.close()
    tasks: list[tuple[Any, ...]] = []
    moves: list[tuple[Any, ...]] = []
    for _seq, body, _prev, _hash in events:
        data = json.loads(body)["data"]
        tasks.append((data["round"], data["step"], data["task_id"]))
        moves.append(
            (
                data["next_step_at"],
                data["round"],
                data["step"],
                f"ack:{data['task_id']}",
            )
        )
    return {
        "events": events,
        "timeline": timeline,
        "tasks": tasks,
        "moves": moves,
        "last_seq": last_seq,
    }


def _floor_ms(
    connection: sqlite3.Connection, now: str, writes: dict[str, Any]
) -> float:
    """The raw SQL of one due tick (see the module docstring, (d))."""
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    due = connection.execute(_DUE, (now,)).fetchall()
    ids = [row[2] for row in due]
    marks = ",".join("?" * len(ids))
    connection.execute(
        f"SELECT * FROM response_tasks WHERE id IN ({marks})",  # noqa: S608
        ids,
    ).fetchall()
    connection.executemany(
        "INSERT INTO events (seq, body, prev_hash, hash) VALUES (?, ?, ?, ?)",
        writes["events"],
    )
    connection.executemany(
        "UPDATE response_tasks SET escalation_round = ?, escalation_step = ?,"
        " version = version + 1 WHERE id = ?",
        writes["tasks"],
    )
    connection.executemany(
        "UPDATE response_timers SET due_at = ?, round = ?, step = ? WHERE id = ?",
        writes["moves"],
    )
    connection.executemany(
        "INSERT INTO response_timeline VALUES (?, ?, ?, ?, ?, ?, ?)",
        writes["timeline"],
    )
    connection.execute(
        "UPDATE projection_positions SET position = ?", (writes["last_seq"],)
    )
    connection.execute("COMMIT")
    elapsed = (time.perf_counter() - started) * 1000
    if len(due) != len(writes["events"]):
        raise SystemExit(f"floor saw {len(due)} due timers, ours fired a different set")
    return elapsed


def _head(path: Path) -> int:
    connection = _raw(path)
    (seq,) = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
    connection.close()
    return int(seq)


def bench_response(incidents: int) -> dict[str, float]:
    """Run the setup, the activations, the ticks and the floor; return the figures."""
    clock = SimulatedClock(START)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        muster, commander = _deployment(folder, clock)
        _progress(f"opening {incidents} incidents and activating the plan on each")
        started = time.perf_counter()
        activations = _activate_all(muster, clock, commander, incidents)
        _progress(f"  setup took {time.perf_counter() - started:.1f} s")
        database = folder / "muster.db"
        with muster.engine.connect() as conn:
            pending = int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM response_timers"
                ).scalar_one()
            )
            task_count = int(
                conn.exec_driver_sql("SELECT count(*) FROM response_tasks").scalar_one()
            )

        idle = []
        for _ in range(21):
            elapsed, fired = _tick(muster)
            if fired:
                raise SystemExit(f"an idle tick fired {fired} timers")
            idle.append(elapsed)

        # The floor works on a copy taken now, before any timer fired.
        floor_path = folder / "floor.db"
        source = _raw(database)
        target = sqlite3.connect(floor_path)
        source.backup(target)
        source.close()
        target.close()

        _progress("ticking: 200 acknowledgement deadlines due per tick")
        deadline = START + timedelta(minutes=ACK_MINUTES)
        ticks: list[tuple[str, float, int, int, int]] = []
        for index in range(DUE_SLICES):
            last_incident = SLICE_INCIDENTS * (index + 1) - 1
            now = deadline + SPACING * last_incident + SPACING / 2
            clock.advance(now - clock.now())
            before = _head(database)
            elapsed, fired = _tick(muster)
            ticks.append((isoformat_utc(now), elapsed, fired, before, _head(database)))
        _progress("ticking: one incident's 20 deadlines due per tick")
        small: list[float] = []
        for index in range(SMALL_TICKS):
            incident = SLICE_INCIDENTS * DUE_SLICES + index
            now = deadline + SPACING * incident + SPACING / 2
            clock.advance(now - clock.now())
            elapsed, fired = _tick(muster)
            if fired != TASKS_PER_INCIDENT:
                raise SystemExit(f"a small tick fired {fired}, not 20")
            small.append(elapsed)
        muster.engine.dispose()

        floor_connection = _raw(floor_path)
        floors: list[float] = []
        for now_text, _elapsed, _fired, before, after in ticks:
            writes = _slice_writes(database, before, after)
            floors.append(_floor_ms(floor_connection, now_text, writes))
        floor_connection.close()

    measured = ticks[1:]
    if any(item[2] != SLICE_INCIDENTS * TASKS_PER_INCIDENT for item in ticks):
        raise SystemExit(
            f"a due tick fired {[item[2] for item in ticks]}, not 200 each"
        )
    burst_ms = statistics.median(item[1] for item in measured)
    floor_ms = statistics.median(floors[1:])
    return {
        "incidents": incidents,
        "tasks": task_count,
        "pending_timers": pending,
        "activation_ms_p50": statistics.median(activations),
        "activation_ms_p90": _percentile(activations, 0.9),
        "activations_per_s": 1000 / statistics.mean(activations),
        # The figure: one tick over the pending timers, firing what one
        # incident's activation makes due at once (its 20 acknowledgement deadlines).
        "tick_ms": statistics.median(small),
        "tick_due": TASKS_PER_INCIDENT,
        "tick_idle_ms": statistics.median(idle[1:]),
        # A burst: 1 % of all tasks due in the same tick, against the SQL floor.
        "tick_burst_ms": burst_ms,
        "tick_burst_ms_max": max(item[1] for item in measured),
        "tick_burst_due": measured[0][2],
        "tick_burst_floor_ms": floor_ms,
        "tick_burst_ratio": floor_ms / burst_ms,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    arguments = parser.parse_args()
    least = SLICE_INCIDENTS * DUE_SLICES + SMALL_TICKS
    if arguments.incidents < least:
        parser.error(f"--incidents must be at least {least}")
    figures = bench_response(arguments.incidents)
    print(
        f"(a) plan activation ({TASKS_PER_INCIDENT} tasks, 1 report clock): "
        f"median {figures['activation_ms_p50']:.1f} ms, p90 "
        f"{figures['activation_ms_p90']:.1f} ms, {figures['activations_per_s']:.0f}/s"
    )
    print(
        f"(b) idle tick over {figures['pending_timers']:.0f} pending timers: "
        f"{figures['tick_idle_ms']:.2f} ms"
    )

    def verdict(value: float) -> str:
        return (
            f"target <= {TARGET_MS:.0f} ms {'met' if value <= TARGET_MS else 'NOT met'}"
        )

    print(
        f"(c) tick firing {figures['tick_due']:.0f} escalation steps (one incident's "
        f"deadlines): {figures['tick_ms']:.1f} ms median; {verdict(figures['tick_ms'])}"
    )
    print(
        f"(c+) burst tick firing {figures['tick_burst_due']:.0f} steps: "
        f"{figures['tick_burst_ms']:.1f} ms median (max "
        f"{figures['tick_burst_ms_max']:.1f}); {verdict(figures['tick_burst_ms'])}"
    )
    print(
        f"(d) raw sqlite3 floor for the burst's writes: "
        f"{figures['tick_burst_floor_ms']:.1f} ms; ratio floor/tick "
        f"{figures['tick_burst_ratio']:.3f}"
    )
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
