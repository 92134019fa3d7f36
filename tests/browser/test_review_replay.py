"""Replay mode in a real browser: the time scrubber moves the incident back in time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.response import queries
from muster.review.replay_view import CACHE
from muster.settings import Settings
from muster.web.app import create_app
from tests import factories
from tests.e2e.client import running_server
from tests.integration.test_knowledge import SETUP, script, seq_of


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 07:00 UTC."""
    return SimulatedClock(SETUP)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment driven by the simulated clock."""
    deployment = bootstrap(settings, clock=clock)
    yield deployment
    CACHE.clear()
    deployment.engine.dispose()


@pytest.mark.browser
def test_given_a_finished_task_when_moving_the_scrubber_back_then_the_board_shows_the_earlier_status_and_no_actions(  # noqa: E501
    browser: Browser, settings: Settings, sim: Muster, clock: SimulatedClock
) -> None:
    """Given the scripted incident replayed at its last event (road task done), when
    the commander drags the scrubber to the acknowledgement and steps back one event
    with the arrow key, the board shows acknowledged and then assigned, the address
    follows, and the replayed state offers no forms or buttons."""
    scripted = script(sim, clock)
    acknowledged = seq_of(
        sim, "response.TaskAcknowledged", task_id=scripted.road_task_id
    )
    with sim.engine.connect() as conn:
        stops = [e.seq for e in queries.incident_timeline(conn, scripted.incident_id)]
    with running_server(create_app(settings, muster=sim)) as base_url:
        context = browser.new_context(base_url=base_url, locale="en-GB")
        page = context.new_page()
        page.goto("/signin")
        page.fill("input[name=username]", "commander")
        page.fill("input[name=password]", factories.PASSWORD)
        page.click("button[type=submit].button-primary")
        page.wait_for_url(f"{base_url}/")
        page.goto(f"/review/incidents/{scripted.incident_id}/replay")
        road = page.locator(
            f'#replay-state tr[data-task-id="{scripted.road_task_id}"] .badge-task'
        )
        banner = page.locator("#replay-banner")
        expect(road).to_have_text("Done")

        page.locator("#replay-range").fill(str(stops.index(acknowledged)))

        expect(banner).to_have_attribute("data-seq", str(acknowledged))
        expect(road).to_have_text("Acknowledged")
        page.locator("#replay-range").press("ArrowLeft")
        expect(banner).to_have_attribute(
            "data-seq", str(stops[stops.index(acknowledged) - 1])
        )
        expect(road).to_have_text("Assigned")
        assert f"seq={stops[stops.index(acknowledged) - 1]}" in page.url
        expect(page.locator("#replay-state form")).to_have_count(0)
        expect(page.locator("#replay-state button")).to_have_count(0)
        context.close()
