"""Department collaboration scorecards (协同绩效), pure (stdlib only).

Imported by ``muster.review.metrics_queries`` and ``muster.review.scorecard_cli``.
A scorecard groups metric samples (``muster.review.domain.metrics``) by department:
process measures (how the department worked with others) and outcome measures (what
it delivered), each with the seqs of the events behind it, and one weighted score.

The score is the weighted mean of the process rates that have data, as a percentage:
``100 × Σ wᵢ·rateᵢ / Σ wᵢ`` over measures with at least one sample. Latencies are
shown but not scored (their rates, acks on time and requests answered, are).
Drills never mix with real incidents: ``build_scorecards`` returns one scorecard per
kind present (live, exercise).

Weights come from a pack's optional ``scorecard:`` document::

    scorecard:
      weights: {acks_on_time: 1, tasks_on_time: 2, reports_on_time: 2,
                freshness_on_time: 1, sharing_answered: 1, decision_participation: 1}

read by ``weights_from_document``; a missing measure keeps its default weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction

from muster.core.errors import ValidationFailed
from muster.review.domain import metrics as m


@dataclass(frozen=True, slots=True)
class ScorecardWeights:
    """The weight of each scored process rate (non-negative integers)."""

    acks_on_time: int = 1
    tasks_on_time: int = 2
    reports_on_time: int = 2
    freshness_on_time: int = 1
    sharing_answered: int = 1
    decision_participation: int = 1

    def of(self, metric: str) -> int:
        """Return the weight of a scored metric."""
        return int(getattr(self, metric))


SCORED = (
    m.ACK_ON_TIME,
    m.TASK_ON_TIME,
    m.REPORT_ON_TIME,
    m.FRESHNESS_ON_TIME,
    m.SHARING_ANSWERED,
    m.DECISION_PARTICIPATION,
)
LATENCIES = (m.ACK_LATENCY, m.SHARING_ANSWER_LATENCY)
PROCESS = (
    m.ACK_LATENCY,
    m.ACK_ON_TIME,
    m.TASK_ON_TIME,
    m.REPORT_ON_TIME,
    m.FRESHNESS_ON_TIME,
    m.SHARING_ANSWERED,
    m.SHARING_ANSWER_LATENCY,
    m.DECISION_PARTICIPATION,
)
OUTCOMES = (m.TASKS_COMPLETED, m.DATA_SHARED, m.RESOURCES_PROVIDED)


def weights_from_document(document: Mapping[str, object] | None) -> ScorecardWeights:
    """Read weights from a pack's ``scorecard:`` document (None: the defaults)."""
    if not document:
        return ScorecardWeights()
    given = document.get("weights", {})
    if not isinstance(given, Mapping):
        raise ValidationFailed("scorecard.weights must be a mapping", field="weights")
    known = {item.name for item in fields(ScorecardWeights)}
    values: dict[str, int] = {}
    for name, weight in given.items():
        if name not in known:
            raise ValidationFailed(f"unknown scorecard measure {name}", field=name)
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            raise ValidationFailed(
                f"weight of {name} must be an integer ≥ 0", field=name
            )
        values[str(name)] = weight
    return ScorecardWeights(**values)


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of a scorecard: its value, how many items and the events behind."""

    metric: str
    value: Fraction | float | None
    count: int
    seqs: tuple[int, ...]
    p90: float | None = None


@dataclass(frozen=True, slots=True)
class DepartmentScore:
    """A department's scorecard: process and outcome figures and the score."""

    department: str
    process: tuple[Figure, ...]
    outcome: tuple[Figure, ...]
    score: Fraction | None

    def figure(self, metric: str) -> Figure:
        """Return the figure of a metric."""
        return next(f for f in (*self.process, *self.outcome) if f.metric == metric)


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The scorecards of every department in one scope (live or drill)."""

    is_exercise: bool
    incident_id: str | None
    departments: tuple[DepartmentScore, ...]

    def of(self, department: str) -> DepartmentScore:
        """Return one department's scorecard."""
        return next(d for d in self.departments if d.department == department)


def _figure(metric: str, samples: Sequence[m.Sample]) -> Figure:
    seqs = m.seqs_of(samples)
    if metric in LATENCIES:
        values = [sample.value for sample in samples]
        return Figure(
            metric,
            m.percentile(values, 50),
            len(samples),
            seqs,
            m.percentile(values, 90),
        )
    if metric in OUTCOMES:
        return Figure(metric, m.total(samples), len(samples), seqs)
    return Figure(metric, m.rate(samples), len(samples), seqs)


def _score(process: Sequence[Figure], weights: ScorecardWeights) -> Fraction | None:
    weighted = [
        (weights.of(f.metric), f.value)
        for f in process
        if f.metric in SCORED and isinstance(f.value, Fraction)
    ]
    weight_sum = sum(weight for weight, _ in weighted)
    if not weight_sum:
        return None
    weighted_sum = sum((weight * value for weight, value in weighted), Fraction(0))
    return 100 * weighted_sum / weight_sum


def department_score(
    department: str, samples: Sequence[m.Sample], weights: ScorecardWeights
) -> DepartmentScore:
    """Return one department's scorecard from its samples."""

    def of(metric: str) -> list[m.Sample]:
        return [s for s in samples if s.metric == metric]

    process = tuple(_figure(metric, of(metric)) for metric in PROCESS)
    outcome = tuple(_figure(metric, of(metric)) for metric in OUTCOMES)
    return DepartmentScore(department, process, outcome, _score(process, weights))


def build_scorecards(
    samples: Sequence[m.Sample],
    weights: ScorecardWeights,
    *,
    incident_id: str | None = None,
) -> list[Scorecard]:
    """Return the live scorecard, and the drill one when drill samples exist.

    With ``incident_id``, only samples of that incident count (data freshness and
    sharing requests belong to no incident and drop out).
    """
    if incident_id is not None:
        samples = [s for s in samples if s.incident_id == incident_id]
    cards: list[Scorecard] = []
    for is_exercise in (False, True):
        scoped = [s for s in samples if s.is_exercise is is_exercise]
        if is_exercise and not scoped:
            continue
        departments = sorted({s.department for s in scoped})
        cards.append(
            Scorecard(
                is_exercise=is_exercise,
                incident_id=incident_id,
                departments=tuple(
                    department_score(
                        d, [s for s in scoped if s.department == d], weights
                    )
                    for d in departments
                ),
            )
        )
    return cards


__all__ = [
    "LATENCIES",
    "OUTCOMES",
    "PROCESS",
    "SCORED",
    "DepartmentScore",
    "Figure",
    "Scorecard",
    "ScorecardWeights",
    "build_scorecards",
    "department_score",
    "weights_from_document",
]
