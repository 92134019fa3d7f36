"""Events of the ingest part: what arrived, what was kept, what waits in quarantine.

Record contents stay in the part's batch store (ADR 0006); the log holds each batch's
count and content digest, so the chain still covers every record.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, event_type


@event_type("ingest.BatchIngested", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class BatchIngested(Event):
    """A file or push of records for a dataset was read, validated and stored."""

    batch_id: str
    dataset_code: str
    source: str
    format: str
    encoding: str
    digest: str
    records_digest: str
    accepted: int
    quarantined: int


@event_type("ingest.ObservationsIngested", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ObservationsIngested(Event):
    """A batch of observations (station, metric, value, time) was stored."""

    batch_id: str
    dataset_code: str
    source: str
    digest: str
    records_digest: str
    count: int
    quarantined: int
    first_observed_at: str | None
    last_observed_at: str | None


@event_type("ingest.DuplicateReceived", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DuplicateReceived(Event):
    """The same batch or alert arrived again; it was recorded, not stored twice."""

    dataset_code: str | None
    source: str
    digest: str
    original: str


@event_type("ingest.CapAlertReceived", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class CapAlertReceived(Event):
    """A CAP 1.2 alert was accepted (schema, rules and any signature checked)."""

    alert_key: str
    identifier: str
    sender: str
    sent: str
    msg_type: str
    status: str
    infos: int
    areas: int
    signature: str
    digest: str
    references: tuple[str, ...]
    dataset_code: str | None
    source: str


@event_type("ingest.DistributionReceived", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DistributionReceived(Event):
    """An EDXL-DE envelope was unwrapped; its CAP payloads were routed on."""

    distribution_id: str
    sender_id: str
    sent: str
    status: str
    kind: str
    version: str
    content_objects: int
    cap_payloads: int
    digest: str
    source: str


@event_type("ingest.ResourceMessageReceived", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceMessageReceived(Event):
    """An EDXL-RM resource message was stored for the resources part."""

    message_id: str
    message_type: str
    items: int
    digest: str
    source: str


@event_type("ingest.DocumentRejected", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentRejected(Event):
    """A whole document failed (unreadable, schema, signature); it is quarantined."""

    quarantine_id: str
    dataset_code: str | None
    source: str
    format: str
    digest: str
    reason: str
    message: str
    line: int | None


@event_type("ingest.RecordResubmitted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class RecordResubmitted(Event):
    """A steward fixed a quarantined record; it was accepted or still fails."""

    quarantine_id: str
    dataset_code: str
    is_accepted: bool
    batch_id: str | None
    reasons: tuple[str, ...]


@event_type("ingest.RecordDiscarded", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDiscarded(Event):
    """A steward discarded a quarantined record or document, giving a reason."""

    quarantine_id: str
    dataset_code: str | None
    reason: str


@event_type("ingest.QualityChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class QualityChanged(Event):
    """A dataset's quality measure changed status (e.g. on time -> late)."""

    dataset_code: str
    measure: str
    status: str
    previous_status: str | None
    value: float | None
    detail: str
