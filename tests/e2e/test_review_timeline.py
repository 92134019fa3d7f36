"""The review API and pages: improvement items (adopt, list with overdue, start /
complete / cancel) and the incident's review timeline (kinds, filters, pins, CSV and
JSON export), on a simulated clock."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from muster.bootstrap import Muster
from muster.response import queries as response
from muster.review.domain.commands import (
    AdoptImprovementItems,
    ImprovementItemDraft,
    PinTimelineEvent,
)
from muster.settings import Settings
from muster.web.auth import CSRF_HEADER
from tests import factories, sim_fixtures
from tests.cli_setup import cli_environment, cli_runner
from tests.conftest import TEST_SECRET
from tests.e2e.client import WebClient, head, web_client
from tests.response_setup import World, build_world

# A simulated clock and a flood incident (tests/sim_fixtures.py); world is our own.
clock = sim_fixtures.clock
sim = sim_fixtures.sim
incident = sim_fixtures.incident


@pytest.fixture
def world(sim: Muster) -> World:
    """Return the response world plus a Chinese-reading commander and an analyst."""
    built = build_world(sim)
    factories.user(sim, "c.zh", roles=("commander",), language="zh-CN")
    factories.user(sim, "t.analyst", department_code="TRANSPORT", roles=("analyst",))
    return built


@pytest.fixture
def web(settings: Settings, sim: Muster, world: World) -> Iterator[WebClient]:
    """Return a client of the app serving the response world."""
    with web_client(settings, sim) as client:
        yield client


def _post(web: WebClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return web.post(path, json=body, headers={CSRF_HEADER: web.csrf_token})


def _item(department: str, due_at: str = "2026-07-15T08:00:00Z") -> dict[str, Any]:
    return {
        "finding": "late_acknowledgement",
        "owner_department": department,
        "title_zh": f"{department} 整改",
        "title_en": f"{department} fix",
        "due_at": due_at,
        "source_seqs": [1],
    }


def _seq(muster: Muster, incident: str, event_type: str) -> int:
    with muster.engine.connect() as conn:
        entries = response.incident_timeline(conn, incident)
    return next(entry.seq for entry in entries if entry.type == event_type)


def _adopt(muster: Muster, world: World, incident: str) -> tuple[str, str]:
    drafts = tuple(
        ImprovementItemDraft(
            finding="late_acknowledgement", owner_department=code,
            title_zh=f"{code} 整改", title_en=f"{code} fix",
            due_at="2026-07-15T08:00:00Z",
        )
        for code in ("TRANSPORT", "WATER")
    )  # fmt: skip
    ids = muster.bus.handle(
        AdoptImprovementItems(incident_id=incident, items=drafts), world.commander
    )
    return ids[0], ids[1]


class TestImprovementApi:
    def test_given_a_commander_when_adopting_then_listed_and_tracked(
        self, web: WebClient, incident: str
    ) -> None:
        """The commander adopts two items; TRANSPORT starts and completes its own."""
        web.sign_in("commander")
        adopted = _post(
            web,
            f"/api/v1/review/incidents/{incident}/improvements",
            {"items": [_item("TRANSPORT"), _item("WATER")]},
        )
        ids = adopted.json()["ids"]
        web.sign_in("t.duty")

        started = _post(web, f"/api/v1/review/improvements/{ids[0]}/start", {})
        done = _post(
            web, f"/api/v1/review/improvements/{ids[0]}/complete", {"note": "Drilled"}
        )
        listed = web.get(
            "/api/v1/review/improvements", params={"incident": incident}
        ).json()

        assert adopted.status_code == 201
        assert (started.json(), done.json()) == (
            {"result": "in_progress"},
            {"result": "done"},
        )
        assert [(i["owner_department"], i["status"], i["overdue"]) for i in listed] == [
            ("TRANSPORT", "done", False),
            ("WATER", "open", False),
        ]

    @pytest.mark.parametrize(
        ("user", "action", "body", "status"),
        [
            ("t.duty", "start", {}, 403),  # WATER's item
            ("w.duty", "complete", {}, 422),  # no note
            ("t.analyst", "start", {}, 403),
        ],
    )
    def test_given_a_refused_change_then_problem_json(
        self,
        web: WebClient,
        sim: Muster,
        world: World,
        incident: str,
        user: str,
        action: str,
        body: dict[str, Any],
        status: int,
    ) -> None:
        """Another department, a missing note and an analyst are refused."""
        _transport, water = _adopt(sim, world, incident)
        web.sign_in(user)

        answer = _post(web, f"/api/v1/review/improvements/{water}/{action}", body)

        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("application/problem+json")

    def test_given_a_duty_officer_when_adopting_then_forbidden(
        self, web: WebClient, incident: str
    ) -> None:
        """Adopting needs a commander or admin."""
        web.sign_in("t.duty")

        answer = _post(
            web,
            f"/api/v1/review/incidents/{incident}/improvements",
            {"items": [_item("TRANSPORT")]},
        )

        assert answer.status_code == 403


class TestTimelineApi:
    def test_given_an_incident_when_read_then_each_event_has_a_kind(
        self, web: WebClient, sim: Muster, incident: str
    ) -> None:
        """The JSON names each event's kind and the log head it was read at."""
        web.sign_in("commander")

        body = web.get(f"/api/v1/review/incidents/{incident}/timeline").json()

        kinds = {entry["type"]: entry["kind"] for entry in body["entries"]}
        assert kinds["response.IncidentOpened"] == "status"
        assert kinds["response.ResponseActivated"] == "plan"
        assert kinds["response.TaskAssigned"] == "task"
        assert body["log_range"]["head_seq"] == head(sim)
        assert len(body["log_range"]["head_hash"]) == 64
        assert all(entry["summary"] for entry in body["entries"])

    def test_given_filters_when_read_then_only_matching_events(
        self, web: WebClient, incident: str
    ) -> None:
        """Kind and department filters combine; several values are a choice."""
        web.sign_in("commander")
        path = f"/api/v1/review/incidents/{incident}/timeline"

        tasks = web.get(path, params={"kind": "task", "department": "TRANSPORT"})
        either = web.get(path, params=[("kind", "plan"), ("kind", "status")])
        wrong = web.get(path, params={"kind": "weather"})

        task_entries = tasks.json()["entries"]
        assert task_entries
        assert {entry["kind"] for entry in task_entries} == {"task"}
        assert all("TRANSPORT" in entry["departments"] for entry in task_entries)
        assert {entry["kind"] for entry in either.json()["entries"]} == {
            "plan",
            "status",
        }
        assert wrong.status_code == 422

    def test_given_pins_over_the_api_then_pinned_filter_and_unpin(
        self, web: WebClient, sim: Muster, incident: str
    ) -> None:
        """A duty officer pins an event; ``pinned=true`` shows only it; DELETE
        unpins it."""
        seq = _seq(sim, incident, "response.ResponseActivated")
        web.sign_in("t.duty")
        path = f"/api/v1/review/incidents/{incident}"

        pinned = _post(web, f"{path}/pins", {"seq": seq, "note": "Level IV"})
        only = web.get(f"{path}/timeline", params={"pinned": "true"}).json()
        removed = web.http.delete(
            f"{path}/pins/{seq}", headers={CSRF_HEADER: web.csrf_token}
        )
        after = web.get(f"{path}/timeline", params={"pinned": "true"}).json()

        assert pinned.json() == {"result": "pinned"}
        assert [(e["seq"], e["pinned"], e["pin_note"]) for e in only["entries"]] == [
            (seq, True, "Level IV")
        ]
        assert removed.json() == {"result": "unpinned"}
        assert after["entries"] == []

    def test_given_a_formula_in_a_note_when_exported_as_csv_then_it_is_inert(
        self, web: WebClient, sim: Muster, world: World, incident: str
    ) -> None:
        """The CSV states the log head, has kind, pin and summary columns, and a
        note starting with '=' cannot run in a spreadsheet."""
        seq = _seq(sim, incident, "response.IncidentOpened")
        sim.bus.handle(
            PinTimelineEvent(incident_id=incident, seq=seq, note="=HYPERLINK(1)"),
            world.commander,
        )
        web.sign_in("commander")

        answer = web.get(
            f"/api/v1/review/incidents/{incident}/timeline",
            params={"format": "csv", "pinned": "true"},
        )

        first, rest = answer.text.lstrip("\ufeff").split("\n", 1)
        rows = list(csv.DictReader(io.StringIO(rest)))
        assert answer.headers["content-type"].startswith("text/csv")
        assert first.startswith(f"# incident {incident}; log head seq {head(sim)}")
        assert [(r["seq"], r["kind"], r["pinned"], r["pin_note"]) for r in rows] == [
            (str(seq), "status", "yes", "'=HYPERLINK(1)")
        ]
        assert rows[0]["summary"]

    def test_given_no_such_incident_then_404(self, web: WebClient) -> None:
        """An unknown incident has no timeline."""
        web.sign_in("commander")

        answer = web.get("/api/v1/review/incidents/nope/timeline")

        assert answer.status_code == 404


