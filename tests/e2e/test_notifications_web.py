"""In-app notifications on the web: the /notifications page and the unread count, the
JSON API, mark read and mark all read, and each user seeing only their own. Runs on a
simulated clock; the delivery tick is sent through the bus (no sleeps)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.errors import ConcurrencyConflict
from muster.core.messages import SYSTEM_ACTOR
from muster.notify import queries
from muster.notify.tasks import deliver_once
from muster.response.domain.commands import OpenIncident, RunTimers
from muster.settings import Settings
from muster.web.auth import CSRF_HEADER
from tests import factories
from tests.e2e.client import WebClient, issue_api_key, web_client
from tests.response_setup import World, build_world, flood_incident

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
ESCALATION_EN = "Escalation: task not acknowledged by TRANSPORT"


def _deliver(muster: Muster) -> None:
    """Run the delivery tick; the app's own loop may tick at the same moment."""
    for _ in range(5):
        try:
            deliver_once(muster.bus)
        except ConcurrencyConflict:
            continue
        return
    deliver_once(muster.bus)


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 08:00 UTC."""
    return SimulatedClock(START)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment on the simulated clock."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def world(sim: Muster) -> World:
    """Return the response world, plus a TRANSPORT duty officer who reads Chinese."""
    built = build_world(sim)
    factories.user(
        sim,
        "t.zh",
        department_code="TRANSPORT",
        roles=("duty_officer",),
        language="zh-CN",
    )
    return built


@pytest.fixture
def escalated(sim: Muster, clock: SimulatedClock, world: World) -> str:
    """Activate the flood plan, let the road task go unacknowledged for 15 minutes
    (escalation to the duty officers) and deliver; return the incident id."""
    incident_id = flood_incident(sim, world)
    _deliver(sim)
    clock.advance(timedelta(minutes=15))
    sim.bus.handle(RunTimers(), SYSTEM_ACTOR)
    _deliver(sim)
    return incident_id


@pytest.fixture
def web(settings: Settings, sim: Muster, escalated: str) -> Iterator[WebClient]:
    """Return a client of the app serving the escalated response world."""
    with web_client(settings, sim) as client:
        yield client


def _unread(muster: Muster, user_id: str) -> int:
    with muster.engine.connect() as conn:
        return queries.unread_count(conn, user_id)


def _items(muster: Muster, user_id: str) -> list[queries.InboxItem]:
    with muster.engine.connect() as conn:
        return queries.user_notifications(conn, user_id)


def _badge(html: str) -> str:
    found = re.search(r'id="notification-badge"[^>]*>([^<]*)<', html)
    assert found is not None
    return found.group(1)


class TestPage:
    def test_duty_officer_sees_the_escalation_with_link_and_badge(
        self, web: WebClient, sim: Muster, world: World, escalated: str
    ) -> None:
        """Given an escalated road task, when the TRANSPORT duty officer opens
        /notifications, then the escalation is listed unread in English with a link
        to the incident, and the badge shows the unread count."""
        unread = _unread(sim, world.transport_duty.id)
        assert unread >= 2

        web.sign_in("t.duty")
        page = web.get("/notifications")

        assert page.status_code == 200
        assert ESCALATION_EN in page.text
        assert f'href="/incidents/{escalated}"' in page.text
        assert "notification-unread" in page.text
        assert 'data-action="mark-read"' in page.text
        assert _badge(page.text) == str(unread)
        assert web.get("/notifications/count").json() == {"unread": unread}

    def test_chinese_reader_sees_chinese_subjects(
        self, web: WebClient, sim: Muster
    ) -> None:
        """Given a duty officer whose account language is Chinese, when they open the
        page, then the subjects and the page's text are in Chinese."""
        web.sign_in("t.zh")
        page = web.get("/notifications")

        assert "升级提醒" in page.text
        assert "全部标为已读" in page.text
        assert ESCALATION_EN not in page.text

    def test_mark_read_then_mark_all_read(
        self, web: WebClient, sim: Muster, world: World
    ) -> None:
        """Given unread notifications, when the user marks one read, then the count
        drops by one and it shows read; when they mark all read, the count is 0."""
        user_id = world.transport_duty.id
        before = _unread(sim, user_id)
        first = _items(sim, user_id)[0]
        web.sign_in("t.duty")

        response = web.post_form(f"/notifications/{first.notification_id}/read", {})

        assert response.status_code == 303
        assert response.headers["location"] == "/notifications?notice=read"
        page = web.get(response.headers["location"])
        assert "The notification was marked read." in page.text
        assert _unread(sim, user_id) == before - 1
        assert "notification-read" in page.text

        response = web.post_form("/notifications/read-all", {})

        assert response.status_code == 303
        assert _unread(sim, user_id) == 0
        page = web.get(response.headers["location"])
        assert "All notifications were marked read." in page.text
        assert 'data-action="mark-read"' not in page.text
        assert _badge(page.text) == ""

    def test_mark_read_needs_the_csrf_token(
        self, web: WebClient, sim: Muster, world: World
    ) -> None:
        """Given a signed-in user, when a mark-read form arrives without the CSRF
        token, then it is refused and nothing changes."""
        user_id = world.transport_duty.id
        before = _unread(sim, user_id)
        first = _items(sim, user_id)[0]
        web.sign_in("t.duty")

        response = web.post(f"/notifications/{first.notification_id}/read")

        assert response.status_code == 403
        assert _unread(sim, user_id) == before

    def test_another_user_sees_none_and_cannot_mark_them(
        self, web: WebClient, sim: Muster, world: World
    ) -> None:
        """Given the duty officer's notifications, when the WATER duty officer opens
        /notifications or marks one of them read, then they see no escalation of
        TRANSPORT and the mark is answered 404 without changing anything."""
        duty_id = world.transport_duty.id
        before = _unread(sim, duty_id)
        theirs = _items(sim, duty_id)[0]
        web.sign_in("w.duty")

        page = web.get("/notifications")
        response = web.post_form(f"/notifications/{theirs.notification_id}/read", {})

        assert ESCALATION_EN not in page.text
        assert theirs.notification_id not in page.text
        assert response.status_code == 404
        assert _unread(sim, duty_id) == before

    def test_signed_out_visitor_is_sent_to_sign_in(self, web: WebClient) -> None:
        """Given no session, when /notifications or its count is asked for, then
        neither answers with anyone's notifications."""
        page = web.get("/notifications")
        count = web.get("/notifications/count")

        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=%2Fnotifications"
        assert count.status_code == 303


