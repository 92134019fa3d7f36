"""Trigger rules (stdlib only): when data should propose an incident or feed one.

A pack's ``triggers.yaml`` holds named station groups (a river basin, a district)
and rules of six kinds:

- ``threshold``: a station's latest value of a metric is at or above ``above``;
- ``accumulation``: the sum of a metric over ``window_minutes`` (use a metric whose
  periods do not overlap, such as ``rain_5min``);
- ``rate``: the rise of a metric per hour over ``window_minutes``;
- ``multi_station``: at least ``min_stations`` stations of a group are at or above
  ``above`` (each judged by ``of``: threshold, accumulation or rate);
- ``composite``: every rule in ``all_of`` holds in the same group at once;
- ``cap``: an incoming CAP alert whose event, severity and areas match.

Each rule instance (rule × station, group or alert area) has a state. It *fires*
when its value reaches ``above`` while inactive and *clears* only when the value
falls below ``clear_below`` (hysteresis; default ``above``), so a value hovering at
the threshold fires once. Imported by the situation part's evaluation service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from muster.situation.domain.errors import TriggerRulesInvalid

KINDS = ("threshold", "accumulation", "rate", "multi_station", "composite", "cap")
STATION_KINDS = ("threshold", "accumulation", "rate")
Sample = tuple[datetime, float]
Step = Literal["fire", "clear"] | None


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a firing rule proposes: an incident of a GB/T 35561 type, or attaching
    to an open one of a related type within ``attach_km``; ``fact`` names the
    incident fact the rule's value is recorded as (read by plans' activation)."""

    type_code: str
    title_zh: str
    title_en: str
    attach_km: float = 20.0
    attach_types: tuple[str, ...] = ()
    fact: str | None = None
    department: str | None = None

    def related(self, type_code: str | None) -> bool:
        """Tell whether an open incident of this type may take the trigger."""
        if type_code is None:
            return False
        prefixes = self.attach_types or (self.type_code[:3],)
        return any(type_code.startswith(prefix) for prefix in prefixes)


@dataclass(frozen=True, slots=True)
class TriggerRule:
    """One rule; fields a kind does not use keep their defaults."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    propose: Proposal
    dataset: str | None = None
    metric: str | None = None
    above: float = 0.0
    clear_below: float | None = None
    window_minutes: int = 60
    of: str = "threshold"
    min_stations: int = 1
    group: str | None = None
    all_of: tuple[str, ...] = ()
    event_contains: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    @property
    def clear_level(self) -> float:
        """Return the value below which an active instance clears."""
        return self.above if self.clear_below is None else self.clear_below

    def name(self, language: str) -> str:
        """Return the rule's name in a language (zh-CN or en)."""
        return self.name_zh if language.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class StationGroup:
    """Stations judged together (a basin, a district)."""

    code: str
    name_zh: str
    name_en: str
    stations: frozenset[str]


@dataclass(frozen=True, slots=True)
class ReportStream:
    """A records dataset whose records are reports to fuse (the 12345 hotline): which
    fields hold the id, time, place, category and text, and how its categories map
    to GB/T 35561 type codes (a record of an unmapped category is not fused)."""

    dataset: str
    source: str
    id_field: str
    time_field: str
    location_field: str
    category_field: str
    categories: Mapping[str, str]
    text_field: str | None = None


@dataclass(frozen=True, slots=True)
class FusionSettings:
    """How reports fuse and when a cluster becomes an incident: it attaches to an
    open incident of a related type within ``attach_km``, else it proposes one once
    it holds ``propose_at`` reports (a field report proposes at once)."""

    max_distance_km: float = 1.5
    max_gap_minutes: float = 120.0
    attach_km: float = 5.0
    propose_at: int = 2


