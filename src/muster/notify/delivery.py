"""The delivery tick: queue notifications for new response and sharing events and
published public warnings, then deliver.

One ``DeliverDueNotifications`` is one tick (ADR 0009):
1. in one transaction, read the log after ``notify_cursor``, map each response or
   sharing event to notices (``domain.audience``) and each ``alerting.AlertPublished``
   to its subscribers (``warning_delivery``), append ``NotificationQueued`` (and, for
   in-app, its successful ``DeliveryAttempted``: the inbox row is the delivery; for a
   held exercise warning, its held attempt) and move the cursor;
2. for each e-mail, webhook or SMS notification due by the clock: claim it in a short
   transaction (``notify_claims``), send outside any transaction, and record the
   outcome with ``RecordDelivery``, which schedules the retry by the backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from muster.alerting.domain.events import AlertPublished
from muster.core.clock import isoformat_utc, parse_utc
from muster.core.db import WRITE_OPTION
from muster.core.errors import ConcurrencyConflict
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity_queries
from muster.notify.channels import Channels, Outgoing
from muster.notify.domain.audience import Cause, notices_for
from muster.notify.domain.commands import DeliverDueNotifications, RecordDelivery
from muster.notify.domain.errors import AttemptOutOfOrder
from muster.notify.domain.events import DeliveryAttempted, NotificationQueued
from muster.notify.domain.model import HELD, Channel, DeliveryStatus
from muster.notify.domain.sharing_audience import AgreementFacts, RequestFacts
from muster.notify.domain.warning_audience import WARNING_CAUSE
from muster.notify.read_models import (
    claims,
    cursor,
    notifications,
    webhook_secrets,
    webhooks,
)
from muster.notify.warning_delivery import WarningAudience, is_held, send_warning
from muster.sharing import queries as sharing_queries

logger = logging.getLogger(__name__)

CURSOR_NAME = "response-events"
"""The cursor's name predates sharing notices; it is kept so deployments keep theirs."""
NOTIFYING_TYPES = ("response.", "sharing.", "drills.MessageInjected", WARNING_CAUSE)
"""Prefixes of the event types that may notify anyone (``domain.audience``)."""
SCAN_BATCH = 1000
"""Log events read per tick; a full batch means the tick has not caught up."""
MAX_CAUSE_AGE = timedelta(days=1)
"""Older events notify nobody (a deployment that starts notifying late stays quiet)."""
CLAIM_SECONDS = 300.0
"""A claim outlives the slowest send (SMTP 10 s, webhook 5 s) by far."""

Recorder = Callable[[RecordDelivery, UnitOfWork], DeliveryAttempted]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one tick did."""

    queued: int
    delivered: int
    failed: int
    gave_up: int
    caught_up: bool

    def to_json(self) -> dict[str, Any]:
        """Return the report for ``--json`` output."""
        return asdict(self)


class _IdentityDirectory:
    """The audience mapping's view of people, over identity's and sharing's queries."""

    def __init__(self, conn: Connection, *, email_enabled: bool) -> None:
        self.conn = conn
        self.email_enabled = email_enabled
        self._users = {user.id: user for user in identity_queries.list_users(conn)}
        self._webhooks = {row.department for row in conn.execute(select(webhooks))}

    def role_holders(self, department: str, role: str) -> list[str]:
        return identity_queries.role_holders(self.conn, department, role)

    def users_with_role(self, role: str) -> list[str]:
        return sorted(
            user.id
            for user in self._users.values()
            if user.is_active and role in user.roles
        )

    def has_email(self, user_id: str) -> bool:
        user = self._users.get(user_id)
        return self.email_enabled and user is not None and bool(user.email)

    def has_webhook(self, department: str) -> bool:
        return department in self._webhooks

    def user_name(self, user_id: str) -> str:
        user = self._users.get(user_id)
        return user.display_name if user is not None else user_id

    def access_request(self, request_id: str) -> RequestFacts | None:
        request = sharing_queries.get_request(self.conn, request_id)
        if request is None:
            return None
        return RequestFacts(
            requested_by=str(request["requested_by"]),
            dataset=str(request["dataset"]),
            provider=str(request["provider"]),
        )

    def agreement(self, code: str) -> AgreementFacts | None:
        row = sharing_queries.get_agreement(self.conn, code)
        if row is None:
            return None
        data = row["data"]
        return AgreementFacts(
            provider=str(row["provider"]),
            dataset=str(row["dataset"]),
            name_zh=str(data.get("name_zh") or ""),
            name_en=str(data.get("name_en") or ""),
        )


