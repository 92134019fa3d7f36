"""A served drill with scripted participants, as ``muster demo`` plays it: the
sandbox's web app answers with the EXERCISE mark while the scenario plays itself to
its end in scaled real time, then the drill is evaluated and recorded live."""

from __future__ import annotations

import threading
import time

import httpx

from muster.bootstrap import Muster
from muster.drills import queries
from muster.drills.outcome import DrillReport
from muster.drills.run_cli import serve_drill
from tests.drill_setup import small_scenario
from tests.e2e.client import free_port
from tests.response_setup import build_world


def _sign_in_page(port: int, player: threading.Thread) -> httpx.Response:
    """Wait for the sandbox's server to answer (it starts in the player's thread)."""
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/signin", timeout=5)
        except httpx.TransportError:
            assert player.is_alive(), "the drill's server stopped before answering"
            time.sleep(0.1)


def test_given_a_scenario_when_served_with_scripted_participants_then_marked_pages_and_it_plays_to_its_end(  # noqa: E501
    muster: Muster,
) -> None:
    """At ×600 the 35-minute scenario plays in seconds: the sign-in page carries the
    exercise banner, the scripted participants act (the plan is activated, tasks
    acknowledged), and the drill ends evaluated, not early, in the live log."""
    build_world(muster)
    port = free_port()
    reports: list[DrillReport] = []

    def serve() -> None:
        report = serve_drill(
            muster, small_scenario(), speed=600, host="127.0.0.1", port=port,
            scripted=True, announce=False,
        )  # fmt: skip
        reports.append(report)

    player = threading.Thread(target=serve, daemon=True)
    player.start()
    page = _sign_in_page(port, player)
    player.join(timeout=300)

    assert 'id="exercise-banner"' in page.text
    assert not player.is_alive()
    (report,) = reports
    assert not report.ended_early
    assert report.incident_id is not None
    statuses = {row["id"]: row["status"] for row in report.results}
    assert "met" in statuses.values()
    with muster.engine.connect() as conn:
        (recorded,) = queries.list_drills(conn)
    assert recorded.drill_id == report.drill_id
    assert recorded.completed is not None