class TestApi:
    def test_lists_own_notifications_unread_first_and_marks_read(
        self, web: WebClient, sim: Muster, world: World
    ) -> None:
        """Given the duty officer's notifications, when they list them over the API
        and mark one read, then they get their own, unread first, and the marked
        one moves behind the unread ones; a second mark changes nothing."""
        web.sign_in("t.duty")
        listed = web.get("/api/v1/notifications").json()
        assert listed
        assert ESCALATION_EN in [item["subject_en"] for item in listed]
        assert all(not item["is_read"] for item in listed)
        first = listed[0]["id"]

        headers = {CSRF_HEADER: web.csrf_token}
        changed = web.post(f"/api/v1/notifications/{first}/read", headers=headers)
        again = web.post(f"/api/v1/notifications/{first}/read", headers=headers)

        assert changed.json() == {"changed": True}
        assert again.json() == {"changed": False}
        after = web.get("/api/v1/notifications").json()
        assert after[-1]["id"] == first
        assert after[-1]["is_read"]
        assert web.get("/api/v1/notifications?limit=1").json()[0]["is_read"] is False

    def test_another_user_gets_none_of_them(
        self, web: WebClient, sim: Muster, world: World
    ) -> None:
        """Given the TRANSPORT duty officer's notifications, when the WATER duty
        officer lists or marks over the API, then none of TRANSPORT's escalations is
        listed and marking theirs is answered 404."""
        theirs = _items(sim, world.transport_duty.id)[0].notification_id
        web.sign_in("w.duty")

        listed = web.get("/api/v1/notifications").json()
        response = web.post(
            f"/api/v1/notifications/{theirs}/read",
            headers={CSRF_HEADER: web.csrf_token},
        )

        assert theirs not in [item["id"] for item in listed]
        assert ESCALATION_EN not in [item["subject_en"] for item in listed]
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_api_key_has_no_notifications(
        self, web: WebClient, sim: Muster, world: World
    ) -> None:
        """Given a department's API key, when it lists or marks notifications, then
        it gets an empty list and 404: notifications are addressed to people."""
        key = issue_api_key(sim, "TRANSPORT")
        theirs = _items(sim, world.transport_duty.id)[0].notification_id
        headers = {"Authorization": f"Bearer {key}"}

        listed = web.get("/api/v1/notifications", headers=headers)
        marked = web.post(f"/api/v1/notifications/{theirs}/read", headers=headers)

        assert listed.json() == []
        assert marked.status_code == 404

    def test_limit_is_bounded(self, web: WebClient) -> None:
        """Given a signed-in user, when the limit is out of range, then it is 422."""
        web.sign_in("t.duty")

        assert web.get("/api/v1/notifications?limit=0").status_code == 422
        assert web.get("/api/v1/notifications?limit=1000").status_code == 422


