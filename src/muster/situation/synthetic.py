"""Seeded synthetic report streams with true event labels, and pairwise fusion scores.

``report_stream`` invents true events over a fictional region (lat 28.2, lon 112.9,
±0.5°) and the reports that sources send about them, with the noise real streams
have: positions a few hundred metres off (more for callers, less for sensors),
delays within the hour (longer for big events), codes that name only the
sub-category, another item of it or a related one (rain for a flood), a few
misfiled codes, and singleton reports. To keep the task honest, some events recur
at the same hotspots (same place, hours or days apart) and some come in storm
bursts (many floods within a few kilometres in the same hour). The same seed gives
the same stream. ``pairwise_scores`` compares a clustering with the labels through a
contingency table. The codes are sample GB/T 35561-style codes, not a registry.
Imported by ``bench/fusion.py`` and the fusion tests.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from muster.situation.domain.reports import Report, Source

START = datetime(2026, 7, 1, tzinfo=UTC)
CENTRE = (28.2, 112.9)
SPREAD_DEGREES = 0.5
KM_PER_DEGREE = 111.32
# (code, weight, department of its field teams, Chinese name)
_EVENT_CODES = (
    ("11A01", 14, "WATER", "洪水"),
    ("11A51", 6, "WATER", "山洪"),
    ("11B01", 8, "MET", "暴雨"),
    ("11B04", 3, "MET", "大风"),
    ("11D01", 5, "NATRES", "滑坡"),
    ("11D02", 2, "NATRES", "泥石流"),
    ("11G01", 2, "FIRE", "森林火灾"),
    ("12A01", 8, "EMB", "生产安全事故"),
    ("12A05", 8, "FIRE", "建筑火灾"),
    ("12B01", 12, "TRANSPORT", "道路交通事故"),
    ("12C01", 6, "POWER", "停电"),
    ("12G01", 3, "ECOENV", "环境污染"),
    ("13C01", 3, "HEALTH", "食物中毒"),
    ("14C01", 4, "PSB", "群体性事件"),
)
_OTHER_ITEM = {
    "11A": "11A03",
    "11B": "11B02",
    "11D": "11D03",
    "12A": "12A02",
    "12B": "12B02",
    "12C": "12C02",
    "13C": "13C02",
    "14C": "14C02",
}
_RELATED_CODE = {"11A": "11B01", "11B": "11A01", "11D": "11B01", "12B": "12G01"}
_STORM_CODES = ("11A01", "11A01", "11A51", "11B01", "11D01")
# source: (share, position noise sd in km, mean delay in minutes)
_SOURCES: dict[Source, tuple[float, float, float]] = {
    "hotline": (0.55, 0.35, 14.0),
    "field": (0.25, 0.12, 25.0),
    "cap": (0.08, 0.45, 18.0),
    "sensor": (0.12, 0.05, 4.0),
}
_SOURCE_NAMES: tuple[Source, ...] = tuple(_SOURCES)
_SOURCE_SHARES = tuple(share for share, _, _ in _SOURCES.values())
_NAMES = {code: name for code, _, _, name in _EVENT_CODES}
_SOURCE_DEPARTMENTS = {"hotline": "HOTLINE", "cap": "MET", "sensor": "WATER"}
# a report's fields but its id: source, department, code, lat, lon, received, text
_Fields = tuple[Source, str, str, float, float, datetime, str]


@dataclass(frozen=True, slots=True)
class _Event:
    """One true event: what, where, when, how many reports."""

    label: str
    code: str
    latitude: float
    longitude: float
    start: float  # minutes after the stream's start
    size: int


@dataclass(frozen=True, slots=True)
class PairScores:
    """Pairwise agreement of a clustering with the true labels."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    agreeing_pairs: int


def report_stream(
    seed: int,
    count: int,
    *,
    days: float | None = None,
    start: datetime = START,
) -> list[tuple[Report, str]]:
    """Return ``count`` reports in time order, each with its true event's label.

    Args:
        seed: the random seed; the same seed and arguments give the same stream.
        count: how many reports.
        days: the time span; by default one day per 4,000 reports, which keeps
            about 900 events a day whatever the count.
        start: when the span begins (aware UTC).
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    span = (days if days is not None else max(count / 4000, 0.05)) * 24 * 60
    hotspots = [(_uniform_point(rng), _pick_code(rng)) for _ in range(400)]
    events: list[_Event] = []
    total = 0
    while total < count:
        for event in _next_events(rng, len(events), span, hotspots):
            events.append(event)
            total += event.size
    drafts = [_draft(rng, event, start) for event in events for _ in range(event.size)]
    drafts.sort(key=lambda draft: draft[0])
    return [
        (Report(f"R{number:07d}", *fields), label)
        for number, (_, fields, label) in enumerate(drafts[:count])
    ]


def pairwise_scores(predicted: Sequence[str], truth: Sequence[str]) -> PairScores:
    """Return pairwise precision, recall and F1 of cluster ids against labels.

    Counted from the contingency table of (cluster, label) cells: the pairs put
    together are the sum of C(size, 2) over clusters, the true pairs over labels,
    and the agreeing pairs over cells, so the cost is linear in the reports.
    """
    if len(predicted) != len(truth):
        raise ValueError("one predicted cluster per label is needed")
    agreeing = sum(
        _pairs(n) for n in Counter(zip(predicted, truth, strict=True)).values()
    )
    together = sum(_pairs(n) for n in Counter(predicted).values())
    true = sum(_pairs(n) for n in Counter(truth).values())
    precision = agreeing / together if together else 1.0
    recall = agreeing / true if true else 1.0
    total = precision + recall
    f1 = 2 * precision * recall / total if total else 0.0
    return PairScores(precision, recall, f1, true, together, agreeing)


def _pairs(size: int) -> int:
    """Return how many pairs a group of this size holds."""
    return size * (size - 1) // 2


def _uniform_point(rng: random.Random) -> tuple[float, float]:
    """Return a point uniformly in the region."""
    return (
        CENTRE[0] + rng.uniform(-SPREAD_DEGREES, SPREAD_DEGREES),
        CENTRE[1] + rng.uniform(-SPREAD_DEGREES, SPREAD_DEGREES),
    )


def _pick_code(rng: random.Random) -> str:
    """Return an event code by the catalogue's weights."""
    weights = [weight for _, weight, _, _ in _EVENT_CODES]
    return rng.choices(_EVENT_CODES, weights)[0][0]


