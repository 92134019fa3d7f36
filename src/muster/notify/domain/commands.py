"""Commands of the notify part."""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliverDueNotifications(Command):
    """One tick of the delivery worker: queue notifications for new response events,
    then try every delivery that is due by the clock (at most ``limit`` of each)."""

    limit: int = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDelivery(Command):
    """Record the outcome of a delivery attempt made outside the transaction."""

    notification_id: str
    attempt: int
    ok: bool
    error: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class MarkNotificationRead(Command):
    """The recipient read an in-app notification."""

    notification_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SetWebhook(Command):
    """Set a department's webhook URL and its HMAC signing secret (admin only)."""

    department: str
    url: str
    secret: str


__all__ = [
    "DeliverDueNotifications",
    "MarkNotificationRead",
    "RecordDelivery",
    "SetWebhook",
]
