"""Pydantic models of the ingest API (the edge only; never stored)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from muster.ingest.alerts import AlertOutcome
from muster.ingest.files import IngestOutcome
from muster.ingest.queries import QualityView, QuarantineView

MAX_REASON = 2000


class IngestOut(BaseModel):
    """What a push of records did: accepted or duplicate, with the counts."""

    status: str
    batch_id: str | None
    accepted: int
    quarantined: int

    @classmethod
    def of(cls, outcome: IngestOutcome) -> IngestOut:
        """Build the response model from the handler's outcome."""
        return cls(
            status=outcome.status,
            batch_id=outcome.batch_id,
            accepted=outcome.accepted,
            quarantined=outcome.quarantined,
        )


class AlertOut(BaseModel):
    """What happened to a CAP document (an EDXL envelope lists its payloads)."""

    status: str
    identifier: str | None = None
    msg_type: str | None = None
    infos: int = 0
    areas: int = 0
    signature: str | None = None
    error: str | None = None
    alert_key: str | None = None
    quarantine_id: str | None = None
    contents: list[AlertOut] = Field(default_factory=list)

    @classmethod
    def of(cls, outcome: AlertOutcome) -> AlertOut:
        """Build the response model from the handler's outcome."""
        return cls.model_validate(outcome.to_json())


class ResubmitIn(BaseModel):
    """Corrected values of a quarantined record, by field name."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any]


class DiscardIn(BaseModel):
    """Why a quarantined record or document is discarded (logged)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=MAX_REASON)


class ResolutionOut(BaseModel):
    """What became of a quarantined item: stored (with its batch) or discarded."""

    status: str
    quarantine_id: str
    batch_id: str | None = None


class ReasonOut(BaseModel):
    """Why a record or document was refused: field, rule and message."""

    field: str | None = None
    rule: str
    message: str
    line: int | None = None

    @classmethod
    def of(cls, reason: dict[str, Any]) -> ReasonOut:
        """Build the response model from a stored reason."""
        return cls(
            field=reason.get("field"),
            rule=str(reason.get("rule", "")),
            message=str(reason.get("message", "")),
            line=reason.get("line"),
        )


class QuarantineItemOut(BaseModel):
    """A quarantined record or document with every reason it was refused."""

    id: str
    dataset: str | None
    batch_id: str | None
    source: str
    format: str
    locator: str
    line: int | None
    is_document: bool
    reasons: list[ReasonOut]
    values: dict[str, Any]
    status: str
    created_at: str
    resolved_at: str | None
    resolution: str | None

    @classmethod
    def of(cls, view: QuarantineView) -> QuarantineItemOut:
        """Build the response model from the read model (values of records only)."""
        return cls(
            id=view.id,
            dataset=view.dataset_code,
            batch_id=view.batch_id,
            source=view.source,
            format=view.format,
            locator=view.locator,
            line=view.line,
            is_document=view.is_document,
            reasons=[ReasonOut.of(reason) for reason in view.reasons],
            values=view.values,
            status=view.status,
            created_at=view.created_at,
            resolved_at=view.resolved_at,
            resolution=view.resolution,
        )


class MeasureOut(BaseModel):
    """The current status of one quality measure."""

    status: str
    value: float | None
    detail: str
    changed_at: str

    @classmethod
    def of(cls, view: QualityView) -> MeasureOut:
        """Build the response model from the read model."""
        return cls(
            status=view.status,
            value=view.value,
            detail=view.detail,
            changed_at=view.changed_at,
        )


class DatasetQualityOut(BaseModel):
    """A dataset's current quality measures, by measure name."""

    dataset: str
    owner_department: str | None
    measures: dict[str, MeasureOut]


class CapAlertOut(BaseModel):
    """A stored CAP alert (without its XML) and a summary of its infos and areas."""

    alert_key: str
    identifier: str
    sender: str
    sent: str
    msg_type: str
    status: str
    signature: str
    signature_detail: str
    infos: int
    areas: int
    dataset: str | None
    source: str
    received_at: str
    summary: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> CapAlertOut:
        """Build the response model from a stored alert row."""
        return cls(
            **{
                name: row[name]
                for name in cls.model_fields
                if name not in ("dataset", "summary")
            },
            dataset=row["dataset_code"],
            summary=json.loads(row["summary"]),
        )


__all__ = [
    "AlertOut",
    "CapAlertOut",
    "DatasetQualityOut",
    "DiscardIn",
    "IngestOut",
    "MeasureOut",
    "QuarantineItemOut",
    "ReasonOut",
    "ResolutionOut",
    "ResubmitIn",
]
