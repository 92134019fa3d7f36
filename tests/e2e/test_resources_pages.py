"""The resource board and API: /resources (every department, or one), its status forms
and live fragment, /api/v1/resources (JSON and GeoJSON) and the situation map's
resources layer, in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.settings import Settings
from muster.web.auth import CSRF_HEADER
from tests.e2e.client import WebClient, issue_api_key, web_client
from tests.prepared import example_pack, prepared_for

DEMO_PASSWORD = "muster-demo"  # the example pack's demo accounts
PUMPS = "WATER-PUMP-500"
NOW = datetime(2026, 11, 26, 4, tzinfo=UTC)

prepared = prepared_for("city", example_pack(at=NOW))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return Lanjiang with its pack loaded (the test's copy of the pack loaded once:
    ``prepared``, tests/prepared.py)."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    yield deployment
    deployment.engine.dispose()


@pytest.fixture
def web(settings: Settings, city: Muster) -> Iterator[WebClient]:
    """Return a client of the running app (not signed in)."""
    with web_client(settings, city) as client:
        yield client


def _row(page: str, resource_id: str) -> str:
    return page.split(f'data-resource-id="{resource_id}"', 1)[1].split("</tr>", 1)[0]


def test_given_a_duty_officer_when_opening_the_board_then_only_own_forms(
    web: WebClient,
) -> None:
    """HEALTH's duty officer sees every department's resources and counts, but a
    status form only on HEALTH's."""
    web.sign_in("health.duty", DEMO_PASSWORD)

    page = web.get("/resources")
    health = web.get("/resources?department=HEALTH")

    assert page.status_code == 200
    assert "data-every-department" in page.text
    assert 'data-type="PUMP_DRAINAGE"' in page.text
    assert "Drainage pump" in page.text
    assert "resource-status-form" not in _row(page.text, PUMPS)
    assert "resource-status-form" in _row(page.text, "HEALTH-AMB-120")
    assert 'data-live-url="/resources/live?department=HEALTH"' in health.text
    assert PUMPS not in health.text
    assert "Ready in 3 min" in _row(health.text, "HEALTH-AMB-120")
    assert web.get("/resources?department=NOPE").status_code == 404


def test_given_the_water_duty_officer_when_assigning_pumps_then_the_board_shows_it(
    web: WebClient, city: Muster
) -> None:
    """WATER's duty officer (Chinese) assigns the pumps from the board; the board
    says so, counts them assigned, and the live fragment follows."""
    web.sign_in("water.duty", DEMO_PASSWORD)

    posted = web.post_form(
        f"/resources/{PUMPS}/status",
        {"status": "assigned", "reason": "", "incident_id": "", "department": "WATER"},
    )
    page = web.get(posted.headers["location"])
    live = web.get("/resources/live?department=WATER")

    assert posted.status_code == 303
    assert posted.headers["location"].startswith(
        "/resources?department=WATER&notice=assigned"
    )
    assert "按类型和状态统计" in page.text
    assert "状态已改为" in page.text
    assert 'data-status="assigned"' in _row(page.text, PUMPS)
    pumps = page.text.split('data-type="PUMP_DRAINAGE"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-status="assigned">12</td>' in pumps
    assert 'data-live-part="resources-list"' in live.text
    assert "<html" not in live.text


@pytest.mark.parametrize(
    ("username", "form", "status", "message"),
    [
        ("admin", {"status": "on_scene"}, 409,
         "A resource that is Available cannot become On scene."),
        ("admin", {"status": "out_of_service", "reason": ""}, 422,
         "Going out of service needs a reason."),
        ("health.duty", {"status": "assigned"}, 403, ""),
    ],
)  # fmt: skip
def test_given_a_refused_change_when_posted_then_the_board_explains(
    web: WebClient, username: str, form: dict[str, str], status: int, message: str
) -> None:
    """Skipped steps and a missing reason are explained on the board; someone of
    another department is refused."""
    web.sign_in(username, DEMO_PASSWORD)

    response = web.post_form(f"/resources/{PUMPS}/status", form)

    assert response.status_code == status
    assert message in response.text


def test_given_the_api_when_listing_then_json_geojson_and_the_catalog(
    web: WebClient,
) -> None:
    """The API lists POWER's generators with their total capability, the GeoJSON
    carries labels, and the catalog lists the types with their measures."""
    web.sign_in("health.duty", DEMO_PASSWORD)

    listed = web.get("/api/v1/resources?department=POWER&type=GENERATOR").json()
    geo = web.get("/api/v1/resources?format=geojson&status=out_of_service")
    types = {item["code"]: item for item in web.get("/api/v1/resources/types").json()}
    one = web.get(f"/api/v1/resources/{PUMPS}").json()

    assert {item["id"] for item in listed} == {"POWER-GEN-200", "POWER-GEN-50"}
    assert {item["total_capability"] for item in listed} == {2000.0, 1000.0}
    assert geo.headers["content-type"].startswith("application/geo+json")
    [feature] = geo.json()["features"]
    assert feature["geometry"]["coordinates"] == [112.937, 28.193]
    assert feature["properties"]["status_label"] == "Out of service"
    assert types["GENERATOR"]["measure"] == "kW"
    assert types["RESCUE_TEAM"]["tiers"] == ["I", "II", "III"]
    assert one["location"]["name"] == "市防汛物资仓库（滨江）"
    assert web.get("/api/v1/resources/NOPE").status_code == 404
    assert web.get("/api/v1/resources?status=lost").status_code == 422


def test_given_an_api_key_when_changing_its_departments_status_then_accepted(
    web: WebClient, city: Muster
) -> None:
    """WATER's API key (a fleet system) changes WATER's statuses, not FIRE's."""
    key = issue_api_key(city, "WATER")
    auth = {"Authorization": f"Bearer {key}"}

    mine = web.post(
        f"/api/v1/resources/{PUMPS}/status", json={"status": "assigned"}, headers=auth
    )
    theirs = web.post(
        "/api/v1/resources/FIRE-ENG-HQ/status",
        json={"status": "assigned"},
        headers=auth,
    )

    assert mine.status_code == 200, mine.text
    assert mine.json() == {"result": "assigned"}
    assert theirs.status_code == 403


def test_given_a_signed_in_head_when_registering_by_api_then_created_once(
    web: WebClient,
) -> None:
    """WATER's head registers a new pump through the API; again is unchanged."""
    web.sign_in("water.head", DEMO_PASSWORD)
    body = {
        "id": "WATER-PUMP-NEW", "department": "WATER", "type": "PUMP_DRAINAGE",
        "name": "新购排涝泵", "quantity": 2, "capability": 800,
        "location": {"lat": 28.2, "lon": 112.9, "name": "滨江"},
    }  # fmt: skip
    headers = {CSRF_HEADER: web.csrf_token}

    first = web.post("/api/v1/resources", json=body, headers=headers)
    second = web.post("/api/v1/resources", json=body, headers=headers)

    assert first.json() == {"result": "created"}
    assert second.json() == {"result": "unchanged"}


def test_given_the_situation_map_when_fetched_then_resources_are_a_layer(
    web: WebClient,
) -> None:
    """The map's layers include every resource, and the page names the layer."""
    web.sign_in("health.duty", DEMO_PASSWORD)

    body = web.get("/api/v1/situation/map/layers").json()
    page = web.get("/situation/map")

    features = body["layers"]["resources"]["features"]
    assert len(features) == 88
    assert {f["properties"]["department"] for f in features} >= {"WATER", "REDCROSS"}
    assert "resources.ResourceStatusChanged" in page.text
    assert "Open the resource board" in page.text
