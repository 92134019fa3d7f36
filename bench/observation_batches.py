"""Part (b) of bench/ingest.py: validated observation batches vs raw executemany.

Our side: ``IngestFile`` through the bus for a JSON batch of rain-gauge readings
(decode, validate every row against the dataset's schema, store with executemany,
one ``ObservationsIngested`` event with count and digests, commit). The peer: the
same typed rows inserted by ``sqlite3`` ``executemany`` into an identical table
(same columns, primary key and indexes), one transaction per batch, same pragmas
(WAL, synchronous=FULL).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from muster.bootstrap import bootstrap
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.db import make_engine
from muster.core.eventlog.signing import create_signing_key
from muster.core.messages import SYSTEM_ACTOR
from muster.core.migrate import upgrade
from muster.identity.domain.commands import RegisterDepartment
from muster.ingest.domain.commands import IngestFile
from muster.settings import Settings

FIELDS = (
    DatasetField(name="station_id", type="string", required=True, max_length=16),
    DatasetField(
        name="metric", type="enum", required=True, choices=("rain_5min", "rain_1h")
    ),
    DatasetField(
        name="value", type="number", unit="mm", required=True, minimum=0, maximum=1000
    ),
    DatasetField(name="observed_at", type="datetime", required=True),
    DatasetField(name="location", type="point", required=True),
)


def _rows(batch: int, size: int) -> list[dict[str, object]]:
    start = datetime(2026, 7, 1, tzinfo=UTC) + timedelta(minutes=5 * batch)
    return [
        {
            "station_id": f"5{index % 186:04d}",
            "metric": "rain_5min",
            "value": round((index * 7 % 500) / 10, 1),
            "observed_at": (start + timedelta(seconds=index % 300)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            # A gauge does not move: its location is fixed per station.
            "location": f"{28 + index % 186 / 1000:.4f},"
            f"{112.9 + index % 186 * 7 % 97 / 1000:.4f}",
        }
        for index in range(size)
    ]


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
            code="MET", name_zh="气象局", name_en="Met", type="meteorology"
        ),
        SYSTEM_ACTOR,
    )
    metadata = DatasetMetadata(
        code="MET_RAIN", name_zh="雨量", name_en="Rain", owner_department="MET",
        sharing_class="UNCONDITIONAL", data_grade="GENERAL", update_interval_minutes=5,
        format="observations", connector="api_push",
    )  # fmt: skip
    muster.bus.handle(RegisterDataset(metadata=metadata, fields=FIELDS), SYSTEM_ACTOR)
    return muster


_PEER_TABLE = """
CREATE TABLE ingest_observations (
  batch_id TEXT NOT NULL, ordinal INTEGER NOT NULL, dataset_code TEXT NOT NULL,
  station TEXT NOT NULL, metric TEXT NOT NULL, value FLOAT NOT NULL, unit TEXT,
  observed_at TEXT NOT NULL, latitude FLOAT, longitude FLOAT,
  PRIMARY KEY (batch_id, ordinal));
CREATE INDEX ix_a ON ingest_observations (dataset_code, observed_at);
CREATE INDEX ix_b ON ingest_observations (station, observed_at);
"""


def _peer_seconds(path: Path, batches: list[list[tuple[object, ...]]]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(_PEER_TABLE)
    started = time.perf_counter()
    for rows in batches:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO ingest_observations VALUES (?,?,?,?,?,?,?,?,?,?)", rows
        )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def bench_observations(*, batches: int = 6, size: int = 5000) -> dict[str, object]:
    """Measure part (b) and return its figures."""
    with tempfile.TemporaryDirectory() as folder:
        muster = _deployment(Path(folder))
        payloads = [
            json.dumps(_rows(index, size)).encode() for index in range(batches + 1)
        ]
        muster.bus.handle(  # warm-up batch: caches, statements
            IngestFile(dataset_code="MET_RAIN", source="bench", data=payloads[0]),
            SYSTEM_ACTOR,
        )
        started = time.perf_counter()
        for payload in payloads[1:]:
            outcome = muster.bus.handle(
                IngestFile(dataset_code="MET_RAIN", source="bench", data=payload),
                SYSTEM_ACTOR,
            )
            if outcome.accepted != size:
                raise SystemExit(f"bench batch not fully accepted: {outcome}")
        ours = time.perf_counter() - started
        with muster.engine.connect() as conn:
            stored = conn.exec_driver_sql(
                "SELECT batch_id, ordinal, dataset_code, station, metric, value, unit,"
                " observed_at, latitude, longitude FROM ingest_observations"
                " ORDER BY rowid"
            ).fetchall()
        muster.engine.dispose()
        typed = [tuple(row) for row in stored[size:]]
        peer_batches = [
            typed[index : index + size] for index in range(0, len(typed), size)
        ]
        theirs = _peer_seconds(Path(folder) / "peer.db", peer_batches)
    rows = batches * size
    return {
        "observation_rows_per_s": round(rows / ours),
        "raw_executemany_rows_per_s": round(rows / theirs),
        "observation_ratio": round(theirs / ours, 3),
        "observation_batch_size": size,
    }
