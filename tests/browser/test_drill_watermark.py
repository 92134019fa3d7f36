"""A drill in a real browser (ADR 0013): the sandbox's pages carry the EXERCISE mark,
and a duty officer acknowledges a task the drill's plan activation gave WATER; the
acknowledgement is an exercise event of the sandbox and never reaches the live side."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from muster.bootstrap import Muster
from muster.core.clock import SimulatedClock
from muster.drills.runner import Drill, start_drill, timeline
from muster.response import queries
from muster.web.app import create_app
from tests import factories
from tests.drill_setup import small_scenario
from tests.e2e.client import running_server
from tests.response_setup import build_world

PUMPS = "Start pump stations"


@pytest.fixture
def drill(muster: Muster) -> Iterator[Drill]:
    """A served drill of the small scenario, played up to the plan's activation."""
    build_world(muster)
    scenario = small_scenario()
    clock = SimulatedClock(muster.clock.now())
    started = start_drill(muster, scenario, mode="served", clock=clock, speed=1.0)
    for step in timeline(scenario, scripted=True):
        if step.at_minutes <= 10:  # the incident, the briefing, the facts, L4
            started.play(step)
    yield started
    started.close()


@pytest.mark.browser
def test_given_a_served_drill_when_a_duty_officer_acknowledges_an_injected_task_then_the_page_is_marked_and_the_task_moves(  # noqa: E501
    browser: Browser, muster: Muster, drill: Drill
) -> None:
    """WATER's duty officer signs in to the drill's sandbox, sees the EXERCISE banner
    and watermark, and acknowledges the pump task from the inbox; the task is
    acknowledged in the sandbox by an exercise event, while the live deployment has
    no such incident at all."""
    app = create_app(drill.deployment.settings, muster=drill.deployment)
    with running_server(app) as base_url:
        context = browser.new_context(base_url=base_url, locale="en-GB")
        page = context.new_page()
        page.goto("/signin")
        expect(page.locator("#exercise-banner")).to_contain_text("EXERCISE")
        page.fill("input[name=username]", "w.duty")
        page.fill("input[name=password]", factories.PASSWORD)
        page.click("button[type=submit].button-primary")
        page.goto("/inbox")
        expect(page.locator("#exercise-banner")).to_be_visible()
        expect(page.locator(".exercise-watermark")).to_have_count(1)
        row = page.locator("#inbox-tasks tr.task-row").filter(has_text=PUMPS)
        expect(row).to_have_count(1)
        row.locator("button[data-action=acknowledge]").click()
        expect(page.locator(".alert-ok")).to_have_text("The task was updated.")
        context.close()

    with drill.deployment.engine.connect() as conn:
        assert drill.incident_id is not None
        tasks = queries.incident_tasks(conn, drill.incident_id)
        acked = [
            item.envelope
            for item in drill.deployment.store.read_all(conn)
            if item.envelope.type == "response.TaskAcknowledged"
        ]
    with muster.engine.connect() as conn:
        live_incident = queries.get_incident(conn, drill.incident_id)
    assert {t.template_key: t.status for t in tasks}["pumps"] == "acknowledged"
    assert len(acked) == 1  # scripted TRANSPORT acts at minute 12: not played
    assert acked[0].metadata == {"is_exercise": True, "drill_id": drill.drill_id}
    assert live_incident is None
