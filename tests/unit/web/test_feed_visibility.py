"""Who may see which event in the live feed: notifications only their recipient,
security events only admins, everything else every signed-in person or connector."""

from __future__ import annotations

from typing import Any

import pytest

from muster.core.eventlog.store import Envelope
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.web.feed import is_visible
from muster.web.notify_summaries import notify_params, notify_template

ALICE = Actor(kind="user", id="u-alice", department="TRANSPORT", roles=frozenset())
BOB = Actor(kind="user", id="u-bob", department="TRANSPORT", roles=frozenset())
ADMIN = Actor(kind="user", id="u-admin", roles=frozenset({"admin"}))
KEY = Actor(kind="api_key", id="u-alice", department="TRANSPORT")  # same id as Alice


def _envelope(type_: str, **data: Any) -> Envelope:
    return Envelope(
        seq=1, event_id="e", type=type_, version=1, stream_id="s", stream_version=1,
        occurred_at="", recorded_at="", actor_kind="system", actor_id="muster",
        actor_department=None, data=data, metadata={},
    )  # fmt: skip


def _queued(recipient: str, channel: str = "in-app") -> Envelope:
    return _envelope(
        "notify.NotificationQueued",
        notification_id="n1", recipient=recipient, channel=channel,
        subject_zh="新任务", subject_en="New task", body_zh="", body_en="", link="",
        incident_id="i1", cause_event_id="c1", cause_type="response.TaskAssigned",
        is_exercise=False,
    )  # fmt: skip


class TestNotificationVisibility:
    @pytest.mark.parametrize("channel", ["in-app", "email"])
    def test_queued_notification_is_for_its_recipient_only(self, channel: str) -> None:
        """Given a notification queued for Alice, then Alice sees it in the feed and
        Bob, an admin, an API key with Alice's id and Muster itself do not."""
        envelope = _queued(ALICE.id, channel)

        assert is_visible(envelope, ALICE)
        assert not is_visible(envelope, BOB)
        assert not is_visible(envelope, ADMIN)
        assert not is_visible(envelope, KEY)
        assert not is_visible(envelope, SYSTEM_ACTOR)

    def test_webhook_notification_is_for_nobody(self) -> None:
        """Given a webhook notification (its recipient a department code), then no
        person sees it, not even one whose id equals the code."""
        envelope = _queued("TRANSPORT", "webhook")
        namesake = Actor(kind="user", id="TRANSPORT", roles=frozenset({"admin"}))

        assert not is_visible(envelope, namesake)
        assert not is_visible(envelope, ADMIN)

    def test_read_is_for_the_reader_only(self) -> None:
        """Given Alice read a notification, then only Alice sees that in the feed."""
        envelope = _envelope(
            "notify.NotificationRead", notification_id="n1", user_id=ALICE.id
        )

        assert is_visible(envelope, ALICE)
        assert not is_visible(envelope, BOB)
        assert not is_visible(envelope, ADMIN)

    @pytest.mark.parametrize(
        "envelope",
        [
            _envelope(
                "notify.DeliveryAttempted", notification_id="n1", channel="email",
                attempt=1, ok=False, error="smtp: refused", next_attempt_at=None,
            ),
            _envelope("notify.WebhookSet", department="TRANSPORT", url="https://x"),
            _envelope("notify.SomethingNew", recipient=ALICE.id),
            _envelope("notify.NotificationQueued"),
        ],
    )  # fmt: skip
    def test_notify_events_naming_no_user_are_for_nobody(
        self, envelope: Envelope
    ) -> None:
        """Given a notify event that names no recipient user (attempts, webhooks,
        unknown or malformed ones), then nobody sees it in the feed."""
        for actor in (ALICE, BOB, ADMIN, KEY):
            assert not is_visible(envelope, actor)

    def test_other_events_keep_their_rules(self) -> None:
        """Given an operational and a security event, then the first is for every
        person or connector and the second for admins only, as before."""
        opened = _envelope("response.IncidentOpened")
        failed = _envelope("identity.SignInFailed")

        assert is_visible(opened, BOB)
        assert is_visible(opened, KEY)
        assert is_visible(failed, ADMIN)
        assert not is_visible(failed, BOB)


class TestNotifySummaries:
    def test_queued_summary_carries_the_subject_by_language(self) -> None:
        """Given an in-app notification, then its summary template is "New
        notification" and the subject parameter is picked per language."""
        envelope = _queued(ALICE.id)

        params = notify_params(
            envelope,
            department=lambda code: code,
            translatable=lambda message: message,
            bilingual=lambda zh, en: {"zh-CN": zh, "en": en},
        )

        assert notify_template(envelope) == "New notification: %(subject)s"
        assert params["subject"] == {"zh-CN": "新任务", "en": "New task"}

    def test_attempt_summaries_follow_the_outcome(self) -> None:
        """Given delivery attempts, then success, retry and giving up read apart."""
        ok = _envelope("notify.DeliveryAttempted", ok=True, next_attempt_at=None)
        retry = _envelope("notify.DeliveryAttempted", ok=False, next_attempt_at="t")
        gave_up = _envelope("notify.DeliveryAttempted", ok=False, next_attempt_at=None)

        templates = {notify_template(item) for item in (ok, retry, gave_up)}

        assert len(templates) == 3
        assert notify_template(_envelope("notify.SomethingNew")) is None
