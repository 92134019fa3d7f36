"""Clocks: the only source of "now" in Muster (real, or simulated for drills).

Imported by every layer; never call ``datetime.now()`` elsewhere.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that moves only when told to (tests and drills)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the simulated time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the simulated time forward."""
        with self._lock:
            self._now += delta


def isoformat_utc(moment: datetime) -> str:
    """Format an aware datetime as sortable ISO-8601 UTC with microseconds and 'Z'."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; a naive one is refused."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without timezone: {text!r}")
    return moment.astimezone(UTC)


__all__ = ["Clock", "SimulatedClock", "SystemClock", "isoformat_utc", "parse_utc"]
