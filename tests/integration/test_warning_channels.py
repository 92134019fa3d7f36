"""Public warnings through their channels, end to end on a simulated clock: a
published alert reaches an e-mail subscriber (a real local SMTP server), a signed
webhook (a local HTTP server checking the HMAC over the CAP XML) and the SMS gateway
(a local HTTP server playing the gateway) once each; a failed SMS is retried after
the backoff; an Exercise alert never reaches a real channel. No sleeps: the clock
is moved."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from muster.alerting import queries as alerting
from muster.alerting.domain.commands import (
    ApproveAlert,
    ComposeAlert,
    PublishAlert,
    SetWarningTemplates,
)
from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries as identity
from muster.notify import queries
from muster.notify.channels import SmsSettings, SmtpSettings, make_channels
from muster.notify.tasks import deliver_once
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings, environment_secret
from tests.integration import test_notify

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
SECRET_ENV = "MUSTER_WEBHOOK_SECRET_TV"
SECRET = "tv-webhook-secret-0123456789"
GATEWAY_TOKEN = "gateway-token-abcdef"
NEWSROOM = "newsroom@media.example"
PHONE = "+8613800000000"

smtp = test_notify.smtp  # the real local SMTP server of the notify tests
hook = test_notify.hook  # the local webhook receiver of the notify tests


@dataclass
class _Gateway:
    """What the local SMS gateway answers, and what it received."""

    failures: int = 0  # the first this many requests are answered 503
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def gateway() -> Iterator[tuple[str, _Gateway]]:
    """Return the URL of a local HTTP server playing the SMS gateway, and its record."""
    state = _Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.received.append(
                    ({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
                )
                status = 503 if len(state.received) <= state.failures else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms", state
    server.shutdown()
    server.server_close()


@dataclass
class _City:
    """A deployment with the Lanjiang pack, subscribers, and the test servers."""

    muster: Muster
    clock: SimulatedClock
    mailbox: Any
    hook: Any
    gateway: _Gateway


def _subscribers(hook_url: str) -> list[dict[str, Any]]:
    """The warnings.yaml ``subscribers:`` of the test city."""
    return [
        {"id": "MEDIA-MAIL", "channel": "email", "address": NEWSROOM},
        {"id": "MEDIA-TV", "channel": "webhook", "address": hook_url,
         "secret_env": SECRET_ENV},
        {"id": "SMS-DONGHU", "channel": "sms", "address": PHONE,
         "languages": ["zh-CN"], "districts": ["LJ-DONGHU"]},
        {"id": "SMS-RED", "channel": "sms", "address": "+8613800000001",
         "colours": ["red"]},
        {"id": "SMS-BAISHA", "channel": "sms", "address": "+8613800000002",
         "districts": ["LJ-BAISHA"]},
    ]  # fmt: skip


def _city(
    settings: Settings,
    smtp: tuple[Controller, Any],
    hook: tuple[str, Any],
    gateway: tuple[str, _Gateway],
    *,
    live_channels: bool = False,
) -> _City:
    controller, mailbox = smtp
    clock = SimulatedClock(NOW)
    channels = make_channels(
        SmtpSettings(host="127.0.0.1", port=controller.port, sender="w@lanjiang"),
        sms=SmsSettings(url=gateway[0], token=GATEWAY_TOKEN),
        secret=environment_secret,
        live_channels=live_channels,
    )
    muster = bootstrap(settings, clock=clock, channels=channels)
    load_pack(muster, read_pack(EXAMPLE))
    with muster.engine.connect() as conn:
        document = alerting.templates_document(conn)
    assert document is not None
    muster.bus.handle(
        SetWarningTemplates(
            document={**document, "subscribers": _subscribers(hook[0])}
        ),
        SYSTEM_ACTOR,
    )
    return _City(muster, clock, mailbox, hook[1], gateway[1])


@pytest.fixture
def city(
    settings: Settings,
    smtp: tuple[Controller, Any],
    hook: tuple[str, Any],
    gateway: tuple[str, _Gateway],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[_City]:
    """Return the live city, its subscribers' secret in the environment."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    made = _city(settings, smtp, hook, gateway)
    yield made
    made.muster.engine.dispose()


def _who(muster: Muster, username: str) -> Actor:
    with muster.engine.connect() as conn:
        view = identity.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def _publish(muster: Muster, *, colour: str = "yellow", exercise: bool = False) -> str:
    """Open an incident, compose, approve and publish a rainstorm alert over the
    Donghu district; return the alert's id."""
    metadata = {"is_exercise": True} if exercise else None
    incident = muster.bus.handle(
        OpenIncident(title="滨江路内涝", category="NATURAL_DISASTER",
                     latitude=28.2, longitude=112.9, type_code="11A00"),
        _who(muster, "commander"), metadata=metadata,
    )  # fmt: skip
    alert_id = muster.bus.handle(
        ComposeAlert(incident_id=incident, hazard="rainstorm", colour=colour,
                     districts=("LJ-DONGHU",)),
        _who(muster, "emb.duty"), metadata=metadata,
    )  # fmt: skip
    muster.bus.handle(
        ApproveAlert(alert_id=alert_id), _who(muster, "emb.head"), metadata=metadata
    )
    muster.bus.handle(
        PublishAlert(alert_id=alert_id), _who(muster, "emb.duty"), metadata=metadata
    )
    return str(alert_id)


def _warning_mails(city: _City) -> list[EmailMessage]:
    return [m for m in city.mailbox.messages() if m["To"] == NEWSROOM]


def _status(city: _City, alert_id: str) -> dict[str, queries.WarningDelivery]:
    with city.muster.engine.connect() as conn:
        return {d.subscriber: d for d in queries.delivery_status(conn, alert_id)}


