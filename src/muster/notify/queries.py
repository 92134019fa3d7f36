"""Read functions of the notify part: a user's inbox, notifications, delivery log,
and a published warning's delivery status per channel and subscriber (for the
incident page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.engine import Connection

from muster.core.eventlog.tables import events
from muster.notify.domain.model import HELD, DeliveryStatus
from muster.notify.domain.warning_audience import WARNING_CAUSE
from muster.notify.read_models import attempts, inbox, notifications

DELIVERY_STATES: dict[str, tuple[str, str]] = {
    "queued": ("待发送", "queued"),
    "sent": ("已送达", "sent"),
    "failed": ("发送失败，将重试", "failed, will retry"),
    "given_up": ("已放弃", "given up"),
    "held": ("演练：未发出", "held (exercise)"),
}
"""A warning delivery's state -> its (zh-CN, en) label."""


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An in-app notification as its recipient sees it."""

    notification_id: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    link: str
    incident_id: str | None
    cause_type: str
    is_exercise: bool
    is_read: bool
    delivered_at: str

    def subject(self, language: str) -> str:
        """Return the subject in the given language."""
        return self.subject_zh if language == "zh-CN" else self.subject_en


@dataclass(frozen=True, slots=True)
class NotificationView:
    """A notification's delivery state (for operators)."""

    id: str
    recipient: str
    channel: str
    subject_en: str
    cause_type: str
    incident_id: str | None
    status: str
    attempts: int
    next_attempt_at: str | None
    last_error: str
    queued_at: str
    delivered_at: str | None


@dataclass(frozen=True, slots=True)
class AttemptView:
    """One delivery attempt."""

    attempt: int
    channel: str
    ok: bool
    error: str
    at: str
    next_attempt_at: str | None


def user_notifications(
    conn: Connection, user_id: str, *, limit: int = 50
) -> list[InboxItem]:
    """Return a user's in-app notifications: unread first, newest first within."""
    rows = conn.execute(
        select(
            inbox.c.notification_id,
            notifications.c.subject_zh,
            notifications.c.subject_en,
            notifications.c.body_zh,
            notifications.c.body_en,
            notifications.c.link,
            notifications.c.incident_id,
            notifications.c.cause_type,
            notifications.c.is_exercise,
            inbox.c.is_read,
            inbox.c.delivered_at,
        )
        .join(notifications, notifications.c.id == inbox.c.notification_id)
        .where(inbox.c.user_id == user_id)
        .order_by(
            inbox.c.is_read,
            inbox.c.delivered_at.desc(),
            inbox.c.notification_id,
        )
        .limit(limit)
    )
    return [InboxItem(**row._mapping) for row in rows]


def unread_count(conn: Connection, user_id: str) -> int:
    """Return how many in-app notifications the user has not read."""
    return int(
        conn.execute(
            select(func.count()).where(
                inbox.c.user_id == user_id, inbox.c.is_read.is_(False)
            )
        ).scalar_one()
    )


def list_notifications(
    conn: Connection,
    *,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 100,
) -> list[NotificationView]:
    """Return notifications, newest first, optionally by status and channel."""
    query = select(notifications).order_by(
        notifications.c.queued_at.desc(), notifications.c.id
    )
    if status is not None:
        query = query.where(notifications.c.status == status)
    if channel is not None:
        query = query.where(notifications.c.channel == channel)
    return [_view(row) for row in conn.execute(query.limit(limit))]


def get_notification(conn: Connection, notification_id: str) -> NotificationView | None:
    """Return one notification, or None."""
    row = conn.execute(
        select(notifications).where(notifications.c.id == notification_id)
    ).first()
    return _view(row) if row is not None else None


def delivery_log(conn: Connection, notification_id: str) -> list[AttemptView]:
    """Return a notification's delivery attempts in order."""
    rows = conn.execute(
        select(attempts)
        .where(attempts.c.notification_id == notification_id)
        .order_by(attempts.c.attempt)
    )
    return [
        AttemptView(
            attempt=row.attempt,
            channel=row.channel,
            ok=row.ok,
            error=row.error,
            at=row.at,
            next_attempt_at=row.next_attempt_at,
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class WarningDelivery:
    """Where one public warning stands with one subscriber on one channel.

    ``state``: queued (not tried yet), sent, failed (will retry at
    ``next_attempt_at``), given_up (every attempt failed) or held (an exercise
    warning that no real channel carried).
    """

    notification_id: str
    channel: str
    subscriber: str
    state: str
    attempts: int
    last_error: str
    next_attempt_at: str | None
    delivered_at: str | None

    def label(self, language: str) -> str:
        """Return the state in the given language."""
        zh, en = DELIVERY_STATES[self.state]
        return zh if language == "zh-CN" else en


def delivery_status(conn: Connection, alert_id: str) -> list[WarningDelivery]:
    """Return a published alert's deliveries, by channel then subscriber (none
    before the delivery tick has seen the alert, or if it was never published)."""
    causes = select(events.c.event_id).where(
        events.c.stream_id == f"alert-{alert_id}", events.c.type == WARNING_CAUSE
    )
    rows = conn.execute(
        select(notifications)
        .where(notifications.c.cause_event_id.in_(causes))
        .order_by(notifications.c.channel, notifications.c.recipient)
    )
    return [
        WarningDelivery(
            notification_id=row.id,
            channel=row.channel,
            subscriber=row.recipient,
            state=_state(row.status, row.attempts, row.last_error),
            attempts=0 if row.last_error == HELD else row.attempts,
            last_error="" if row.last_error == HELD else row.last_error,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
        )
        for row in rows
    ]


def _state(status: str, attempts_made: int, last_error: str) -> str:
    if status == DeliveryStatus.DELIVERED.value:
        return "held" if last_error == HELD else "sent"
    if status == DeliveryStatus.FAILED.value:
        return "given_up"
    return "failed" if attempts_made else "queued"


def _view(row: Row[Any]) -> NotificationView:
    mapping = row._mapping
    return NotificationView(
        id=mapping["id"],
        recipient=mapping["recipient"],
        channel=mapping["channel"],
        subject_en=mapping["subject_en"],
        cause_type=mapping["cause_type"],
        incident_id=mapping["incident_id"],
        status=mapping["status"],
        attempts=mapping["attempts"],
        next_attempt_at=mapping["next_attempt_at"],
        last_error=mapping["last_error"],
        queued_at=mapping["queued_at"],
        delivered_at=mapping["delivered_at"],
    )


__all__ = [
    "DELIVERY_STATES",
    "AttemptView",
    "InboxItem",
    "NotificationView",
    "WarningDelivery",
    "delivery_log",
    "delivery_status",
    "get_notification",
    "list_notifications",
    "unread_count",
    "user_notifications",
]
