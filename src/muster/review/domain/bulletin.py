"""The periodic bulletin (通报): two periods' scorecards side by side, pure.

Imported by ``muster.review.bulletin``. Takes the scorecards that
``muster.review.metrics_queries.scorecards`` built for this period and the previous one
(never measuring anything itself) and, per scope (live, drill: never mixed), pairs
each department's two scorecards, ranks the departments by this period's score and
names the highlights: the most improved, the lowest, and the departments known to the
deployment with nothing measured this period.

Ranking is standard competition ranking ("1224"): equal scores share a rank and the
next rank skips. A department without a score (no scored rate had data) has no rank
and is listed after the ranked ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from muster.review.domain.scorecard import DepartmentScore, Scorecard


@dataclass(frozen=True, slots=True)
class DepartmentComparison:
    """One department's scorecards in both periods, its change and its ranks."""

    department: str
    current: DepartmentScore | None
    previous: DepartmentScore | None
    rank: int | None
    previous_rank: int | None

    @property
    def score(self) -> Fraction | None:
        """Return this period's score (None: nothing scored)."""
        return None if self.current is None else self.current.score

    @property
    def previous_score(self) -> Fraction | None:
        """Return the previous period's score (None: nothing scored)."""
        return None if self.previous is None else self.previous.score

    @property
    def change(self) -> Fraction | None:
        """Return this period's score minus the previous one (None unless both)."""
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score


@dataclass(frozen=True, slots=True)
class ScopeComparison:
    """The comparison of one scope (live or drill) and its highlights."""

    is_exercise: bool
    departments: tuple[DepartmentComparison, ...]
    most_improved: tuple[str, ...]
    lowest: tuple[str, ...]
    inactive: tuple[str, ...]

    def of(self, department: str) -> DepartmentComparison:
        """Return one department's comparison."""
        return next(d for d in self.departments if d.department == department)


def ranks(scores: dict[str, Fraction | None]) -> dict[str, int]:
    """Rank departments by score, highest first; ties share a rank ("1224")."""
    scored = sorted((s for s in scores.values() if s is not None), reverse=True)
    return {
        department: 1 + scored.index(score)
        for department, score in scores.items()
        if score is not None
    }


def _card(cards: Sequence[Scorecard], *, is_exercise: bool) -> Scorecard | None:
    return next((c for c in cards if c.is_exercise is is_exercise), None)


def _scores(card: Scorecard | None) -> dict[str, Fraction | None]:
    return {} if card is None else {d.department: d.score for d in card.departments}


def _extremes(
    values: dict[str, Fraction], *, highest: bool, above_zero: bool = False
) -> tuple[str, ...]:
    """Return the departments holding the highest (or lowest) value, sorted."""
    if above_zero:
        values = {d: v for d, v in values.items() if v > 0}
    if not values:
        return ()
    target = max(values.values()) if highest else min(values.values())
    return tuple(sorted(d for d, v in values.items() if v == target))


def compare_scope(
    current: Scorecard | None,
    previous: Scorecard | None,
    *,
    is_exercise: bool,
    known: Sequence[str] = (),
) -> ScopeComparison:
    """Compare one scope's scorecards of two periods."""
    now = {d.department: d for d in current.departments} if current else {}
    before = {d.department: d for d in previous.departments} if previous else {}
    rank_now, rank_before = ranks(_scores(current)), ranks(_scores(previous))
    departments = sorted(
        set(now) | set(before),
        key=lambda d: (rank_now.get(d, len(now) + 1), d),
    )
    rows = tuple(
        DepartmentComparison(
            department=d,
            current=now.get(d),
            previous=before.get(d),
            rank=rank_now.get(d),
            previous_rank=rank_before.get(d),
        )
        for d in departments
    )
    changes = {r.department: r.change for r in rows if r.change is not None}
    scores = {r.department: r.score for r in rows if r.score is not None}
    return ScopeComparison(
        is_exercise=is_exercise,
        departments=rows,
        most_improved=_extremes(changes, highest=True, above_zero=True),
        lowest=_extremes(scores, highest=False),
        # A period without drills leaves nobody "inactive" in drills.
        inactive=()
        if current is None and is_exercise
        else tuple(sorted(set(known) - set(now))),
    )


def compare(
    current: Sequence[Scorecard],
    previous: Sequence[Scorecard],
    *,
    known: Sequence[str] = (),
) -> tuple[ScopeComparison, ...]:
    """Compare two periods' scorecards: live always, drills when either has them.

    ``known`` are the departments of the deployment; those with nothing measured in
    this period's live scorecard are listed as inactive (in the drill scope: those
    that took no part in this period's drills).
    """
    scopes = [
        compare_scope(
            _card(current, is_exercise=False),
            _card(previous, is_exercise=False),
            is_exercise=False,
            known=known,
        )
    ]
    drill_now = _card(current, is_exercise=True)
    drill_before = _card(previous, is_exercise=True)
    if drill_now is not None or drill_before is not None:
        scopes.append(
            compare_scope(drill_now, drill_before, is_exercise=True, known=known)
        )
    return tuple(scopes)


__all__ = [
    "DepartmentComparison",
    "ScopeComparison",
    "compare",
    "compare_scope",
    "ranks",
]
