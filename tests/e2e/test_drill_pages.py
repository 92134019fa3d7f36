"""The drill pages and API of the live deployment: /drills (every drill with its
status and met/late/missed totals), /drills/{id} (the evaluation per department and
per expected action, the sandbox and its verify command), in English and Chinese,
and /api/v1/drills.

The small flood scenario (tests/drill_setup.py) played unattended on the response
world: TRANSPORT acknowledges in time (met), WATER late (late), MET never (missed).
A second drill is started and left running (no evaluation yet).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from muster.bootstrap import Muster
from muster.core.clock import SimulatedClock
from muster.drills.outcome import DrillReport
from muster.drills.runner import run_unattended, start_drill
from muster.settings import Settings
from tests.drill_setup import small_scenario
from tests.e2e.client import WebClient, web_client
from tests.response_setup import build_world


@dataclass(frozen=True)
class Drills:
    """The live deployment with one finished and one running drill."""

    live: Muster
    finished: DrillReport
    running: str


@pytest.fixture
def drills(muster: Muster) -> Drills:
    """Run the small scenario unattended, then start it again and leave it running."""
    build_world(muster)
    finished = run_unattended(muster, small_scenario(), drill_id="flood-done")
    clock = SimulatedClock(muster.clock.now())
    running = start_drill(
        muster, small_scenario(), mode="attended", clock=clock, speed=10.0,
        drill_id="flood-running",
    )  # fmt: skip
    running.close()
    return Drills(muster, finished, running.drill_id)


@pytest.fixture
def web(settings: Settings, drills: Drills) -> Iterator[WebClient]:
    """Return a client signed in as TRANSPORT's duty officer (who reads English)."""
    with web_client(settings, drills.live) as client:
        client.sign_in("t.duty")
        yield client


def _row(page: str, marker: str) -> str:
    return page.split(marker, 1)[1].split("</tr>", 1)[0]


def test_given_a_finished_and_a_running_drill_when_listing_then_status_and_totals_show(
    web: WebClient,
) -> None:
    """/drills lists both drills with their mode and status; the finished one has
    1 met, 1 late and 1 missed, the running one no totals; the nav links to it."""
    page = web.get("/drills")

    assert page.status_code == 200
    assert '<a class="button button-quiet" href="/drills">Drills</a>' in page.text
    done = _row(page.text, 'data-drill="flood-done" data-status="completed"')
    assert "Small flood drill" in done
    assert "Unattended" in done
    assert "badge-ok" in done
    assert "Finished" in done
    assert '<td class="drill-met">1</td>' in done
    assert '<td class="drill-late">1</td>' in done
    assert '<td class="drill-missed">1</td>' in done
    running = _row(page.text, 'data-drill="flood-running" data-status="running"')
    assert "Running" in running
    assert "Attended" in running
    assert "drill-met" not in running
    assert page.text.index("flood-running") < page.text.index("flood-done")


def test_given_a_finished_drill_when_opened_then_each_result_is_coloured_by_status(
    web: WebClient, drills: Drills
) -> None:
    """/drills/{id} has a row per department and per expected action with its
    deadline, done time, minutes and coloured status, and the sandbox's verify
    command; the running drill says it is not evaluated; unknown drills are 404."""
    page = web.get("/drills/flood-done")
    running = web.get(f"/drills/{drills.running}")
    missing = web.get("/drills/no-such-drill")

    assert page.status_code == 200
    summary = page.text.split('id="drill-summary"', 1)[1].split("</table>", 1)[0]
    assert "<td>TRANSPORT dept</td><td>1</td><td>1</td><td>0</td><td>0</td>" in summary
    assert "<td>WATER dept</td><td>1</td><td>0</td><td>1</td><td>0</td>" in summary
    assert "<td>MET dept</td><td>1</td><td>0</td><td>0</td><td>1</td>" in summary
    transport = _row(page.text, 'data-expected="transport-ack" data-status="met"')
    assert "Acknowledge the task" in transport
    assert "task=close_road" in transport
    assert '<span class="badge badge-ok">Met</span>' in transport
    water = _row(page.text, 'data-expected="water-ack" data-status="late"')
    assert '<span class="badge badge-warn">Late</span>' in water
    met = _row(page.text, 'data-expected="met-ack" data-status="missed"')
    assert '<span class="badge badge-bad">Missed</span>' in met
    assert "<td>–</td>" in met  # never done: no done time, no minutes
    assert drills.finished.sandbox_path in page.text
    assert (
        f"MUSTER_DATABASE_URL=sqlite:///{drills.finished.sandbox_path} "
        "MUSTER_SIGNING_KEY_FILE=" in page.text
    )
    assert "muster audit verify" in page.text
    assert running.status_code == 200
    assert "Not evaluated yet" in running.text
    assert 'data-status="running"' in running.text
    assert missing.status_code == 404


def test_given_a_chinese_reader_when_opening_a_drill_then_it_is_chinese(
    settings: Settings, drills: Drills
) -> None:
    """A reader of Chinese sees the nav link, the scenario title and the statuses
    in Chinese."""
    with web_client(settings, drills.live, accept_language="zh-CN") as web:
        web.sign_in("w.duty")
        web.post_form("/language", {"language": "zh-CN", "next": "/"})
        listed = web.get("/drills")
        page = web.get("/drills/flood-done")

    assert '<a class="button button-quiet" href="/drills">演练</a>' in listed.text
    assert "小型内涝演练" in listed.text
    assert "已完成" in _row(listed.text, 'data-drill="flood-done"')
    assert "进行中" in _row(listed.text, 'data-drill="flood-running"')
    assert "各部门结果" in page.text
    assert '<span class="badge badge-ok">按时完成</span>' in page.text
    assert '<span class="badge badge-warn">延迟</span>' in page.text
    assert '<span class="badge badge-bad">缺失</span>' in page.text
    assert "签收任务" in page.text


def test_given_the_api_when_asked_then_the_drills_and_their_evaluation_as_json(
    settings: Settings, drills: Drills
) -> None:
    """/api/v1/drills lists both drills newest first with status and totals;
    /api/v1/drills/{id} gives the results and summary; anonymous callers are
    refused and unknown drills are 404."""
    with web_client(settings, drills.live) as anonymous:
        refused = anonymous.get("/api/v1/drills")
        page_refused = anonymous.get("/drills")
    with web_client(settings, drills.live) as web:
        web.sign_in("t.duty")
        listed = web.get("/api/v1/drills").json()
        one = web.get("/api/v1/drills/flood-done").json()
        missing = web.get("/api/v1/drills/no-such-drill")

    assert [(d["drill_id"], d["status"], d["totals"]) for d in listed] == [
        ("flood-running", "running", None),
        ("flood-done", "completed", {"met": 1, "late": 1, "missed": 1}),
    ]
    assert listed[1]["mode"] == "unattended"
    assert {r["id"]: r["status"] for r in one["results"]} == {
        "transport-ack": "met", "water-ack": "late", "met-ack": "missed",
    }  # fmt: skip
    assert {row["department"]: row["missed"] for row in one["summary"]} == {
        "MET": 1, "TRANSPORT": 0, "WATER": 0,
    }  # fmt: skip
    assert one["sandbox_path"] == drills.finished.sandbox_path
    assert one["sandbox_head_hash"] == drills.finished.sandbox_head_hash
    assert one["verify_command"].endswith("muster audit verify")
    assert one["ended_early"] is False
    assert missing.status_code == 404
    assert refused.status_code == 401
    assert page_refused.status_code in (302, 303)
    assert "/signin" in page_refused.headers["location"]
