"""Why a request is left short: its ``Shortfall`` explanation (stdlib only).

A short request says where the units that could have served it went (the requests
that received them, highest priority first; in an optimal allocation each has at
least its priority and no usable unit is idle) and how many supplies of its type are
not usable, by reason: capability, tier, road closures, distance, time; or that no
department holds the type. Imported by ``muster.resources.domain.allocation_explain``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from muster.resources.domain.allocation import (
    AllocationProblem,
    Pair,
    Rejection,
    rejection,
)

_REJECTED = {
    "capability": ("with too little capability", "能力不足"),
    "tier": ("of a lower tier", "等级不够"),
    "unreachable": ("cut off by road closures", "因道路封闭无法到达"),
    "too_far": ("too far by road", "道路距离过远"),
    "too_late": ("unable to arrive in time", "无法按时到达"),
}


@dataclass(frozen=True, slots=True)
class Taker:
    """A request that received units a short request could have used."""

    request_id: str
    priority: int
    units: int


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A request left short, and why."""

    request_id: str
    type_code: str
    priority: int
    quantity: int
    short: int
    usable_units: int  # units of the supplies that could serve it
    idle_units: int  # of those, units left unused (0 in an optimal allocation)
    takers: tuple[Taker, ...]
    rejected: tuple[tuple[Rejection, int], ...]  # same-type supplies not usable

    def describe(self, language: str = "en") -> str:
        """Return the explanation as a few sentences (en or zh-CN)."""
        zh = language.startswith("zh")
        text = (
            f"{self.request_id}（优先级 {self.priority}）的 {self.quantity} 个"
            f" {self.type_code} 仍缺 {self.short} 个。"
            if zh
            else f"{self.request_id} (priority {self.priority}) lacks {self.short}"
            f" of {self.quantity} × {self.type_code}."
        )
        takers = ", ".join(
            f"{t.request_id} (priority {t.priority}, {t.units})" for t in self.takers
        )
        takers_zh = "、".join(
            f"{t.request_id}（优先级 {t.priority}，{t.units} 个）" for t in self.takers
        )
        got = self.quantity - self.short
        if self.usable_units and not self.idle_units:
            if not self.takers:
                others, others_zh = "", ""
            elif got:
                others = f": {got} here, the rest by {takers}"
                others_zh = f"：{got} 个派到此处，其余派给 {takers_zh}"
            else:
                others, others_zh = f" by {takers}", f"：派给 {takers_zh}"
            text += (
                f"可用的 {self.usable_units} 个已全部派出{others_zh}。"
                if zh
                else f" {_all_usable(self.usable_units)} in use{others}."
            )
        elif self.usable_units:
            text += (
                f"可用的 {self.usable_units} 个中 {self.idle_units} 个未派出"
                "（非最优解）。"
                if zh
                else f" {self.idle_units} of {self.usable_units} usable units stay"
                " unused (the allocation is not optimal)."
            )
        if self.rejected:
            parts = [
                f"{n} 个{_REJECTED[why][1]}" if zh else f"{n} {_REJECTED[why][0]}"
                for why, n in self.rejected
            ]
            text += (
                "不可用：" + "，".join(parts) + "。"
                if zh
                else " Not usable: " + ", ".join(parts) + "."
            )
        elif not self.usable_units:
            text += "没有部门持有该类型。" if zh else " No department holds this type."
        return text


class Takers:
    """Finds the requests that took a short request's usable units."""

    def __init__(
        self, problem: AllocationProblem, given: dict[int, list[tuple[int, int]]]
    ) -> None:
        """Rank each supply's receivers (highest priority first) once."""
        self._requests = problem.requests
        self._ranked = {
            s: sorted((-problem.requests[q].priority, q) for q, _ in served)
            for s, served in given.items()
        }
        self._received: dict[int, list[tuple[int, int]]] = {}
        for s, served in given.items():
            for q, n in served:
                self._received.setdefault(q, []).append((s, n))

    def top(self, q: int, usable: set[int], limit: int = 5) -> tuple[Taker, ...]:
        """Return up to ``limit`` other requests served from ``usable`` supplies."""
        ranked = sorted(chain.from_iterable(self._ranked.get(s, ()) for s in usable))
        chosen: list[int] = []
        for _, other in ranked:
            if other != q and other not in chosen:
                chosen.append(other)
                if len(chosen) == limit:
                    break
        return tuple(
            Taker(
                self._requests[o].id,
                self._requests[o].priority,
                sum(n for s, n in self._received[o] if s in usable),
            )
            for o in chosen
        )


def shortfall_of(
    problem: AllocationProblem,
    q: int,
    short: int,
    usable: Sequence[Pair],
    takers: Takers,
    sent: Sequence[int],
    same_type: Sequence[int],
) -> Shortfall:
    """Explain why request ``q`` stays ``short`` units short."""
    request, supplies = problem.requests[q], problem.supplies
    usable_supplies = {p.supply for p in usable}
    rejected: Counter[Rejection] = Counter()
    for s in same_type:
        if s not in usable_supplies and supplies[s].quantity > 0:
            found = rejection(problem, s, q)
            if not isinstance(found, Pair):
                rejected[found] += 1
    total = idle = 0
    for s in usable_supplies:
        total += supplies[s].quantity
        idle += supplies[s].quantity - sent[s]
    return Shortfall(
        request.id, request.type_code, request.priority, request.quantity, short,
        total, idle, takers.top(q, usable_supplies), tuple(sorted(rejected.items())),
    )  # fmt: skip


def _all_usable(n: int) -> str:
    """Return 'All n usable units are' (or the singular)."""
    return "The one usable unit is" if n == 1 else f"All {n} usable units are"
