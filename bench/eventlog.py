"""Benchmark the event log against physical limits measured in the same run.

(a) commands/s through the real command path (bus -> handler -> unit of work ->
    hash chain -> projection -> commit) versus raw SQLite one-row commits of the
    same event bytes with the same durability settings (WAL, synchronous=FULL).
(b) ``audit verify`` events/s versus a bare hashlib SHA-256 chain over the same
    bytes held in memory.

Usage:  python bench/eventlog.py [--commands 2000] [--events 100000]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from muster.bootstrap import bootstrap
from muster.core.db import make_engine
from muster.core.eventlog.audit import verify_log
from muster.core.eventlog.signing import create_signing_key
from muster.core.eventlog.store import SqlEventStore
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.core.migrate import upgrade
from muster.identity.domain.commands import RegisterDepartment
from muster.response.domain.commands import OpenIncident
from muster.response.domain.events import IncidentOpened
from muster.settings import Settings

COMMANDER = Actor(
    kind="user", id="bench", department="EMB", roles=frozenset({"commander"})
)


def _deployment(folder: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{folder / 'muster.db'}"
    settings = Settings(
        mode="test", secret_key="b" * 40, database_url=url, data_dir=folder
    )
    engine = make_engine(url)
    upgrade(engine)
    create_signing_key(settings.effective_signing_key_file)
    muster = bootstrap(settings, engine=engine)
    muster.bus.handle(
        RegisterDepartment(
            code="EMB",
            name_zh="应急管理局",
            name_en="Emergency Management Bureau",
            type="emergency_management",
        ),
        SYSTEM_ACTOR,
    )
    return muster


def _command(index: int) -> OpenIncident:
    return OpenIncident(
        title=f"河道水位超警戒 / River above warning level #{index}",
        category="NATURAL_DISASTER",
        latitude=28.2 + index * 1e-5,
        longitude=112.9,
        description="Gauge LJ-017 reads 32.4 m, rising 0.3 m/h.",
    )


def bench_commands(count: int) -> dict[str, float]:
    """Measure (a): real command path vs raw one-row SQLite commits."""
    with tempfile.TemporaryDirectory() as folder:
        muster = _deployment(Path(folder))
        for index in range(50):  # warm caches and statement compilation
            muster.bus.handle(_command(index), COMMANDER)
        started = time.perf_counter()
        for index in range(count):
            muster.bus.handle(_command(index), COMMANDER)
        command_seconds = time.perf_counter() - started
        with muster.engine.connect() as conn:
            bodies = [row[3] for row in SqlEventStore().chain_rows(conn)][-count:]
        muster.engine.dispose()
        raw_seconds = _raw_commits(Path(folder) / "raw.db", bodies)
    return {
        "commands_per_s": count / command_seconds,
        "raw_commits_per_s": count / raw_seconds,
        "command_ratio": raw_seconds / command_seconds,
    }


def _raw_commits(path: Path, bodies: list[bytes]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body BLOB)")
    started = time.perf_counter()
    for body in bodies:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (body) VALUES (?)", (body,))
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def bench_verify(count: int) -> dict[str, float]:
    """Measure (b): audit verify vs a bare in-memory hashlib chain."""
    with tempfile.TemporaryDirectory() as folder:
        muster = _deployment(Path(folder))
        uow = muster.bus.unit_of_work(COMMANDER)
        with uow:
            for index in range(count):
                event = IncidentOpened(
                    incident_id=f"bench-{index}",
                    title=_command(index).title,
                    category="NATURAL_DISASTER",
                    latitude=28.2,
                    longitude=112.9,
                    description=_command(index).description,
                    reporting_department="EMB",
                )
                uow.append(f"incident-bench-{index}", [event], expected_version=0)
            uow.commit()
        key = muster.require_signing_key()
        keys = {key.key_id: key.public_key}
        figures: dict[str, float] = {}
        workers = min(2, os.cpu_count() or 1)
        for label, worker_count in (("single", 1), ("parallel", workers)):
            started = time.perf_counter()
            report = verify_log(muster.engine, public_keys=keys, workers=worker_count)
            elapsed = time.perf_counter() - started
            if not report.ok:
                raise SystemExit(f"verification failed: {report.to_json()}")
            figures[f"verify_{label}_events_per_s"] = report.events / elapsed
        with muster.engine.connect() as conn:
            bodies = [row[3] for row in SqlEventStore().chain_rows(conn)]
        muster.engine.dispose()
    started = time.perf_counter()
    running = bytes(32)
    for body in bodies:
        running = hashlib.sha256(running + body).digest()
    bare = len(bodies) / (time.perf_counter() - started)
    figures["verify_events_per_s"] = max(
        figures["verify_single_events_per_s"], figures["verify_parallel_events_per_s"]
    )
    figures["bare_chain_events_per_s"] = bare
    figures["verify_ratio"] = figures["verify_events_per_s"] / bare
    figures["verify_single_ratio"] = figures["verify_single_events_per_s"] / bare
    figures["verify_workers"] = workers
    return figures


def main() -> None:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--events", type=int, default=100_000)
    arguments = parser.parse_args()
    figures = {**bench_commands(arguments.commands), **bench_verify(arguments.events)}
    print(
        f"(a) commands/s {figures['commands_per_s']:.0f} vs raw SQLite commits/s "
        f"{figures['raw_commits_per_s']:.0f}: ratio {figures['command_ratio']:.3f}"
        " (target >= 0.1)"
    )
    print(
        f"(b) audit verify events/s {figures['verify_events_per_s']:.0f} vs bare "
        f"hashlib chain {figures['bare_chain_events_per_s']:.0f}: ratio "
        f"{figures['verify_ratio']:.3f} (target >= 0.5; one process: "
        f"{figures['verify_single_ratio']:.3f})"
    )
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
