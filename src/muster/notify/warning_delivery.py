"""Public warnings in the delivery tick: queue one notice per subscriber, hold
exercises, and send over e-mail, the SMS gateway or a signed CAP webhook.

Used by ``delivery`` (ADR 0009's tick): ``WarningAudience`` reads the subscribers
and districts in force from the alerting templates document (the pack's
``warnings.yaml``) once per scanned batch; ``is_held`` says which notices are
recorded as held instead of sent (an exercise warning while live channels are off);
``send_warning`` looks the subscriber up again when sending (its address, and the
environment variable holding its webhook secret) and, for a webhook, posts the exact
CAP XML of the ``alerting.AlertPublished`` that caused the notice, read from the log.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.alerting import queries as alerting_queries
from muster.alerting.domain.events import AlertPublished
from muster.core.clock import isoformat_utc
from muster.core.eventlog.store import EventStore
from muster.core.eventlog.tables import events
from muster.core.uow import UnitOfWork
from muster.notify.channels import CAP_TYPE, Channels, Outgoing
from muster.notify.domain.audience import Cause, Notice
from muster.notify.domain.model import Channel
from muster.notify.domain.warning_audience import (
    SUBSCRIBER_CHANNELS,
    WARNING_CAUSE,
    district_codes,
    find_subscriber,
    is_exercise_warning,
    subscribers_from,
    warning_notices,
)

MIN_SECRET_LENGTH = 16


class WarningAudience:
    """The subscribers and districts in force, read when a batch first needs them."""

    def __init__(self, conn: Connection, channels: Channels) -> None:
        document = alerting_queries.templates_document(conn) or {}
        self.subscribers = subscribers_from(document)
        self.districts = district_codes(document)
        self.channels = channels

    def notices(self, event: AlertPublished, cause: Cause) -> list[Notice]:
        """Return the alert's notices: on the channels that are on, or on every
        channel for an exercise that will be held (nothing is sent)."""
        if is_exercise_warning(event, cause) and not self.channels.live_channels:
            usable: tuple[Channel, ...] = SUBSCRIBER_CHANNELS
        else:
            usable = tuple(
                channel
                for channel, adapter in (
                    (Channel.EMAIL, self.channels.email),
                    (Channel.WEBHOOK, self.channels.webhook),
                    (Channel.SMS, self.channels.sms),
                )
                if adapter is not None
            )
        return warning_notices(
            event,
            cause,
            self.subscribers,
            districts=self.districts,
            channels=usable,
        )


def is_held(notice: Notice, cause_type: str, channels: Channels) -> bool:
    """Tell whether a notice is held: an exercise warning, live channels off."""
    return (
        cause_type == WARNING_CAUSE
        and notice.is_exercise
        and not channels.live_channels
    )


def send_warning(
    uow: UnitOfWork, channels: Channels, row: Any, message: Outgoing
) -> str:
    """Send one public-warning notification; return an error text or "".

    An exercise queued while live channels were on is still never sent once they
    are off (it fails, and gives up after the backoff).
    """
    if row.is_exercise and not channels.live_channels:
        return f"{row.channel}: exercise warning; live channels are off"
    with uow.context.engine.connect() as conn:
        document = alerting_queries.templates_document(conn) or {}
        subscriber = find_subscriber(
            subscribers_from(document), row.recipient, row.channel
        )
        xml = None
        if row.channel == Channel.WEBHOOK.value:
            xml = _published_xml(conn, uow.context.store, row.cause_event_id)
    if subscriber is None:
        return f"{row.channel}: no subscriber {row.recipient} in warnings.yaml"
    if row.channel == Channel.EMAIL.value:
        if channels.email is None:
            return "email: no SMTP server is configured"
        return channels.email.send(message, address=subscriber.address)
    if row.channel == Channel.SMS.value:
        if channels.sms is None:
            return "sms: no SMS gateway is configured"
        return channels.sms.send(message, to=subscriber.address)
    if not subscriber.secret_env:
        return f"webhook: subscriber {subscriber.id} names no secret_env"
    secret = channels.secret(subscriber.secret_env) or ""
    if len(secret) < MIN_SECRET_LENGTH:
        return (
            f"webhook: {subscriber.secret_env} is unset or shorter than "
            f"{MIN_SECRET_LENGTH} characters"
        )
    if xml is None:
        return "webhook: the published alert is not in the log"
    cap = replace(message, payload=xml.encode("utf-8"), content_type=CAP_TYPE)
    return channels.webhook.send(
        cap,
        url=subscriber.address,
        secret=secret,
        sent_at=isoformat_utc(uow.clock.now()),
    )


def _published_xml(
    conn: Connection, store: EventStore, cause_event_id: str
) -> str | None:
    """Return the CAP XML of the ``AlertPublished`` with this event id, or None."""
    stream = conn.execute(
        select(events.c.stream_id).where(events.c.event_id == cause_event_id)
    ).scalar()
    if stream is None:
        return None
    for item in store.read_stream(conn, stream):
        if item.envelope.event_id == cause_event_id and isinstance(
            item.event, AlertPublished
        ):
            return item.event.xml
    return None


__all__ = ["WarningAudience", "is_held", "send_warning"]
