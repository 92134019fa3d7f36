"""The incident's situation page on the demo city: the trigger that proposed the
incident, its fused report clusters (merge), the cascade assessment from the demo
layers (rain on the S203 low-lying stretch) and a joint assessment — through the web
forms, signed in as demo users, in English and Chinese."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.ingest.domain.commands import IngestFile
from muster.response import queries as response
from muster.settings import Settings
from muster.situation import queries
from muster.situation.domain.commands import OpenAssessment, SubmitReport, SubmitView
from tests.e2e.client import WebClient, web_client
from tests.prepared import prepared_for
from tests.sharing_city import DEMO, START, City, demo_city

DEMO_PASSWORD = "muster-demo"
S203_FLOOD_POINT = (28.1087, 112.7977)
"""Inside the flood zone FZ-S203-K12 (ponds at 100 mm in 24 h; layers/README.md)."""


@dataclass
class Scene:
    """The demo city with one triggered incident, two report clusters and an
    assessment asking WATER and MET (WATER has answered)."""

    city: City
    incident_id: str
    clusters: list[str]
    assessment_id: str


def _rain_over_s203(city: City) -> str:
    rows = [{"station_id": "57690", "metric": "rain_24h", "value": 120,
             "observed_at": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "location": "{},{}".format(*S203_FLOOD_POINT)}]  # fmt: skip
    city.muster.bus.handle(
        IngestFile(dataset_code="MET_RAIN_GAUGES", source="push",
                   data=json.dumps(rows).encode()),
        SYSTEM_ACTOR,
    )  # fmt: skip
    with city.muster.engine.connect() as conn:
        (incident,) = response.open_incidents(conn)
    return incident.id


def _report(city: City, north_km: float, text: str) -> None:
    lat, lon = S203_FLOOD_POINT
    command = SubmitReport(category="11A01", latitude=lat + north_km / 111.0,
                           longitude=lon, text=text)  # fmt: skip
    city.muster.bus.handle(command, city.readers["FIRE"])


prepared = prepared_for("scene", DEMO)  # the demo city, loaded once


@pytest.fixture
def scene(settings: Settings) -> Iterator[Scene]:
    """Build the scene through the bus."""
    city = demo_city(settings)
    incident_id = _rain_over_s203(city)
    _report(city, 0.5, "S203 路面积水 / water on the S203")
    _report(city, 0.9, "车辆涉水 / cars in water")
    _report(city, 3.5, "涵洞积水 / culvert flooded")
    opened = OpenAssessment(incident_id=incident_id, topic="S203 积水风险",
                            departments=("WATER", "MET"))  # fmt: skip
    assessment_id = str(city.muster.bus.handle(opened, city.commander))
    water = Actor(kind="user", id="matrix.water", department="WATER",
                  roles=frozenset({"duty_officer"}))  # fmt: skip
    view = SubmitView(assessment_id=assessment_id, level="orange", confidence="high",
                      note="K12–K15", evidence=("trigger:RAIN_24H_50",))  # fmt: skip
    city.muster.bus.handle(view, water)
    with city.muster.engine.connect() as conn:
        found = queries.clusters_of(conn, incident_id=incident_id)
    yield Scene(city, incident_id, [item.cluster_id for item in found], assessment_id)
    city.muster.engine.dispose()


@pytest.fixture
def web(settings: Settings, scene: Scene) -> Iterator[WebClient]:
    """An English client of the app serving the scene."""
    with web_client(settings, scene.city.muster) as client:
        yield client


def _section(html: str, section: str) -> str:
    match = re.search(rf'<section class="card" id="{section}".*?</section>', html, re.S)
    assert match is not None, f"no section {section}"
    return match.group(0)


def test_given_a_triggered_incident_when_its_situation_is_shown_then_triggers_reports_cascade_and_assessment_render(  # noqa: E501
    scene: Scene, web: WebClient
) -> None:
    """Given the scene, when the admin opens the situation page, then it shows the
    firing with its explanation, both clusters with each report's reason, the flood
    chain with the S203 segment and its department, the datasets read with their
    source department, and WATER's view beside MET's missing one."""
    web.sign_in("admin", DEMO_PASSWORD)

    page = web.get(f"/situation/incidents/{scene.incident_id}")

    assert page.status_code == 200, page.text
    triggers = _section(page.text, "triggers")
    assert 'data-rule="RAIN_24H_50"' in triggers
    assert "station 57690 rain_24h 120 ≥ 50" in triggers
    clusters = _section(page.text, "clusters")
    assert len(scene.clusters) == 2
    assert all(f'data-cluster-id="{cid}"' in clusters for cid in scene.clusters)
    assert "km, " in clusters
    assert "Same type" in clusters
    assert "cars in water" in clusters
    cascade = _section(page.text, "cascade")
    assert 'data-hazard="flood"' in cascade
    assert 'data-asset-id="S203-K12-K15"' in cascade
    assert 'data-dataset="WATER_FLOOD_ZONES"' in cascade
    assert "Water Resources" in cascade or "WATER" in cascade
    assessments = _section(page.text, "assessments")
    assert 'data-level="orange"' in assessments
    assert re.search(r'class="missing">[^<]*Meteorolog', assessments)
    assert 'id="open-assessment-form"' in assessments
    detail = web.get(f"/incidents/{scene.incident_id}")
    assert f'href="/situation/incidents/{scene.incident_id}"' in detail.text


def test_given_two_clusters_when_a_duty_officer_merges_them_then_one_cluster_holds_every_report(  # noqa: E501
    scene: Scene, web: WebClient
) -> None:
    """Given two clusters of the incident, when merged without a reason the refusal
    shows beside the reason input; with a reason, one cluster holds all 3 reports."""
    web.sign_in("emb.duty", DEMO_PASSWORD)
    keep, other = scene.clusters
    path = f"/situation/incidents/{scene.incident_id}/clusters/merge"

    refused = web.post_form(path, {"keep": keep, "other": other, "reason": " "})
    merged = web.post_form(path, {"keep": keep, "other": other, "reason": "同一路段"})

    assert refused.status_code == 422
    assert re.search(r'name="reason"[^>]*>\s*<span class="field-error"', refused.text)
    assert merged.status_code == 303
    assert merged.headers["location"].startswith(
        f"/situation/incidents/{scene.incident_id}?notice=merged"
    )
    with scene.city.muster.engine.connect() as conn:
        (cluster,) = queries.clusters_of(conn, incident_id=scene.incident_id)
    assert (cluster.cluster_id, len(cluster.reports)) == (keep, 3)
    assert 'class="alert alert-ok"' in web.get(merged.headers["location"]).text


def test_given_an_assessment_when_a_department_not_asked_gives_a_view_then_the_refusal_shows(  # noqa: E501
    scene: Scene, web: WebClient
) -> None:
    """Given an assessment asking WATER and MET, when FIRE's duty officer posts a
    view, then the page comes back 403 with the refusal at that assessment and no
    view form for FIRE; MET's duty officer sees the form and gives its view."""
    web.sign_in("fire.duty", DEMO_PASSWORD)
    path = (
        f"/situation/incidents/{scene.incident_id}"
        f"/assessments/{scene.assessment_id}/views"
    )

    refused = web.post_form(path, {"level": "red", "confidence": "low"})

    assert refused.status_code == 403
    refusal = f'data-refusal="view:{scene.assessment_id}"'
    assert refusal in refused.text
    assert "FIRE was not asked for this assessment" in refused.text
    assert 'class="form view-form"' not in refused.text
    web.sign_in("met.duty", DEMO_PASSWORD)
    page = web.get(f"/situation/incidents/{scene.incident_id}")
    assert 'class="form view-form"' in page.text
    given = web.post_form(
        path, {"level": "red", "confidence": "medium", "evidence": "radar\nMET-CAP-1"}
    )
    assert given.status_code == 303
    assert "notice=given" in given.headers["location"]


