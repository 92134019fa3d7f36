"""The readiness pages and API: /readiness (every department and the city's totals),
/readiness/{department} (people and their training, drills joined), in English and
Chinese, and /api/v1/readiness."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.settings import Settings
from tests.e2e.client import WebClient, web_client
from tests.integration.test_training import complete_drill, row
from tests.prepared import example_pack, prepared_for

DEMO_PASSWORD = "muster-demo"  # the example pack's demo accounts
NOW = datetime(2026, 11, 26, 4, tzinfo=UTC)

prepared = prepared_for("city", example_pack(at=NOW))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return Lanjiang on 26 November 2026 (the test's copy of the pack loaded once:
    ``prepared``, tests/prepared.py) with one drill FIRE did well in."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    complete_drill(deployment, "d1", [row("FIRE", 4, 1, 0)], ["FIRE"])
    yield deployment
    deployment.engine.dispose()


@pytest.fixture
def web(settings: Settings, city: Muster) -> Iterator[WebClient]:
    """Return a client signed in as the health duty officer (who reads English)."""
    with web_client(settings, city) as client:
        client.sign_in("health.duty", DEMO_PASSWORD)
        yield client


def _row(page: str, department: str) -> str:
    return page.split(f'data-department="{department}"', 1)[1].split("</tr>", 1)[0]


def test_given_the_city_when_opening_readiness_then_every_department_and_totals(
    web: WebClient,
) -> None:
    """Each department has its coverage, drills, last results and level; the
    footer sums the city and counts the levels; the rules are stated."""
    page = web.get("/readiness")

    assert page.status_code == 200
    assert 'data-department="FIRE" data-level="ready"' in page.text
    assert 'data-department="WATER" data-level="not_ready"' in page.text
    assert 'data-department="EMB" data-level="partly"' in page.text
    fire = _row(page.text, "FIRE")
    assert "4 / 1 / 0" in fire
    assert "Ready" in fire
    assert "Fewer than half of the Head holders are trained" in _row(page.text, "WATER")
    totals = page.text.split('id="readiness-totals"', 1)[1].split("</tr>", 1)[0]
    assert "8/13" in totals
    assert "1 drills" in totals
    assert "Not ready 7" in totals
    assert "How the level is set" in page.text


def test_given_a_department_when_opened_then_people_training_and_drills_show(
    web: WebClient,
) -> None:
    """WATER lists its head's expired certificate and its duty officer's current one;
    FIRE lists the drill it joined."""
    water = web.get("/readiness/WATER")
    fire = web.get("/readiness/FIRE")

    assert water.status_code == 200
    head = water.text.split('data-username="water.head"', 1)[1].split("</tr>", 1)[0]
    assert "2026-10-20" in head
    assert "Expired" in head
    duty = water.text.split('data-username="water.duty"', 1)[1].split("</tr>", 1)[0]
    assert "Current" in duty
    assert 'data-level="not_ready"' in water.text
    assert "Urban flooding" in fire.text
    assert re.search(r"<td>4</td><td>1</td><td>0</td>", fire.text)
    assert web.get("/readiness/NOPE").status_code == 404


def test_given_a_chinese_reader_when_opening_readiness_then_it_is_chinese(
    settings: Settings, city: Muster
) -> None:
    """A reader who chose Chinese sees the level names and reasons in Chinese."""
    with web_client(settings, city, accept_language="zh-CN") as web:
        web.sign_in("water.duty", DEMO_PASSWORD)
        web.post_form("/language", {"language": "zh-CN", "next": "/"})

        page = web.get("/readiness")
        water = web.get("/readiness/WATER")
        fire = web.get("/readiness/FIRE")

    assert "应急准备度" in page.text
    assert "全市合计" in page.text
    assert "就绪" in _row(page.text, "FIRE")
    assert "受训的负责人不足一半" in _row(page.text, "WATER")
    assert "已过期" in water.text
    assert "城区内涝" in fire.text


def test_given_the_api_when_asked_then_json_and_recording_by_the_head(
    settings: Settings, city: Muster
) -> None:
    """/api/v1/readiness gives the same figures; the water head records a course
    for the water duty officer over the API; a duty officer may not."""
    with web_client(settings, city) as web:
        web.sign_in("water.head", DEMO_PASSWORD)
        headers = {"X-CSRF-Token": web.csrf_token}
        body = {
            "username": "water.duty",
            "course": "DUTY-ADV",
            "completed_on": "2026-11-10",
            "provider": "省应急管理干部学院",
        }

        city_json = web.get("/api/v1/readiness").json()
        recorded = web.post("/api/v1/training/records", json=body, headers=headers)
        water = web.get("/api/v1/readiness/WATER").json()
        records = web.get("/api/v1/training/records?department=WATER").json()
        missing = web.get("/api/v1/readiness/NOPE")

    with web_client(settings, city) as other:
        other.sign_in("fire.duty", DEMO_PASSWORD)
        refused = other.post(
            "/api/v1/training/records",
            json=body,
            headers={"X-CSRF-Token": other.csrf_token},
        )

    fire = next(d for d in city_json["departments"] if d["department"] == "FIRE")
    assert fire["level"] == "ready"
    assert city_json["totals"]["drills"] == 1
    assert recorded.status_code == 200, recorded.text
    assert recorded.json() == {"result": "created"}
    assert water["departments"][0]["roles"]["duty_officer"]["advanced"] == 1
    assert any(r["course"] == "DUTY-ADV" and r["current"] for r in records)
    assert missing.status_code == 404
    assert refused.status_code == 403
