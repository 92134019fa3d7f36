"""Notifications end to end on a simulated clock: in-app inboxes, e-mail through a real
local SMTP server (aiosmtpd), signed webhooks to a local HTTP server, retries with
backoff, and no double delivery. No sleeps: the clock is moved."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.core.messages import SYSTEM_ACTOR
from muster.identity.domain.commands import RegisterUser
from muster.notify import queries
from muster.notify.domain.commands import MarkNotificationRead, SetWebhook
from muster.notify.tasks import deliver_once
from muster.response.domain.commands import ActivatePlan, OpenIncident, RunTimers
from muster.settings import Settings
from tests import factories
from tests.response_setup import World, build_world, flood_incident

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
SECRET = "webhook-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 08:00 UTC."""
    return SimulatedClock(START)


class _Mailbox:
    """An aiosmtpd handler that keeps every envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(item.content, policy=email.policy.default)  # type: ignore[misc]
            for item in self.envelopes
        ]


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, _Mailbox]]:
    """Return a real SMTP server on a free local port and its mailbox."""
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@dataclass
class _Hook:
    """What the local webhook server answers, and what it received."""

    failures: int = 0  # each notification is answered 500 this many times, then 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def hook() -> Iterator[tuple[str, _Hook]]:
    """Return the URL of a local webhook receiver and its record."""
    state = _Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.received.append(
                    ({k.lower(): v for k, v in self.headers.items()}, body)
                )
                notification = self.headers["X-Muster-Notification"]
                seen = [
                    h
                    for h, _ in state.received
                    if h.get("x-muster-notification") == notification
                ]
                status = 500 if len(seen) <= state.failures else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", state
    server.shutdown()
    server.server_close()


@pytest.fixture
def sim(
    settings: Settings, clock: SimulatedClock, smtp: tuple[Controller, _Mailbox]
) -> Iterator[Muster]:
    """Return a deployment on the simulated clock, sending e-mail to the test server."""
    controller, _ = smtp
    configured = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": controller.port}
    )
    app = bootstrap(configured, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def world(sim: Muster) -> World:
    """Return the response world on the simulated deployment."""
    return build_world(sim)


def _inbox(muster: Muster, user_id: str) -> list[queries.InboxItem]:
    with muster.engine.connect() as conn:
        return queries.user_notifications(conn, user_id)


def _subjects(muster: Muster, user_id: str) -> list[str]:
    return [item.subject_en for item in _inbox(muster, user_id)]


def _webhook_notifications(muster: Muster) -> list[queries.NotificationView]:
    with muster.engine.connect() as conn:
        return queries.list_notifications(conn, channel="webhook")


def _set_hook(muster: Muster, url: str, department: str = "TRANSPORT") -> None:
    muster.bus.handle(
        SetWebhook(department=department, url=url, secret=SECRET), SYSTEM_ACTOR
    )


class TestInApp:
    def test_escalation_reaches_the_right_users_in_app(
        self, sim: Muster, clock: SimulatedClock, world: World
    ) -> None:
        """Given an unacknowledged road-closure task, when its escalation steps fire
        and the delivery tick runs, then the duty officer, then the head, then the
        commander find it in their in-app inbox; the water duty officer does not."""
        flood_incident(sim, world)
        deliver_once(sim.bus)
        assert any(
            s.startswith("New task") for s in _subjects(sim, world.transport_duty.id)
        )

        clock.advance(timedelta(minutes=15))
        sim.bus.handle(RunTimers(), SYSTEM_ACTOR)
        deliver_once(sim.bus)
        clock.advance(timedelta(minutes=10))
        sim.bus.handle(RunTimers(), SYSTEM_ACTOR)
        deliver_once(sim.bus)

        escalation = "Escalation: task not acknowledged by TRANSPORT"
        assert escalation in _subjects(sim, world.transport_duty.id)
        assert escalation in _subjects(sim, world.transport_head.id)
        assert escalation not in _subjects(sim, world.water_duty.id)
        head_items = _inbox(sim, world.transport_head.id)
        assert head_items[0].subject_zh.startswith("升级提醒")
        assert head_items[0].link.startswith("/incidents/")

    def test_unread_first_and_mark_read(self, sim: Muster, world: World) -> None:
        """Given in-app notifications, when the user reads one, then it is marked
        read, sorts after the unread ones, and a second read changes nothing."""
        flood_incident(sim, world)
        deliver_once(sim.bus)
        items = _inbox(sim, world.transport_duty.id)
        assert len(items) >= 2

        changed = sim.bus.handle(
            MarkNotificationRead(notification_id=items[0].notification_id),
            world.transport_duty,
        )
        again = sim.bus.handle(
            MarkNotificationRead(notification_id=items[0].notification_id),
            world.transport_duty,
        )

        after = _inbox(sim, world.transport_duty.id)
        assert (changed, again) == (True, False)
        assert after[-1].notification_id == items[0].notification_id
        assert after[-1].is_read
        assert not after[0].is_read
        with sim.engine.connect() as conn:
            assert queries.unread_count(conn, world.transport_duty.id) == len(items) - 1

    def test_exercise_events_are_marked(self, sim: Muster, world: World) -> None:
        """Given a drill (is_exercise in the envelope), when its plan is activated,
        then the notices carry the 【演练】 and [EXERCISE] prefixes."""
        drill = {"is_exercise": True}
        incident_id = str(
            sim.bus.handle(
                OpenIncident(
                    title="演练", category="NATURAL_DISASTER", latitude=28.2,
                    longitude=112.9, type_code="11A00",
                ),
                world.commander, metadata=drill,
            )
        )  # fmt: skip
        sim.bus.handle(
            ActivatePlan(incident_id=incident_id, plan_code="FLOOD_URBAN", level="L4"),
            world.commander,
            metadata=drill,
        )

        deliver_once(sim.bus)

        items = _inbox(sim, world.transport_duty.id)
        assert items
        assert all(item.is_exercise for item in items)
        assert all(item.subject_en.startswith("[EXERCISE] ") for item in items)
        assert all(item.subject_zh.startswith("【演练】") for item in items)


class TestEmail:
    def test_email_arrives_with_bilingual_subject(
        self, sim: Muster, world: World, smtp: tuple[Controller, _Mailbox]
    ) -> None:
        """Given a TRANSPORT duty officer with an e-mail address, when a task is
        assigned to TRANSPORT and the tick runs, then a real SMTP server receives a
        message to that address with the subject in Chinese and English."""
        _, mailbox = smtp
        sim.bus.handle(
            RegisterUser(
                username="t.mail", display_name="T Mail", department_code="TRANSPORT",
                roles=("duty_officer",), password=factories.PASSWORD,
                email="t.mail@example.org",
            ),
            SYSTEM_ACTOR,
        )  # fmt: skip

        flood_incident(sim, world)
        deliver_once(sim.bus)

        messages = mailbox.messages()
        subjects = [str(message["Subject"]) for message in messages]
        assert (
            "新任务：封闭S203 12–15公里 / New task: Close road S203 km 12–15"
            in subjects
        )
        assert all(env.rcpt_tos == ["t.mail@example.org"] for env in mailbox.envelopes)
        task_mail = messages[subjects.index(next(s for s in subjects if "新任务" in s))]
        assert "请于" in task_mail.get_content()
        assert "acknowledge by" in task_mail.get_content()
        with sim.engine.connect() as conn:
            sent = queries.list_notifications(conn, channel="email")
        assert sent
        assert all(view.status == "delivered" for view in sent)


class TestWebhook:
    def test_webhook_is_signed_with_hmac(
        self, sim: Muster, world: World, hook: tuple[str, _Hook]
    ) -> None:
        """Given TRANSPORT's webhook, when the tick delivers, then each POST carries
        a valid sha256 HMAC of its body and a timestamp header."""
        url, state = hook
        _set_hook(sim, url)

        flood_incident(sim, world)
        deliver_once(sim.bus)

        assert state.received
        for headers, body in state.received:
            expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert headers["x-muster-signature"] == f"sha256={expected}"
            assert headers["x-muster-timestamp"] == isoformat_utc(START)
            assert (
                json.loads(body)["notification_id"] == headers["x-muster-notification"]
            )
        subjects = {json.loads(body)["subject_en"] for _, body in state.received}
        assert "New task: Close road S203 km 12–15" in subjects

    def test_failures_retry_at_the_backoff_times_then_succeed(
        self, sim: Muster, clock: SimulatedClock, world: World, hook: tuple[str, _Hook]
    ) -> None:
        """Given a webhook answering 500 three times, when the clock moves, then the
        attempts come at +1 and +5 and +15 minutes, each failure recorded, and the
        fourth attempt succeeds; nothing is sent before it is due."""
        url, state = hook
        _set_hook(sim, url)
        state.failures = 3
        flood_incident(sim, world)

        deliver_once(sim.bus)
        deliver_once(sim.bus)  # nothing due yet: no new request
        count = len(_webhook_notifications(sim))
        assert len(state.received) == count
        for minutes in (1, 5):
            clock.advance(timedelta(minutes=minutes) - timedelta(seconds=1))
            deliver_once(sim.bus)
            before = len(state.received)
            clock.advance(timedelta(seconds=1))
            deliver_once(sim.bus)
            assert len(state.received) == before + count
        clock.advance(timedelta(minutes=15))
        deliver_once(sim.bus)

        views = _webhook_notifications(sim)
        assert all(view.status == "delivered" for view in views)
        with sim.engine.connect() as conn:
            log = queries.delivery_log(conn, views[0].id)
        assert [(a.attempt, a.ok) for a in log] == [
            (1, False), (2, False), (3, False), (4, True),
        ]  # fmt: skip
        assert log[0].error == "http: status 500"
        assert log[0].next_attempt_at == isoformat_utc(START + timedelta(minutes=1))
        assert log[1].next_attempt_at == isoformat_utc(START + timedelta(minutes=6))

    def test_refused_connection_gives_up_after_the_last_backoff(
        self, sim: Muster, clock: SimulatedClock, world: World
    ) -> None:
        """Given a webhook whose port refuses connections, when every backoff has
        passed, then five failed attempts are recorded and the notification has
        failed for good."""
        _set_hook(sim, f"http://127.0.0.1:{_free_port()}/hook")
        flood_incident(sim, world)

        deliver_once(sim.bus)
        for minutes in (1, 5, 15, 60, 240):
            clock.advance(timedelta(minutes=minutes))
            deliver_once(sim.bus)

        views = _webhook_notifications(sim)
        assert views
        assert all(view.status == "failed" for view in views)
        with sim.engine.connect() as conn:
            log = queries.delivery_log(conn, views[0].id)
        assert len(log) == 5
        assert not any(a.ok for a in log)
        assert log[-1].next_attempt_at is None
        assert log[0].error.startswith("http: ConnectError")

    def test_no_double_delivery_across_ticks_and_workers(
        self,
        sim: Muster,
        settings: Settings,
        clock: SimulatedClock,
        world: World,
        hook: tuple[str, _Hook],
    ) -> None:
        """Given two workers on one database, when both tick repeatedly, then every
        webhook notification is posted exactly once and queued exactly once."""
        url, state = hook
        _set_hook(sim, url)
        flood_incident(sim, world)
        other = bootstrap(settings, clock=clock)
        try:
            for _ in range(2):
                deliver_once(sim.bus)
                deliver_once(other.bus)
        finally:
            other.engine.dispose()

        ids = [headers["x-muster-notification"] for headers, _ in state.received]
        assert ids
        assert len(ids) == len(set(ids))
        assert len(ids) == len(_webhook_notifications(sim))
