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

The log is a ``LogSource``: the database (a ``Connection``, wrapped as ``DatabaseLog``)
or an exported file (``muster.review.exported_log.ExportedLog``, verified before it
is read). Both yield the same envelopes and hashes, so the figures, the log range and
the head hash agree whichever was read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Connection

from muster.core.clock import parse_utc
from muster.core.eventlog.store import Envelope, SqlEventStore
from muster.review.domain import metrics
from muster.review.domain.scorecard import (
    Scorecard,
    ScorecardWeights,
    build_scorecards,
)

_INCIDENT_OPENED = "response.IncidentOpened"
_DEPARTMENT_EVENTS = ("identity.DepartmentRegistered", "identity.DepartmentUpdated")


class LogSource(Protocol):
    """Where the events come from: every (envelope, chain hash) in seq order."""

    def entries(self) -> Iterator[tuple[Envelope, bytes]]:
        """Yield each event's envelope and its chain hash, in seq order."""
        ...


@dataclass(frozen=True, slots=True)
class DatabaseLog:
    """The deployment's own log, read through the event store."""

    conn: Connection
    store: SqlEventStore = field(default_factory=SqlEventStore)

    def entries(self) -> Iterator[tuple[Envelope, bytes]]:
        """Yield each stored event's envelope and hash, in seq order."""
        for recorded in self.store.iter_all(self.conn):
            yield recorded.envelope, recorded.hash


Log = Connection | LogSource
"""A database connection (its log) or any other source of logged events."""


def _source(log: Log, store: SqlEventStore | None) -> LogSource:
    if isinstance(log, Connection):
        return DatabaseLog(log, store or SqlEventStore())
    return log


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
class DepartmentName:
    """A department as the log names it (its latest registration or update)."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class PeriodContext:
    """What else a period's log says: incidents opened (live, drill) and departments.

    ``departments`` lists every department registered up to the period's end, so a
    report can name the ones with nothing measured.
    """

    live_incidents: int = 0
    drill_incidents: int = 0
    departments: tuple[DepartmentName, ...] = ()


@dataclass(frozen=True, slots=True)
class ScorecardReport:
    """Scorecards over a period (live and, if any, drill) and their log range."""

    period: metrics.Period
    weights: ScorecardWeights
    scorecards: tuple[Scorecard, ...]
    log_range: LogRange | None
    context: PeriodContext = PeriodContext()


def _is_exercise(envelope: Envelope) -> bool:
    # The envelope's flag, and the shorter key drills may also use.
    return envelope.is_exercise or bool(envelope.metadata.get("exercise", False))


def _record(envelope: Envelope) -> metrics.LogRecord:
    return metrics.LogRecord(
        seq=envelope.seq,
        type=envelope.type,
        occurred_at=parse_utc(envelope.occurred_at),
        department=envelope.actor_department,
        data=envelope.data,
        is_exercise=_is_exercise(envelope),
    )


def read_records(
    log: Log, period: metrics.Period, *, store: SqlEventStore | None = None
) -> tuple[list[metrics.LogRecord], LogRange | None]:
    """Return the records up to the period's end and the range of those within it."""
    records: list[metrics.LogRecord] = []
    first: int | None = None
    last: tuple[int, bytes] | None = None
    for envelope, hash_ in _source(log, store).entries():
        record = _record(envelope)
        if record.occurred_at > period.end:
            continue
        records.append(record)
        if period.contains(record.occurred_at):
            first = envelope.seq if first is None else first
            last = (envelope.seq, hash_)
    if first is None or last is None:
        return records, None
    return records, LogRange(first, last[0], last[1].hex())


def period_context(
    records: list[metrics.LogRecord], period: metrics.Period
) -> PeriodContext:
    """Count the incidents opened in the period and name the departments known."""
    opened = [
        r
        for r in records
        if r.type == _INCIDENT_OPENED and period.contains(r.occurred_at)
    ]
    names: dict[str, DepartmentName] = {}
    for record in records:
        if record.type in _DEPARTMENT_EVENTS:
            code = str(record.data.get("code", ""))
            names[code] = DepartmentName(
                code,
                str(record.data.get("name_zh", code)),
                str(record.data.get("name_en", code)),
            )
    return PeriodContext(
        live_incidents=sum(1 for r in opened if not r.is_exercise),
        drill_incidents=sum(1 for r in opened if r.is_exercise),
        departments=tuple(names[code] for code in sorted(names)),
    )


def _measured(
    log: Log, period: metrics.Period, store: SqlEventStore | None
) -> tuple[MetricsResult, PeriodContext]:
    records, log_range = read_records(log, period, store=store)
    samples = tuple(metrics.all_samples(records, period))
    result = MetricsResult(period=period, samples=samples, log_range=log_range)
    return result, period_context(records, period)


def metric_samples(
    log: Log,
    *,
    start: datetime,
    end: datetime,
    store: SqlEventStore | None = None,
) -> MetricsResult:
    """Measure every metric over [start, end] (``log``: a connection or a source)."""
    return _measured(log, metrics.Period(start, end), store)[0]


def scorecards(
    log: Log,
    *,
    start: datetime,
    end: datetime,
    incident_id: str | None = None,
    weights: ScorecardWeights | None = None,
    store: SqlEventStore | None = None,
) -> ScorecardReport:
    """Return the departments' scorecards over [start, end] (one incident or all).

    ``log`` is a database connection (with ``store``) or any ``LogSource``, such as
    a verified exported file.
    """
    weights = weights or ScorecardWeights()
    result, context = _measured(log, metrics.Period(start, end), store)
    cards = build_scorecards(result.samples, weights, incident_id=incident_id)
    return ScorecardReport(
        period=result.period,
        weights=weights,
        scorecards=tuple(cards),
        log_range=result.log_range,
        context=context,
    )


__all__ = [
    "DatabaseLog",
    "DepartmentName",
    "Log",
    "LogRange",
    "LogSource",
    "MetricsResult",
    "PeriodContext",
    "ScorecardReport",
    "metric_samples",
    "period_context",
    "read_records",
    "scorecards",
]