@dataclass(frozen=True, slots=True)
class TriggerSet:
    """Every rule and group of a deployment, with its report streams and fusion."""

    rules: tuple[TriggerRule, ...] = ()
    groups: tuple[StationGroup, ...] = ()
    streams: tuple[ReportStream, ...] = ()
    fusion: FusionSettings = field(default_factory=FusionSettings)
    _by_code: dict[str, TriggerRule] = field(default_factory=dict, compare=False)

    def rule(self, code: str) -> TriggerRule | None:
        """Return a rule by code."""
        if not self._by_code:
            self._by_code.update({rule.code: rule for rule in self.rules})
        return self._by_code.get(code)

    def group(self, code: str) -> StationGroup | None:
        """Return a group by code."""
        return next((g for g in self.groups if g.code == code), None)

    def groups_of(self, station: str) -> list[StationGroup]:
        """Return the groups a station belongs to."""
        return [group for group in self.groups if station in group.stations]

    def on_dataset(self, dataset: str, kinds: Iterable[str]) -> list[TriggerRule]:
        """Return the rules of some kinds that read a dataset."""
        wanted = set(kinds)
        return [r for r in self.rules if r.dataset == dataset and r.kind in wanted]

    def stream(self, dataset: str) -> ReportStream | None:
        """Return the report stream of a dataset, if it is one."""
        return next((s for s in self.streams if s.dataset == dataset), None)

    def composites_over(self, codes: Iterable[str]) -> list[TriggerRule]:
        """Return the composite rules that use any of the rules named."""
        used = set(codes)
        return [r for r in self.rules if r.kind == "composite" and used & set(r.all_of)]


def measure(
    kind: str, samples: Sequence[Sample], *, window_minutes: int
) -> float | None:
    """Return a station's value under a station kind, or None without enough data.

    ``samples`` are (observed_at, value), any order; a repeated time counts once
    (the last sample given for it). The window ends at the newest sample.
    """
    if not samples:
        return None
    by_time = dict(sorted(samples, key=lambda sample: sample[0]))
    times = sorted(by_time)
    newest = times[-1]
    if kind == "threshold":
        return by_time[newest]
    start = newest - timedelta(minutes=window_minutes)
    inside = [t for t in times if t > start]
    if kind == "accumulation":
        return round(sum(by_time[t] for t in inside), 6)
    # rate: from the oldest sample at or after the window's start to the newest,
    # over at least half the window (two readings a minute apart say little).
    base = [t for t in times if t >= start]
    first = base[0]
    hours = (newest - first).total_seconds() / 3600
    if hours * 60 < window_minutes / 2:
        return None
    return round((by_time[newest] - by_time[first]) / hours, 6)


def step(rule: TriggerRule, *, active: bool, value: float | None) -> Step:
    """Decide whether an instance fires, clears or stays (hysteresis)."""
    if value is None:
        return None
    if not active and value >= rule.above:
        return "fire"
    if active and value < rule.clear_level:
        return "clear"
    return None


def group_count(
    rule: TriggerRule, values: Mapping[str, float | None]
) -> tuple[int, int]:
    """Return (stations at or above ``above``, stations at or above the clear level)
    for a multi-station rule; the group's value is the first, clearing uses the
    second so a station dipping just below ``above`` does not clear the group."""
    high = sum(1 for v in values.values() if v is not None and v >= rule.above)
    held = sum(1 for v in values.values() if v is not None and v >= rule.clear_level)
    return high, held


def group_step(rule: TriggerRule, *, active: bool, high: int, held: int) -> Step:
    """Decide a multi-station instance: fire at ``min_stations`` at or above
    ``above``; clear when fewer than ``min_stations`` stay above the clear level."""
    if not active and high >= rule.min_stations:
        return "fire"
    if active and held < rule.min_stations:
        return "clear"
    return None


@dataclass(frozen=True, slots=True)
class AlertArea:
    """One area of an incoming CAP alert, as a trigger sees it."""

    key: str
    description: str
    geocodes: tuple[str, ...]
    centre: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """One info block of a CAP alert, as a trigger sees it."""

    event: str
    severity: str
    headline: str
    expires: datetime | None
    areas: tuple[AlertArea, ...]


def cap_matches(rule: TriggerRule, info: AlertInfo) -> list[AlertArea]:
    """Return the areas of an info block a CAP rule fires for (none if the event or
    severity does not match). Rule areas match a geocode value or a description."""
    text = f"{info.event} {info.headline}".casefold()
    if rule.event_contains and not any(
        word.casefold() in text for word in rule.event_contains
    ):
        return []
    if rule.severities and info.severity not in rule.severities:
        return []
    if not rule.areas:
        return list(info.areas)
    return [
        area
        for area in info.areas
        if any(
            wanted in area.geocodes or wanted in area.description
            for wanted in rule.areas
        )
    ]


__all__ = [
    "KINDS",
    "STATION_KINDS",
    "AlertArea",
    "AlertInfo",
    "FusionSettings",
    "Proposal",
    "ReportStream",
    "Sample",
    "StationGroup",
    "TriggerRule",
    "TriggerRulesInvalid",
    "TriggerSet",
    "cap_matches",
    "group_count",
    "group_step",
    "measure",
    "step",
]