class TestImprovementsPage:
    def test_given_time_passed_when_the_owner_opens_the_page_then_overdue_and_forms(
        self, web: WebClient, sim: Muster, world: World, incident: str, clock: Any
    ) -> None:
        """TRANSPORT's officer sees both items overdue, forms only on its own, and
        starting it from the page redirects with a notice."""
        transport, water = _adopt(sim, world, incident)
        clock.advance(timedelta(days=20))
        web.sign_in("t.duty")

        page = web.get("/review/improvements")
        started = web.post_form(
            f"/review/improvements/{transport}/start",
            {"back": "/review/improvements?department=TRANSPORT"},
        )
        shown = web.get(started.headers["location"])

        assert page.status_code == 200
        assert page.text.count("overdue-mark") == 2
        assert f'action="/review/improvements/{transport}/start"' in page.text
        assert f'action="/review/improvements/{water}/' not in page.text
        assert started.status_code == 303
        assert started.headers["location"] == (
            "/review/improvements?department=TRANSPORT&notice=in_progress"
        )
        assert "The item was started." in shown.text
        assert water not in shown.text

    def test_given_no_note_when_completing_from_the_page_then_the_refusal_shows(
        self, web: WebClient, sim: Muster, world: World, incident: str
    ) -> None:
        """A refused form shows the list again with the message."""
        transport, _water = _adopt(sim, world, incident)
        web.sign_in("t.duty")

        answer = web.post_form(f"/review/improvements/{transport}/complete", {})

        assert answer.status_code == 422
        assert 'id="review-error"' in answer.text


