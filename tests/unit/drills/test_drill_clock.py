"""The scaled drill clock: scenario time runs at a speed, pauses and resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from muster.drills.clock import ScaledClock

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


class FakeMonotonic:
    """Real time that moves only when told to (seconds)."""

    def __init__(self) -> None:
        self.seconds = 100.0

    def __call__(self) -> float:
        return self.seconds


def test_given_speed_60_when_one_real_second_passes_then_a_scenario_minute_has() -> (
    None
):
    """At speed 60, one real second is one scenario minute."""
    real = FakeMonotonic()
    clock = ScaledClock(START, speed=60, monotonic=real)

    real.seconds += 1

    assert clock.now() == START + timedelta(minutes=1)
    assert clock.elapsed() == timedelta(minutes=1)


def test_given_a_paused_clock_when_real_time_passes_then_scenario_time_stops() -> None:
    """Paused time does not count; resuming runs on from where it stood."""
    real = FakeMonotonic()
    clock = ScaledClock(START, speed=10, monotonic=real)
    real.seconds += 6
    clock.pause()

    real.seconds += 600
    paused_at = clock.now()
    clock.resume()
    real.seconds += 3

    assert paused_at == START + timedelta(minutes=1)
    assert clock.now() == START + timedelta(seconds=90)
    assert not clock.is_paused


def test_given_a_moment_ahead_when_asked_then_the_real_wait_is_scaled() -> None:
    """The real seconds to a scenario moment divide by the speed; none if past,
    forever while paused."""
    real = FakeMonotonic()
    clock = ScaledClock(START, speed=120, monotonic=real)

    assert clock.real_seconds_until(START + timedelta(minutes=4)) == 2.0
    assert clock.real_seconds_until(START - timedelta(minutes=1)) == 0.0
    clock.pause()
    assert clock.real_seconds_until(START + timedelta(minutes=4)) == float("inf")


def test_given_a_naive_start_or_no_speed_when_built_then_it_is_refused() -> None:
    """A drill clock needs an aware start and a positive speed."""
    with pytest.raises(ValueError, match="timezone"):
        ScaledClock(datetime(2026, 7, 1, 8, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(START, speed=0)
