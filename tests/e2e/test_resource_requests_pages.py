"""Resource requests on the web: the API (/api/v1/resource-requests, commitments,
allocation proposals and decisions), the board's request forms, the allocation page
per incident and the requests map layer, with their permissions, in English and
Chinese, on Lanjiang with its pack loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import httpx
import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.identity import queries as identity
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.resources import queries, request_queries
from muster.resources.domain.commands import RequestResource
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings
from muster.web.app import create_app
from muster.web.auth import CSRF_HEADER
from tests.e2e.client import WebClient, running_server

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
DEMO_PASSWORD = "muster-demo"  # the example pack's demo accounts
BIG_PUMPS = "WATER-PUMP-1000"  # 4 units of 1000 m³/h


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return Lanjiang with its pack loaded, on a simulated clock."""
    deployment = bootstrap(
        settings, clock=SimulatedClock(datetime(2026, 11, 26, 4, tzinfo=UTC))
    )
    load_pack(deployment, read_pack(EXAMPLE))
    yield deployment
    deployment.engine.dispose()


People = Callable[..., WebClient]


@pytest.fixture
def person(settings: Settings, city: Muster) -> Iterator[People]:
    """Serve the app; return a function signing people in to it (closed after)."""
    clients: list[WebClient] = []
    with running_server(create_app(settings, muster=city)) as url:

        def sign_in(username: str) -> WebClient:
            client = WebClient(url)  # the account's language wins
            clients.append(client)
            signed = client.sign_in(username, DEMO_PASSWORD)
            assert signed.status_code == 303, signed.text
            return client

        yield sign_in
        for client in clients:
            client.close()


def flood(city: Muster) -> str:
    """Open a flood incident as the commander; return its id."""
    with city.engine.connect() as conn:
        commander = identity.get_user_by_username(conn, "commander")
    assert commander is not None
    command = OpenIncident(
        title="城区内涝", category="NATURAL_DISASTER", latitude=28.2,
        longitude=112.9, type_code="11A00",
    )  # fmt: skip
    return str(city.bus.handle(command, commander.as_actor()))


def raise_pumps(city: Muster, incident: str) -> str:
    """EMB asks for 4 drainage pumps of at least 900 m³/h; return the request id."""
    with city.engine.connect() as conn:
        emb = identity.get_user_by_username(conn, "emb.duty")
    assert emb is not None
    command = RequestResource(
        incident_id=incident, requested_by="EMB", type_code="PUMP_DRAINAGE",
        quantity=4, min_capability=900, location_name="滨江路下穿隧道",
    )  # fmt: skip
    return str(city.bus.handle(command, emb.as_actor()))


def api_post(client: WebClient, path: str, body: dict[str, object]) -> httpx.Response:
    """POST JSON from a signed-in session (with the CSRF header)."""
    return client.post(path, json=body, headers={CSRF_HEADER: client.csrf_token})


def _row(page: str, marker: str) -> str:
    return page.split(marker, 1)[1].split("</tr>", 1)[0]


def resource_status(city: Muster, resource_id: str) -> str:
    """Return a resource's status."""
    with city.engine.connect() as conn:
        view = queries.get_resource(conn, resource_id)
    assert view is not None
    return view.resource.status.value


def test_given_the_api_when_raising_committing_and_tracking_then_the_flow_shows(
    city: Muster, person: People
) -> None:
    """EMB raises a request by API; WATER commits all 4 big pumps (the resource is
    assigned, its feature says 4 of 4 committed, the request is committed on the
    map layer); FIRE cannot commit WATER's pumps; WATER tracks them en route."""
    incident = flood(city)
    emb, water = person("emb.duty"), person("water.duty")
    fire = person("fire.duty")
    health = person("health.duty")  # an English account

    raised = api_post(emb, "/api/v1/resource-requests", {
        "incident_id": incident, "type": "PUMP_DRAINAGE", "quantity": 4,
        "min_capability": 900, "location": {"name": "滨江路下穿隧道"},
    })  # fmt: skip
    request_id = raised.json()["id"]
    listed = water.get(f"/api/v1/resource-requests?incident={incident}&open=true")
    refused = api_post(
        fire, f"/api/v1/resource-requests/{request_id}/commitments",
        {"resource_id": BIG_PUMPS, "units": 4},
    )  # fmt: skip
    made = api_post(
        water, f"/api/v1/resource-requests/{request_id}/commitments",
        {"resource_id": BIG_PUMPS, "units": 4},
    )  # fmt: skip
    commitment = made.json()["id"]
    detail = water.get(f"/api/v1/resource-requests/{request_id}").json()
    tracked = api_post(
        water, f"/api/v1/resource-commitments/{commitment}/status",
        {"status": "en_route"},
    )  # fmt: skip
    board = health.get("/resources")
    layer = health.get("/api/v1/resource-requests?format=geojson").json()
    layers = health.get("/api/v1/situation/map/layers").json()["layers"]

    assert raised.status_code == 201
    assert "Open requests addressed to your department" in board.text
    assert [item["id"] for item in listed.json()] == [request_id]
    assert listed.json()[0]["requested_by"] == "EMB"
    assert refused.status_code == 403
    assert "Traceback" not in refused.text
    assert made.status_code == 201
    assert detail["status"] == "committed"
    assert [c["resource_id"] for c in detail["commitments"]] == [BIG_PUMPS]
    assert detail["declines"] == []
    assert tracked.json() == {"result": "en_route"}
    [feature] = layer["features"]
    assert feature["properties"]["status"] == "committed"
    assert feature["properties"]["status_label"] == "Committed"
    assert feature["properties"]["open_units"] == 0
    assert layer["labels"]["layer"] == "Resource requests"
    pumps = next(
        f for f in layers["resources"]["features"] if f["properties"]["id"] == BIG_PUMPS
    )
    assert pumps["properties"]["status"] == "en_route"
    assert pumps["properties"]["committed_label"] == "4 of 4 units committed"
    assert water.get("/api/v1/resource-requests/NOPE").status_code == 404


