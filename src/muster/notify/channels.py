"""Channel adapters: e-mail over SMTP, signed webhooks over HTTP and the SMS gateway
(network I/O).

Called by the delivery tick outside any database transaction. Each ``send`` returns
an error text ("" on success) and never raises, so one broken recipient cannot stop a
tick. In-app delivery needs no adapter: it is a row written with the event. A public
warning's webhook posts the CAP XML itself (``Outgoing.payload``, signed like every
webhook body); its SMS goes to the gateway as JSON ``{to, text, id}`` (``HttpSms``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from muster.notify.domain.warning_audience import (
    WARNING_CAUSE,
    sms_text,
    warning_subject,
)

SIGNATURE_HEADER = "X-Muster-Signature"
TIMESTAMP_HEADER = "X-Muster-Timestamp"
NOTIFICATION_HEADER = "X-Muster-Notification"
WEBHOOK_TIMEOUT_SECONDS = 5.0
SMS_TIMEOUT_SECONDS = 5.0
SMTP_TIMEOUT_SECONDS = 10.0
JSON_TYPE = "application/json"
CAP_TYPE = "application/cap+xml"

SecretLookup = Callable[[str], str | None]
"""Name of an environment variable -> its value (None: unset); see ``settings``."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification as the adapters send it."""

    notification_id: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    link: str
    incident_id: str | None
    cause_type: str
    is_exercise: bool
    payload: bytes | None = None
    """A webhook's exact body when it is not the JSON notice (a warning's CAP XML)."""
    content_type: str = JSON_TYPE

    @property
    def is_warning(self) -> bool:
        """Tell whether this is a public warning (``alerting.AlertPublished``)."""
        return self.cause_type == WARNING_CAUSE

    @property
    def subject(self) -> str:
        """Return the bilingual subject line (a warning's: ``[预警/WARNING] …``)."""
        if self.is_warning:
            return warning_subject(
                self.subject_zh, self.subject_en, is_exercise=self.is_exercise
            )
        return " / ".join(text for text in (self.subject_zh, self.subject_en) if text)

    @property
    def body(self) -> str:
        """Return the bilingual text body, the link last."""
        link = f"CAP: {self.link}" if self.is_warning and self.link else self.link
        parts = (self.body_zh, self.body_en, link)
        return "\n\n".join(text for text in parts if text) + "\n"

    @property
    def text(self) -> str:
        """Return the SMS text (Chinese, then English)."""
        return sms_text(self.body_zh, self.body_en)


class EmailSender(Protocol):
    """Sends one notification to one address; returns an error text or ""."""

    def send(self, message: Outgoing, *, address: str) -> str:
        """Send the message."""
        ...


class WebhookSender(Protocol):
    """Posts one notification to a URL, signed; returns an error text or ""."""

    def send(self, message: Outgoing, *, url: str, secret: str, sent_at: str) -> str:
        """Post the message."""
        ...


class SmsSender(Protocol):
    """Sends one text to one phone number; returns an error text or ""."""

    def send(self, message: Outgoing, *, to: str) -> str:
        """Send the message's text."""
        ...


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send e-mail (``host`` empty: e-mail is off)."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = False


