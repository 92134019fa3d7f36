"""Commands of the situation part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterTriggerRules(Command):
    """Replace the deployment's trigger rules with a checked triggers document."""

    document: dict[str, Any]
    source: str = "pack"


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluateTriggers(Command):
    """Evaluate the rules on the observation batches and CAP alerts not yet seen.

    Proposing an incident dispatches the response part's commands in the same
    transaction (the handler works in a shared unit of work).
    """

    limit: int = 50


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitReport(Command):
    """A department's field team reports something at a place (a GB/T 35561 type)."""

    category: str
    latitude: float
    longitude: float
    text: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeClusters(Command):
    """Merge cluster ``other`` into ``keep`` (they describe one event)."""

    keep: str
    other: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SplitCluster(Command):
    """Move reports out of a cluster into a new one (they describe another event)."""

    cluster_id: str
    report_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenAssessment(Command):
    """Ask departments for their view of an incident's risk (联合研判)."""

    incident_id: str
    topic: str
    departments: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitView(Command):
    """Give (or revise) the actor's department's view in an open assessment."""

    assessment_id: str
    level: str
    confidence: str
    note: str = ""
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ConcludeAssessment(Command):
    """Close an assessment with a conclusion; optionally propose a joint decision
    (``decision_title``, ``raises_to``) with the assessment as its evidence."""

    assessment_id: str
    conclusion: str
    level: str
    decision_title: str | None = None
    raises_to: str | None = None


__all__ = [
    "ConcludeAssessment",
    "EvaluateTriggers",
    "MergeClusters",
    "OpenAssessment",
    "RegisterTriggerRules",
    "SplitCluster",
    "SubmitReport",
    "SubmitView",
]
