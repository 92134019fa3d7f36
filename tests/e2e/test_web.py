"""Pages, API routes, the language switch, health, docs, checkpoints and the feed."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator

import httpx
import pytest

from muster.bootstrap import Muster
from muster.core.eventlog.store import Envelope
from muster.core.messages import Actor
from muster.identity import queries
from muster.response import queries as response_queries
from muster.settings import Settings
from muster.web.app import write_checkpoint_if_moved
from muster.web.feed import is_visible
from tests import factories
from tests.e2e.client import WebClient, event_types, head, issue_api_key, web_client

FORM = {
    "title": "Flooding on Riverside Road",
    "category": "NATURAL_DISASTER",
    "latitude": "28.19",
    "longitude": "112.97",
    "description": "Water 40 cm deep.",
}


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Return a client of the app serving a deployment with two departments."""
    factories.department(muster, "EMB")
    factories.department(muster, "FIRE")
    factories.user(muster, "alice")
    factories.user(muster, "root", roles=("admin",))
    factories.user(muster, "olga", roles=("observer",), department_code="FIRE")
    with web_client(settings, muster) as client:
        yield client


class TestDashboard:
    def test_pages_redirect_anonymous_visitors_to_sign_in(self, web: WebClient) -> None:
        """Without a session a page sends the visitor to sign in, keeping the target."""
        response = web.get("/incidents/new?draft=1")

        assert response.status_code == 303
        assert (
            response.headers["location"]
            == "/signin?next=%2Fincidents%2Fnew%3Fdraft%3D1"
        )

    def test_dashboard_shows_person_department_incidents_and_feed(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The dashboard names the user and department and lists incidents."""
        factories.incident(muster, factories.user(muster, "bob"), title="Bridge closed")
        web.sign_in("alice")

        response = web.get("/")

        assert response.status_code == 200
        assert "Alice" in response.text
        assert "EMB dept" in response.text
        assert "Bridge closed" in response.text
        assert 'id="feed"' in response.text
        assert "EMB dept opened incident “Bridge closed”" in response.text
        assert f'data-after="{head(muster)}"' in response.text

    def test_dashboard_in_chinese_uses_chinese_names(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A Chinese-speaking user sees the zh department name and zh labels."""
        factories.user(muster, "zhang", language="zh-CN")
        web.sign_in("zhang")

        response = web.get("/")

        assert "EMB部门" in response.text
        assert "实时动态" in response.text
        assert 'lang="zh-CN"' in response.text


class TestIncidentForm:
    def test_form_opens_incident_and_shows_it(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Posting the form records IncidentOpened and redirects to the detail page."""
        web.sign_in("alice")

        response = web.post_form("/incidents", FORM)

        assert response.status_code == 303
        incident_id = response.headers["location"].removeprefix("/incidents/")
        assert event_types(muster)[-1] == "response.IncidentOpened"
        with muster.engine.connect() as conn:
            incident = response_queries.get_incident(conn, incident_id)
        assert incident is not None
        assert incident.reporting_department == "EMB"
        detail = web.get(response.headers["location"])
        assert "Flooding on Riverside Road" in detail.text
        assert "Natural disaster" in detail.text

    def test_form_offers_four_translated_categories(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The category select lists the four glossary categories, translated."""
        factories.user(muster, "zhang", language="zh-CN")
        web.sign_in("zhang")

        response = web.get("/incidents/new")

        options = re.findall(r'<option value="([A-Z_]+)"', response.text)
        assert options == [
            "NATURAL_DISASTER",
            "ACCIDENT_DISASTER",
            "PUBLIC_HEALTH",
            "SOCIAL_SECURITY",
        ]
        for label in ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件"):
            assert label in response.text

    def test_invalid_input_rerenders_with_messages_and_keeps_values(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Bad coordinates show translated messages, keep input and write nothing."""
        factories.user(muster, "zhang", language="zh-CN")
        web.sign_in("zhang")
        before = head(muster)

        response = web.post_form("/incidents", {**FORM, "latitude": "north"})

        assert response.status_code == 422
        assert "请输入数字" in response.text
        assert 'value="Flooding on Riverside Road"' in response.text
        assert 'value="north"' in response.text
        assert head(muster) == before

    def test_domain_rule_message_lands_on_the_field(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A blank title is refused by the domain and explained next to the title."""
        web.sign_in("alice")
        before = head(muster)

        response = web.post_form("/incidents", {**FORM, "title": "   "})

        assert response.status_code == 422
        assert "Enter a title of 1 to 200 characters." in response.text
        assert head(muster) == before

    def test_observer_may_not_open_incidents(
        self, web: WebClient, muster: Muster
    ) -> None:
        """An observer is refused (403 page) and the refusal is logged."""
        web.sign_in("olga")
        before = head(muster)

        response = web.post_form("/incidents", FORM)

        assert response.status_code == 403
        assert event_types(muster, after=before) == ["identity.AccessRefused"]


class TestLanguage:
    def test_anonymous_switch_uses_a_cookie(self, web: WebClient) -> None:
        """An anonymous visitor switching to Chinese sees the sign-in page in it."""
        assert "Sign in" in web.get("/signin").text

        response = web.post_form("/language", {"language": "zh-CN", "next": "/signin"})

        assert response.status_code == 303
        assert web.http.cookies["muster_lang"] == "zh-CN"
        assert "登录" in web.get("/signin").text

    def test_signed_in_switch_is_recorded_on_the_account(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A signed-in switch records UserLanguageChanged and changes text both ways."""
        web.sign_in("alice")
        assert "Live activity" in web.get("/").text

        web.post_form("/language", {"language": "zh-CN", "next": "/"})
        chinese = web.get("/").text
        web.post_form("/language", {"language": "en", "next": "/"})
        english = web.get("/").text

        assert "实时动态" in chinese
        assert "Live activity" in english
        assert event_types(muster)[-2:] == [
            "identity.UserLanguageChanged",
            "identity.UserLanguageChanged",
        ]
        with muster.engine.connect() as conn:
            alice = queries.get_user_by_username(conn, "alice")
        assert alice is not None
        assert alice.language == "en"


class TestApi:
    def test_lists_and_shows_incidents(self, web: WebClient, muster: Muster) -> None:
        """The incident API lists and shows what the read model holds."""
        incident_id = factories.incident(muster, factories.user(muster, "bob"))
        key = issue_api_key(muster, "EMB")
        headers = {"Authorization": f"Bearer {key}"}

        listed = web.get("/api/incidents", headers=headers)
        shown = web.get(f"/api/incidents/{incident_id}", headers=headers)
        departments = web.get("/api/departments", headers=headers)

        assert [item["id"] for item in listed.json()] == [incident_id]
        assert shown.json()["title"] == "Flooding on Riverside Road"
        assert {item["code"] for item in departments.json()} == {"EMB", "FIRE"}

    def test_api_without_credentials_is_401_problem(self, web: WebClient) -> None:
        """An anonymous API call gets 401 problem+json, not a redirect."""
        response = web.get("/api/incidents")

        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"


class TestOperations:
    def test_healthz_reports_database_and_head(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The health check answers with the database state and the log head."""
        response = web.get("/healthz")

        assert response.json() == {"ok": True, "database": True, "head": head(muster)}

    def test_api_docs_are_served_without_external_assets(self, web: WebClient) -> None:
        """The docs page lists operations and loads nothing from other hosts."""
        docs = web.get("/api/docs")
        schema = web.get("/api/openapi.json")

        assert docs.status_code == 200
        assert "/api/incidents" in docs.text
        assert "http://" not in docs.text
        assert "https://" not in docs.text
        assert "/api/incidents/{incident_id}" in schema.json()["paths"]

    def test_periodic_checkpoint_is_written_when_the_head_moved(
        self, muster: Muster
    ) -> None:
        """A checkpoint is signed at the head once, and not again until it moves."""
        factories.department(muster, "EMB")

        first = write_checkpoint_if_moved(muster)
        second = write_checkpoint_if_moved(muster)

        assert first == head(muster)
        assert second is None
        with muster.engine.connect() as conn:
            assert muster.store.last_checkpoint_seq(conn) == head(muster)


def _envelope(type_: str) -> Envelope:
    return Envelope(
        seq=1, event_id="e", type=type_, version=1, stream_id="s", stream_version=1,
        occurred_at="", recorded_at="", actor_kind="user", actor_id="u",
        actor_department="EMB", data={}, metadata={},
    )  # fmt: skip


class TestFeed:
    @pytest.mark.parametrize(
        "type_",
        ["identity.SignInFailed", "identity.AccessRefused", "identity.UserSignedIn",
         "identity.UserSignedOut", "identity.PasswordSet", "identity.ApiKeyIssued",
         "identity.ApiKeyRevoked"],
    )  # fmt: skip
    def test_security_events_are_for_admins_only(self, type_: str) -> None:
        """Security events are visible to admins and hidden from everyone else."""
        admin = Actor(kind="user", id="a", roles=frozenset({"admin"}))
        commander = Actor(kind="user", id="c", roles=frozenset({"commander"}))

        assert is_visible(_envelope(type_), admin)
        assert not is_visible(_envelope(type_), commander)

    def test_other_events_are_for_everyone_signed_in(self) -> None:
        """Operational events are visible to any person or connector."""
        key = Actor(kind="api_key", id="k", roles=frozenset({"connector"}))

        assert is_visible(_envelope("response.IncidentOpened"), key)

    def test_stream_resumes_from_last_event_id_with_visibility(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A stream resumed from an id replays later visible events, in order."""
        start = head(muster)
        web.sign_in("alice", "wrong")  # a security event the commander must not see
        factories.incident(muster, factories.user(muster, "bob"), title="Landslide")
        key = issue_api_key(muster, "EMB")

        received = _read_events(web, key, last_event_id=start, count=2)

        assert [event for event, _ in received] == [
            "identity.UserRegistered",
            "response.IncidentOpened",
        ]
        assert received[1][1]["summary"] == "EMB dept opened incident “Landslide”"
        assert received[1][1]["incident"]["category_label"] == "Natural disaster"

    def test_stream_delivers_new_events_live(
        self, web: WebClient, muster: Muster
    ) -> None:
        """An event committed after the stream opened arrives on it."""
        key = issue_api_key(muster, "EMB", key_id="live")
        alice = factories.user(muster, "carol")

        with _stream(web, key) as lines:
            assert next(lines) == "retry: 3000"
            factories.incident(muster, alice, title="Chemical spill")
            event, data = _next_event(lines)

        assert event == "response.IncidentOpened"
        assert data["incident"]["title"] == "Chemical spill"


@contextlib.contextmanager
def _stream(
    web: WebClient, key: str, *, last_event_id: int | None = None
) -> Iterator[Iterator[str]]:
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    with (
        httpx.Client(base_url=web.base_url, timeout=10.0) as client,
        client.stream("GET", "/api/events/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield (line for line in response.iter_lines() if line)


def _next_event(lines: Iterator[str]) -> tuple[str, dict[str, object]]:
    event = ""
    for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            return event, json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream ended")


def _read_events(
    web: WebClient, key: str, *, last_event_id: int, count: int
) -> list[tuple[str, dict[str, object]]]:
    with _stream(web, key, last_event_id=last_event_id) as lines:
        return [_next_event(lines) for _ in range(count)]
