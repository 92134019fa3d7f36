"""Readiness of a department: trained people per role, drills joined, and a level.

The rules (also shown on the readiness pages and in ``muster readiness --help``):

A role is *measured* when the course catalogue has a course for it. For each measured
role the department's active holders of that role are counted, and of them those
*trained* (a current record of any course of the role) and those trained at the
*advanced* tier. A department is

- **not ready** when nobody in it holds a measured role (``no_people``), when fewer
  than half of a role's holders are trained (``role_under_half``), or when its last
  drill missed more expected actions than it met on time or late
  (``last_drill_mostly_missed``);
- **ready** when every holder of every measured role is trained, at least one holder
  of each role that has an advanced course is trained at the advanced tier, it joined
  at least one drill and its last drill missed no expected action;
- **partly ready** otherwise, with the reasons that keep it from ready
  (``role_not_all_trained``, ``no_advanced``, ``no_drill``, ``last_drill_missed``).

Pure (stdlib only); imported by ``muster.training.readiness_queries``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from muster.training.domain.model import Tier


class Level(StrEnum):
    """How ready a department is."""

    READY = "ready"
    PARTLY = "partly"
    NOT_READY = "not_ready"


NOT_READY_REASONS = frozenset(
    {"no_people", "role_under_half", "last_drill_mostly_missed"}
)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a department is not ready: a reason code and the role it is about."""

    code: str
    role: str | None = None

    @property
    def is_blocking(self) -> bool:
        """Tell whether the reason makes the department not ready (not just partly)."""
        return self.code in NOT_READY_REASONS


@dataclass(frozen=True, slots=True)
class RoleCoverage:
    """A role in a department: its holders, how many are trained, how many advanced.

    ``has_advanced_course`` tells whether the catalogue offers the advanced tier for
    the role (only then is an advanced holder expected).
    """

    role: str
    holders: int
    trained: int
    advanced: int
    has_advanced_course: bool = False


@dataclass(frozen=True, slots=True)
class DrillOutcome:
    """A department's results in one completed drill: expected actions met on
    time, met late and missed."""

    drill_id: str
    scenario_code: str
    title_zh: str
    title_en: str
    finished_at: str
    met: int = 0
    late: int = 0
    missed: int = 0

    def title(self, language: str) -> str:
        """Return the scenario title in the given language."""
        return self.title_zh if language == "zh-CN" else self.title_en


@dataclass(frozen=True, slots=True)
class DepartmentReadiness:
    """A department's readiness: roles, drills joined, last drill, level, reasons."""

    department: str
    roles: tuple[RoleCoverage, ...]
    drills_joined: int
    last_drill: DrillOutcome | None
    level: Level
    reasons: tuple[Reason, ...]


def role_coverage(
    role: str,
    *,
    holders: Iterable[str],
    tiers: Mapping[str, Tier],
    has_advanced_course: bool,
) -> RoleCoverage:
    """Count a role's holders (user ids), those trained and those advanced."""
    people = set(holders)
    trained = [tiers[person] for person in people if person in tiers]
    return RoleCoverage(
        role=role,
        holders=len(people),
        trained=len(trained),
        advanced=sum(1 for tier in trained if tier is Tier.ADVANCED),
        has_advanced_course=has_advanced_course,
    )


def assess(
    department: str,
    *,
    roles: Sequence[RoleCoverage],
    drills: Sequence[DrillOutcome],
) -> DepartmentReadiness:
    """Apply the readiness rules to a department's roles and drills (oldest first)."""
    last = drills[-1] if drills else None
    reasons = [*_role_reasons(roles), *_drill_reasons(last)]
    if any(reason.is_blocking for reason in reasons):
        level = Level.NOT_READY
    elif reasons:
        level = Level.PARTLY
    else:
        level = Level.READY
    return DepartmentReadiness(
        department=department,
        roles=tuple(roles),
        drills_joined=len(drills),
        last_drill=last,
        level=level,
        reasons=tuple(reasons),
    )


def _role_reasons(roles: Sequence[RoleCoverage]) -> list[Reason]:
    staffed = [role for role in roles if role.holders]
    if not staffed:
        return [Reason("no_people")]
    reasons: list[Reason] = []
    for role in staffed:
        if 2 * role.trained < role.holders:
            reasons.append(Reason("role_under_half", role.role))
        elif role.trained < role.holders:
            reasons.append(Reason("role_not_all_trained", role.role))
        if role.has_advanced_course and not role.advanced:
            reasons.append(Reason("no_advanced", role.role))
    return reasons


def _drill_reasons(last: DrillOutcome | None) -> list[Reason]:
    if last is None:
        return [Reason("no_drill")]
    if last.missed > last.met + last.late:
        return [Reason("last_drill_mostly_missed")]
    if last.missed:
        return [Reason("last_drill_missed")]
    return []


@dataclass(frozen=True, slots=True)
class CityTotals:
    """The city's sums: per role, drills held, and departments at each level."""

    roles: tuple[RoleCoverage, ...]
    drills: int
    levels: dict[str, int]


def city_totals(
    departments: Sequence[DepartmentReadiness], *, drills: int
) -> CityTotals:
    """Sum the departments' role counts (in their order) and count their levels."""
    sums: dict[str, RoleCoverage] = {}
    for department in departments:
        for role in department.roles:
            held = sums.get(role.role)
            sums[role.role] = RoleCoverage(
                role=role.role,
                holders=role.holders + (held.holders if held else 0),
                trained=role.trained + (held.trained if held else 0),
                advanced=role.advanced + (held.advanced if held else 0),
                has_advanced_course=role.has_advanced_course,
            )
    levels = {level.value: 0 for level in Level}
    for department in departments:
        levels[department.level.value] += 1
    return CityTotals(roles=tuple(sums.values()), drills=drills, levels=levels)


__all__ = [
    "NOT_READY_REASONS",
    "CityTotals",
    "DepartmentReadiness",
    "DrillOutcome",
    "Level",
    "Reason",
    "RoleCoverage",
    "assess",
    "city_totals",
    "role_coverage",
]
