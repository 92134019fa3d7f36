"""The situation map's layers API and page on the demo pack: incidents and tasks now and
as of a past moment (the log folded), CAP areas in force, observations coloured by the
trigger rules, and observations a department may not read withheld."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import Clock, SimulatedClock
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries as identity
from muster.ingest.domain.commands import IngestCap, IngestFile
from muster.pack.loader import load_pack
from muster.response.domain.commands import ActivatePlan, OpenIncident
from muster.settings import Settings
from tests import factories
from tests.e2e.client import WebClient, event_types, head, web_client
from tests.prepared import Prepared, example, prepared_for

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
DEMO_PASSWORD = "muster-demo"  # the demo pack's published password
RESTRICTED = "WATER_RIVER_LEVELS"


def _load_restricted(muster: Muster, _clock: Clock) -> None:
    """Load the demo pack with its river levels made CONDITIONAL (no agreement shares
    them: only WATER reads them)."""
    pack = example()
    datasets = tuple(
        dataclasses.replace(
            item, sharing_class="CONDITIONAL", sharing_conditions="WATER only (test)"
        )
        if item.code == RESTRICTED
        else item
        for item in pack.datasets
    )
    load_pack(muster, dataclasses.replace(pack, datasets=datasets))


prepared = prepared_for("city", Prepared("restricted_rivers", _load_restricted, START))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """The demo pack on a simulated clock, its river levels made CONDITIONAL (the
    test's copy of it loaded once: ``prepared``, tests/prepared.py)."""
    muster = bootstrap(settings, clock=SimulatedClock(START))
    yield muster
    muster.engine.dispose()


@pytest.fixture
def web(settings: Settings, city: Muster) -> Iterator[WebClient]:
    """Return a client of the app serving the demo city."""
    with web_client(settings, city) as client:
        yield client


def _actor(muster: Muster, username: str) -> Actor:
    with muster.engine.connect() as conn:
        view = identity.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def _open(muster: Muster, title: str, lat: float, lon: float) -> str:
    command = OpenIncident(
        title=title, category="NATURAL_DISASTER", latitude=lat, longitude=lon,
        type_code="11A00",
    )  # fmt: skip
    return str(muster.bus.handle(command, _actor(muster, "commander")))


def _layers(web: WebClient, at: datetime | None = None) -> dict[str, Any]:
    params = {"at": at.isoformat()} if at is not None else {}
    response = web.get("/api/v1/situation/map/layers", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _props(body: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    return [feature["properties"] for feature in body["layers"][layer]["features"]]


def _advance(muster: Muster, minutes: float) -> None:
    clock = muster.clock
    assert isinstance(clock, SimulatedClock)
    clock.advance(timedelta(minutes=minutes))


def _river(muster: Muster, readings: list[tuple[str, float, str]]) -> None:
    rows = [
        {"station_id": station, "metric": "water_level", "value": value, "unit": "m",
         "observed_at": "2026-07-01T07:55:00Z", "location": where}
        for station, value, where in readings
    ]  # fmt: skip
    command = IngestFile(
        dataset_code=RESTRICTED, source="push", data=json.dumps(rows).encode()
    )
    muster.bus.handle(command, SYSTEM_ACTOR)


def _rain(muster: Muster) -> None:
    rows = [
        {"station_id": "57681", "metric": "rain_24h", "value": 20.0,
         "observed_at": "2026-07-01T07:55:00Z", "location": "28.21,112.93"},
    ]  # fmt: skip
    command = IngestFile(
        dataset_code="MET_RAIN_GAUGES", source="push", data=json.dumps(rows).encode()
    )
    muster.bus.handle(command, SYSTEM_ACTOR)


CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>LJ-MET-MAP-1</identifier>
  <sender>met@lanjiang.example</sender>
  <sent>2026-07-01T16:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <expires>2026-07-01T17:00:00+08:00</expires>
    <headline>澜江市气象台发布暴雨橙色预警信号</headline>
    <area>
      <areaDesc>青山区</areaDesc>
      <polygon>28.2,112.9 28.26,112.9 28.26,112.98 28.2,112.98 28.2,112.9</polygon>
    </area>
  </info>
</alert>
"""


def test_given_an_incident_with_an_activated_plan_when_the_layers_are_read_then_the_incident_and_its_open_tasks_are_on_the_map(  # noqa: E501
    city: Muster, web: WebClient
) -> None:
    """Given an incident whose plan is active at level IV, when the commander reads
    the layers, the incident is a point with its type, level, status and link, and
    its open tasks stand at the incident's place."""
    incident_id = _open(city, "内涝：滨江路积水", 28.21, 112.93)
    command = ActivatePlan(incident_id=incident_id, plan_code="FLOOD_URBAN", level="L4")
    city.bus.handle(command, _actor(city, "commander"))
    web.sign_in("commander", DEMO_PASSWORD)

    body = _layers(web)

    [incident] = body["layers"]["incidents"]["features"]
    assert incident["geometry"] == {"type": "Point", "coordinates": [112.93, 28.21]}
    assert {
        key: incident["properties"][key]
        for key in ("id", "type", "level", "status", "link")
    } == {
        "id": incident_id, "type": "11A00", "level": "L4", "status": "responding",
        "link": f"/incidents/{incident_id}",
    }  # fmt: skip
    tasks = body["layers"]["tasks"]["features"]
    assert tasks
    assert {task["properties"]["incident_id"] for task in tasks} == {incident_id}
    assert {tuple(task["geometry"]["coordinates"]) for task in tasks} == {
        (112.93, 28.21)
    }
    assert body["live"] is True
    assert body["layers"]["exposed_assets"]["features"] == []


def test_given_an_incident_opened_later_when_the_layers_are_read_as_of_an_earlier_moment_then_it_is_hidden_and_the_level_is_as_it_was(  # noqa: E501
    city: Muster, web: WebClient
) -> None:
    """Given incident A opened at 08:00 and, at 08:10, B opened and A's plan
    activated, when the layers are read as of 08:05, only A shows, still reported
    and without a level; now both show and A responds at level IV."""
    first = _open(city, "A", 28.21, 112.93)
    _advance(city, 10)
    second = _open(city, "B", 28.30, 112.80)
    command = ActivatePlan(incident_id=first, plan_code="FLOOD_URBAN", level="L4")
    city.bus.handle(command, _actor(city, "commander"))
    web.sign_in("commander", DEMO_PASSWORD)

    before = _layers(web, START + timedelta(minutes=5))
    now = _layers(web)

    assert before["live"] is False
    assert [
        (p["id"], p["status"], p["level"]) for p in _props(before, "incidents")
    ] == [(first, "reported", None)]
    assert _props(before, "tasks") == []
    assert {(p["id"], p["level"]) for p in _props(now, "incidents")} == {
        (first, "L4"), (second, None)
    }  # fmt: skip
    assert before["span"]["start"] <= before["at"] < now["at"] == now["span"]["end"]


def test_given_a_cap_alert_when_it_expires_then_its_area_leaves_the_map_but_stays_in_the_past(  # noqa: E501
    city: Muster, web: WebClient
) -> None:
    """Given a CAP alert for Qingshan expiring at 09:00, when read at 08:00 its
    polygon is on the map (lon/lat, closed); after 10:00 it is gone from the live
    map and shown again as of 08:30."""
    outcome = city.bus.handle(
        IngestCap(source="push", data=CAP.encode(), dataset_code="MET_CAP_WARNINGS"),
        SYSTEM_ACTOR,
    )
    assert outcome.status == "accepted"
    web.sign_in("emb.duty", DEMO_PASSWORD)

    [area] = _layers(web)["layers"]["cap_areas"]["features"]
    _advance(city, 120)
    web.sign_in("emb.duty", DEMO_PASSWORD)  # the session idled out meanwhile
    later = _layers(web)
    then = _layers(web, START + timedelta(minutes=30))

    ring = area["geometry"]["coordinates"][0]
    assert (ring[0], ring[1], ring[-1]) == (
        [112.9, 28.2],
        [112.9, 28.26],
        [112.9, 28.2],
    )
    assert (area["properties"]["event"], area["properties"]["severity"]) == (
        "暴雨", "Severe"
    )  # fmt: skip
    assert later["layers"]["cap_areas"]["features"] == []
    assert len(then["layers"]["cap_areas"]["features"]) == 1


def test_given_river_levels_over_and_under_the_warning_level_when_the_owner_reads_the_map_then_readings_are_coloured_and_the_trigger_shows(  # noqa: E501
    city: Muster, web: WebClient
) -> None:
    """Given H-LJ-01 at 34.8 m (over RIVER_ABOVE_WARNING's 34.5) and H-LJ-02 at
    33.9 m, when WATER's duty officer reads the map, the readings are over and
    normal, the firing is a trigger with its explanation, and its proposed incident
    is on the map."""
    _river(
        city, [("H-LJ-01", 34.8, "28.205,112.925"), ("H-LJ-02", 33.9, "28.25,112.95")]
    )
    web.sign_in("water.duty", DEMO_PASSWORD)

    body = _layers(web)

    readings = {
        p["station"]: (p["value"], p["status"], p["rule"], p["threshold"])
        for p in _props(body, "observations")
        if p["dataset"] == RESTRICTED
    }
    assert readings == {
        "H-LJ-01": (34.8, "over", "RIVER_ABOVE_WARNING", 34.5),
        "H-LJ-02": (33.9, "normal", "RIVER_ABOVE_WARNING", 34.5),
    }
    [trigger] = [
        p for p in _props(body, "triggers") if p["rule"] == "RIVER_ABOVE_WARNING"
    ]
    assert trigger["instance"] == "H-LJ-01"
    assert trigger["explanation"]
    assert trigger["link"] == f"/incidents/{trigger['incident_id']}"
    assert trigger["incident_id"] in {p["id"] for p in _props(body, "incidents")}


def test_given_river_levels_only_water_may_read_when_another_department_reads_the_map_then_they_are_withheld_and_the_read_is_logged(  # noqa: E501
    city: Muster, web: WebClient
) -> None:
    """Given CONDITIONAL river levels without an agreement and open rain gauges, when
    MET's duty officer reads the map, no river reading leaves (the layer says it was
    withheld, with the reason) while the rain reading shows; each read is logged."""
    _river(city, [("H-LJ-01", 34.8, "28.205,112.925")])
    _rain(city)
    web.sign_in("met.duty", DEMO_PASSWORD)
    before = head(city)

    body = _layers(web)

    observations = body["layers"]["observations"]
    assert {p["dataset"] for p in _props(body, "observations")} == {"MET_RAIN_GAUGES"}
    assert [item["dataset"] for item in observations["withheld"]] == [RESTRICTED]
    assert observations["withheld"][0]["reason"]
    [rain] = _props(body, "observations")
    assert (rain["station"], rain["status"]) == ("57681", "normal")
    assert "RIVER" not in json.dumps(observations["features"])
    assert event_types(city, after=before).count("sharing.AccessDecided") == 3


def test_given_a_signed_in_user_when_the_map_page_is_opened_then_leaflet_comes_from_the_server_and_a_tile_server_is_allowed(  # noqa: E501
    settings: Settings,
) -> None:
    """Given a deployment with a tile server, the map page (zh-CN) loads Leaflet from
    /static/leaflet, names the tile URL and allows its origin for images only; the
    layers API refuses a time without a zone and anonymous callers."""
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    muster = bootstrap(settings.model_copy(update={"map_tile_url": tiles}))
    factories.department(muster, "EMB")
    factories.user(muster, "alice", language="zh-CN")
    with web_client(muster.settings, muster, accept_language="zh-CN") as web:
        anonymous = web.get("/api/v1/situation/map/layers")
        web.sign_in("alice")
        page = web.get("/situation/map")
        leaflet = web.get("/static/leaflet/leaflet.js")
        naive = web.get(
            "/api/v1/situation/map/layers", params={"at": "2026-07-01T08:00"}
        )
    muster.engine.dispose()

    assert anonymous.status_code == 401
    assert page.status_code == 200
    assert 'src="/static/leaflet/leaflet.js"' in page.text
    assert "态势图" in page.text
    assert f'data-tile-url="{tiles}"' in page.text
    policy = page.headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.example.org;" in policy
    assert "script-src 'self';" in policy
    assert leaflet.status_code == 200
    assert "Leaflet" in leaflet.text[:400]
    assert naive.status_code == 422
