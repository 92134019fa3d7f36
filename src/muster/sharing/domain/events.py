"""Events of the sharing part: agreements, requests, grants, break-glass, access log.

Streams: ``agreement-{code}``, ``access-request-{id}``, ``grant-{id}``,
``break-glass-{id}``, ``access-{dataset}`` (decisions) and ``pi-notice-{id}``.
Record contents never enter the log: an access decision records counts, field masks
and the policies that decided, not values (ADR 0010). Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, JsonValue, event_type


@event_type("sharing.AgreementRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AgreementRegistered(Event):
    """A provider registered (or replaced) an agreement; ``agreement`` is its data."""

    code: str
    agreement: dict[str, JsonValue]
    source: str


@event_type("sharing.AgreementRevoked", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AgreementRevoked(Event):
    """A provider ended an agreement before its expiry."""

    code: str
    reason: str


@event_type("sharing.AccessRequested", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AccessRequested(Event):
    """A consumer department asked a provider for access to a dataset."""

    request_id: str
    dataset: str
    provider: str
    consumer: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    justification: str


@event_type("sharing.AccessRequestDecided", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AccessRequestDecided(Event):
    """The provider approved (naming the agreement it made) or denied a request."""

    request_id: str
    approved: bool
    reason: str
    agreement_code: str | None


@event_type("sharing.GrantActivated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class GrantActivated(Event):
    """An incident met an agreement's conditions: it applies within its area."""

    grant_id: str
    agreement_code: str
    dataset: str
    incident_id: str
    level: str
    latitude: float
    longitude: float
    radius_km: float | None


@event_type("sharing.GrantEnded", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class GrantEnded(Event):
    """A grant ended by itself: incident closed, level dropped, agreement ended."""

    grant_id: str
    agreement_code: str
    incident_id: str
    reason: str


@event_type("sharing.BreakGlassOpened", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class BreakGlassOpened(Event):
    """A commander opened time-limited emergency access with a written justification."""

    break_glass_id: str
    dataset: str
    provider: str
    user_id: str
    department: str
    incident_id: str | None
    justification: str
    expires_at: str


@event_type("sharing.AccessDecided", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AccessDecided(Event):
    """The policy decision point decided a read of shared data (the access log)."""

    access_id: str
    user_id: str
    department: str | None
    dataset: str
    provider: str
    action: str
    purpose: str | None
    incident_id: str | None
    decision: str
    policies: tuple[str, ...]
    masks: dict[str, str]
    records: int
    aggregated: int
    channel: str
    reason: str


@event_type("sharing.PersonalDataNoticeDue", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class PersonalDataNoticeDue(Event):
    """Personal data was shared under the emergency basis and the incident closed:
    the provider must tell the people concerned (PIPL Art. 18)."""

    notice_id: str
    provider: str
    dataset: str
    agreement_code: str
    incident_id: str
    records_shared: int


@event_type("sharing.PersonalDataNoticeGiven", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class PersonalDataNoticeGiven(Event):
    """The provider recorded that the people concerned were told."""

    notice_id: str
    note: str


__all__ = [
    "AccessDecided",
    "AccessRequestDecided",
    "AccessRequested",
    "AgreementRegistered",
    "AgreementRevoked",
    "BreakGlassOpened",
    "GrantActivated",
    "GrantEnded",
    "PersonalDataNoticeDue",
    "PersonalDataNoticeGiven",
]
