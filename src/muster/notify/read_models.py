"""Tables owned by the notify part. Projected ones are written by projections.py;
``notify_webhook_secrets``, ``notify_cursor`` and ``notify_claims`` are worker state
written by the handlers and never reset by a rebuild (ADR 0009)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, Table, Text

from muster.core.db import metadata

notifications = Table(
    "notify_notifications",
    metadata,
    Column("id", Text, primary_key=True),
    Column("recipient", Text, nullable=False, index=True),
    Column("channel", Text, nullable=False),
    Column("subject_zh", Text, nullable=False),
    Column("subject_en", Text, nullable=False),
    Column("body_zh", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("incident_id", Text, nullable=True),
    Column("cause_event_id", Text, nullable=False),
    Column("cause_type", Text, nullable=False),
    Column("is_exercise", Boolean, nullable=False),
    Column("queued_at", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Text, nullable=True),
    Column("last_error", Text, nullable=False),
    Column("delivered_at", Text, nullable=True),
    Index("ix_notify_notifications_due", "status", "next_attempt_at"),
)

attempts = Table(
    "notify_attempts",
    metadata,
    Column("notification_id", Text, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("next_attempt_at", Text, nullable=True),
)

inbox = Table(
    "notify_inbox",
    metadata,
    Column("notification_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("is_read", Boolean, nullable=False),
    Column("delivered_at", Text, nullable=False),
    Column("read_at", Text, nullable=True),
    Index("ix_notify_inbox_user", "user_id", "is_read"),
)

webhooks = Table(
    "notify_webhooks",
    metadata,
    Column("department", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("set_at", Text, nullable=False),
)

webhook_secrets = Table(
    "notify_webhook_secrets",
    metadata,
    Column("department", Text, primary_key=True),
    Column("secret", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

cursor = Table(
    "notify_cursor",
    metadata,
    Column("name", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

claims = Table(
    "notify_claims",
    metadata,
    Column("notification_id", Text, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("worker", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
)

PROJECTED_TABLES = [notifications, attempts, inbox, webhooks]

__all__ = [
    "PROJECTED_TABLES",
    "attempts",
    "claims",
    "cursor",
    "inbox",
    "notifications",
    "webhook_secrets",
    "webhooks",
]