def test_given_the_water_duty_officer_when_committing_from_the_board_then_tracked(
    city: Muster, person: People
) -> None:
    """WATER's duty officer (Chinese) sees the open request with WATER's fitting
    pumps, commits 4 from the board, then moves them en route; FIRE's duty officer
    sees no pump of its own to commit, and posting WATER's pump is refused."""
    incident = flood(city)
    request_id = raise_pumps(city, incident)
    water = person("water.duty")
    fire = person("fire.duty")

    before = water.get("/resources")
    fire_board = fire.get("/resources")
    refused = fire.post_form(
        f"/resources/requests/{request_id}/commit",
        {"resource_id": BIG_PUMPS, "units": "4"},
    )
    posted = water.post_form(
        f"/resources/requests/{request_id}/commit",
        {"resource_id": BIG_PUMPS, "units": "4"},
    )
    after = water.get(posted.headers["location"])
    with city.engine.connect() as conn:
        [commitment] = request_queries.list_commitments(conn, request_id=request_id)
    tracked = water.post_form(
        f"/resources/commitments/{commitment.commitment.id}/status",
        {"status": "en_route"},
    )
    live = water.get("/resources/live")

    row = _row(before.text, f'data-request-id="{request_id}"')
    assert "请求" in before.text
    assert f'<option value="{BIG_PUMPS}"' in row
    assert 'value="WATER-PUMP-500"' not in row  # 500 m³/h < 900
    assert "request-decline-form" in row
    fire_row = _row(fire_board.text, f'data-request-id="{request_id}"')
    assert "request-commit-form" not in fire_row
    assert "Nothing of yours fits." not in fire_row  # FIRE may still decline
    assert refused.status_code == 403
    assert "您无权执行此操作。" in refused.text
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/resources?done=committed")
    assert "已向请求承诺资源" in after.text
    assert f'data-commitment-id="{commitment.commitment.id}"' in after.text
    assert resource_status(city, BIG_PUMPS) == "en_route"
    assert tracked.status_code == 303
    assert 'data-status="en_route"' in _row(
        live.text, f'data-commitment-id="{commitment.commitment.id}"'
    )
    assert "<html" not in live.text


def test_given_a_request_to_the_red_cross_when_declined_then_a_reason_is_needed(
    city: Muster, person: People
) -> None:
    """The Red Cross (Chinese) declines a request addressed to it: without a reason
    the board explains, with one the request is declined; its duty officer is
    offered the board's raise-a-request form."""
    incident = flood(city)
    with city.engine.connect() as conn:
        emb = identity.get_user_by_username(conn, "emb.duty")
    assert emb is not None
    request_id = str(city.bus.handle(RequestResource(
        incident_id=incident, requested_by="EMB", type_code="TENT", quantity=50,
        to_department="REDCROSS",
    ), emb.as_actor()))  # fmt: skip
    redcross = person("redcross.duty")

    empty = redcross.post_form(
        f"/resources/requests/{request_id}/decline", {"reason": ""}
    )
    declined = redcross.post_form(
        f"/resources/requests/{request_id}/decline", {"reason": "库存已调往邻市"}
    )

    assert empty.status_code == 422
    assert "请说明理由。" in empty.text
    assert declined.status_code == 303
    with city.engine.connect() as conn:
        view = request_queries.get_request(conn, request_id)
    assert view is not None
    assert view.status.value == "declined"
    assert 'id="raise-request-form"' in redcross.get("/resources").text


