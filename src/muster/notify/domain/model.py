"""Notification rules: channels, identities, retry backoff and exercise marking.

Pure (stdlib only). Used by the notify handlers and the audience mapping.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum


class Channel(StrEnum):
    """How a notification reaches its recipient."""

    IN_APP = "in-app"
    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"  # public warnings only, through the SMS gateway


class DeliveryStatus(StrEnum):
    """Where a notification stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed; Muster gave up


BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
)
"""Waits after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure gives up."""

MAX_ATTEMPTS = len(BACKOFF) + 1

EXERCISE_PREFIX_ZH = "【演练】"
EXERCISE_PREFIX_EN = "[EXERCISE] "

HELD = "held: exercise warning; live channels are off"
"""The note of the attempt that holds an exercise public warning: it counts as done
and nothing is sent (ADR 0013: a drill never reaches a real channel)."""

_NAMESPACE = uuid.UUID("6d757374-6572-4e6f-7469-667900000001")


def next_attempt_at(attempt: int, failed_at: datetime) -> datetime | None:
    """Return when to retry after failed attempt number ``attempt`` (1-based), or None.

    None means the attempt was the last one: the notification has failed for good.
    """
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if attempt > len(BACKOFF):
        return None
    return failed_at + BACKOFF[attempt - 1]


def notification_id(*, cause_event_id: str, channel: Channel, recipient: str) -> str:
    """Return the notification's id: the same cause, channel and recipient give the
    same id, so an event scanned twice never queues a second message."""
    return str(uuid.uuid5(_NAMESPACE, f"{cause_event_id}|{channel.value}|{recipient}"))


def mark_exercise(text_zh: str, text_en: str, *, is_exercise: bool) -> tuple[str, str]:
    """Prefix both texts with the exercise mark when the cause was a drill."""
    if not is_exercise:
        return text_zh, text_en
    return EXERCISE_PREFIX_ZH + text_zh, EXERCISE_PREFIX_EN + text_en


__all__ = [
    "BACKOFF",
    "EXERCISE_PREFIX_EN",
    "EXERCISE_PREFIX_ZH",
    "HELD",
    "MAX_ATTEMPTS",
    "Channel",
    "DeliveryStatus",
    "mark_exercise",
    "next_attempt_at",
    "notification_id",
]
