"""The metrics query layer: read the log over a period, measure, say what was read.

Imported by ``muster.review.scorecard_cli`` (and meant for the pages and the after-
action review): every reader of a metric comes here, so the definitions in
``muster.review.domain.metrics`` are the only ones.

The period is [start, end] by ``occurred_at``. Events up to ``end`` are read from the
start of the log, because earlier events give context (a dataset's owner, the previous
delivery); only subjects opened within the period are measured. Each result states the
log range of the period's events (first and last seq) and the chain hash at the last
seq, so anyone can recompute it from the same log (``muster audit verify`` proves the
log up to that hash). Reading from seq 1 is linear in the log's size: fine for
scorecards of a deployment's history, to revisit with a time index for huge logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from muster.core.clock import parse_utc
from muster.core.eventlog.store import Recorded, SqlEventStore
from muster.review.domain import metrics
from muster.review.domain.scorecard import (
    Scorecard,
    ScorecardWeights,
    build_scorecards,
)


@dataclass(frozen=True, slots=True)
class LogRange:
    """The events a result was computed from: seqs and the chain hash at the last."""

    first_seq: int
    last_seq: int
    head_hash: str


@dataclass(frozen=True, slots=True)
class MetricsResult:
    """Samples of every metric over a period, with the log range behind them."""

    period: metrics.Period
    samples: tuple[metrics.Sample, ...]
    log_range: LogRange | None

    def of(
        self,
        metric: str,
        *,
        department: str | None = None,
        incident_id: str | None = None,
        is_exercise: bool = False,
    ) -> list[metrics.Sample]:
        """Return the samples of one metric, optionally of one department/incident."""
        return [
            s
            for s in self.samples
            if s.metric == metric
            and s.is_exercise is is_exercise
            and (department is None or s.department == department)
            and (incident_id is None or s.incident_id == incident_id)
        ]


@dataclass(frozen=True, slots=True)
class ScorecardReport:
    """Scorecards over a period (live and, if any, drill) and their log range."""

    period: metrics.Period
    weights: ScorecardWeights
    scorecards: tuple[Scorecard, ...]
    log_range: LogRange | None


def _is_exercise(recorded: Recorded) -> bool:
    envelope = recorded.envelope
    # The envelope's flag, and the shorter key drills may also use.
    return envelope.is_exercise or bool(envelope.metadata.get("exercise", False))


def _record(recorded: Recorded) -> metrics.LogRecord:
    envelope = recorded.envelope
    return metrics.LogRecord(
        seq=envelope.seq,
        type=envelope.type,
        occurred_at=parse_utc(envelope.occurred_at),
        department=envelope.actor_department,
        data=envelope.data,
        is_exercise=_is_exercise(recorded),
    )


def read_records(
    conn: Connection, period: metrics.Period, *, store: SqlEventStore | None = None
) -> tuple[list[metrics.LogRecord], LogRange | None]:
    """Return the records up to the period's end and the range of those within it."""
    store = store or SqlEventStore()
    records: list[metrics.LogRecord] = []
    first: Recorded | None = None
    last: Recorded | None = None
    for recorded in store.iter_all(conn):
        record = _record(recorded)
        if record.occurred_at > period.end:
            continue
        records.append(record)
        if period.contains(record.occurred_at):
            first = first or recorded
            last = recorded
    if first is None or last is None:
        return records, None
    log_range = LogRange(first.envelope.seq, last.envelope.seq, last.hash.hex())
    return records, log_range


def metric_samples(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    store: SqlEventStore | None = None,
) -> MetricsResult:
    """Measure every metric over [start, end]."""
    period = metrics.Period(start, end)
    records, log_range = read_records(conn, period, store=store)
    samples = tuple(metrics.all_samples(records, period))
    return MetricsResult(period=period, samples=samples, log_range=log_range)


def scorecards(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    incident_id: str | None = None,
    weights: ScorecardWeights | None = None,
    store: SqlEventStore | None = None,
) -> ScorecardReport:
    """Return the departments' scorecards over [start, end] (one incident or all)."""
    weights = weights or ScorecardWeights()
    result = metric_samples(conn, start=start, end=end, store=store)
    cards = build_scorecards(result.samples, weights, incident_id=incident_id)
    return ScorecardReport(
        period=result.period,
        weights=weights,
        scorecards=tuple(cards),
        log_range=result.log_range,
    )


__all__ = [
    "LogRange",
    "MetricsResult",
    "ScorecardReport",
    "metric_samples",
    "read_records",
    "scorecards",
]
