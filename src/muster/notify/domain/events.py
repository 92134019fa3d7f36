"""Events of the notify part: notifications queued, delivery attempts, reads, webhooks.

Streams: ``notification-{id}`` and ``webhook-{department}``. Times are ISO-8601 UTC
strings. Secret material (webhook HMAC keys) and e-mail addresses never enter the log
(ADR 0003, ADR 0009): they are looked up when a message is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, event_type


@event_type("notify.NotificationQueued", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class NotificationQueued(Event):
    """A message to a recipient over one channel was queued because of an event.

    ``recipient`` is a user id (in-app, email) or a department code (webhook).
    """

    notification_id: str
    recipient: str
    channel: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    link: str
    incident_id: str | None
    cause_event_id: str
    cause_type: str
    is_exercise: bool


@event_type("notify.DeliveryAttempted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryAttempted(Event):
    """One attempt to deliver a notification; a failure says when the next one is due.

    A failure with ``next_attempt_at`` None means Muster gave up.
    """

    notification_id: str
    channel: str
    attempt: int
    ok: bool
    error: str
    next_attempt_at: str | None


@event_type("notify.NotificationRead", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class NotificationRead(Event):
    """The recipient read an in-app notification."""

    notification_id: str
    user_id: str


@event_type("notify.WebhookSet", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookSet(Event):
    """A department's webhook URL was set (its signing secret stays out of the log)."""

    department: str
    url: str


__all__ = [
    "DeliveryAttempted",
    "NotificationQueued",
    "NotificationRead",
    "WebhookSet",
]
