"""Joint assessment (联合研判), pure: departments' views of a risk, side by side.

A commander opens an assessment of an incident and names the departments asked.
Each submits a view: a risk level (the warning colours' order: blue < yellow <
orange < red, glossary §4), a confidence (low, medium, high), a note and evidence
(links or ids of data, reports, triggers). A department may revise its view; the
latest counts. ``combine`` shows agreement and disagreement: the consensus level
(the level most departments chose; ties go to the higher, 就高), the spread, who
stands apart, and who has not answered. Imported by the assessment handlers,
queries and pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from muster.core.errors import ValidationFailed

LEVELS = ("blue", "yellow", "orange", "red")
CONFIDENCES = ("low", "medium", "high")
MAX_NOTE = 2000
MAX_EVIDENCE = 20


@dataclass(frozen=True, slots=True)
class View:
    """One department's view."""

    department: str
    level: str
    confidence: str
    note: str
    evidence: tuple[str, ...]
    submitted_by: str
    submitted_at: str


@dataclass(frozen=True, slots=True)
class Combined:
    """The views side by side."""

    consensus: str | None
    agreement: bool
    spread: tuple[str, str] | None  # lowest and highest level given
    by_level: Mapping[str, tuple[str, ...]]  # level -> departments
    outliers: tuple[str, ...]  # departments two or more levels from the consensus
    missing: tuple[str, ...]  # asked, not answered


def check_view(level: str, confidence: str, note: str, evidence: Sequence[str]) -> None:
    """Refuse a view that cannot be compared."""
    if level not in LEVELS:
        raise ValidationFailed(
            f"level must be one of {', '.join(LEVELS)}", field="level"
        )
    if confidence not in CONFIDENCES:
        raise ValidationFailed(
            f"confidence must be one of {', '.join(CONFIDENCES)}", field="confidence"
        )
    if len(note) > MAX_NOTE:
        raise ValidationFailed(
            f"note is longer than {MAX_NOTE} characters", field="note"
        )
    if len(evidence) > MAX_EVIDENCE or any(not item.strip() for item in evidence):
        raise ValidationFailed(
            f"give up to {MAX_EVIDENCE} non-empty evidence items", field="evidence"
        )


def combine(asked: Sequence[str], views: Sequence[View]) -> Combined:
    """Put the latest view of each department side by side."""
    latest: dict[str, View] = {}
    for view in views:
        latest[view.department] = view
    levels = {dept: view.level for dept, view in latest.items()}
    missing = tuple(sorted(d for d in asked if d not in latest))
    if not levels:
        return Combined(None, False, None, {}, (), missing)
    counts = Counter(levels.values())
    top = max(counts.values())
    consensus = max(
        (level for level, n in counts.items() if n == top), key=LEVELS.index
    )
    ranks = sorted(LEVELS.index(level) for level in levels.values())
    by_level = {
        level: tuple(sorted(d for d, given in levels.items() if given == level))
        for level in LEVELS
        if level in counts
    }
    outliers = tuple(
        sorted(
            dept
            for dept, level in levels.items()
            if abs(LEVELS.index(level) - LEVELS.index(consensus)) >= 2
        )
    )
    return Combined(
        consensus=consensus,
        agreement=len(counts) == 1,
        spread=(LEVELS[ranks[0]], LEVELS[ranks[-1]]),
        by_level=by_level,
        outliers=outliers,
        missing=missing,
    )


__all__ = ["CONFIDENCES", "LEVELS", "Combined", "View", "check_view", "combine"]
