"""Channel adapters: e-mail over SMTP and signed webhooks over HTTP (network I/O).

Called by the delivery tick outside any database transaction. Each ``send`` returns
an error text ("" on success) and never raises, so one broken recipient cannot stop a
tick. In-app delivery needs no adapter: it is a row written with the event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

SIGNATURE_HEADER = "X-Muster-Signature"
TIMESTAMP_HEADER = "X-Muster-Timestamp"
NOTIFICATION_HEADER = "X-Muster-Notification"
WEBHOOK_TIMEOUT_SECONDS = 5.0
SMTP_TIMEOUT_SECONDS = 10.0


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

    @property
    def subject(self) -> str:
        """Return the bilingual subject line."""
        return f"{self.subject_zh} / {self.subject_en}"

    @property
    def body(self) -> str:
        """Return the bilingual text body."""
        link = f"\n\n{self.link}" if self.link else ""
        return f"{self.body_zh}\n\n{self.body_en}{link}\n"


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
        body = webhook_body(message, sent_at=sent_at)
        headers = {
            "Content-Type": "application/json",
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
class Channels:
    """The adapters a deployment delivers through (``email`` None: e-mail is off)."""

    email: EmailSender | None
    webhook: WebhookSender


def make_channels(smtp: SmtpSettings) -> Channels:
    """Return the real adapters for the given SMTP settings."""
    return Channels(email=SmtpEmail(smtp) if smtp.host else None, webhook=HttpWebhook())


__all__ = [
    "NOTIFICATION_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channels",
    "EmailSender",
    "HttpWebhook",
    "Outgoing",
    "SmtpEmail",
    "SmtpSettings",
    "WebhookSender",
    "make_channels",
    "sign",
    "webhook_body",
]