def test_given_the_commander_when_opening_and_concluding_by_form_then_a_joint_decision_is_proposed(  # noqa: E501
    scene: Scene, web: WebClient
) -> None:
    """Given the commander, when a second assessment is opened by form (one
    department is refused, two are accepted) and the first is concluded with a
    decision title, then the page shows it concluded with the decision."""
    web.sign_in("commander", DEMO_PASSWORD)
    base = f"/situation/incidents/{scene.incident_id}/assessments"

    one = web.post_form(base, {"topic": "供电", "departments": "POWER"})
    two = web.http.post(base, data={"topic": "供电", "departments": ["POWER", "EMB"],
                                    "csrf_token": web.csrf_token})  # fmt: skip
    done = web.post_form(
        f"{base}/{scene.assessment_id}/conclude",
        {"conclusion": "按橙色准备", "level": "orange", "decision_title": "封闭S203"},
    )

    assert one.status_code == 422
    assert re.search(r'name="departments".*?class="field-error"', one.text, re.S)
    assert two.status_code == 303
    assert done.status_code == 303
    assert "notice=decided" in done.headers["location"]
    with scene.city.muster.engine.connect() as conn:
        found = queries.incident_assessments(conn, scene.incident_id)
    assert [item.status for item in found] == ["concluded", "open"]
    assert found[0].decision_id is not None


def test_given_a_chinese_browser_when_the_situation_is_shown_then_labels_are_chinese(
    settings: Settings, scene: Scene
) -> None:
    """Given Accept-Language zh-CN and the commander (whose account is in Chinese),
    when the page is shown, then its headings, risk levels, cascade names and the
    trigger explanation are Chinese; the cascade API answers the same chain and the
    map places the exposed segment (an observer may not read the cascade)."""
    with web_client(settings, scene.city.muster, accept_language="zh-CN") as web:
        web.sign_in("commander", DEMO_PASSWORD)
        page = web.get(f"/situation/incidents/{scene.incident_id}")
        cascade = web.get(f"/api/v1/situation/incidents/{scene.incident_id}/cascade")
        layers = web.get("/api/v1/situation/map/layers").json()["layers"]
        web.sign_in("observer", DEMO_PASSWORD)
        refused = web.get(f"/api/v1/situation/incidents/{scene.incident_id}/cascade")

    assert page.status_code == 200
    for label in ("触发记录", "融合的报告", "灾害链研判", "联合研判", "橙色", "共识"):
        assert label in page.text
    assert "S203线K12–K15" in page.text
    assert "24小时降雨量达50毫米" in page.text
    steps = [step for chain in cascade.json()["chains"] for step in chain["steps"]]
    assets = {asset["id"] for step in steps for asset in step["assets"]}
    assert "S203-K12-K15" in assets
    placed = {
        item["properties"]["id"]: item for item in layers["exposed_assets"]["features"]
    }
    assert placed["S203-K12-K15"]["geometry"]["type"] == "LineString"
    assert placed["S203-K12-K15"]["properties"]["incidents"] == [scene.incident_id]
    assert refused.status_code == 403