def _feed_until(web: WebClient, last_seq: int) -> list[tuple[str, int, str]]:
    """Replay the signed-in user's feed from the start up to a seq; return each
    event's (type, seq, summary)."""
    received: list[tuple[str, int, str]] = []
    with web.http.stream(
        "GET", "/api/events/stream", headers={"Last-Event-ID": "0"}
    ) as response:
        assert response.status_code == 200
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                received.append((event, int(data["seq"]), str(data["summary"])))
                if data["seq"] >= last_seq:
                    break
    return received


def _queued_for(muster: Muster, user_id: str) -> set[int]:
    with muster.engine.connect() as conn:
        return {
            item.envelope.seq
            for item in muster.store.read_all(conn, after=0)
            if item.envelope.type == "notify.NotificationQueued"
            and item.envelope.data["recipient"] == user_id
        }


class TestFeed:
    @pytest.mark.parametrize("username", ["t.duty", "w.duty"])
    def test_each_user_streams_only_their_own_notifications(
        self, web: WebClient, sim: Muster, world: World, username: str
    ) -> None:
        """Given notifications queued for several people, when a user replays the
        live feed, then the notify events they receive are exactly the ones queued
        for them, summarised with the subject."""
        user = world.transport_duty if username == "t.duty" else world.water_duty
        incident_id = sim.bus.handle(
            OpenIncident(
                title="Sentinel", category="NATURAL_DISASTER", latitude=28.2,
                longitude=112.9,
            ),
            world.commander,
        )  # fmt: skip
        sentinel = _opened_seq(sim, str(incident_id))
        web.sign_in(username)

        received = _feed_until(web, sentinel)

        notify_seqs = {seq for type_, seq, _ in received if type_.startswith("notify.")}
        assert received[-1][1] == sentinel
        assert notify_seqs == _queued_for(sim, user.id)
        assert notify_seqs
        summaries = [s for t, _, s in received if t == "notify.NotificationQueued"]
        assert all(s.startswith("New notification: ") for s in summaries)
        if username == "t.duty":
            assert any(ESCALATION_EN in s for s in summaries)


def _opened_seq(muster: Muster, incident_id: str) -> int:
    with muster.engine.connect() as conn:
        return next(
            item.envelope.seq
            for item in muster.store.read_all(conn, after=0)
            if item.envelope.type == "response.IncidentOpened"
            and item.envelope.data["incident_id"] == incident_id
        )
