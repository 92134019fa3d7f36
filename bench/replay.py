"""Benchmark replay into empty read models against a raw ordered scan of the same rows.

Set-up: a temporary SQLite deployment whose log holds ``--events`` events, written in
bulk straight into the events table with the real envelope, canonical bytes and hash
chain (no command path: building the log is not what is measured). The events cycle
through an incident's life: opened, facts recorded, verified, closed; each one goes
through the response projection (an incident row, a timeline row) on replay.

(a) ``replay_into``: read the log in batches, decode each event and run it through
    the live projection functions into an empty, migrated scratch SQLite file.
(b) A raw ordered scan: ``SELECT * FROM events ORDER BY seq`` on a bare sqlite3
    cursor, fetching every column of every row, decoding nothing.

The ratio is scan seconds / replay seconds (target >= 0.1).

Usage:  python bench/replay.py [--events 1000000]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from muster.bootstrap import PROJECTIONS
from muster.core.clock import isoformat_utc
from muster.core.db import make_engine
from muster.core.eventlog.chain import GENESIS_HASH, canonical_bytes, link
from muster.core.eventlog.replay_into import replay_into, scratch_engine
from muster.core.eventlog.store import NewEvent, envelope_dict
from muster.core.messages import Event
from muster.core.migrate import upgrade
from muster.response.domain.events import (
    IncidentFactsRecorded,
    IncidentOpened,
    IncidentStatusChanged,
)

START = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # one second per event after it


def _life(index: int) -> list[Event]:
    """Return the four events of one incident's life."""
    incident_id = f"bench-{index}"
    return [
        IncidentOpened(
            incident_id=incident_id,
            title=f"河道水位超警戒 / River above warning level #{index}",
            category="NATURAL_DISASTER",
            latitude=28.2 + (index % 1000) * 1e-4,
            longitude=112.9,
            description="Gauge LJ-017 reads 32.4 m, rising 0.3 m/h.",
            reporting_department="EMB",
            type_code="11A00",
        ),
        IncidentFactsRecorded(
            incident_id=incident_id, facts={"rain_24h_mm": index % 300}
        ),
        IncidentStatusChanged(
            incident_id=incident_id,
            from_status="reported",
            to_status="verified",
            reason="gauge confirmed",
        ),
        IncidentStatusChanged(
            incident_id=incident_id,
            from_status="verified",
            to_status="closed",
            reason="water receded",
        ),
    ]


def _rows(count: int) -> Iterator[tuple[int, str, bytes, bytes]]:
    """Yield (seq, body, prev_hash, hash) of a chained log of ``count`` events."""
    prev_hash = GENESIS_HASH
    seq = 0
    index = 0
    while seq < count:
        for version, event in enumerate(_life(index), start=1):
            seq += 1
            if seq > count:
                return
            moment = isoformat_utc(START + timedelta(seconds=seq))
            new = NewEvent(
                event=event,
                stream_id=f"incident-bench-{index}",
                stream_version=version,
                event_id=f"e-{seq}",
                occurred_at=moment,
                actor_kind="user",
                actor_id="bench",
                actor_department="EMB",
            )
            body = canonical_bytes(envelope_dict(new, seq=seq, recorded_at=moment))
            hash_ = link(prev_hash, body)
            yield seq, body.decode("utf-8"), prev_hash, hash_
            prev_hash = hash_
        index += 1


def build_log(path: Path, count: int) -> float:
    """Create a migrated database at path holding ``count`` events; return seconds."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    started = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("BEGIN")
    insert = "INSERT INTO events (seq, body, prev_hash, hash) VALUES (?, ?, ?, ?)"
    batch: list[tuple[int, str, bytes, bytes]] = []
    for row in _rows(count):
        batch.append(row)
        if len(batch) == 10_000:
            connection.executemany(insert, batch)
            batch.clear()
    connection.executemany(insert, batch)
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return time.perf_counter() - started


def raw_scan(path: Path) -> tuple[float, int]:
    """Scan every column of every event row in seq order; return seconds and rows."""
    connection = sqlite3.connect(path)
    started = time.perf_counter()
    cursor = connection.execute("SELECT * FROM events ORDER BY seq")
    rows = 0
    while chunk := cursor.fetchmany(2000):
        rows += len(chunk)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, rows


def replay(path: Path, folder: Path, count: int) -> tuple[float, int]:
    """Replay the log into an empty scratch database; return seconds and events."""
    source = make_engine(f"sqlite:///{path}")
    target = scratch_engine(folder / "replayed.db")
    step = max(count // 10, 1)
    reported = [0]

    def progress(done: int, _seq: int) -> None:
        if done - reported[0] >= step:
            reported[0] = done
            print(f"  replayed {done} events", file=sys.stderr, flush=True)

    started = time.perf_counter()
    replayed = replay_into(source, PROJECTIONS, target=target, progress=progress)
    elapsed = time.perf_counter() - started
    source.dispose()
    target.dispose()
    return elapsed, replayed.events


def main() -> None:
    """Build the log, time both readers and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "muster.db"
        build_seconds = build_log(path, arguments.events)
        print(f"built {arguments.events} events in {build_seconds:.1f} s")
        scan_seconds, scanned = raw_scan(path)
        replay_seconds, replayed = replay(path, folder, arguments.events)
    if scanned != replayed:
        raise SystemExit(f"scanned {scanned} rows but replayed {replayed} events")
    ratio = scan_seconds / replay_seconds
    print(
        f"replay {replayed} events: {replay_seconds:.1f} s "
        f"({replayed / replay_seconds:.0f} events/s); raw ordered scan "
        f"{scan_seconds:.2f} s ({scanned / scan_seconds:.0f} rows/s); "
        f"ratio {ratio:.3f} (target >= 0.1)"
    )
    figures = {
        "events": replayed,
        "replay_seconds": round(replay_seconds, 3),
        "scan_seconds": round(scan_seconds, 3),
        "ratio": round(ratio, 4),
        "build_seconds": round(build_seconds, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
