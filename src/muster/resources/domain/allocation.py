"""Allocating resources across departments to competing requests: inputs and rules.

The model (docs/allocation-model.md): requests ask for so many units of a resource
type with at least some capability; departments hold supplies (so many units of a
type, each with a capability, at a place). A unit of supply *s* may serve request
*q* when the types match, the capability (and tier) is enough, a road route exists
under the current closures and, when the policy asks, it arrives by ``needed_by``.
An allocation gives whole units; it minimises, lexicographically,

1. the priority-weighted unmet demand ``Σ priority(q) · unmet(q)``, then
2. the travel time ``Σ minutes(s, q) · units(s, q)`` (unit-minutes).

Both are folded into one objective ``W · (1) + (2)`` with ``W`` one more than any
travel total a feasible allocation can reach (``unmet_weight``), so (1) strictly
dominates. Stdlib only; imported by the optimiser (``muster.resources.optimiser``),
the baselines, the explanations, the road layer (``Location``), the bench and tests.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Literal, NamedTuple, Protocol

from muster.core.errors import ValidationFailed

Rejection = Literal["type", "capability", "tier", "unreachable", "too_far", "too_late"]


@dataclass(frozen=True, slots=True)
class Location:
    """A WGS 84 position (latitude, longitude in degrees)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        """Refuse a position off the globe."""
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValidationFailed("position out of range", lat=self.lat, lon=self.lon)


@dataclass(frozen=True, slots=True)
class Request:
    """A request for ``quantity`` units of a type, at a place, with a priority.

    ``priority`` is a whole number ≥ 1 (higher is more urgent); ``min_capability``
    is in the type's measure per unit (m³/h, kW …; None: any); ``max_tier`` accepts
    tiers up to it (1 = tier I, the most capable; None: any).
    """

    id: str
    type_code: str
    quantity: int
    location: Location
    priority: int = 1
    min_capability: float | None = None
    max_tier: int | None = None
    needed_by: datetime | None = None

    def __post_init__(self) -> None:
        """Refuse a request the model cannot weigh."""
        if self.quantity < 1:
            raise ValidationFailed("a request needs at least one unit", id=self.id)
        if self.priority < 1:
            raise ValidationFailed("priority is a whole number ≥ 1", id=self.id)
        if self.needed_by is not None and self.needed_by.utcoffset() != timedelta(0):
            raise ValidationFailed("needed_by must be an aware UTC datetime")


@dataclass(frozen=True, slots=True)
class Supply:
    """Units of one type a department holds at one place, ready in some minutes."""

    id: str
    department: str
    type_code: str
    quantity: int
    location: Location
    capability: float | None = None
    tier: int | None = None
    ready_minutes: float = 0.0

    def __post_init__(self) -> None:
        """Refuse a negative stock."""
        if self.quantity < 0 or self.ready_minutes < 0:
            raise ValidationFailed("quantity and readiness are ≥ 0", id=self.id)


class TravelTimes(Protocol):
    """Road travel minutes from a supply to a request (None: no route)."""

    def minutes(self, supply_id: str, request_id: str) -> float | None:
        """Return the minutes by road under the current closures, or None."""


@dataclass(frozen=True, slots=True)
class TravelTable:
    """Travel times given as a table: (supply id, request id) -> minutes."""

    table: Mapping[tuple[str, str], float]

    def minutes(self, supply_id: str, request_id: str) -> float | None:
        """Return the tabled minutes, or None when the pair has no route."""
        return self.table.get((supply_id, request_id))


@dataclass(frozen=True, slots=True)
class AllocationPolicy:
    """Choices about what counts as a usable pair.

    ``allow_late``: a unit that arrives after ``needed_by`` may still be sent (it is
    flagged as late); when False it is not usable for that request.
    ``max_travel_minutes``: pairs further apart by road are not usable (None: any).
    """

    allow_late: bool = True
    max_travel_minutes: float | None = None


@dataclass(frozen=True, slots=True)
class AllocationProblem:
    """What to allocate: the requests, the supplies, the road times and the policy."""

    requests: tuple[Request, ...]
    supplies: tuple[Supply, ...]
    travel: TravelTimes
    now: datetime | None = None
    policy: AllocationPolicy = field(default_factory=AllocationPolicy)

    def __post_init__(self) -> None:
        """Refuse duplicate ids: results name requests and supplies by id."""
        for kind, ids in (
            ("request", [r.id for r in self.requests]),
            ("supply", [s.id for s in self.supplies]),
        ):
            if len(set(ids)) != len(ids):
                raise ValidationFailed(f"duplicate {kind} id")


class Pair(NamedTuple):
    """A usable (supply, request) pair by index, with its road minutes and lateness.

    A named tuple, not a frozen dataclass: large problems make tens of thousands.
    """

    supply: int
    request: int
    minutes: float
    late_minutes: float  # 0.0 when on time or without a deadline


Units = dict[tuple[int, int], int]
"""An allocation: (supply index, request index) -> units sent (only pairs > 0)."""


def rejection(problem: AllocationProblem, s: int, q: int) -> Rejection | Pair:
    """Return the pair if supply ``s`` may serve request ``q``, else why not."""
    supply, request = problem.supplies[s], problem.requests[q]
    if supply.type_code != request.type_code:
        return "type"
    if request.min_capability is not None and (
        supply.capability is None or supply.capability < request.min_capability
    ):
        return "capability"
    if request.max_tier is not None and (
        supply.tier is None or supply.tier > request.max_tier
    ):
        return "tier"
    minutes = problem.travel.minutes(supply.id, request.id)
    if minutes is None or not math.isfinite(minutes):
        return "unreachable"
    limit = problem.policy.max_travel_minutes
    if limit is not None and minutes > limit:
        return "too_far"
    late = 0.0
    if problem.now is not None and request.needed_by is not None:
        left = (request.needed_by - problem.now).total_seconds() / 60.0
        late = max(0.0, supply.ready_minutes + minutes - left)
        if late > 0.0 and not problem.policy.allow_late:
            return "too_late"
    return Pair(s, q, float(minutes), late)


