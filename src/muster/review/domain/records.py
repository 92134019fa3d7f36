"""Logged events as the review reads them, and the samples measured from them (pure).

``LogRecord`` is one event of the log (position, time, type, payload) with typed
look-ups into its payload; ``Period`` is the closed interval a measure covers;
``Sample`` is one measured item with the seqs of the events behind it, and
``percentile``, ``rate``, ``total`` and ``seqs_of`` aggregate samples. Imported by
the metric modules (``task_metrics``, ``exchange_metrics``; all re-exported by
``muster.review.domain.metrics``), by ``knowledge`` and by the findings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One logged event as the review sees it: position, time, type and payload."""

    seq: int
    type: str
    occurred_at: datetime
    department: str | None
    data: Mapping[str, object]
    is_exercise: bool = False

    def text(self, key: str) -> str:
        """Return a payload value as text ("" when missing or empty)."""
        return str(self.data.get(key) or "")

    def optional(self, key: str) -> str | None:
        """Return a payload value as text, or None when missing or empty."""
        value = self.data.get(key)
        return str(value) if value is not None and value != "" else None

    def texts(self, key: str) -> tuple[str, ...]:
        """Return a payload list as texts (empty when it is no list)."""
        value = self.data.get(key)
        if isinstance(value, list | tuple):
            return tuple(str(item) for item in value)
        return ()

    def pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        """Return a payload mapping as (name, text) pairs sorted by name."""
        value = self.data.get(key)
        if not isinstance(value, Mapping):
            return ()
        return tuple(sorted((str(name), str(item)) for name, item in value.items()))

    def number(self, key: str) -> int:
        """Return a payload number as an integer (0 when it is no number)."""
        value = self.data.get(key)
        return int(value) if isinstance(value, int | float) else 0


def logged_time(text: object) -> datetime:
    """Parse a logged ISO time (``Z`` or an offset) into an aware datetime."""
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def in_minutes(delta: timedelta) -> float:
    """Return a duration in minutes."""
    return delta / _MINUTE


@dataclass(frozen=True, slots=True)
class Period:
    """A closed interval of time [start, end] (aware UTC datetimes)."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """Tell whether a moment lies within the period, ends included."""
        return self.start <= moment <= self.end


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured item: a value (minutes, a 1/0 flag or a count) and its events."""

    metric: str
    department: str
    subject: str
    value: float
    seqs: tuple[int, ...]
    incident_id: str | None = None
    is_exercise: bool = False


def flag(condition: bool) -> float:
    """Return a sample value for a yes/no measure: 1.0 or 0.0."""
    return 1.0 if condition else 0.0


# --- aggregates -----------------------------------------------------------------------


def percentile(values: Sequence[float], q: int) -> float | None:
    """Return the q-th percentile by the nearest-rank method, or None when empty.

    Nearest rank: sort the n values and take the one at rank ceil(q/100 × n) (1-based),
    so the result is always one of the measured values: p50 of [7, 25] is 7, p90 is 25.
    """
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {q}")
    ordered = sorted(values)
    rank = math.ceil(Fraction(q, 100) * len(ordered))
    return ordered[rank - 1]


def rate(samples: Sequence[Sample]) -> Fraction | None:
    """Return the exact share of 1-flags among samples, or None when empty."""
    if not samples:
        return None
    return Fraction(sum(1 for sample in samples if sample.value), len(samples))


def total(samples: Iterable[Sample]) -> float:
    """Return the sum of the samples' values."""
    return sum((sample.value for sample in samples), 0.0)


def seqs_of(samples: Iterable[Sample]) -> tuple[int, ...]:
    """Return the distinct seqs behind samples, in log order."""
    return tuple(sorted({seq for sample in samples for seq in sample.seqs}))


__all__ = [
    "LogRecord",
    "Period",
    "Sample",
    "flag",
    "in_minutes",
    "logged_time",
    "percentile",
    "rate",
    "seqs_of",
    "total",
]
