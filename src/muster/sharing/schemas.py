"""Request and response models of the sharing API (R13): the API edge only.

Imported by ``sharing.api`` and by ``ingest.api`` (whose record reads answer with
``SharedRecordOut``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from muster.sharing.reads import SharedRead


def tlp_label(tlp: str) -> str:
    """Return a TLP level as its label: ``AMBER`` -> ``TLP:AMBER``."""
    return f"TLP:{tlp.upper().removeprefix('TLP:')}"


class SharedRecordOut(BaseModel):
    """One record as it was released: masked values, masked geometry, arrival."""

    values: dict[str, Any]
    geometry: dict[str, Any] | None = None
    received_at: str

    @classmethod
    def of(cls, record: dict[str, Any]) -> SharedRecordOut:
        """Build the model from one record of a SharedRead."""
        return cls(
            values=record["values"],
            geometry=record.get("geometry"),
            received_at=str(record.get("received_at") or ""),
        )


class AggregateOut(BaseModel):
    """How many records have one value of the aggregated field."""

    value: str
    count: int


class SharedReadOut(BaseModel):
    """What a read of shared records released and why (as the access log has it)."""

    access_id: str
    dataset: str
    provider: str
    tlp: str
    decision: str
    reason: str
    policies: list[str]
    masks: dict[str, str]
    fields: list[str]
    records: list[SharedRecordOut]
    aggregate_by: str | None
    aggregates: list[AggregateOut]
    incident_id: str | None
    purpose: str | None

    @classmethod
    def of(cls, read: SharedRead) -> SharedReadOut:
        """Build the model from the read service's answer."""
        return cls(
            access_id=read.access_id,
            dataset=read.dataset,
            provider=read.provider,
            tlp=tlp_label(read.tlp),
            decision=read.decision,
            reason=read.reason,
            policies=list(read.policies),
            masks=dict(read.masks),
            fields=list(read.fields),
            records=[SharedRecordOut.of(record) for record in read.records],
            aggregate_by=read.aggregate_by,
            aggregates=[
                AggregateOut(value=str(value), count=count)
                for value, count in read.aggregates
            ],
            incident_id=read.incident_id,
            purpose=read.purpose,
        )


class AgreementOut(BaseModel):
    """A registered agreement: its state and its data."""

    code: str
    dataset: str
    provider: str
    status: str
    source: str
    registered_at: str
    registered_by: str
    revoked_at: str | None = None
    revoke_reason: str | None = None
    data: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> AgreementOut:
        """Build the model from an agreement row of the queries."""
        return cls(**{name: row.get(name) for name in cls.model_fields})


class RegisteredOut(BaseModel):
    """What registering an agreement did: created, updated or unchanged."""

    result: str
    code: str


class RevokeIn(BaseModel):
    """Why an agreement ends now."""

    reason: str = Field(min_length=1, max_length=2000)


class AccessRequestIn(BaseModel):
    """A consumer's request for a dataset's fields, for stated purposes."""

    dataset: str = Field(min_length=1, max_length=64)
    fields: list[str] = Field(default_factory=list, max_length=200)
    purposes: list[str] = Field(default_factory=list, max_length=20)
    justification: str = Field(max_length=5000)


class RequestCreated(BaseModel):
    """The id of a new access request."""

    request_id: str


class AccessRequestOut(BaseModel):
    """An access request and how it was decided."""

    request_id: str
    dataset: str
    provider: str
    consumer: str
    fields: list[str]
    purposes: list[str]
    justification: str
    requested_by: str
    requested_at: str
    status: str
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None
    agreement_code: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> AccessRequestOut:
        """Build the model from a request row of the queries."""
        return cls(**{name: row.get(name) for name in cls.model_fields})


class RequestDecisionIn(BaseModel):
    """The provider's answer to a request (an approval makes an agreement)."""

    approve: bool
    reason: str = Field(max_length=2000)
    masks: dict[str, str] = Field(default_factory=dict)
    valid_days: int = Field(default=90, ge=1, le=3650)
    tlp: str | None = None


class RequestDecisionOut(BaseModel):
    """The decided request and the agreement an approval made."""

    status: str
    agreement_code: str | None


class BreakGlassIn(BaseModel):
    """A commander's emergency access to one dataset for a fixed time."""

    dataset: str = Field(min_length=1, max_length=64)
    justification: str = Field(max_length=5000)
    minutes: int = 60
    incident_id: str | None = None


class BreakGlassOut(BaseModel):
    """The opened break-glass access and when it ends."""

    break_glass_id: str
    expires_at: str


class AccessEntryOut(BaseModel):
    """One access-log entry: who read what, why, and what was released."""

    access_id: str
    at: str
    user_id: str
    department: str | None
    dataset: str
    provider: str
    action: str
    purpose: str | None
    incident_id: str | None
    decision: str
    policies: list[str]
    masks: dict[str, str]
    records: int
    aggregated: int
    channel: str
    reason: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> AccessEntryOut:
        """Build the model from an access-log row of the queries."""
        return cls(**{name: row.get(name) for name in cls.model_fields})


class GrantOut(BaseModel):
    """A scenario grant switched on by an incident."""

    grant_id: str
    agreement_code: str
    dataset: str
    incident_id: str
    level: str
    latitude: float
    longitude: float
    radius_km: float | None
    active: bool
    activated_at: str
    ended_at: str | None
    end_reason: str | None
    records_shared: int

    @classmethod
    def of(cls, row: dict[str, Any]) -> GrantOut:
        """Build the model from a grant row of the queries."""
        return cls(**{name: row.get(name) for name in cls.model_fields})


class NoticeOut(BaseModel):
    """A provider's duty to tell people their data was shared (PIPL Art. 18)."""

    notice_id: str
    provider: str
    dataset: str
    agreement_code: str
    incident_id: str
    records_shared: int
    due_at: str
    status: str
    note: str | None
    done_at: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> NoticeOut:
        """Build the model from a notice row of the queries."""
        return cls(**{name: row.get(name) for name in cls.model_fields})


class NoticeGivenIn(BaseModel):
    """How the people concerned were told."""

    note: str = Field(max_length=5000)


class NoticeGivenOut(BaseModel):
    """The notice that is now done."""

    notice_id: str
    status: str


__all__ = [
    "AccessEntryOut",
    "AccessRequestIn",
    "AccessRequestOut",
    "AggregateOut",
    "AgreementOut",
    "BreakGlassIn",
    "BreakGlassOut",
    "GrantOut",
    "NoticeGivenIn",
    "NoticeGivenOut",
    "NoticeOut",
    "RegisteredOut",
    "RequestCreated",
    "RequestDecisionIn",
    "RequestDecisionOut",
    "RevokeIn",
    "SharedReadOut",
    "SharedRecordOut",
    "tlp_label",
]
