"""Feed summaries and the recipient of the notify part's events.

Imported by ``web.summaries`` (templates and parameters of ``notify.*`` summaries) and
``web.feed`` (``notify_recipient``: a notification event is shown to its recipient
only). Reads the events' wire data, not the notify part's modules.
"""

from __future__ import annotations

from collections.abc import Callable

from muster.core.eventlog.store import Envelope
from muster.web.i18n import N_

NOTIFY_PREFIX = "notify."
QUEUED = "notify.NotificationQueued"
READ = "notify.NotificationRead"
ATTEMPTED = "notify.DeliveryAttempted"
WEBHOOK_SET = "notify.WebhookSet"
IN_APP = "in-app"
EMAIL = "email"
WEBHOOK = "webhook"

QUEUED_IN_APP = N_("New notification: %(subject)s")
QUEUED_EMAIL = N_("E-mail to you queued: %(subject)s")
QUEUED_WEBHOOK = N_("Webhook message queued: %(subject)s")
READ_TEMPLATE = N_("%(name)s read a notification")
DELIVERED = N_("A notification was delivered (%(channel)s)")
FAILED = N_("Delivering a notification failed (%(channel)s, attempt %(attempt)s)")
GAVE_UP = N_("Muster gave up delivering a notification (%(channel)s)")
WEBHOOK_SET_TEMPLATE = N_("The webhook of %(department)s was set")
CHANNEL_LABELS: dict[str, str] = {
    IN_APP: N_("in-app"),
    EMAIL: N_("e-mail"),
    WEBHOOK: N_("webhook"),
}


def notify_recipient(envelope: Envelope) -> str | None:
    """Return the id of the user a notify event is addressed to, or None.

    ``NotificationQueued`` names its recipient (a department code for webhooks, which
    no user is); ``NotificationRead`` its reader. Delivery attempts and webhook
    settings name no user, so the feed shows them to nobody.
    """
    data = envelope.data
    if envelope.type == QUEUED and data.get("channel") != WEBHOOK:
        recipient = data.get("recipient")
    elif envelope.type == READ:
        recipient = data.get("user_id")
    else:
        return None
    return recipient if isinstance(recipient, str) and recipient else None


def notify_template(envelope: Envelope) -> str | None:
    """Return the summary's message id of a notify event (None: not a known one)."""
    data = envelope.data
    if envelope.type == QUEUED:
        return {EMAIL: QUEUED_EMAIL, WEBHOOK: QUEUED_WEBHOOK}.get(
            str(data.get("channel")), QUEUED_IN_APP
        )
    if envelope.type == READ:
        return READ_TEMPLATE
    if envelope.type == ATTEMPTED:
        if data.get("ok"):
            return DELIVERED
        return FAILED if data.get("next_attempt_at") else GAVE_UP
    if envelope.type == WEBHOOK_SET:
        return WEBHOOK_SET_TEMPLATE
    return None


def notify_params(
    envelope: Envelope,
    *,
    department: Callable[[str], object],
    translatable: Callable[[str], object],
    bilingual: Callable[[str, str], object],
) -> dict[str, object]:
    """Return a notify summary's parameters, built with the summariser's helpers:
    ``department`` names a department, ``translatable`` translates a message id and
    ``bilingual`` picks a zh/en pair by the viewer's language."""
    data = envelope.data
    channel = CHANNEL_LABELS.get(str(data.get("channel", "")))
    params: dict[str, object] = {
        "subject": bilingual(
            str(data.get("subject_zh", "")), str(data.get("subject_en", ""))
        ),
        "channel": translatable(channel) if channel else "",
        "attempt": data.get("attempt", ""),
    }
    if envelope.type == WEBHOOK_SET:
        params["department"] = department(str(data.get("department", "")))
    return params


__all__ = [
    "CHANNEL_LABELS",
    "NOTIFY_PREFIX",
    "notify_params",
    "notify_recipient",
    "notify_template",
]
