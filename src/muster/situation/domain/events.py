"""Events of the situation part: trigger rules, firings and clearings.

Streams: ``triggers`` (the rule set and each evaluation) and ``trigger-{rule}``
(its instances firing and clearing). Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, JsonValue, event_type


@event_type("situation.TriggerRulesRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerRulesRegistered(Event):
    """The trigger rules were set (the whole checked document)."""

    document: dict[str, JsonValue]
    rules: int
    source: str


@event_type("situation.TriggerFired", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerFired(Event):
    """A rule instance crossed its threshold. ``action`` says what followed:
    ``proposed`` (a new incident was opened as reported), ``attached`` (an open
    incident of a related type nearby took it) or ``recorded`` (neither: no
    location to place an incident)."""

    rule: str
    key: str
    kind: str
    value: float
    threshold: float
    observed_at: str
    latitude: float | None
    longitude: float | None
    incident_id: str | None
    action: str
    explanation: str
    source: str


@event_type("situation.TriggerCleared", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerCleared(Event):
    """An active rule instance fell below its clear level (hysteresis)."""

    rule: str
    key: str
    value: float
    threshold: float
    observed_at: str
    source: str


@event_type("situation.TriggersEvaluated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class TriggersEvaluated(Event):
    """Pending batches and alerts were evaluated (``items`` are their log positions)."""

    items: tuple[int, ...]
    fired: int
    cleared: int


@event_type("situation.ReportFused", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ReportFused(Event):
    """A report (hotline ticket, field report, CAP alert area) joined a cluster, or
    started one; ``relation``, ``distance_km`` and ``minutes_apart`` say why it
    joined (None for a new cluster). The report's text never holds personal data:
    the hotline's caller fields are not copied."""

    report_id: str
    source: str
    department: str
    category: str
    latitude: float
    longitude: float
    received_at: str
    text: str
    cluster_id: str
    joined: bool
    relation: str | None
    distance_km: float | None
    minutes_apart: float | None
    score: float


@event_type("situation.ClusterLinked", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterLinked(Event):
    """A cluster of reports was tied to an incident: ``attached`` to an open one of a
    related type nearby, or ``proposed`` (a new incident opened as reported)."""

    cluster_id: str
    incident_id: str
    action: str
    explanation: str


@event_type("situation.ClustersMerged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ClustersMerged(Event):
    """A duty officer merged cluster ``other`` into ``keep``."""

    keep: str
    other: str
    reason: str


@event_type("situation.ClusterSplit", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterSplit(Event):
    """A duty officer moved reports out of a cluster into a new one."""

    cluster_id: str
    new_cluster_id: str
    report_ids: tuple[str, ...]
    reason: str


@event_type("situation.AssessmentOpened", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AssessmentOpened(Event):
    """A commander asked departments for their view of an incident's risk."""

    assessment_id: str
    incident_id: str
    topic: str
    departments: tuple[str, ...]


@event_type("situation.ViewSubmitted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ViewSubmitted(Event):
    """A department gave (or revised) its view."""

    assessment_id: str
    department: str
    level: str
    confidence: str
    note: str
    evidence: tuple[str, ...]


@event_type("situation.AssessmentConcluded", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AssessmentConcluded(Event):
    """The assessment closed with a conclusion (and the views as they stood)."""

    assessment_id: str
    conclusion: str
    level: str
    consensus: str | None
    agreement: bool
    decision_id: str | None


__all__ = [
    "AssessmentConcluded",
    "AssessmentOpened",
    "ClusterLinked",
    "ClusterSplit",
    "ClustersMerged",
    "ReportFused",
    "TriggerCleared",
    "TriggerFired",
    "TriggerRulesRegistered",
    "TriggersEvaluated",
    "ViewSubmitted",
]
