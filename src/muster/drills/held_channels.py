"""Channels that hold a drill's e-mails, webhooks and SMS instead of sending them.

A sandbox copies the live log, so it knows the departments' real webhook URLs and
the users' e-mail addresses. Unless the operator asks for live channels, a drill
delivers through these: each message is kept in memory and counted as delivered, so
the notification path (queue, attempt, EXERCISE mark) runs as it would for real and
nobody outside the drill is reached. Imported by the runner and the drill CLI.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from muster.notify.channels import Channels, Outgoing


@dataclass(slots=True)
class HeldMessages:
    """The e-mails and webhook posts a drill would have sent, with their targets."""

    sent: list[tuple[str, str, Outgoing]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, channel: str, target: str, message: Outgoing) -> str:
        """Keep a message; return "" (delivered)."""
        with self._lock:
            self.sent.append((channel, target, message))
        return ""


@dataclass(frozen=True, slots=True)
class _HeldEmail:
    held: HeldMessages

    def send(self, message: Outgoing, *, address: str) -> str:
        return self.held.keep("email", address, message)


@dataclass(frozen=True, slots=True)
class _HeldWebhook:
    held: HeldMessages

    def send(self, message: Outgoing, *, url: str, secret: str, sent_at: str) -> str:
        del secret, sent_at  # nothing leaves the drill
        return self.held.keep("webhook", url, message)


@dataclass(frozen=True, slots=True)
class _HeldSms:
    held: HeldMessages

    def send(self, message: Outgoing, *, to: str) -> str:
        return self.held.keep("sms", to, message)


def held_channels(held: HeldMessages) -> Channels:
    """Return channels that keep every message in ``held``."""
    return Channels(
        email=_HeldEmail(held), webhook=_HeldWebhook(held), sms=_HeldSms(held)
    )


__all__ = ["HeldMessages", "held_channels"]
