"""Command handlers of the notify part: record a delivery, mark read, set a webhook.

The delivery tick (``DeliverDueNotifications``) lives in ``delivery.py``; bootstrap
binds its channel adapters with ``command_handlers``.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select

from muster.core.bus import Handler
from muster.core.clock import isoformat_utc
from muster.core.errors import PermissionDenied
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity_queries
from muster.notify.channels import Channels
from muster.notify.delivery import handle_deliver
from muster.notify.domain.commands import (
    DeliverDueNotifications,
    MarkNotificationRead,
    RecordDelivery,
    SetWebhook,
)
from muster.notify.domain.errors import (
    AttemptOutOfOrder,
    UnknownNotification,
    WebhookInvalid,
)
from muster.notify.domain.events import (
    DeliveryAttempted,
    NotificationQueued,
    NotificationRead,
    WebhookSet,
)
from muster.notify.domain.model import next_attempt_at
from muster.notify.read_models import claims, inbox, webhook_secrets

MIN_SECRET_LENGTH = 16


def record_delivery(command: RecordDelivery, uow: UnitOfWork) -> DeliveryAttempted:
    """Record an attempt's outcome; a failure schedules the next one by the backoff."""
    if uow.actor.kind != "system":
        raise PermissionDenied("only Muster records deliveries", action="record")
    with uow:
        stream = f"notification-{command.notification_id}"
        history = [
            item.event for item in uow.context.store.read_stream(uow.conn, stream)
        ]
        if not history or not isinstance(history[0], NotificationQueued):
            raise UnknownNotification(
                f"no notification {command.notification_id}",
                notification_id=command.notification_id,
            )
        done = [event for event in history if isinstance(event, DeliveryAttempted)]
        finished = bool(done) and (done[-1].ok or done[-1].next_attempt_at is None)
        if finished or len(done) != command.attempt - 1:
            raise AttemptOutOfOrder(
                f"attempt {command.attempt} of {command.notification_id} is stale",
                notification_id=command.notification_id,
                attempt=command.attempt,
            )
        retry_at = (
            None if command.ok else next_attempt_at(command.attempt, uow.clock.now())
        )
        event = DeliveryAttempted(
            notification_id=command.notification_id,
            channel=history[0].channel,
            attempt=command.attempt,
            ok=command.ok,
            error=command.error,
            next_attempt_at=isoformat_utc(retry_at) if retry_at else None,
        )
        uow.append(stream, [event], expected_version=len(history))
        uow.conn.execute(
            delete(claims).where(claims.c.notification_id == command.notification_id)
        )
        uow.commit()
    return event


def mark_read(command: MarkNotificationRead, uow: UnitOfWork) -> bool:
    """Mark one of the actor's in-app notifications read; tell whether it changed."""
    with uow:
        row = uow.conn.execute(
            select(inbox).where(
                inbox.c.notification_id == command.notification_id,
                inbox.c.user_id == uow.actor.id,
            )
        ).first()
        if row is None:
            raise UnknownNotification(
                f"no notification {command.notification_id}",
                notification_id=command.notification_id,
            )
        if row.is_read:
            return False
        stream = f"notification-{command.notification_id}"
        uow.append(
            stream,
            [
                NotificationRead(
                    notification_id=command.notification_id, user_id=uow.actor.id
                )
            ],
            expected_version=uow.stream_version(stream),
        )
        uow.commit()
    return True


def set_webhook(command: SetWebhook, uow: UnitOfWork) -> None:
    """Set a department's webhook; the secret goes to its own table, not the log."""
    if not uow.actor.has_role("admin", "system"):
        raise PermissionDenied(
            "setting a webhook needs the admin role", action="webhook"
        )
    parts = urlsplit(command.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookInvalid("the webhook URL must be http(s)://host/…", field="url")
    if len(command.secret) < MIN_SECRET_LENGTH:
        raise WebhookInvalid(
            f"the webhook secret needs at least {MIN_SECRET_LENGTH} characters",
            field="secret",
        )
    with uow:
        if identity_queries.get_department(uow.conn, command.department) is None:
            raise WebhookInvalid(
                f"no department {command.department}", field="department"
            )
        stream = f"webhook-{command.department}"
        uow.append(
            stream,
            [WebhookSet(department=command.department, url=command.url)],
            expected_version=uow.stream_version(stream),
        )
        conn = uow.conn
        conn.execute(
            delete(webhook_secrets).where(
                webhook_secrets.c.department == command.department
            )
        )
        conn.execute(
            insert(webhook_secrets),
            {
                "department": command.department,
                "secret": command.secret,
                "updated_at": isoformat_utc(uow.clock.now()),
            },
        )
        uow.commit()


def command_handlers(
    *, channels: Channels, worker: str
) -> dict[type[Command], Handler]:
    """Return the notify handlers with the channel adapters bound."""
    return {
        DeliverDueNotifications: partial(
            handle_deliver, channels=channels, worker=worker, record=record_delivery
        ),
        RecordDelivery: record_delivery,
        MarkNotificationRead: mark_read,
        SetWebhook: set_webhook,
    }


__all__ = ["command_handlers", "mark_read", "record_delivery", "set_webhook"]