def compatible_pairs(problem: AllocationProblem) -> tuple[Pair, ...]:
    """Return every usable pair, ordered by request then supply index.

    The same rules as ``rejection``, inlined: this runs for every pair of a large
    problem (the tests check that both agree).
    """
    by_type: dict[str, list[tuple[int, Supply]]] = {}
    for s, supply in enumerate(problem.supplies):
        if supply.quantity > 0:
            by_type.setdefault(supply.type_code, []).append((s, supply))
    minutes_of = problem.travel.minutes
    limit = problem.policy.max_travel_minutes
    allow_late, now = problem.policy.allow_late, problem.now
    pairs: list[Pair] = []
    for q, request in enumerate(problem.requests):
        need, tier, request_id = request.min_capability, request.max_tier, request.id
        left = None
        if now is not None and request.needed_by is not None:
            left = (request.needed_by - now).total_seconds() / 60.0
        for s, supply in by_type.get(request.type_code, ()):
            if need is not None and (
                supply.capability is None or supply.capability < need
            ):
                continue
            if tier is not None and (supply.tier is None or supply.tier > tier):
                continue
            minutes = minutes_of(supply.id, request_id)
            if minutes is None or not math.isfinite(minutes):
                continue
            if limit is not None and minutes > limit:
                continue
            late = (
                0.0 if left is None else max(0.0, supply.ready_minutes + minutes - left)
            )
            if late > 0.0 and not allow_late:
                continue
            pairs.append(Pair(s, q, float(minutes), late))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class PairIndex:
    """The usable pairs grouped by supply and by request (each in index order)."""

    by_supply: dict[int, list[Pair]]
    by_request: dict[int, list[Pair]]

    @classmethod
    def of(cls, pairs: Sequence[Pair]) -> PairIndex:
        """Group the pairs (sorting and grouping run in C: problems are large)."""
        by_request = {
            q: list(group)
            for q, group in groupby(sorted(pairs, key=_REQUEST_SUPPLY), _REQUEST)
        }
        by_supply = {
            s: list(group) for s, group in groupby(sorted(pairs, key=_SUPPLY), _SUPPLY)
        }
        return cls(by_supply, by_request)

    def get(self, supply: int, request: int) -> Pair | None:
        """Return the pair of this supply and request, or None if not usable."""
        candidates = self.by_request.get(request, [])
        k = bisect_left(candidates, supply, key=_SUPPLY)
        if k < len(candidates) and candidates[k].supply == supply:
            return candidates[k]
        return None


_SUPPLY = itemgetter(0)
_REQUEST = itemgetter(1)
_REQUEST_SUPPLY = itemgetter(1, 0)


def unmet_weight(problem: AllocationProblem, pairs: Sequence[Pair]) -> float:
    """Return W: one more than the largest travel total any allocation can reach.

    Each unit of a supply travels at most its longest usable pair, so the travel
    total is below W; a change of one priority-weighted unit (the smallest step,
    priorities and units being whole) then outweighs any change in travel.
    """
    longest = [0.0] * len(problem.supplies)
    for pair in pairs:
        if pair.minutes > longest[pair.supply]:
            longest[pair.supply] = pair.minutes
    total = sum(s.quantity * m for s, m in zip(problem.supplies, longest, strict=True))
    return float(math.floor(total) + 1)


@dataclass(frozen=True, slots=True)
class Score:
    """How good an allocation is: the two objectives, in order of importance."""

    weighted_unmet: int
    unmet_units: int
    travel_minutes: float  # unit-minutes: Σ minutes · units

    def key(self) -> tuple[int, float]:
        """Return the lexicographic key (smaller is better)."""
        return (self.weighted_unmet, self.travel_minutes)

    def objective(self, weight: float) -> float:
        """Return the single objective ``W · weighted_unmet + travel``."""
        return weight * self.weighted_unmet + self.travel_minutes


def shortfalls(problem: AllocationProblem, units: Units) -> list[int]:
    """Return the units still unmet per request index."""
    short = [request.quantity for request in problem.requests]
    for (_, q), n in units.items():
        short[q] -= n
    return short


def evaluate(
    problem: AllocationProblem, pairs: Sequence[Pair] | PairIndex, units: Units
) -> Score:
    """Score an allocation, refusing one that breaks a rule of the model."""
    index = pairs if isinstance(pairs, PairIndex) else PairIndex.of(pairs)
    sent = [0] * len(problem.supplies)
    travel = 0.0
    for key, n in units.items():
        pair = index.get(*key)
        if pair is None or n < 1:
            raise ValidationFailed("an allocation uses an unusable pair", pair=key)
        sent[key[0]] += n
        travel += pair.minutes * n
    if any(n > s.quantity for n, s in zip(sent, problem.supplies, strict=True)):
        raise ValidationFailed("an allocation sends more units than a supply holds")
    short = shortfalls(problem, units)
    if any(n < 0 for n in short):
        raise ValidationFailed("an allocation sends more units than requested")
    weighted = sum(r.priority * n for r, n in zip(problem.requests, short, strict=True))
    return Score(weighted, sum(short), travel)
