"""Replay in pages: append-only rows inserted a page at a time give the live tables.

``replay_into`` reads the log a page at a time and inserts the rows of ``AppendRow``
projectors (the incident timeline) with one ``executemany`` per page, while every
other projector writes as it does live. Whatever the page size, the replayed read
models must equal the live ones (``test_replay_property.py`` replays in one page).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from muster.bootstrap import PROJECTIONS, Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.eventlog.replay_into import replay_into
from muster.settings import Settings
from tests.integration.test_replay import Workload
from tests.integration.test_replay_property import read_state


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock, so the workload can let response timers fire."""
    return SimulatedClock(datetime(2026, 7, 1, 6, 0, tzinfo=UTC))


@pytest.fixture
def muster(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment on the simulated clock (overrides conftest's)."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


def test_given_the_full_workload_when_replayed_in_pages_of_1_and_7_then_it_equals_live(
    muster: Muster, clock: SimulatedClock
) -> None:
    """Page boundaries anywhere (after every event, mid-command) change nothing."""
    Workload(muster, clock).run()
    live = read_state(muster.engine)
    timeline_rows = len(live["response_timeline"])

    states = {}
    for batch in (1, 7):
        replayed = replay_into(muster.engine, PROJECTIONS, batch=batch)
        try:
            states[batch] = read_state(replayed.engine)
        finally:
            replayed.engine.dispose()

    assert timeline_rows > 20
    assert states[1] == live
    assert states[7] == live
