"""The scaled clock of an attended drill: scenario time runs ``speed`` times real time.

``now() = sim_start + (real time elapsed while running) × speed``; ``pause`` stops
scenario time and ``resume`` lets it run on from where it stood. It implements
``muster.core.clock.Clock``, so the sandbox deployment (web app, timers, triggers)
runs on it unchanged. Unattended drills use ``core.clock.SimulatedClock`` instead.
Imported by ``muster.drills.runner`` and ``muster.drills.cli``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Monotonic = Callable[[], float]
"""Returns real seconds from an arbitrary origin, never going back."""


class ScaledClock:
    """Scenario time: a start moment plus real elapsed time times a speed."""

    def __init__(
        self,
        sim_start: datetime,
        *,
        speed: float = 1.0,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        if sim_start.tzinfo is None:
            raise ValueError("ScaledClock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError("the speed of a drill clock must be positive")
        self.sim_start = sim_start.astimezone(UTC)
        self.speed = speed
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._banked = 0.0  # real seconds run before the current stretch
        self._running_since: float | None = monotonic()

    def now(self) -> datetime:
        """Return the scenario time."""
        with self._lock:
            return self.sim_start + timedelta(seconds=self._real_elapsed() * self.speed)

    def elapsed(self) -> timedelta:
        """Return the scenario time elapsed since the start."""
        return self.now() - self.sim_start

    @property
    def is_paused(self) -> bool:
        """Tell whether scenario time stands still."""
        with self._lock:
            return self._running_since is None

    def pause(self) -> None:
        """Stop scenario time (a no-op when already paused)."""
        with self._lock:
            if self._running_since is not None:
                self._banked += self._monotonic() - self._running_since
                self._running_since = None

    def resume(self) -> None:
        """Let scenario time run on from where it stood (a no-op when running)."""
        with self._lock:
            if self._running_since is None:
                self._running_since = self._monotonic()

    def real_seconds_until(self, moment: datetime) -> float:
        """Return the real seconds until scenario time reaches ``moment`` (0 if past;
        infinite while paused and not yet there)."""
        remaining = (moment - self.now()).total_seconds()
        if remaining <= 0:
            return 0.0
        if self.is_paused:
            return float("inf")
        return remaining / self.speed

    def _real_elapsed(self) -> float:
        if self._running_since is None:
            return self._banked
        return self._banked + self._monotonic() - self._running_since


__all__ = ["Monotonic", "ScaledClock"]