def handle_deliver(
    command: DeliverDueNotifications,
    uow: UnitOfWork,
    *,
    channels: Channels,
    worker: str,
    record: Recorder,
) -> DeliveryReport:
    """Queue what new response and sharing events cause, then deliver what is due."""
    queued, caught_up = _queue_new(uow, channels)
    delivered = failed = gave_up = 0
    for row in _due(uow, command.limit):
        if not _claim(uow, row, worker):
            continue
        error = _send(uow, channels, row)
        try:
            attempted = record(
                RecordDelivery(
                    notification_id=row.id,
                    attempt=row.attempts + 1,
                    ok=not error,
                    error=error,
                ),
                uow,
            )
        except (AttemptOutOfOrder, ConcurrencyConflict):
            logger.warning("notification %s: another worker recorded first", row.id)
            continue
        if attempted.ok:
            delivered += 1
        elif attempted.next_attempt_at is None:
            gave_up += 1
        else:
            failed += 1
    return DeliveryReport(
        queued=queued,
        delivered=delivered,
        failed=failed,
        gave_up=gave_up,
        caught_up=caught_up,
    )


def _queue_new(uow: UnitOfWork, channels: Channels) -> tuple[int, bool]:
    with uow:
        conn = uow.conn
        position = conn.execute(
            select(cursor.c.position).where(cursor.c.name == CURSOR_NAME)
        ).scalar()
        batch = uow.context.store.read_all(conn, after=position or 0, limit=SCAN_BATCH)
        if not batch:
            return 0, True
        now = uow.clock.now()
        directory = _IdentityDirectory(conn, email_enabled=channels.email is not None)
        audience: WarningAudience | None = None
        queued = 0
        for item in batch:
            envelope = item.envelope
            if not envelope.type.startswith(NOTIFYING_TYPES):
                continue
            if parse_utc(envelope.occurred_at) < now - MAX_CAUSE_AGE:
                continue
            cause = Cause(
                event_id=envelope.event_id,
                type=envelope.type,
                is_exercise=envelope.is_exercise,
            )
            if isinstance(item.event, AlertPublished):
                audience = audience or WarningAudience(conn, channels)
                notices = audience.notices(item.event, cause)
            else:
                notices = notices_for(item.event, cause, directory)
            for notice in notices:
                stream = f"notification-{notice.notification_id}"
                if uow.stream_version(stream):
                    continue  # queued by an earlier scan of the same event
                events: list[NotificationQueued | DeliveryAttempted] = [
                    NotificationQueued(
                        notification_id=notice.notification_id,
                        recipient=notice.recipient,
                        channel=notice.channel.value,
                        subject_zh=notice.subject_zh,
                        subject_en=notice.subject_en,
                        body_zh=notice.body_zh,
                        body_en=notice.body_en,
                        link=notice.link,
                        incident_id=notice.incident_id,
                        cause_event_id=cause.event_id,
                        cause_type=cause.type,
                        is_exercise=cause.is_exercise or notice.is_exercise,
                    )
                ]
                held = is_held(notice, cause.type, channels)
                if notice.channel is Channel.IN_APP or held:
                    # The inbox row is the delivery: it is written with the event.
                    # A held exercise warning is done without being sent.
                    events.append(
                        DeliveryAttempted(
                            notification_id=notice.notification_id,
                            channel=notice.channel.value,
                            attempt=1,
                            ok=True,
                            error=HELD if held else "",
                            next_attempt_at=None,
                        )
                    )
                uow.append(stream, events, expected_version=0)
                queued += 1
        _save_cursor(conn, batch[-1].envelope.seq, known=position is not None)
        uow.commit()
    return queued, len(batch) < SCAN_BATCH


