"""Commands of the ingest part."""

from __future__ import annotations

from dataclasses import dataclass, field

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestFile(Command):
    """Read a CSV, GeoJSON, JSON or observations file for a dataset."""

    dataset_code: str
    source: str
    data: bytes = field(repr=False)
    format: str | None = None  # default: the dataset's format


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestCap(Command):
    """Accept a CAP 1.2 alert (or an EDXL-DE envelope carrying alerts)."""

    source: str
    data: bytes = field(repr=False)
    dataset_code: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ResubmitRecord(Command):
    """Validate a corrected quarantined record again and store it if it passes."""

    quarantine_id: str
    values: dict[str, object]


@dataclass(frozen=True, kw_only=True, slots=True)
class DiscardRecord(Command):
    """Discard a quarantined record or document with a reason."""

    quarantine_id: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluateQuality(Command):
    """Measure the quality of every dataset now and log what changed."""
