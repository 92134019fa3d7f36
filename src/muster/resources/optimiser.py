"""The allocation optimiser: the MILP of docs/allocation-model.md, solved with HiGHS.

``propose(problem)`` finds the usable (supply, request) pairs, builds the model as
one sparse column-wise LP with integer columns (``build_model``), solves it with
HiGHS (``highspy``) under a time limit, and explains the result. Variables:
``x[s,q]`` (integer) units of supply *s* sent to request *q*, one per usable pair,
and ``u[q]`` (continuous, integral at any solution) units of *q* left unmet. Rows:
``Σ_q x[s,q] ≤ quantity(s)`` and ``Σ_s x[s,q] + u[q] = quantity(q)``. Objective:
``Σ W·priority(q)·u[q] + Σ minutes(s,q)·x[s,q]``, so the priority-weighted unmet
demand comes strictly first and travel time second.

If HiGHS is not installed, stops at the time limit without a solution better than
the greedy nearest-first baseline, or returns an unusable status, the proposal is the
greedy one, and ``Proposal.method == "greedy"`` with ``fallback_reason`` says why.
Imported by the bench (``bench/allocation.py``), tests and, later, the resources CLI.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from muster.core.errors import ValidationFailed
from muster.resources.domain.allocation import (
    AllocationProblem,
    Pair,
    Units,
    compatible_pairs,
    evaluate,
    unmet_weight,
)
from muster.resources.domain.allocation_baselines import greedy_nearest_first
from muster.resources.domain.allocation_proposal import Proposal, build_proposal

if TYPE_CHECKING:
    import highspy

DEFAULT_TIME_LIMIT_SECONDS = 10.0
_banner_lock = threading.Lock()
_banner_done = [False]


@dataclass(frozen=True)
class MilpModel:
    """The model as HiGHS takes it, with what is needed to read its solution."""

    lp: highspy.HighsLp
    pairs: tuple[Pair, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class MilpOutcome:
    """What HiGHS returned: an allocation (or None), its status, the objective."""

    units: Units | None
    status: str
    optimal: bool
    objective: float | None
    seconds: float


def highs_options(time_limit_seconds: float) -> dict[str, bool | float | str]:
    """Return the HiGHS options every solve of this model uses (bench included)."""
    return {
        "output_flag": False,
        "time_limit": float(time_limit_seconds),
        "mip_rel_gap": 0.0,  # exact: the travel term is tiny next to W
        "mip_abs_gap": 1e-6,
        # The model is a transportation problem: its LP relaxation has integral
        # vertices, so the root LP solves it. Presolve, feasibility jump and symmetry
        # detection cost more than they save here (docs/allocation-model.md).
        "presolve": "off",
        "mip_heuristic_run_feasibility_jump": False,
        "mip_detect_symmetry": False,
    }


def new_highs(time_limit_seconds: float) -> highspy.Highs:
    """Return a silent HiGHS instance with ``highs_options`` set.

    HiGHS prints its banner to file descriptor 1 when the first instance of a process
    is made, before any option can silence it; that would spoil ``--json`` output, so
    the first construction runs with descriptor 1 pointed at the null device.
    """
    import highspy

    with _banner_lock:
        if _banner_done[0]:
            highs = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            highs = _construct_quietly()
            _banner_done[0] = True
    for name, value in highs_options(time_limit_seconds).items():
        highs.setOptionValue(name, value)
    return highs


def _construct_quietly() -> highspy.Highs:
    """Construct the first ``Highs`` with descriptor 1 sent to the null device."""
    import highspy

    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        return highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def build_model(
    problem: AllocationProblem, pairs: Sequence[Pair], weight: float | None = None
) -> MilpModel:
    """Return the MILP for the usable pairs as one column-wise HiGHS LP."""
    import highspy

    n_pairs, n_supplies = len(pairs), len(problem.supplies)
    n_requests = len(problem.requests)
    weight = unmet_weight(problem, pairs) if weight is None else weight
    flat = chain.from_iterable(pairs)  # pairs are 4-tuples: one pass in C
    table = np.fromiter(flat, np.float64, 4 * n_pairs).reshape(n_pairs, 4)
    supply_of = table[:, 0].astype(np.int32)
    request_of = table[:, 1].astype(np.int32)
    minutes = table[:, 2]
    have = np.array([s.quantity for s in problem.supplies], np.float64)
    need = np.array([r.quantity for r in problem.requests], np.float64)
    priority = np.array([r.priority for r in problem.requests], np.float64)

    index = np.empty(2 * n_pairs + n_requests, np.int32)
    index[0 : 2 * n_pairs : 2] = supply_of
    index[1 : 2 * n_pairs : 2] = n_supplies + request_of
    index[2 * n_pairs :] = n_supplies + np.arange(n_requests, dtype=np.int32)
    start = np.concatenate(
        [
            np.arange(0, 2 * n_pairs, 2, dtype=np.int32),
            2 * n_pairs + np.arange(n_requests + 1, dtype=np.int32),
        ]
    )
    # highspy copies sequences element by element: lists go faster than arrays.
    lp = highspy.HighsLp()
    lp.num_col_ = n_pairs + n_requests
    lp.num_row_ = n_supplies + n_requests
    lp.col_cost_ = np.concatenate([minutes, weight * priority]).tolist()
    lp.col_lower_ = [0.0] * (n_pairs + n_requests)
    upper = np.concatenate([np.minimum(have[supply_of], need[request_of]), need])
    lp.col_upper_ = upper.tolist()
    lower = np.concatenate([np.full(n_supplies, -highspy.kHighsInf), need])
    lp.row_lower_ = lower.tolist()
    lp.row_upper_ = np.concatenate([have, need]).tolist()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start.tolist()
    lp.a_matrix_.index_ = index.tolist()
    lp.a_matrix_.value_ = [1.0] * len(index)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_pairs + [
        highspy.HighsVarType.kContinuous
    ] * n_requests
    return MilpModel(lp, tuple(pairs), weight)


def solve_model(model: MilpModel, time_limit_seconds: float) -> MilpOutcome:
    """Solve the model with HiGHS; return the allocation it found, if any."""
    import highspy

    start = time.perf_counter()
    highs = new_highs(time_limit_seconds)
    highs.passModel(model.lp)
    highs.run()
    status = highs.getModelStatus()
    text = highs.modelStatusToString(status)
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    units: Units | None = None
    if has_solution:
        values = np.asarray(highs.getSolution().col_value[: len(model.pairs)])
        sent = np.rint(values).astype(np.int64)
        units = {
            (model.pairs[k].supply, model.pairs[k].request): int(sent[k])
            for k in np.flatnonzero(sent > 0)
        }
    objective = float(info.objective_function_value) if has_solution else None
    optimal = status == highspy.HighsModelStatus.kOptimal and has_solution
    return MilpOutcome(units, text, optimal, objective, time.perf_counter() - start)


def propose(
    problem: AllocationProblem,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> Proposal:
    """Propose an explained allocation: the MILP's, or the greedy one as fallback."""
    started = time.perf_counter()
    pairs = compatible_pairs(problem)
    weight = unmet_weight(problem, pairs)
    if not problem.requests:  # HiGHS calls an empty model "Empty", not optimal
        proposal = build_proposal(
            problem, pairs, {}, method="milp", solver_status="nothing to allocate",
            optimal=True, weight=weight,
        )  # fmt: skip
        return replace(proposal, seconds=time.perf_counter() - started)
    outcome, reason = _milp(problem, pairs, weight, time_limit_seconds)
    units = None if outcome is None else outcome.units
    if outcome is not None and units is not None and outcome.optimal:
        try:
            return _finish(problem, pairs, weight, units, outcome, started)
        except ValidationFailed:  # rounding broke a rule: never seen, but be safe
            units, reason = None, "HiGHS returned an allocation that breaks a rule"
    greedy = greedy_nearest_first(problem, pairs)
    if outcome is not None and units is not None:
        try:
            mine = evaluate(problem, pairs, units).key()
        except ValidationFailed:
            mine = None
        if mine is not None and mine <= evaluate(problem, pairs, greedy).key():
            return _finish(problem, pairs, weight, units, outcome, started)
        reason = f"HiGHS stopped ({outcome.status}) without beating the greedy baseline"
    proposal = build_proposal(
        problem, pairs, greedy, method="greedy", solver_status="greedy",
        optimal=False, fallback_reason=reason, weight=weight,
    )  # fmt: skip
    return replace(proposal, seconds=time.perf_counter() - started)


def _milp(
    problem: AllocationProblem,
    pairs: Sequence[Pair],
    weight: float,
    time_limit_seconds: float,
) -> tuple[MilpOutcome | None, str]:
    """Build and solve the model; on failure return None and the reason."""
    try:
        model = build_model(problem, pairs, weight)
        outcome = solve_model(model, time_limit_seconds)
    except ImportError:
        return None, "HiGHS (highspy) is not installed"
    if outcome.units is None:
        return outcome, f"HiGHS stopped ({outcome.status}) without a solution"
    return outcome, ""


def _finish(
    problem: AllocationProblem,
    pairs: Sequence[Pair],
    weight: float,
    units: Units,
    outcome: MilpOutcome,
    started: float,
) -> Proposal:
    """Explain the solver's allocation and stamp the time taken."""
    proposal = build_proposal(
        problem, pairs, units, method="milp", solver_status=outcome.status,
        optimal=outcome.optimal, weight=weight,
    )  # fmt: skip
    return replace(proposal, seconds=time.perf_counter() - started)
