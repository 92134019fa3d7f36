"""Why each unit goes where it goes: explanations of an allocation (stdlib only).

Every ``Assignment`` (units of one supply sent to one request) names its competing
requests, the other requests the same supply could have served, and says why they
did not get it. In an optimal allocation one of three reasons always holds, because
moving one unit to the competitor would otherwise improve the objective:

* ``served``: the competitor is already fully served (by the supplies named);
* ``lower_priority``: it is still short, but its priority is lower;
* ``not_nearer``: same priority, and this supply is not nearer to it.

The greedy fallback can also answer ``handled_first`` (it took the requests one by
one); a solver stopped by its time limit may leave ``not_optimised``. Nearer usable
supplies that were not sent are named too (they are fully used elsewhere). Every
request left short gets a ``Shortfall`` (``allocation_shortfall``). Imported by
``muster.resources.domain.allocation_proposal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Literal

from muster.core.errors import ValidationFailed
from muster.resources.domain.allocation import (
    AllocationProblem,
    Pair,
    PairIndex,
    Units,
    shortfalls,
)
from muster.resources.domain.allocation_baselines import handling_order
from muster.resources.domain.allocation_shortfall import (
    Shortfall,
    Takers,
    shortfall_of,
)

Verdict = Literal[
    "served", "lower_priority", "not_nearer", "handled_first", "not_optimised"
]
_NEAREST = itemgetter(2, 0)  # a pair's (minutes, supply)


@dataclass(frozen=True, slots=True)
class Competitor:
    """A request the same supply could have served, and why it did not."""

    request_id: str
    priority: int
    minutes: float  # from the supply to this request
    short: int  # units it still lacks
    verdict: Verdict
    served_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NearerSupply:
    """A usable supply nearer to the request, fully used by other requests."""

    supply_id: str
    minutes: float
    serving: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    """Units of one supply sent to one request, with the reasons."""

    supply_id: str
    department: str
    request_id: str
    units: int
    type_code: str
    priority: int
    capability: float | None
    min_capability: float | None
    minutes: float
    late_minutes: float
    competitors: tuple[Competitor, ...]
    nearer: tuple[NearerSupply, ...]

    def describe(self, language: str = "en") -> str:
        """Return the explanation as a few sentences (en or zh-CN)."""
        zh = language.startswith("zh")
        fit = _capability_text(self.capability, self.min_capability, zh)
        if zh:
            text = (
                f"{self.supply_id}（{self.department}）的 {self.units} 个"
                f" {self.type_code} 派往 {self.request_id}（优先级 {self.priority}）："
                f"{fit}道路行程 {self.minutes:.0f} 分钟"
            )
            text += (
                f"，迟到 {self.late_minutes:.0f} 分钟。" if self.late_minutes else "。"
            )
        else:
            text = (
                f"{self.units} × {self.type_code} from {self.supply_id}"
                f" ({self.department}) to {self.request_id} (priority"
                f" {self.priority}): {fit}{self.minutes:.0f} min by road"
            )
            late = f", {self.late_minutes:.0f} min late." if self.late_minutes else "."
            text += late
        for near in self.nearer:
            serving = _names(near.serving, zh)
            text += (
                f"更近的 {near.supply_id}（{near.minutes:.0f} 分钟）"
                f"已全部用于 {serving}。"
                if zh
                else f" Nearer {near.supply_id} ({near.minutes:.0f} min) is fully"
                f" used by {serving}."
            )
        for rival in self.competitors:
            text += self._rival_text(rival, zh)
        return text

    def _rival_text(self, rival: Competitor, zh: bool) -> str:
        """Return one sentence on why a competing request did not get this supply."""
        b, a = rival.request_id, self.request_id
        texts: dict[Verdict, tuple[str, str]] = {
            "served": (
                f"already fully served (by {_names(rival.served_by, False)})",
                f"已由 {_names(rival.served_by, True)} 满足",
            ),
            "lower_priority": (
                f"lower priority ({rival.priority} < {self.priority}),"
                f" still {rival.short} short",
                f"优先级较低（{rival.priority} < {self.priority}），仍缺 {rival.short}",
            ),
            "not_nearer": (
                f"same priority, {rival.minutes:.0f} min away against"
                f" {self.minutes:.0f} min to {a}",
                f"优先级相同，距离 {rival.minutes:.0f} 分钟，而 {a} 为"
                f" {self.minutes:.0f} 分钟",
            ),
            "handled_first": (
                f"the greedy fallback handled {a} first",
                f"贪心（兜底）分配先处理了 {a}",
            ),
            "not_optimised": (
                "the solver stopped before proving this choice best",
                "求解器在证明最优之前停止",
            ),
        }
        english, chinese = texts[rival.verdict]
        return f"未派往 {b}：{chinese}。" if zh else f" Not {b}: {english}."


def explain(
    problem: AllocationProblem,
    index: PairIndex,
    units: Units,
    *,
    greedy: bool,
    max_competitors: int = 3,
    max_nearer: int = 2,
) -> tuple[tuple[Assignment, ...], tuple[Shortfall, ...]]:
    """Explain every assignment and every shortfall of an allocation."""
    requests, supplies = problem.requests, problem.supplies
    by_supply, by_request = index.by_supply, index.by_request
    short = shortfalls(problem, units)
    sent = [0] * len(supplies)
    served_by: dict[int, list[str]] = {}
    given: dict[int, list[tuple[int, int]]] = {}  # supply -> (request, units)
    for (s, q), n in sorted(units.items()):
        sent[s] += n
        served_by.setdefault(q, []).append(supplies[s].id)
        given.setdefault(s, []).append((q, n))
    place = handling_order(problem) if greedy else {}
    # a supply's requests, most pressing first: (served, -priority, minutes, request)
    served = [n == 0 for n in short]
    negative = [-r.priority for r in requests]
    ranked: dict[int, list[tuple[bool, int, float, int]]] = {}
    nearest: dict[int, list[Pair]] = {}  # a request's supplies, nearest first

    def verdict(pair: Pair, rival: int, minutes: float) -> Verdict:
        a, b = requests[pair.request], requests[rival]
        if short[rival] == 0:
            return "served"
        if a.priority > b.priority:
            return "lower_priority"
        if a.priority == b.priority and pair.minutes <= minutes:
            return "not_nearer"
        if greedy and place[pair.request] < place[rival]:
            return "handled_first"
        return "not_optimised"

    assignments: list[Assignment] = []
    for (s, q), n in sorted(units.items(), key=lambda item: (item[0][1], item[0][0])):
        if s not in ranked:
            ranked[s] = sorted(
                (served[o], negative[o], m, o) for _, o, m, _ in by_supply[s]
            )
        if q not in nearest:
            nearest[q] = sorted(by_request[q], key=_NEAREST)
        pair = index.get(s, q)
        if pair is None:
            raise ValidationFailed("an allocation uses an unusable pair", pair=(s, q))
        rivals = islice(
            ((o, m) for _, _, m, o in ranked[s] if (s, o) not in units),
            max_competitors,
        )
        nearer = [
            NearerSupply(
                supplies[p.supply].id,
                p.minutes,
                tuple(requests[o].id for o, _ in given.get(p.supply, ())),
            )
            for p in nearest[q]
            if p.minutes < pair.minutes
            and p.supply != s
            and sent[p.supply] >= supplies[p.supply].quantity
        ][:max_nearer]
        competitors = tuple(
            Competitor(
                requests[o].id,
                requests[o].priority,
                m,
                short[o],
                verdict(pair, o, m),
                tuple(served_by.get(o, ())),
            )
            for o, m in rivals
        )
        supply, request = supplies[s], requests[q]
        assignments.append(
            Assignment(
                supply.id, supply.department, request.id, n, request.type_code,
                request.priority, supply.capability, request.min_capability,
                pair.minutes, pair.late_minutes, competitors, tuple(nearer),
            )
        )  # fmt: skip
    same_type: dict[str, list[int]] = {}
    for s, supply in enumerate(supplies):
        same_type.setdefault(supply.type_code, []).append(s)
    takers = Takers(problem, given)
    missing = []
    for q, lacking in enumerate(short):
        if lacking > 0:
            kind = same_type.get(requests[q].type_code, [])
            usable = by_request.get(q, [])
            missing.append(
                shortfall_of(problem, q, lacking, usable, takers, sent, kind)
            )
    return tuple(assignments), tuple(missing)


def _names(ids: Sequence[str], zh: bool) -> str:
    """Return ids joined for a sentence (at most three, then a count)."""
    head = ("、" if zh else ", ").join(ids[:3])
    more = len(ids) - 3
    if more > 0:
        head += f" 等 {len(ids)} 个" if zh else f" and {more} more"
    return head


def _capability_text(have: float | None, need: float | None, zh: bool) -> str:
    """Return the capability check as a clause ('' when the request asks none)."""
    if need is None or have is None:
        return ""
    return f"能力 {have:g} ≥ {need:g}，" if zh else f"capability {have:g} ≥ {need:g}, "
