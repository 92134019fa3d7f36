"""Errors of the notify part (subclasses of the core tree)."""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound


class UnknownNotification(NotFound):
    """No notification has this id for this user."""

    code = "unknown_notification"


class WebhookInvalid(DomainError):
    """A webhook URL or secret is unusable."""

    code = "webhook_invalid"


class AttemptOutOfOrder(DomainError):
    """A delivery attempt was recorded twice or out of order (another worker won)."""

    code = "attempt_out_of_order"


__all__ = ["AttemptOutOfOrder", "UnknownNotification", "WebhookInvalid"]
