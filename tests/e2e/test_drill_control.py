"""Exercise control of a served drill: a commander pauses and resumes scenario time
from ``/drills/control``; the change is logged in the sandbox, refused to a duty
officer, and the live deployment has nothing to control."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from muster.bootstrap import Muster
from muster.drills.clock import ScaledClock
from muster.drills.domain.events import DrillClockChanged
from muster.drills.runner import Drill, start_drill
from muster.settings import Settings
from tests.drill_setup import small_scenario
from tests.e2e.client import web_client
from tests.response_setup import build_world


@pytest.fixture
def served(muster: Muster) -> Iterator[Drill]:
    """A served drill of the small scenario on a scaled clock (×60)."""
    build_world(muster)
    clock = ScaledClock(muster.clock.now(), speed=60)
    drill = start_drill(muster, small_scenario(), mode="served", clock=clock, speed=60)
    yield drill
    drill.close()


def test_given_a_served_drill_when_the_commander_pauses_and_resumes_then_the_clock_follows_and_it_is_logged(  # noqa: E501
    served: Drill,
) -> None:
    """Pause stops scenario time, resume lets it run; a duty officer is refused; both
    changes are DrillClockChanged events of this drill in the sandbox log."""
    clock = served.deployment.clock
    assert isinstance(clock, ScaledClock)
    with web_client(served.deployment.settings, served.deployment) as web:
        web.sign_in("t.duty")
        refused = web.post_form("/drills/control/pause", {"reason": "coffee"})
        web.sign_in("commander")
        shown = web.get("/drills/control")
        paused = web.post_form("/drills/control/pause", {"reason": "briefing"})
        paused_page = web.get("/drills/control")
        was_paused = clock.is_paused
        resumed = web.post_form("/drills/control/resume", {"reason": ""})

    assert refused.status_code == 403
    assert 'data-paused="false"' in shown.text
    assert paused.status_code == 303
    assert was_paused
    assert 'data-paused="true"' in paused_page.text
    assert resumed.status_code == 303
    assert not clock.is_paused
    with served.deployment.engine.connect() as conn:
        changes = [
            item.event
            for item in served.deployment.store.read_all(conn)
            if isinstance(item.event, DrillClockChanged)
        ]
    assert [(c.action, c.reason) for c in changes] == [
        ("pause", "briefing"), ("resume", ""),
    ]  # fmt: skip
    assert {c.drill_id for c in changes} == {served.drill_id}


def test_given_the_live_deployment_when_control_is_opened_then_nothing_to_control(
    settings: Settings, muster: Muster
) -> None:
    """Outside a served drill the page says so and offers no form."""
    build_world(muster)
    with web_client(settings, muster) as web:
        web.sign_in("commander")
        page = web.get("/drills/control")
        refused = web.post_form("/drills/control/pause", {"reason": ""})

    assert 'id="no-drill"' in page.text
    assert 'id="clock-form"' not in page.text
    assert refused.status_code == 422  # ValidationFailed: not a served drill
