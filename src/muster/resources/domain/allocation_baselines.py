"""Two allocators besides the MILP: greedy nearest-first and brute force (stdlib only).

* ``greedy_nearest_first``: what a dispatcher does by hand, and the optimiser's
  fallback. Requests are taken in priority order (highest first, then the earliest
  ``needed_by``, then input order); each takes units from its nearest usable supplies
  that still have some, until it is served or nothing usable is left.
* ``brute_force``: every allocation of whole units, for tiny instances only; the
  optimality tests compare the MILP's objective with it.

Imported by ``muster.resources.optimiser``, the bench and the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from muster.resources.domain.allocation import (
    AllocationProblem,
    Pair,
    Score,
    Units,
    evaluate,
)


def greedy_nearest_first(problem: AllocationProblem, pairs: Sequence[Pair]) -> Units:
    """Allocate request by request, each from its nearest supplies first."""
    nearest: dict[int, list[Pair]] = {}
    for pair in pairs:
        nearest.setdefault(pair.request, []).append(pair)
    place = handling_order(problem)
    order = sorted(place, key=place.__getitem__)
    left = [supply.quantity for supply in problem.supplies]
    units: Units = {}
    for q in order:
        need = problem.requests[q].quantity
        for pair in sorted(nearest.get(q, ()), key=lambda p: (p.minutes, p.supply)):
            if need == 0:
                break
            take = min(need, left[pair.supply])
            if take > 0:
                units[(pair.supply, q)] = take
                left[pair.supply] -= take
                need -= take
    return units


def handling_order(problem: AllocationProblem) -> dict[int, int]:
    """Return each request's place in the greedy order (0 is handled first)."""
    order = sorted(
        range(len(problem.requests)),
        key=lambda q: (
            -problem.requests[q].priority,
            _deadline(problem.requests[q].needed_by),
            q,
        ),
    )
    return {q: place for place, q in enumerate(order)}


def _deadline(needed_by: datetime | None) -> float:
    """Return a sortable deadline (no deadline sorts last)."""
    return float("inf") if needed_by is None else needed_by.timestamp()


def brute_force(
    problem: AllocationProblem, pairs: Sequence[Pair]
) -> tuple[Units, Score]:
    """Return an optimal allocation by trying every one (tiny instances only).

    Supplies are taken one by one; each splits its units among its usable requests
    in every way that does not exceed what those requests still need (units may
    stay unused). The best (weighted unmet, travel) over all leaves wins.
    """
    by_supply: dict[int, list[Pair]] = {}
    for pair in pairs:
        by_supply.setdefault(pair.supply, []).append(pair)
    need = [request.quantity for request in problem.requests]
    best: list[tuple[Units, Score]] = []
    current: Units = {}

    def visit(s: int) -> None:
        if s == len(problem.supplies):
            score = evaluate(problem, pairs, current)
            if not best or score.key() < best[0][1].key():
                best[:] = [(dict(current), score)]
            return
        options = by_supply.get(s, [])
        for split in _splits(problem.supplies[s].quantity, options, need):
            for pair, n in zip(options, split, strict=True):
                if n:
                    current[(s, pair.request)] = n
                    need[pair.request] -= n
            visit(s + 1)
            for pair, n in zip(options, split, strict=True):
                if n:
                    del current[(s, pair.request)]
                    need[pair.request] += n

    visit(0)
    return best[0]


def _splits(
    units: int, options: Sequence[Pair], need: Sequence[int]
) -> list[tuple[int, ...]]:
    """Return every way to send at most ``units`` among the options' requests."""
    if not options:
        return [()]
    first, rest = options[0], options[1:]
    result: list[tuple[int, ...]] = []
    for n in range(min(units, need[first.request]) + 1):
        result.extend((n, *tail) for tail in _splits(units - n, rest, need))
    return result