def test_given_a_duty_officer_when_raising_a_request_from_the_board_then_listed(
    city: Muster, person: People
) -> None:
    """EMB's duty officer raises a request for 2 boats from the board (Chinese);
    the board lists it, and a quantity of 0 is explained."""
    incident = flood(city)
    emb = person("emb.duty")
    form = {
        "incident_id": incident, "requested_by": "EMB", "type_code": "RESCUE_BOAT",
        "quantity": "2", "priority": "4", "needed_within": "90",
        "location_name": "白沙洲",
    }  # fmt: skip

    bad = emb.post_form("/resources/requests", {**form, "quantity": "0"})
    posted = emb.post_form("/resources/requests", form)
    page = emb.get(posted.headers["location"])

    assert bad.status_code == 422
    assert "请求数量须为 1 至 1,000,000。" in bad.text
    assert posted.status_code == 303
    assert "请求已提交。" in page.text
    with city.engine.connect() as conn:
        [view] = request_queries.list_requests(conn, incident_id=incident)
    assert (view.request.quantity, view.request.priority) == (2, 4)
    assert view.request.needed_by == "2026-11-26T05:30:00+00:00"
    assert f'data-request-id="{view.request.id}"' in page.text


def test_given_the_commander_when_proposing_and_approving_edited_then_committed(
    city: Muster, person: People
) -> None:
    """The commander (Chinese) proposes on the allocation page (assignments with
    why, solver status and seconds), approves it edited to one pump; the request
    gets 1 unit and the proposal shows approved (edited); a duty officer may
    neither open the page nor decide by API."""
    incident = flood(city)
    request_id = raise_pumps(city, incident)
    commander = person("commander")
    water = person("water.duty")
    page_url = f"/resources/incidents/{incident}/allocation"

    board = commander.get("/resources")
    empty = commander.get(page_url)
    proposed = commander.post_form(f"{page_url}/propose", {})
    shown = commander.get(proposed.headers["location"])
    proposal_id = proposed.headers["location"].split("proposal=")[1].split("&")[0]
    refused_page = water.get(page_url)
    refused_api = api_post(
        water, f"/api/v1/allocation-proposals/{proposal_id}/decision",
        {"decision": "reject", "reason": "不需要"},
    )  # fmt: skip
    unreasoned = commander.post_form(
        f"{page_url}/{proposal_id}/decision", {"decision": "reject", "reason": ""}
    )
    edited = commander.post_form(
        f"{page_url}/{proposal_id}/decision",
        {"decision": "approve", "edited": "1", "units_0": "1", "reason": "先派一台"},
    )
    decided = commander.get(f"/api/v1/allocation-proposals/{proposal_id}").json()

    assert f'data-allocation-incident="{incident}"' in board.text
    assert 'id="no-proposal"' in empty.text
    assert proposed.status_code == 303
    assert "调配" in shown.text
    assert "data-solver-status" in shown.text
    assert f'data-supply-id="{BIG_PUMPS}"' in shown.text
    assert 'name="units_0"' in shown.text
    assert refused_page.status_code == 403
    assert refused_api.status_code == 403
    assert unreasoned.status_code == 422
    assert edited.status_code == 303
    assert decided["status"] == "approved"
    assert decided["edited"] is True
    assert decided["approved_assignments"] == [
        {"supply_id": BIG_PUMPS, "request_id": request_id, "units": 1}
    ]
    with city.engine.connect() as conn:
        view = request_queries.get_request(conn, request_id)
    assert view is not None
    assert view.committed_units == 1


def test_given_the_api_when_the_commander_proposes_and_rejects_then_recorded(
    city: Muster, person: People
) -> None:
    """Through the API a commander computes and records a proposal (assignments,
    shortfalls, solver status, seconds, closed roads) and rejects it with a reason;
    a duty officer may not propose."""
    incident = flood(city)
    raise_pumps(city, incident)
    commander = person("commander")
    water = person("water.duty")

    refused = api_post(water, f"/api/v1/incidents/{incident}/allocation-proposals", {})
    made = api_post(
        commander, f"/api/v1/incidents/{incident}/allocation-proposals",
        {"time_limit_seconds": 5},
    )  # fmt: skip
    body = made.json()
    rejected = api_post(
        commander, f"/api/v1/allocation-proposals/{body['id']}/decision",
        {"decision": "reject", "reason": "改用消防排涝车"},
    )  # fmt: skip
    listed = commander.get(f"/api/v1/incidents/{incident}/allocation-proposals")

    assert refused.status_code == 403
    assert made.status_code == 201
    for key in (
        "assignments",
        "shortfalls",
        "solver_status",
        "seconds",
        "closed_roads",
    ):
        assert key in body
    assert body["status"] == "proposed"
    assert rejected.json()["decision"] == "reject"
    assert rejected.json()["commitments"] == []
    assert [item["status"] for item in listed.json()] == ["rejected"]
