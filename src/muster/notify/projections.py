"""Projections of the notify part: events -> its tables. Imported by bootstrap."""

from __future__ import annotations

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.notify.domain import events as ev
from muster.notify.domain.model import Channel, DeliveryStatus
from muster.notify.read_models import (
    PROJECTED_TABLES,
    attempts,
    inbox,
    notifications,
    webhooks,
)


def on_notification_queued(
    event: ev.NotificationQueued, envelope: Envelope, conn: Connection
) -> None:
    """Add the notification, due at once."""
    conn.execute(
        insert(notifications),
        {
            "id": event.notification_id,
            "recipient": event.recipient,
            "channel": event.channel,
            "subject_zh": event.subject_zh,
            "subject_en": event.subject_en,
            "body_zh": event.body_zh,
            "body_en": event.body_en,
            "link": event.link,
            "incident_id": event.incident_id,
            "cause_event_id": event.cause_event_id,
            "cause_type": event.cause_type,
            "is_exercise": event.is_exercise,
            "queued_at": envelope.occurred_at,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": envelope.occurred_at,
            "last_error": "",
            "delivered_at": None,
        },
    )


def on_delivery_attempted(
    event: ev.DeliveryAttempted, envelope: Envelope, conn: Connection
) -> None:
    """Log the attempt, move the notification, and fill the inbox on in-app success."""
    conn.execute(
        insert(attempts),
        {
            "notification_id": event.notification_id,
            "attempt": event.attempt,
            "channel": event.channel,
            "ok": event.ok,
            "error": event.error,
            "at": envelope.occurred_at,
            "next_attempt_at": event.next_attempt_at,
        },
    )
    if event.ok:
        status = DeliveryStatus.DELIVERED
    elif event.next_attempt_at is None:
        status = DeliveryStatus.FAILED
    else:
        status = DeliveryStatus.PENDING
    conn.execute(
        update(notifications)
        .where(notifications.c.id == event.notification_id)
        .values(
            status=status.value,
            attempts=event.attempt,
            next_attempt_at=event.next_attempt_at,
            last_error=event.error,
            delivered_at=envelope.occurred_at if event.ok else None,
        )
    )
    if event.ok and event.channel == Channel.IN_APP.value:
        row = conn.execute(
            notifications.select().where(notifications.c.id == event.notification_id)
        ).first()
        if row is not None:
            conn.execute(
                insert(inbox),
                {
                    "notification_id": event.notification_id,
                    "user_id": row.recipient,
                    "is_read": False,
                    "delivered_at": envelope.occurred_at,
                    "read_at": None,
                },
            )


def on_notification_read(
    event: ev.NotificationRead, envelope: Envelope, conn: Connection
) -> None:
    """Mark the inbox entry read."""
    conn.execute(
        update(inbox)
        .where(inbox.c.notification_id == event.notification_id)
        .values(is_read=True, read_at=envelope.occurred_at)
    )


def on_webhook_set(event: ev.WebhookSet, envelope: Envelope, conn: Connection) -> None:
    """Keep the department's current webhook URL."""
    conn.execute(delete(webhooks).where(webhooks.c.department == event.department))
    conn.execute(
        insert(webhooks),
        {
            "department": event.department,
            "url": event.url,
            "set_at": envelope.occurred_at,
        },
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    ev.NotificationQueued: [on_notification_queued],
    ev.DeliveryAttempted: [on_delivery_attempted],
    ev.NotificationRead: [on_notification_read],
    ev.WebhookSet: [on_webhook_set],
}

PROJECTIONS = ProjectionSet(
    name="notify", handlers=_PROJECTORS, tables=PROJECTED_TABLES
)

__all__ = ["PROJECTIONS"]