def _xml(city: _City, alert_id: str) -> str:
    with city.muster.engine.connect() as conn:
        view = alerting.get_alert(conn, alert_id)
    assert view is not None
    assert view.xml is not None
    return view.xml


class TestPublishedAlert:
    def test_given_subscribers_when_an_alert_is_published_then_each_gets_it_once(
        self, city: _City
    ) -> None:
        """A yellow alert over Donghu reaches the newsroom by e-mail (bilingual, with
        the CAP link), the TV webhook (the exact CAP XML, HMAC-signed) and the Donghu
        SMS subscriber (Chinese, at most 140 characters) once each; the red-only and
        Baisha subscribers get nothing; a second tick sends nothing again."""
        alert_id = _publish(city.muster)
        deliver_once(city.muster.bus)
        deliver_once(city.muster.bus)

        mails = _warning_mails(city)
        assert len(mails) == 1
        assert mails[0]["Subject"] == (
            "[预警/WARNING] 澜江市发布暴雨黄色预警 / "
            "Yellow rainstorm warning for Lanjiang"
        )
        text = mails[0].get_content()
        assert "请减少外出" in text
        assert "Limit travel" in text
        with city.muster.engine.connect() as conn:
            published = alerting.get_alert(conn, alert_id)
        assert published is not None
        identifier = published.record.content.identifier
        assert f"CAP: /warnings/alerts/{identifier}.xml" in text

        assert len(city.hook.received) == 1
        headers, body = city.hook.received[0]
        assert headers["content-type"] == "application/cap+xml"
        assert body == _xml(city, alert_id).encode("utf-8")
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-muster-signature"] == f"sha256={expected}"

        assert len(city.gateway.received) == 1
        sms_headers, sms = city.gateway.received[0]
        assert sms_headers["authorization"] == f"Bearer {GATEWAY_TOKEN}"
        assert sms["to"] == PHONE
        assert sms["text"].startswith("澜江市发布暴雨黄色预警：请减少外出")
        assert len(sms["text"]) <= 140
        assert "Lanjiang" not in sms["text"]  # this subscriber reads Chinese only

        status = _status(city, alert_id)
        assert sorted(status) == ["MEDIA-MAIL", "MEDIA-TV", "SMS-DONGHU"]
        assert {d.state for d in status.values()} == {"sent"}
        assert {d.channel for d in status.values()} == {"email", "webhook", "sms"}
        assert all(d.attempts == 1 for d in status.values())


class TestRetry:
    def test_given_the_gateway_fails_once_when_the_backoff_passes_then_resent(
        self, city: _City
    ) -> None:
        """The gateway answers 503 first: the attempt is recorded as failed and
        retried only after the first backoff (1 minute), then delivered; both
        attempts are in the delivery log."""
        city.gateway.failures = 1
        alert_id = _publish(city.muster)
        deliver_once(city.muster.bus)
        failed = _status(city, alert_id)["SMS-DONGHU"]
        assert (failed.state, failed.attempts) == ("failed", 1)
        assert failed.last_error == "sms: gateway status 503"
        assert failed.next_attempt_at is not None

        city.clock.advance(timedelta(seconds=30))
        deliver_once(city.muster.bus)
        assert len(city.gateway.received) == 1  # not before the backoff

        city.clock.advance(timedelta(seconds=31))
        deliver_once(city.muster.bus)
        deliver_once(city.muster.bus)
        assert len(city.gateway.received) == 2
        assert city.gateway.received[0][1]["id"] == city.gateway.received[1][1]["id"]
        sent = _status(city, alert_id)["SMS-DONGHU"]
        assert (sent.state, sent.attempts, sent.last_error) == ("sent", 2, "")
        with city.muster.engine.connect() as conn:
            log = queries.delivery_log(conn, sent.notification_id)
        assert [(a.attempt, a.ok) for a in log] == [(1, False), (2, True)]


class TestExercise:
    def test_given_an_exercise_alert_when_delivered_then_no_channel_is_reached(
        self, city: _City
    ) -> None:
        """An alert published in an exercise has CAP status Exercise; its
        notifications are queued and held: the SMTP server, the webhook and the
        gateway receive nothing, and the status says held."""
        alert_id = _publish(city.muster, exercise=True)
        assert "<status>Exercise</status>" in _xml(city, alert_id)
        deliver_once(city.muster.bus)
        city.clock.advance(timedelta(hours=2))
        deliver_once(city.muster.bus)

        assert _warning_mails(city) == []
        assert city.hook.received == []
        assert city.gateway.received == []
        status = _status(city, alert_id)
        assert sorted(status) == ["MEDIA-MAIL", "MEDIA-TV", "SMS-DONGHU"]
        assert {(d.state, d.attempts) for d in status.values()} == {("held", 0)}

    def test_given_live_channels_when_an_exercise_alert_goes_out_then_marked(
        self,
        settings: Settings,
        smtp: tuple[Controller, Any],
        hook: tuple[str, Any],
        gateway: tuple[str, _Gateway],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """With live channels (a drill run that asks for them) an exercise alert is
        sent, marked [演练/EXERCISE] in the subject and 【演练】 in the SMS."""
        monkeypatch.setenv(SECRET_ENV, SECRET)
        live = _city(settings, smtp, hook, gateway, live_channels=True)
        try:
            _publish(live.muster, exercise=True)
            deliver_once(live.muster.bus)
            mails = _warning_mails(live)
            assert len(mails) == 1
            assert mails[0]["Subject"].startswith("[演练/EXERCISE] [预警/WARNING] ")
            assert live.gateway.received[0][1]["text"].startswith("【演练】")
            assert len(live.hook.received) == 1
        finally:
            live.muster.engine.dispose()
