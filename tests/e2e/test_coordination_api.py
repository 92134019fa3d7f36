"""The situation coordination API on the demo pack: a field report fused into an
incident, clusters listed and merged, a joint assessment opened, answered and
concluded, trigger history — signed in as demo users."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.settings import Settings
from muster.web.auth import CSRF_HEADER
from tests.e2e.client import WebClient, web_client
from tests.prepared import example_pack, prepared_for

DEMO_PASSWORD = "muster-demo"
START = datetime(2026, 7, 1, 8, tzinfo=UTC)

prepared = prepared_for("web", example_pack(at=START))


@pytest.fixture
def web(settings: Settings) -> Iterator[WebClient]:
    """A client of the app serving the demo pack (the test's copy of it loaded once:
    ``prepared``, tests/prepared.py)."""
    muster: Muster = bootstrap(settings, clock=SimulatedClock(START))
    with web_client(settings, muster) as client:
        yield client
    muster.engine.dispose()


def _post(web: WebClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return web.post(path, json=body, headers={CSRF_HEADER: web.csrf_token})


def test_given_field_reports_when_submitted_then_they_fuse_into_an_incident_with_reasons(  # noqa: E501
    web: WebClient,
) -> None:
    """Given fire.duty, when two flooding reports 400 m apart are submitted, then one
    cluster holds both (the second with its reason) and it proposed one incident."""
    web.sign_in("fire.duty", DEMO_PASSWORD)
    first = _post(web, "/api/v1/situation/reports",
                  {"category": "11A01", "latitude": 28.2, "longitude": 112.9,
                   "text": "道路积水"})  # fmt: skip
    assert first.status_code == 201, first.text
    _post(web, "/api/v1/situation/reports",
          {"category": "11A01", "latitude": 28.2036, "longitude": 112.9})  # fmt: skip

    (cluster,) = web.get("/api/v1/situation/clusters").json()

    assert cluster["link_action"] == "proposed"
    assert len(cluster["reports"]) == 2
    assert cluster["reports"][1]["relation"] == "same_type"
    assert cluster["reports"][1]["distance_km"] == pytest.approx(0.4, abs=0.01)
    flood = {"category": "flood", "latitude": 28.2, "longitude": 112.9}
    bad = _post(web, "/api/v1/situation/reports", flood)
    assert bad.status_code == 422


def test_given_an_incident_when_departments_assess_it_then_the_combined_view_shows(
    web: WebClient,
) -> None:
    """Given a commander's assessment asking WATER and MET, when both answer and the
    commander concludes with a decision, then the combined view and the decision
    id come back; an observer may not give a view."""
    web.sign_in("fire.duty", DEMO_PASSWORD)
    _post(web, "/api/v1/situation/reports",
          {"category": "11A01", "latitude": 28.2, "longitude": 112.9})  # fmt: skip
    (cluster,) = web.get("/api/v1/situation/clusters").json()
    incident_id = cluster["incident_id"]

    web.sign_in("commander", DEMO_PASSWORD)
    opened = _post(web, "/api/v1/situation/assessments",
                   {"incident_id": incident_id, "topic": "洪水风险",
                    "departments": ["WATER", "MET"]})  # fmt: skip
    assert opened.status_code == 201, opened.text
    assessment_id = opened.json()["assessment_id"]
    for user, level in (("water.duty", "orange"), ("met.duty", "red")):
        web.sign_in(user, DEMO_PASSWORD)
        given = _post(web, f"/api/v1/situation/assessments/{assessment_id}/views",
                      {"level": level, "confidence": "high"})  # fmt: skip
        assert given.json() == {"result": "given"}
    web.sign_in("fire.duty", DEMO_PASSWORD)
    refused = _post(web, f"/api/v1/situation/assessments/{assessment_id}/views",
                    {"level": "red", "confidence": "high"})  # fmt: skip
    assert refused.status_code == 403

    shown = web.get(f"/api/v1/situation/assessments/{assessment_id}").json()
    assert shown["combined"]["by_level"] == {"orange": ["WATER"], "red": ["MET"]}
    assert shown["combined"]["agreement"] is False
    web.sign_in("commander", DEMO_PASSWORD)
    done = _post(web, f"/api/v1/situation/assessments/{assessment_id}/conclude",
                 {"conclusion": "按红色准备", "level": "red",
                  "decision_title": "提升响应"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["decision_id"]
    listed = web.get(f"/api/v1/situation/incidents/{incident_id}/assessments").json()
    assert [item["status"] for item in listed] == ["concluded"]
    assert web.get("/api/v1/situation/triggers").json() == {"active": [], "history": []}
