"""Incoming reports and the rules that fuse them into incident candidates (stdlib only).

The model: the citizen hotline, department field teams, CAP alerts and sensors each
send a ``Report`` (a GB/T 35561 type code or sub-category prefix, a position, the UTC
time it was received). Reports that describe the same real-world event are fused
into one *cluster*, an incident candidate a duty officer can later merge or split.
A report joins a cluster only when all three tests pass:

* distance: the haversine distance from the report to the cluster's location (the
  running centroid of its reports) is at most ``FusionRules.max_distance_km``;
* time: the report's time is at most ``max_gap_minutes`` from the cluster's time
  span (so a long event that keeps being reported stays one cluster);
* category: the codes are compatible: the same type (``11A01`` = ``11A01``), the
  same sub-category (the first three characters, ``11A``), or a related pair of
  sub-categories listed in the rules (heavy rain ``11B`` and flooding ``11A``).

Among the clusters that pass, the report joins the one with the best score, a mix
of the three (``FusionRules.score``); each decision is kept as a ``Link`` with its
``LinkReason`` so the reasons can be shown. Imported by ``muster.situation.fusion``,
the synthetic stream generator and, later, the situation handlers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from muster.core.errors import ValidationFailed

Source = Literal["hotline", "field", "cap", "sensor"]
CategoryRelation = Literal[
    "same_type", "same_subcategory", "related", "same_category", "unrelated"
]
SOURCES: frozenset[str] = frozenset({"hotline", "field", "cap", "sensor"})
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius, as sharing.domain.grants uses
_NAMES = {
    "same_type": ("same type", "同一类型"),
    "same_subcategory": ("same sub-category", "同一子类"),
    "related": ("related category", "相关类别"),
    "same_category": ("same category", "同一大类"),
    "unrelated": ("unrelated category", "无关类别"),
}


@dataclass(frozen=True, slots=True)
class Report:
    """One report of something happening, from one source, at one place and time."""

    report_id: str
    source: Source
    department: str
    category: str  # a type code ("11A01") or a sub-category prefix ("11A")
    latitude: float
    longitude: float
    received_at: datetime  # timezone-aware UTC
    text: str = ""

    def __post_init__(self) -> None:
        """Refuse a report that fusion could not place or compare."""
        if self.source not in SOURCES:
            raise ValidationFailed("unknown report source", source=self.source)
        if len(self.category) < 3:
            raise ValidationFailed(
                "category must be a type code or prefix", category=self.category
            )
        if not (-90.0 <= self.latitude <= 90.0 and -180.0 <= self.longitude <= 180.0):
            raise ValidationFailed(
                "position out of range", latitude=self.latitude, lon=self.longitude
            )
        if self.received_at.utcoffset() != timedelta(0):
            raise ValidationFailed("received_at must be an aware UTC datetime")


@dataclass(frozen=True, slots=True)
class LinkReason:
    """Why a report joined a cluster: how far, how long apart, how related."""

    distance_km: float
    minutes_apart: float
    category_relation: CategoryRelation

    def describe(self, language: str = "en") -> str:
        """Return the reason as a short sentence (en or zh-CN)."""
        english, chinese = _NAMES[self.category_relation]
        if language.startswith("zh"):
            return (
                f"距离{self.distance_km:.2f}公里，相隔{self.minutes_apart:.0f}分钟，"
                f"{chinese}"
            )
        return (
            f"{self.distance_km:.2f} km and {self.minutes_apart:.0f} min away, "
            f"{english}"
        )


@dataclass(frozen=True, slots=True)
class Link:
    """The fusion decision for one report: the cluster it is in and why."""

    report_id: str
    cluster_id: str
    joined: bool  # False: the report started a new cluster
    reason: LinkReason | None  # None when the report started a new cluster
    score: float  # 0..1, higher is a closer match; 0.0 for a new cluster


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    """A cluster as stored: its id and its reports' ids in the order they joined."""

    cluster_id: str
    report_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FusionRules:
    """The thresholds and weights fusion decides with.

    ``related`` lists unordered pairs of sub-category prefixes whose reports may
    describe one event (rain and the flooding it causes). ``weights`` are the
    shares of distance, time and category in the score; ``relation_penalty`` is
    how much each relation costs in the category share (0 = perfect).
    ``min_score`` is the least score a join needs: each test alone may pass near
    its limit, but a report at the edge of the distance *and* late *and* only
    related is too doubtful to fuse (on the synthetic streams 0.5 trades about
    half a point of recall for two of precision). ``eviction_slack_minutes`` is
    how late a report may arrive (behind the newest one seen) and still find its
    cluster open.
    """

    max_distance_km: float = 1.5
    max_gap_minutes: float = 120.0
    related: frozenset[tuple[str, str]] = frozenset(
        {("11A", "11B"), ("11A", "11D"), ("11B", "11D"), ("12B", "12G")}
    )
    weights: tuple[float, float, float] = (0.5, 0.3, 0.2)
    relation_penalty: tuple[tuple[CategoryRelation, float], ...] = (
        ("same_type", 0.0),
        ("same_subcategory", 0.25),
        ("related", 0.6),
    )
    eviction_slack_minutes: float = 60.0
    min_score: float = 0.5
    _related_of: dict[str, frozenset[str]] = field(
        init=False, repr=False, compare=False
    )
    _penalty: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the thresholds and index the related pairs both ways."""
        if self.max_distance_km <= 0 or self.max_gap_minutes <= 0:
            raise ValidationFailed("fusion thresholds must be positive")
        pairs: dict[str, set[str]] = {}
        for first, second in self.related:
            pairs.setdefault(first[:3], set()).add(second[:3])
            pairs.setdefault(second[:3], set()).add(first[:3])
        related_of = {key: frozenset(value) for key, value in pairs.items()}
        object.__setattr__(self, "_related_of", related_of)
        object.__setattr__(self, "_penalty", dict(self.relation_penalty))

    def relation(self, first: str, second: str) -> CategoryRelation:
        """Return how two category codes relate under these rules."""
        found = category_relation(first, second)
        if found in ("same_category", "unrelated") and second[:3] in (
            self._related_of.get(first[:3], frozenset())
        ):
            return "related"
        return found

    def is_compatible(self, relation: CategoryRelation) -> bool:
        """Return whether reports so related may be fused."""
        return relation in self._penalty

    def score(
        self, *, distance_km: float, minutes_apart: float, relation: CategoryRelation
    ) -> float:
        """Return the 0..1 match score: 1 = same place, same time, same type."""
        distance, time, category = self.weights
        cost = (
            distance * min(distance_km / self.max_distance_km, 1.0)
            + time * min(minutes_apart / self.max_gap_minutes, 1.0)
            + category * self._penalty.get(relation, 1.0)
        )
        return 1.0 - cost / (distance + time + category)


def is_item_code(code: str) -> bool:
    """Return whether a code names one type (``11A01``), not a branch (``11A00``)."""
    return len(code) == 5 and code[3:] != "00"


def subcategory(code: str) -> str:
    """Return the sub-category prefix of a code: ``11A01`` -> ``11A``."""
    return code[:3]


def category_relation(first: str, second: str) -> CategoryRelation:
    """Return how two codes relate by the GB/T 35561 tree alone (no related pairs).

    A code whose third character is ``0`` (``11000``) names a whole category, so it
    relates to its category's codes only as ``same_category``.
    """
    if first == second and is_item_code(first):
        return "same_type"
    if first[:2] != second[:2]:
        return "unrelated"
    if first[2] == "0" or second[2] == "0" or first[2] != second[2]:
        return "same_category"
    return "same_subcategory"


def distance_km(first: tuple[float, float], second: tuple[float, float]) -> float:
    """Return the haversine distance in km between two (latitude, longitude)."""
    lat1, lon1 = math.radians(first[0]), math.radians(first[1])
    lat2, lon2 = math.radians(second[0]), math.radians(second[1])
    half = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(half)))
