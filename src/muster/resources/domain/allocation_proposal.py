"""A proposed allocation as Muster shows it: assignments, shortfalls, how it was found.

``Proposal`` is what ``muster.resources.optimiser.propose`` returns: every assignment
and shortfall with its explanation, the score (priority-weighted unmet demand, then
travel unit-minutes), the single objective the solver minimised, and whether it
came from the MILP (proven optimal or stopped by the time limit) or from the greedy
fallback, with the reason. ``as_dict`` gives the JSON form for the CLI and API.
Stdlib only; imported by the optimiser, the bench and (later) the resources CLI/API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from muster.resources.domain.allocation import (
    AllocationProblem,
    Pair,
    PairIndex,
    Score,
    Units,
    evaluate,
    unmet_weight,
)
from muster.resources.domain.allocation_explain import Assignment, explain
from muster.resources.domain.allocation_shortfall import Shortfall

Method = Literal["milp", "greedy"]


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed allocation across departments, explained."""

    assignments: tuple[Assignment, ...]
    shortfalls: tuple[Shortfall, ...]
    score: Score
    weight: float  # W in W · weighted unmet + travel
    objective: float
    method: Method
    solver_status: str  # HiGHS's model status, or "greedy"
    optimal: bool  # proven optimal by the solver
    fallback_reason: str | None  # set when the greedy fallback was used
    seconds: float

    def unmet(self) -> dict[str, int]:
        """Return the units still unmet per request id (short requests only)."""
        return {short.request_id: short.short for short in self.shortfalls}

    def as_dict(self, language: str = "en") -> dict[str, object]:
        """Return the proposal as JSON-ready data, explanations in ``language``."""
        return {
            "method": self.method,
            "solver_status": self.solver_status,
            "optimal": self.optimal,
            "fallback_reason": self.fallback_reason,
            "seconds": round(self.seconds, 4),
            "objective": self.objective,
            "weighted_unmet": self.score.weighted_unmet,
            "unmet_units": self.score.unmet_units,
            "travel_unit_minutes": round(self.score.travel_minutes, 3),
            "assignments": [
                {
                    "supply_id": a.supply_id,
                    "department": a.department,
                    "request_id": a.request_id,
                    "units": a.units,
                    "minutes": round(a.minutes, 2),
                    "late_minutes": round(a.late_minutes, 2),
                    "why": a.describe(language),
                }
                for a in self.assignments
            ],
            "shortfalls": [
                {
                    "request_id": s.request_id,
                    "short": s.short,
                    "why": s.describe(language),
                }
                for s in self.shortfalls
            ],
        }


def build_proposal(
    problem: AllocationProblem,
    pairs: Sequence[Pair],
    units: Units,
    *,
    method: Method,
    solver_status: str,
    optimal: bool,
    fallback_reason: str | None = None,
    seconds: float = 0.0,
    weight: float | None = None,
) -> Proposal:
    """Score and explain an allocation (refusing one that breaks the model's rules)."""
    index = PairIndex.of(pairs)
    score = evaluate(problem, index, units)
    w = unmet_weight(problem, pairs) if weight is None else weight
    assignments, short = explain(problem, index, units, greedy=method == "greedy")
    return Proposal(
        assignments=assignments,
        shortfalls=short,
        score=score,
        weight=w,
        objective=score.objective(w),
        method=method,
        solver_status=solver_status,
        optimal=optimal,
        fallback_reason=fallback_reason,
        seconds=seconds,
    )