def _size(rng: random.Random) -> int:
    """Return how many reports an event gets: a fifth are singletons, a long tail."""
    if rng.random() < 0.2:
        return 1
    return min(2 + int(rng.expovariate(1 / 3.5)), 60)


def _next_events(
    rng: random.Random,
    numbered: int,
    span: float,
    hotspots: list[tuple[tuple[float, float], str]],
) -> list[_Event]:
    """Return the next event, or a storm burst of several."""
    kind = rng.random()
    start = rng.uniform(0, span)
    if kind < 0.04:  # a storm: floods, rain and slides a few km apart in one hour
        centre = _uniform_point(rng)
        burst = []
        for offset in range(rng.randint(4, 10)):
            north, east = _in_disc(rng, 8.0)
            latitude, longitude = _moved(centre, north, east)
            burst.append(
                _Event(
                    label=f"E{numbered + offset:06d}",
                    code=rng.choice(_STORM_CODES),
                    latitude=latitude,
                    longitude=longitude,
                    start=start + rng.uniform(0, 90),
                    size=_size(rng),
                )
            )
        return burst
    if kind < 0.12:  # a hotspot again: the same underpass floods, hours or days later
        (latitude, longitude), code = rng.choice(hotspots)
        latitude, longitude = _moved((latitude, longitude), *_in_disc(rng, 0.15))
    else:
        (latitude, longitude), code = _uniform_point(rng), _pick_code(rng)
    return [_Event(f"E{numbered:06d}", code, latitude, longitude, start, _size(rng))]


def _draft(
    rng: random.Random, event: _Event, start: datetime
) -> tuple[float, _Fields, str]:
    """Return one noisy report of an event (its fields but the id) and its label."""
    source = _source(rng, event.code)
    _, noise_km, mean_delay = _SOURCES[source]
    stretch = 1.0 + event.size / 12  # big events keep being reported for longer
    minute = event.start + min(
        rng.expovariate(1 / (mean_delay * stretch)), 60.0 * stretch
    )
    latitude, longitude = _moved(
        (event.latitude, event.longitude),
        rng.gauss(0.0, noise_km),
        rng.gauss(0.0, noise_km),
    )
    department = _SOURCE_DEPARTMENTS.get(source) or _department(event.code)
    fields: _Fields = (
        source,
        department,
        _reported_code(rng, event.code),
        latitude,
        longitude,
        start + timedelta(minutes=minute),
        _NAMES.get(event.code, ""),
    )
    return minute, fields, event.label


def _source(rng: random.Random, code: str) -> Source:
    """Return a source: CAP alerts only for natural hazards, sensors for water."""
    source = rng.choices(_SOURCE_NAMES, _SOURCE_SHARES)[0]
    if (source == "cap" and code[1] != "1") or (
        source == "sensor" and code[:3] not in ("11A", "11B")
    ):
        return "hotline"
    return source


def _reported_code(rng: random.Random, code: str) -> str:
    """Return the code a report carries: mostly the event's, sometimes less exact."""
    draw, prefix = rng.random(), code[:3]
    if draw < 0.70:
        return code
    if draw < 0.82:
        return prefix
    if draw < 0.90:
        return _OTHER_ITEM.get(prefix, code)
    if draw < 0.98:
        return _RELATED_CODE.get(prefix, code)
    return _pick_code(rng)  # misfiled: mostly an unrelated code


def _department(code: str) -> str:
    """Return the department whose field teams handle a code."""
    return next(dept for item, _, dept, _ in _EVENT_CODES if item == code)


def _in_disc(rng: random.Random, radius_km: float) -> tuple[float, float]:
    """Return a (north, east) offset in km uniformly within a disc."""
    distance = radius_km * math.sqrt(rng.random())
    angle = rng.uniform(0.0, 2 * math.pi)
    return distance * math.cos(angle), distance * math.sin(angle)


def _moved(
    point: tuple[float, float], north_km: float, east_km: float
) -> tuple[float, float]:
    """Return a point moved by km north and east (flat-earth, fine at this scale)."""
    latitude = point[0] + north_km / KM_PER_DEGREE
    scale = KM_PER_DEGREE * math.cos(math.radians(point[0]))
    return latitude, point[1] + east_km / scale
