"""Fixtures of the response world (tests/response_setup.py) on a simulated clock.

Pytest finds fixtures among a test module's names, so a module binds the ones it uses:
``clock = sim_fixtures.clock``; a module may still define its own of the same name
(a ``world`` with more users). No sleeps: tests move the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.settings import Settings
from tests.response_setup import World, build_world, flood_incident

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
"""Where the simulated clock starts: 1 July 2026, 08:00 UTC."""


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 08:00 UTC."""
    return SimulatedClock(START)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment driven by the simulated clock."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def world(sim: Muster) -> World:
    """Return the response world on the simulated deployment."""
    return build_world(sim)


@pytest.fixture
def incident(sim: Muster, world: World) -> str:
    """Return a flood incident responded to at level IV."""
    return flood_incident(sim, world)
