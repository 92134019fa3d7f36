"""Pydantic request/response models of the situation API (API edge only, R13)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FieldReportIn(BaseModel):
    """A field team's report: what (GB/T 35561 type), where, a short description."""

    category: str = Field(pattern=r"^1[1-4][0-9A-Z][0-9]{2}$")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    text: str = Field(default="", max_length=500)


class ReportOut(BaseModel):
    """The id a fused report got."""

    report_id: str


class MergeIn(BaseModel):
    """Merge cluster ``other`` into ``keep``."""

    keep: str = Field(min_length=1, max_length=200)
    other: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class SplitIn(BaseModel):
    """Move reports out of a cluster into a new one."""

    report_ids: list[str] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=2000)


class ClusterOut(BaseModel):
    """A cluster's id after a merge or split."""

    cluster_id: str


class AssessmentIn(BaseModel):
    """Open a joint assessment of an incident."""

    incident_id: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=300)
    departments: list[str] = Field(min_length=2, max_length=30)


class AssessmentCreated(BaseModel):
    """The new assessment's id."""

    assessment_id: str


Level = Literal["blue", "yellow", "orange", "red"]


class ViewIn(BaseModel):
    """A department's view: level, confidence, note, evidence."""

    level: Level
    confidence: Literal["low", "medium", "high"]
    note: str = Field(default="", max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=20)


class ViewOut(BaseModel):
    """Whether the view was given or revised."""

    result: str


class ConcludeIn(BaseModel):
    """Conclude an assessment; optionally propose a joint decision."""

    conclusion: str = Field(min_length=1, max_length=2000)
    level: Level
    decision_title: str | None = Field(default=None, max_length=200)
    raises_to: str | None = Field(default=None, pattern=r"^L[1-4]$")


class ConcludedOut(BaseModel):
    """The joint decision proposed, if any."""

    decision_id: str | None


__all__ = [
    "AssessmentCreated",
    "AssessmentIn",
    "ClusterOut",
    "ConcludeIn",
    "ConcludedOut",
    "FieldReportIn",
    "MergeIn",
    "ReportOut",
    "SplitIn",
    "ViewIn",
    "ViewOut",
]
