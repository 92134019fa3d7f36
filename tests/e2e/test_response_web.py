"""The coordinated-response pages: incident page, plan activation, task board,
inbox actions with version conflicts, joint decisions, reports and live fragments."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from muster.bootstrap import Muster
from muster.response import queries
from muster.settings import Settings
from tests.e2e.client import WebClient, web_client
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


@pytest.fixture
def second(settings: Settings, muster: Muster, web: WebClient) -> Iterator[WebClient]:
    """Return a second browser-like client of the same server."""
    client = WebClient(web.base_url)
    try:
        yield client
    finally:
        client.close()


def _task(muster: Muster, incident_id: str, key: str) -> queries.TaskView:
    with muster.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident_id)
    return next(task for task in tasks if task.template_key == key)


def _notice(response_location: str) -> str:
    return response_location.split("notice=", 1)[-1]


class TestIncidentPage:
    def test_commander_activates_the_plan_from_the_page(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given a reported flood incident, when the commander submits the activation
        form, the page shows level IV, the lead department and the task board."""
        incident_id = flood_incident(muster, world, activate=False)
        web.sign_in("commander")
        page = web.get(f"/incidents/{incident_id}")
        assert "Activate plan" in page.text
        assert 'value="FLOOD_URBAN"' in page.text

        response = web.post_form(
            f"/incidents/{incident_id}/activation",
            {"plan_code": "FLOOD_URBAN", "level": "L4", "reason": "Water rising"},
        )

        assert response.status_code == 303
        assert _notice(response.headers["location"]) == "activated"
        page = web.get(response.headers["location"])
        assert "The plan is active" in page.text
        assert "Level IV" in page.text
        assert "Close road S203 km 12–15" in page.text
        assert "Traffic control" in page.text
        assert "Initial report" in page.text
        assert "activated Urban flood plan at Level IV" in page.text

    def test_duty_officer_sees_no_activation_form_and_is_refused(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given a duty officer, the page offers no activation and a forged post is
        refused with a 403 page, recording nothing."""
        incident_id = flood_incident(muster, world, activate=False)
        web.sign_in("t.duty")

        page = web.get(f"/incidents/{incident_id}")
        response = web.post_form(
            f"/incidents/{incident_id}/activation",
            {"plan_code": "FLOOD_URBAN", "level": "L4"},
        )

        assert "Activate plan" not in page.text
        assert response.status_code == 403
        with muster.engine.connect() as conn:
            incident = queries.get_incident(conn, incident_id)
        assert incident is not None
        assert incident.level is None

    def test_closing_needs_a_reason(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given a commander, closing without a reason shows the page with the refusal;
        with a reason the incident is closed."""
        incident_id = flood_incident(muster, world, activate=False)
        web.sign_in("commander")

        refused = web.post_form(
            f"/incidents/{incident_id}/status", {"to_status": "closed", "reason": ""}
        )
        closed = web.post_form(
            f"/incidents/{incident_id}/status",
            {"to_status": "closed", "reason": "False alarm"},
        )

        assert refused.status_code == 422
        assert "Give a reason." in refused.text
        assert closed.status_code == 303
        page = web.get(f"/incidents/{incident_id}")
        assert 'id="incident-status">Closed<' in page.text

    def test_decision_is_proposed_signed_and_shown(
        self, web: WebClient, second: WebClient, muster: Muster, world: World
    ) -> None:
        """Given an active response, the commander proposes a decision; the water duty
        officer sees the sign buttons and objects, and the decision shows rejected."""
        incident_id = flood_incident(muster, world)
        web.sign_in("commander")
        proposed = web.post_form(
            f"/incidents/{incident_id}/decisions",
            {"title": "Raise to level II", "proposal": "Rain continues",
             "departments": "WATER", "rule": "all", "raises_to": "L2",
             "deadline_minutes": "30"},
        )  # fmt: skip
        assert proposed.status_code == 303
        second.sign_in("w.duty")
        page = second.get(f"/incidents/{incident_id}")
        assert 'value="concur"' in page.text

        signed = second.post_form(
            f"/decisions/{_decision_id(page.text)}/sign",
            {"incident_id": incident_id, "position": "object", "comment": "Receding"},
        )

        assert signed.status_code == 303
        page = second.get(f"/incidents/{incident_id}")
        assert "Rejected" in page.text
        assert "Receding" in page.text
        assert 'value="concur"' not in page.text

    def test_level_ii_directly_is_refused_with_a_hint(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given the plan gates level II, a direct change shows the decision hint."""
        incident_id = flood_incident(muster, world)
        web.sign_in("commander")

        response = web.post_form(
            f"/incidents/{incident_id}/level", {"level": "L2", "reason": "Worse"}
        )

        assert response.status_code == 409
        assert "needs a joint decision" in response.text

    def test_live_fragment_has_the_sections(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """The live fragment holds the board, decisions, reports and timeline only."""
        incident_id = flood_incident(muster, world)
        web.sign_in("t.duty")

        response = web.get(f"/incidents/{incident_id}/live")

        assert response.status_code == 200
        for part in ("summary", "departments", "board", "decisions", "reports"):
            assert f'data-live-part="{part}"' in response.text
        assert "<html" not in response.text

    def test_incident_page_in_chinese(
        self, settings: Settings, muster: Muster, world: World
    ) -> None:
        """A Chinese-speaking client sees task titles and labels in Chinese."""
        incident_id = flood_incident(muster, world)
        with web_client(settings, muster, accept_language="zh-CN") as client:
            client.sign_in("commander")
            client.post_form("/language", {"language": "zh-CN", "next": "/"})
            page = client.get(f"/incidents/{incident_id}")
        assert "封闭S203 12–15公里" in page.text
        assert "任务" in page.text


class TestInbox:
    def test_inbox_lists_the_department_tasks_and_acknowledges(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given an active plan, the transport duty officer's inbox lists the road
        task; acknowledging it with the version shown moves it on."""
        incident_id = flood_incident(muster, world)
        road = _task(muster, incident_id, "close_road")
        web.sign_in("t.duty")
        page = web.get("/inbox")
        assert "Close road S203 km 12–15" in page.text
        assert "Start pump stations" not in page.text

        response = web.post_form(
            f"/tasks/{road.id}/act",
            {"action": "acknowledge", "expected_version": str(road.version),
             "next": "/inbox"},
        )  # fmt: skip

        assert response.status_code == 303
        assert response.headers["location"] == "/inbox?notice=task"
        assert _task(muster, incident_id, "close_road").status == "acknowledged"

    def test_second_user_on_the_same_version_gets_a_conflict(
        self, web: WebClient, second: WebClient, muster: Muster, world: World
    ) -> None:
        """Given two transport users who saw the same version, the second one's
        acknowledgement is refused with a conflict message, not recorded twice."""
        road = _task(muster, flood_incident(muster, world), "close_road")
        web.sign_in("t.duty")
        second.sign_in("t.head")
        form = {"action": "acknowledge", "expected_version": str(road.version)}

        first = web.post_form(f"/tasks/{road.id}/act", form)
        late = second.post_form(f"/tasks/{road.id}/act", form)

        assert first.status_code == 303
        assert late.status_code == 409
        assert "Someone else changed this at the same time" in late.text
        with muster.engine.connect() as conn:
            types = [e.type for e in queries.incident_timeline(conn, road.incident_id)]
        assert types.count("response.TaskAcknowledged") == 1

    def test_decline_without_a_reason_is_refused(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Declining needs a reason; the inbox says so."""
        road = _task(muster, flood_incident(muster, world), "close_road")
        web.sign_in("t.duty")

        response = web.post_form(
            f"/tasks/{road.id}/act", {"action": "decline", "note": ""}
        )

        assert response.status_code == 422
        assert 'id="form-error"' in response.text

    def test_checklist_item_is_ticked(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Ticking a checklist item from the inbox records it."""
        incident_id = flood_incident(muster, world)
        road = _task(muster, incident_id, "close_road")
        web.sign_in("t.duty")

        response = web.post_form(
            f"/tasks/{road.id}/checklist", {"index": "0", "checked": "1"}
        )

        assert response.status_code == 303
        assert _task(muster, incident_id, "close_road").checked == (0,)


class TestReports:
    def test_form_is_prefilled_and_sending_shows_the_report(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given an active response, the report form is prefilled from the incident;
        sending it shows the printable report and resets the clock."""
        incident_id = flood_incident(muster, world)
        web.sign_in("w.duty")
        form = web.get(f"/incidents/{incident_id}/reports/new")
        assert form.status_code == 200
        assert "28.20000, 112.90000 — 内涝：滨江路积水" in form.text
        assert 'value="initial" selected' in form.text

        response = web.post_form(
            f"/incidents/{incident_id}/reports",
            {"obligation": "initial", "time": "08:00", "place": "Riverside",
             "what": "Riverside road flooded", "measures": "Pumps on"},
        )  # fmt: skip

        assert response.status_code == 303
        report = web.get(response.headers["location"])
        assert "Riverside road flooded" in report.text
        assert "City government" in report.text
        with muster.engine.connect() as conn:
            (clock,) = queries.report_clocks(conn, incident_id)
        assert clock.sent_count == 1

    def test_a_sent_report_exports_as_pdf(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given a sent report, ?format=pdf returns a PDF document of it."""
        incident_id = flood_incident(muster, world)
        web.sign_in("w.duty")
        sent = web.post_form(
            f"/incidents/{incident_id}/reports",
            {"obligation": "initial", "what": "滨江路积水 40 厘米"},
        )

        pdf = web.get(sent.headers["location"] + "?format=pdf")

        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert len(pdf.content) > 1000

    def test_report_without_what_happened_is_refused(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """A report that does not say what happened shows the form again."""
        incident_id = flood_incident(muster, world)
        web.sign_in("w.duty")

        response = web.post_form(
            f"/incidents/{incident_id}/reports", {"obligation": "initial", "what": ""}
        )

        assert response.status_code == 422
        assert "Say what happened." in response.text


class TestFacts:
    def test_a_recorded_fact_makes_the_plan_suggest_a_level(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given an incident, when the duty officer records 24-hour rain of 300 mm,
        the page shows the fact and the plan's suggested level II."""
        incident_id = flood_incident(muster, world, activate=False)
        web.sign_in("e.duty")

        response = web.post_form(
            f"/incidents/{incident_id}/facts", {"name": "rain_24h_mm", "value": "300"}
        )

        assert response.status_code == 303
        page = web.get(response.headers["location"])
        assert 'data-fact="rain_24h_mm">300<' in page.text
        assert (
            'data-suggested-plan="FLOOD_URBAN" data-suggested-level="L2"' in page.text
        )

    def test_a_bad_fact_name_is_refused_on_the_page(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """A fact name with spaces shows the page again with the reason."""
        incident_id = flood_incident(muster, world, activate=False)
        web.sign_in("e.duty")

        response = web.post_form(
            f"/incidents/{incident_id}/facts", {"name": "Rain mm", "value": "3"}
        )

        assert response.status_code == 422


class TestDecisionPoints:
    def test_proposing_the_plans_decision_point_takes_its_departments_and_rule(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given an active plan, when the commander proposes its decision point
        "raise_l2" with an evidence link, the decision names the plan's departments,
        rule and level, and shows the link."""
        incident_id = flood_incident(muster, world)
        web.sign_in("commander")

        response = web.post_form(
            f"/incidents/{incident_id}/decisions",
            {"decision_key": "raise_l2", "evidence": "https://met.example/radar/1\n"},
        )

        assert response.status_code == 303
        with muster.engine.connect() as conn:
            (decision,) = queries.incident_decisions(conn, incident_id)
        assert decision.departments == ("EMB", "WATER", "TRANSPORT")
        assert (decision.rule, decision.raises_to) == ("all", "L2")
        assert decision.evidence == ("https://met.example/radar/1",)
        page = web.get(f"/incidents/{incident_id}").text
        assert 'href="https://met.example/radar/1"' in page


class TestEventTypes:
    def test_an_incident_opened_with_a_type_is_offered_the_covering_plan(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given the new-incident form with type 11A51 (flash flood), the incident
        page offers the flood plan, which covers 11A00."""
        web.sign_in("commander")

        response = web.post_form(
            "/incidents",
            {"title": "山洪", "category": "NATURAL_DISASTER", "latitude": "28.2",
             "longitude": "112.9", "type_code": "11A51"},
        )  # fmt: skip

        assert response.status_code == 303
        page = web.get(response.headers["location"]).text
        assert '<option value="FLOOD_URBAN">' in page

    def test_verifying_sets_the_type_and_unlocks_the_plan(
        self, web: WebClient, muster: Muster, world: World
    ) -> None:
        """Given an incident opened without a type, verifying it as 11B00
        (meteorological) lets the commander choose the flood plan."""
        web.sign_in("commander")
        opened = web.post_form(
            "/incidents",
            {"title": "暴雨", "category": "NATURAL_DISASTER", "latitude": "28.2",
             "longitude": "112.9"},
        )  # fmt: skip
        incident = opened.headers["location"]
        assert '<option value="FLOOD_URBAN">' not in web.get(incident).text

        verified = web.post_form(
            incident + "/status", {"to_status": "verified", "type_code": "11B00"}
        )

        assert verified.status_code == 303
        assert '<option value="FLOOD_URBAN">' in web.get(incident).text


def test_nav_links_to_the_inbox(web: WebClient) -> None:
    """Every signed-in page links to the inbox."""
    web.sign_in("t.duty")

    assert 'href="/inbox"' in web.get("/").text


def _decision_id(html: str) -> str:
    match = re.search(r'action="/decisions/([^/"]+)/sign"', html)
    assert match is not None
    return match.group(1)
