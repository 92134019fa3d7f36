"""The response API (/api/v1): incident response, activation, levels, tasks and the
inbox with version conflicts, decisions, reports, plans and the timeline (JSON, CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from muster.bootstrap import Muster
from muster.response import queries
from muster.settings import Settings
from muster.web.auth import CSRF_HEADER
from tests.e2e.client import WebClient, issue_api_key, web_client
from tests.response_setup import World, build_world, flood_incident


@pytest.fixture
def world(muster: Muster) -> World:
    """Return the response world (EMB, TRANSPORT, WATER, MET and the flood plan)."""
    return build_world(muster)


@pytest.fixture
def web(settings: Settings, muster: Muster, world: World) -> Iterator[WebClient]:
    """Return a client of the app serving the response world."""
    with web_client(settings, muster) as client:
        yield client


def _post(web: WebClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return web.post(path, json=body, headers={CSRF_HEADER: web.csrf_token})


def _road(muster: Muster, incident_id: str) -> queries.TaskView:
    with muster.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident_id)
    return next(task for task in tasks if task.template_key == "close_road")


class TestIncidentResponse:
    def test_activation_then_the_incident_shows_its_response(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given a reported incident, when the commander activates the plan over the
        API, GET shows the level, departments, tasks and the report clock."""
        incident_id = flood_incident(muster, world, activate=False)
        web.sign_in("commander")

        activated = _post(
            web, f"/api/v1/incidents/{incident_id}/activation",
            {"plan_code": "FLOOD_URBAN", "level": "IV", "reason": "Rising"},
        )  # fmt: skip
        shown = web.get(f"/api/v1/incidents/{incident_id}").json()

        assert activated.json() == {"result": "activated"}
        assert (shown["status"], shown["level"], shown["lead_department"]) == (
            "responding", "L4", "WATER",
        )  # fmt: skip
        assert shown["supporting_departments"] == ["TRANSPORT"]
        assert {task["template_key"] for task in shown["tasks"]} == {
            "close_road", "pumps", "forecast",
        }  # fmt: skip
        assert [clock["obligation"] for clock in shown["report_clocks"]] == ["initial"]
        assert shown["unresponsive"] == []

    def test_a_duty_officer_may_not_activate(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """A duty officer's activation is refused as problem+json 403."""
        incident_id = flood_incident(muster, world, activate=False)
        web.sign_in("t.duty")

        response = _post(
            web, f"/api/v1/incidents/{incident_id}/activation",
            {"plan_code": "FLOOD_URBAN", "level": "L4"},
        )  # fmt: skip

        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_level_ii_directly_is_a_conflict_and_status_needs_a_reason(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Level II needs a decision (409); closing without a reason is 422."""
        incident_id = flood_incident(muster, world)
        web.sign_in("commander")

        level = _post(
            web,
            f"/api/v1/incidents/{incident_id}/level",
            {"level": "L2", "reason": "x"},
        )
        close = _post(
            web, f"/api/v1/incidents/{incident_id}/status", {"to_status": "closed"}
        )

        assert (level.status_code, level.json()["code"]) == (409, "decision_required")
        assert close.status_code == 422

    def test_unknown_incident_is_404(self, web: WebClient) -> None:
        """An unknown incident id is answered 404 problem+json."""
        web.sign_in("commander")

        assert web.get("/api/v1/incidents/nope").status_code == 404


class TestTasks:
    def test_inbox_and_acting_with_a_stale_version(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given the road task at version 1, an acknowledgement at 1 succeeds and a
        second one at 1 is a 409 conflict."""
        incident_id = flood_incident(muster, world)
        web.sign_in("t.duty")
        inbox = web.get("/api/v1/inbox").json()
        assert [task["title_en"] for task in inbox] == ["Close road S203 km 12–15"]
        task = inbox[0]
        body = {"action": "acknowledge", "expected_version": task["version"]}

        first = _post(web, f"/api/v1/tasks/{task['id']}/actions", body)
        second = _post(web, f"/api/v1/tasks/{task['id']}/actions", body)

        assert first.status_code == 200
        assert second.status_code == 409
        assert _road(muster, incident_id).status == "acknowledged"

    def test_checklist_add_skip_and_reassign(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """The commander adds a task, skips it, and reassigns the road task; the duty
        officer ticks a checklist item."""
        incident_id = flood_incident(muster, world)
        road = _road(muster, incident_id)
        web.sign_in("commander")
        added = _post(
            web, f"/api/v1/incidents/{incident_id}/tasks",
            {"title_zh": "设置警示", "title_en": "Put up warnings",
             "lead_department": "WATER", "due_minutes": 30},
        )  # fmt: skip
        assert added.status_code == 201
        skipped = _post(
            web, f"/api/v1/tasks/{added.json()['result']}/skip", {"reason": "Done"}
        )
        assert skipped.status_code == 200

        duty = WebClient(web.base_url)
        try:
            duty.sign_in("t.duty")
            ticked = _post(duty, f"/api/v1/tasks/{road.id}/checklist", {"index": 1})
        finally:
            duty.close()
        reassigned = _post(
            web, f"/api/v1/tasks/{road.id}/reassign",
            {"to_department": "WATER", "reason": "Transport is busy"},
        )  # fmt: skip

        assert ticked.status_code == 200
        assert reassigned.status_code == 200
        moved = _road(muster, incident_id)
        assert (moved.lead_department, moved.checked) == ("WATER", (1,))


class TestDecisionsAndReports:
    def test_proposal_signatures_and_a_report(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """The commander proposes; EMB concurs; a report is sent; all show up."""
        incident_id = flood_incident(muster, world)
        web.sign_in("commander")
        proposed = _post(
            web, f"/api/v1/incidents/{incident_id}/decisions",
            {"title": "Open the spillway", "departments": ["EMB", "WATER"]},
        )  # fmt: skip
        assert proposed.status_code == 201
        decision_id = proposed.json()["result"]

        signed = _post(
            web, f"/api/v1/decisions/{decision_id}/signatures", {"position": "concur"}
        )
        report = _post(
            web, f"/api/v1/incidents/{incident_id}/reports",
            {"content": {"what": "Road flooded"}, "obligation": "initial"},
        )  # fmt: skip
        shown = web.get(f"/api/v1/incidents/{incident_id}").json()

        assert signed.json() == {"result": "open"}
        assert report.status_code == 201
        (decision,) = shown["decisions"]
        assert decision["positions"]["EMB"]["position"] == "concur"
        assert shown["report_clocks"][0]["sent_count"] == 1


class TestPlansAndTimeline:
    def test_plans_and_timeline_json_and_csv(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Plans list the flood plan; the timeline has summaries, also as CSV."""
        incident_id = flood_incident(muster, world)
        web.sign_in("commander")

        plans = web.get("/api/v1/plans").json()
        timeline = web.get(f"/api/v1/incidents/{incident_id}/timeline").json()
        csv_text = web.get(f"/api/v1/incidents/{incident_id}/timeline?format=csv")

        assert [plan["code"] for plan in plans] == ["FLOOD_URBAN"]
        assert plans[0]["levels"] == ["L4", "L2"]
        types = [entry["type"] for entry in timeline]
        assert types[0] == "response.IncidentOpened"
        assert "response.ResponseActivated" in types
        assert any(
            "activated Urban flood plan at Level IV" in entry["summary"]
            for entry in timeline
        )
        assert csv_text.headers["content-type"].startswith("text/csv")
        assert csv_text.text.lstrip("\ufeff").startswith("seq,at,type")
        assert "response.TaskAssigned" in csv_text.text

    def test_api_key_of_a_department_reads_its_inbox(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """A connector key of TRANSPORT lists TRANSPORT's tasks."""
        flood_incident(muster, world)
        key = issue_api_key(muster, "TRANSPORT")

        response = web.get("/api/v1/inbox", headers={"Authorization": f"Bearer {key}"})

        assert response.status_code == 200
        assert [task["lead_department"] for task in response.json()] == ["TRANSPORT"]