def _save_cursor(conn: Connection, seq: int, *, known: bool) -> None:
    if known:
        conn.execute(
            cursor.update().where(cursor.c.name == CURSOR_NAME).values(position=seq)
        )
    else:
        conn.execute(insert(cursor), {"name": CURSOR_NAME, "position": seq})


def _due(uow: UnitOfWork, limit: int) -> list[Any]:
    now = isoformat_utc(uow.clock.now())
    with uow.context.engine.connect() as conn:
        return list(
            conn.execute(
                select(notifications)
                .where(
                    notifications.c.status == DeliveryStatus.PENDING.value,
                    notifications.c.channel != Channel.IN_APP.value,
                    notifications.c.next_attempt_at <= now,
                )
                .order_by(notifications.c.next_attempt_at, notifications.c.id)
                .limit(limit)
            )
        )


def _claim(uow: UnitOfWork, row: Any, worker: str) -> bool:
    """Claim the row's next attempt for this worker; False if anyone else has it.

    The claim is inserted first and the notification re-read after it, so a worker
    that lost the race sees the attempt already recorded (ADR 0009).
    """
    now = uow.clock.now()
    now_text = isoformat_utc(now)
    attempt = row.attempts + 1
    engine = uow.context.engine
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        transaction = conn.begin()
        conn.execute(
            delete(claims).where(
                claims.c.notification_id == row.id,
                claims.c.attempt == attempt,
                claims.c.expires_at <= now_text,
            )
        )
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(claims),
                    {
                        "notification_id": row.id,
                        "attempt": attempt,
                        "worker": worker,
                        "expires_at": isoformat_utc(
                            now + timedelta(seconds=CLAIM_SECONDS)
                        ),
                    },
                )
        except IntegrityError:
            transaction.rollback()
            return False
        current = conn.execute(
            select(notifications.c.status, notifications.c.attempts).where(
                notifications.c.id == row.id
            )
        ).first()
        if (
            current is None
            or current.status != DeliveryStatus.PENDING.value
            or current.attempts != row.attempts
        ):
            transaction.rollback()
            return False
        transaction.commit()
    return True


def _send(uow: UnitOfWork, channels: Channels, row: Any) -> str:
    """Send one notification over its channel; return an error text or ""."""
    message = Outgoing(
        notification_id=row.id,
        subject_zh=row.subject_zh,
        subject_en=row.subject_en,
        body_zh=row.body_zh,
        body_en=row.body_en,
        link=row.link,
        incident_id=row.incident_id,
        cause_type=row.cause_type,
        is_exercise=row.is_exercise,
    )
    if row.cause_type == WARNING_CAUSE:
        return send_warning(uow, channels, row, message)
    with uow.context.engine.connect() as conn:
        if row.channel == Channel.EMAIL.value:
            user = identity_queries.get_user(conn, row.recipient)
            address = user.email if user is not None else None
            target = None
        else:
            address = None
            target = conn.execute(
                select(webhooks.c.url, webhook_secrets.c.secret)
                .join(
                    webhook_secrets,
                    webhook_secrets.c.department == webhooks.c.department,
                )
                .where(webhooks.c.department == row.recipient)
            ).first()
    if row.channel == Channel.EMAIL.value:
        if channels.email is None:
            return "email: no SMTP server is configured"
        if not address:
            return "email: the user has no address"
        return channels.email.send(message, address=address)
    if target is None:
        return "webhook: the department has no webhook"
    return channels.webhook.send(
        message,
        url=target.url,
        secret=target.secret,
        sent_at=isoformat_utc(uow.clock.now()),
    )


__all__ = ["DeliveryReport", "handle_deliver"]