class SmtpEmail:
    """E-mail through an SMTP relay with smtplib."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: Outgoing, *, address: str) -> str:
        """Send the bilingual message to one address; return an error text or ""."""
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = address
        email["Subject"] = message.subject
        email["X-Muster-Notification"] = message.notification_id
        email.set_content(message.body)
        try:
            with smtplib.SMTP(
                self.settings.host, self.settings.port, timeout=SMTP_TIMEOUT_SECONDS
            ) as smtp:
                if self.settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.settings.username:
                    smtp.login(self.settings.username, self.settings.password)
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            return f"smtp: {type(error).__name__}: {error}"[:500]
        return ""


def sign(body: bytes, secret: str) -> str:
    """Return the signature header value of a webhook body: ``sha256=<hex HMAC>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_body(message: Outgoing, *, sent_at: str) -> bytes:
    """Return the JSON body posted to a webhook."""
    data: dict[str, Any] = {
        "notification_id": message.notification_id,
        "subject_zh": message.subject_zh,
        "subject_en": message.subject_en,
        "body_zh": message.body_zh,
        "body_en": message.body_en,
        "link": message.link,
        "incident_id": message.incident_id,
        "cause_type": message.cause_type,
        "is_exercise": message.is_exercise,
        "sent_at": sent_at,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")


class HttpWebhook:
    """Webhooks over httpx: JSON body, HMAC-SHA256 signature, 5 s timeout."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client

    def send(self, message: Outgoing, *, url: str, secret: str, sent_at: str) -> str:
        """Post the signed body; any non-2xx answer or network error is a failure."""
        body = message.payload
        if body is None:
            body = webhook_body(message, sent_at=sent_at)
        headers = {
            "Content-Type": message.content_type,
            SIGNATURE_HEADER: sign(body, secret),
            TIMESTAMP_HEADER: sent_at,
            NOTIFICATION_HEADER: message.notification_id,
        }
        try:
            if self.client is not None:
                reply = self.client.post(url, content=body, headers=headers)
            else:
                with httpx.Client(
                    trust_env=False, timeout=WEBHOOK_TIMEOUT_SECONDS
                ) as client:
                    reply = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return f"http: {type(error).__name__}: {error}"[:500]
        if not 200 <= reply.status_code < 300:
            return f"http: status {reply.status_code}"
        return ""


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """The SMS gateway (``url`` empty: SMS is off)."""

    url: str
    token: str = ""


class HttpSms:
    """SMS through an HTTP gateway: POST JSON ``{to, text, id}`` with the token as a
    bearer credential; 2xx is delivered, anything else or a timeout a failure."""

    def __init__(self, settings: SmsSettings, client: httpx.Client | None = None):
        self.settings = settings
        self.client = client

    def send(self, message: Outgoing, *, to: str) -> str:
        """Post the text to the gateway; return an error text or ""."""
        body = json.dumps(
            {"to": to, "text": message.text, "id": message.notification_id},
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {
            "Content-Type": JSON_TYPE,
            NOTIFICATION_HEADER: message.notification_id,
        }
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        try:
            if self.client is not None:
                reply = self.client.post(
                    self.settings.url, content=body, headers=headers
                )
            else:
                with httpx.Client(
                    trust_env=False, timeout=SMS_TIMEOUT_SECONDS
                ) as client:
                    reply = client.post(
                        self.settings.url, content=body, headers=headers
                    )
        except httpx.HTTPError as error:
            return f"sms: {type(error).__name__}"[:500]  # never the URL or token
        if not 200 <= reply.status_code < 300:
            return f"sms: gateway status {reply.status_code}"
        return ""


def _no_secrets(name: str) -> str | None:
    del name
    return None


@dataclass(frozen=True, slots=True)
class Channels:
    """The adapters a deployment delivers through (``email`` or ``sms`` None: off).

    ``secret`` finds a warning subscriber's webhook secret by the name of its
    environment variable. ``live_channels``: exercise public warnings may reach real
    recipients (only a drill run with live channels sets it; otherwise they are held).
    """

    email: EmailSender | None
    webhook: WebhookSender
    sms: SmsSender | None = None
    secret: SecretLookup = _no_secrets
    live_channels: bool = False


def make_channels(
    smtp: SmtpSettings,
    *,
    sms: SmsSettings | None = None,
    secret: SecretLookup | None = None,
    live_channels: bool = False,
) -> Channels:
    """Return the real adapters for the given SMTP and SMS gateway settings."""
    return Channels(
        email=SmtpEmail(smtp) if smtp.host else None,
        webhook=HttpWebhook(),
        sms=HttpSms(sms) if sms is not None and sms.url else None,
        secret=secret or _no_secrets,
        live_channels=live_channels,
    )


__all__ = [
    "CAP_TYPE",
    "NOTIFICATION_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channels",
    "EmailSender",
    "HttpSms",
    "HttpWebhook",
    "Outgoing",
    "SecretLookup",
    "SmsSender",
    "SmsSettings",
    "SmtpEmail",
    "SmtpSettings",
    "WebhookSender",
    "make_channels",
    "sign",
    "webhook_body",
]