class TestTimelinePage:
    def test_given_a_commander_when_pinning_from_the_page_then_marked(
        self, web: WebClient, sim: Muster, incident: str
    ) -> None:
        """The page lists events with kinds and export links; pinning one from its
        form marks it significant with the note."""
        seq = _seq(sim, incident, "response.ResponseActivated")
        web.sign_in("commander")
        path = f"/review/incidents/{incident}/timeline"

        page = web.get(path, params={"kind": "plan"})
        pinned = web.post_form(
            f"/review/incidents/{incident}/pins",
            {"seq": str(seq), "note": "Activation", "back": path},
        )
        shown = web.get(pinned.headers["location"])

        assert page.status_code == 200
        assert f'id="event-{seq}"' in page.text
        assert 'data-kind="task"' not in page.text
        assert "format=csv" in page.text
        assert "kind=plan" in page.text
        assert pinned.status_code == 303
        assert "pin-mark" in shown.text
        assert "Activation" in shown.text
        assert f'/pins/{seq}/unpin"' in shown.text

    def test_given_an_analyst_then_no_pin_forms(
        self, web: WebClient, incident: str
    ) -> None:
        """Analysts read the timeline but are offered no pin buttons."""
        web.sign_in("t.analyst")

        page = web.get(f"/review/incidents/{incident}/timeline")

        assert page.status_code == 200
        assert "pin-form" not in page.text

    def test_given_a_chinese_reader_then_the_page_is_in_chinese(
        self, web: WebClient, incident: str
    ) -> None:
        """The page follows the reader's language."""
        web.sign_in("c.zh")

        page = web.get(f"/review/incidents/{incident}/timeline")

        assert "事件时间线" in page.text
        assert "导出 CSV" in page.text


class TestImprovementCli:
    def _run(self, settings: Settings, *args: str) -> Any:
        with cli_runner(cli_environment(settings, TEST_SECRET)) as run:
            return run("improvement", *args)

    def test_given_items_due_in_july_when_listed_now_then_overdue_and_trackable(
        self, settings: Settings, sim: Muster, world: World, incident: str
    ) -> None:
        """The CLI (on the real clock, past the July due time) lists both items as
        overdue; TRANSPORT's officer starts one; closing needs a note; the
        operator cancels the other as Muster itself."""
        transport, water = _adopt(sim, world, incident)

        listed = self._run(settings, "list", "--status", "overdue", "--json")
        started = self._run(settings, "start", transport, "--user", "t.duty", "--json")
        no_note = self._run(settings, "complete", transport, "--user", "t.duty")
        cancelled = self._run(settings, "cancel", water, "--note", "Merged")

        assert listed.exit_code == 0, listed.output
        items = json.loads(listed.stdout)
        assert {(item["id"], item["overdue"]) for item in items} == {
            (transport, True),
            (water, True),
        }
        assert json.loads(started.stdout)["status"] == "in_progress"
        assert no_note.exit_code == 3
        assert (cancelled.exit_code, cancelled.stdout.strip()) == (
            0,
            f"{water}: cancelled",
        )


class TestAfterActionReportPage:
    """The AAR on the web: the same report as ``muster report aar``."""

    def test_given_an_incident_when_its_aar_is_opened_then_html_in_the_language_and_a_pdf(  # noqa: E501
        self, web: WebClient, incident: str
    ) -> None:
        """The HTML report has its sections and a policy for its inline CSS; the PDF
        link downloads a PDF; an unknown incident is a 404."""
        web.sign_in("commander")

        page = web.get(f"/review/incidents/{incident}/aar?lang=en")
        pdf = web.get(f"/review/incidents/{incident}/aar?format=pdf&lang=zh-CN")
        missing = web.get("/review/incidents/nope/aar")

        assert page.status_code == 200, page.text
        assert "1. Overview" in page.text
        assert "7. Improvement plan" in page.text
        assert "style-src 'unsafe-inline'" in page.headers["content-security-policy"]
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert missing.status_code == 404

    def test_given_the_incident_page_then_it_links_to_the_review_pages(
        self, web: WebClient, incident: str
    ) -> None:
        """The incident page offers the review timeline, replay and the AAR."""
        web.sign_in("commander")

        page = web.get(f"/incidents/{incident}")

        for path in ("timeline", "replay", "aar", "aar?format=pdf"):
            assert f'href="/review/incidents/{incident}/{path}"' in page.text
