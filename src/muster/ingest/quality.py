"""Data quality evaluation: measure every dataset, log each change of status.

Measures (pure rules in ``domain/model.py``): freshness against the SLA, validity
rate and completeness over a recent window, volume against the recent rhythm, and
consistency between nearby stations measuring the same metric. A ``QualityChanged``
event is appended only when a measure's status changes, so scorecards can count
breaches without a storm of repeats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from muster.catalog import queries as catalog
from muster.core.clock import isoformat_utc, parse_utc
from muster.core.uow import UnitOfWork
from muster.ingest.domain.commands import EvaluateQuality
from muster.ingest.domain.events import QualityChanged
from muster.ingest.domain.model import (
    Reading,
    disagreements,
    freshness,
    rate,
    volume_is_anomalous,
)
from muster.ingest.read_models import (
    batches,
    cap_alerts,
    observations,
    quality,
    quarantine,
)

VOLUME_WINDOWS = 8


@dataclass(frozen=True, slots=True)
class Measure:
    """One measured quality figure of a dataset."""

    dataset_code: str
    measure: str
    status: str
    value: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class ConsistencyRule:
    """When two nearby stations disagree (settings: distance and tolerances)."""

    max_distance_km: float = 5.0
    relative_tolerance: float = 0.5
    absolute_tolerance: float = 10.0


def evaluate_quality(
    command: EvaluateQuality, uow: UnitOfWork, *, rule: ConsistencyRule
) -> list[Measure]:
    """Measure every dataset; append QualityChanged for each status that moved."""
    with uow:
        now = uow.clock.now()
        datasets = catalog.list_datasets(uow.conn)
        measures: list[Measure] = []
        for dataset in datasets:
            measures.extend(_measure_dataset(uow.conn, dataset, now))
        measures.extend(_consistency(uow.conn, datasets, now, rule))
        current = {
            (row.dataset_code, row.measure): row.status
            for row in uow.conn.execute(select(quality))
        }
        for measure in measures:
            previous = current.get((measure.dataset_code, measure.measure))
            if previous == measure.status:
                continue
            stream = f"quality-{measure.dataset_code}"
            event = QualityChanged(
                dataset_code=measure.dataset_code,
                measure=measure.measure,
                status=measure.status,
                previous_status=previous,
                value=measure.value,
                detail=measure.detail,
            )
            version = uow.stream_version(stream)
            uow.append(stream, [event], expected_version=version)
        uow.commit()
        return measures


def _measure_dataset(
    conn: Connection, dataset: catalog.DatasetView, now: datetime
) -> list[Measure]:
    interval = timedelta(minutes=dataset.update_interval_minutes)
    last = _last_received(conn, dataset.code, is_cap=dataset.format == "cap")
    status = freshness(last, interval=interval, now=now)
    age = (now - last).total_seconds() / 60 if last else None
    result = [
        Measure(
            dataset.code,
            "freshness",
            status.value,
            round(age, 1) if age is not None else None,
            f"newest data {round(age)} min old; expected every "
            f"{dataset.update_interval_minutes} min"
            if age is not None
            else "no data received yet",
        )
    ]
    window_start = now - max(timedelta(hours=24), interval * 10)
    accepted, rejected = _counts(conn, dataset.code, since=window_start)
    validity = rate(accepted, accepted + rejected)
    incomplete = _incomplete(conn, dataset.code, since=window_start)
    completeness = rate(accepted + rejected - incomplete, accepted + rejected)
    result.append(_rate_measure(dataset.code, "validity", validity, accepted, rejected))
    result.append(
        _rate_measure(
            dataset.code,
            "completeness",
            completeness,
            accepted + rejected - incomplete,
            incomplete,
        )
    )
    result.append(_volume(conn, dataset.code, interval, now))
    return result


def _rate_measure(
    code: str, name: str, value: float | None, good: int, bad: int
) -> Measure:
    if value is None:
        return Measure(code, name, "no_data", None, "nothing received in the window")
    status = "good" if value >= 0.95 else "degraded" if value >= 0.8 else "poor"
    return Measure(code, name, status, round(value, 4), f"{good} good, {bad} not")


def _last_received(conn: Connection, code: str, *, is_cap: bool) -> datetime | None:
    if is_cap:
        query = select(func.max(cap_alerts.c.received_at)).where(
            cap_alerts.c.dataset_code == code
        )
    else:
        query = select(func.max(batches.c.received_at)).where(
            batches.c.dataset_code == code, batches.c.accepted > 0
        )
    value = conn.execute(query).scalar_one()
    return parse_utc(value) if value else None


def _counts(conn: Connection, code: str, *, since: datetime) -> tuple[int, int]:
    row = conn.execute(
        select(
            func.coalesce(func.sum(batches.c.accepted), 0),
            func.coalesce(func.sum(batches.c.quarantined), 0),
        ).where(
            batches.c.dataset_code == code,
            batches.c.received_at >= isoformat_utc(since),
        )
    ).one()
    return int(row[0]), int(row[1])


def _incomplete(conn: Connection, code: str, *, since: datetime) -> int:
    rows = conn.execute(
        select(quarantine.c.reasons).where(
            quarantine.c.dataset_code == code,
            quarantine.c.created_at >= isoformat_utc(since),
        )
    )
    return sum(
        1
        for (reasons,) in rows
        if any(reason.get("rule") == "required" for reason in json.loads(reasons))
    )


def _volume(conn: Connection, code: str, interval: timedelta, now: datetime) -> Measure:
    counts = []
    for index in range(VOLUME_WINDOWS + 1):
        end = now - interval * index
        start = end - interval
        value = conn.execute(
            select(func.coalesce(func.sum(batches.c.accepted), 0)).where(
                batches.c.dataset_code == code,
                batches.c.received_at > isoformat_utc(start),
                batches.c.received_at <= isoformat_utc(end),
            )
        ).scalar_one()
        counts.append(int(value))
    current, history = counts[0], counts[1:]
    if not any(history):
        return Measure(
            code, "volume", "no_data", float(current), "no recent rhythm yet"
        )
    anomalous = volume_is_anomalous(current, history)
    return Measure(
        code,
        "volume",
        "anomalous" if anomalous else "normal",
        float(current),
        f"{current} records in the last interval; recent: {history}",
    )


def _consistency(
    conn: Connection,
    datasets: list[catalog.DatasetView],
    now: datetime,
    rule: ConsistencyRule,
) -> list[Measure]:
    codes = [item.code for item in datasets if item.format == "observations"]
    if not codes:
        return []
    since = isoformat_utc(now - timedelta(hours=2))
    rows = conn.execute(
        select(observations).where(
            observations.c.dataset_code.in_(codes),
            observations.c.observed_at >= since,
            observations.c.latitude.is_not(None),
        )
    )
    readings = [
        Reading(
            dataset_code=row.dataset_code,
            station=row.station,
            metric=row.metric,
            value=row.value,
            latitude=row.latitude,
            longitude=row.longitude,
            bucket=row.observed_at[:13],
        )
        for row in rows
    ]
    found = disagreements(
        readings,
        max_distance_km=rule.max_distance_km,
        relative_tolerance=rule.relative_tolerance,
        absolute_tolerance=rule.absolute_tolerance,
    )
    involved: dict[str, list[str]] = {code: [] for code in codes}
    for pair in found:
        text = (
            f"{pair.first.station} {pair.first.value:g} vs {pair.second.station} "
            f"{pair.second.value:g} ({pair.first.metric}, {pair.distance_km} km)"
        )
        involved[pair.first.dataset_code].append(text)
        if pair.second.dataset_code != pair.first.dataset_code:
            involved[pair.second.dataset_code].append(text)
    return [
        Measure(
            code,
            "consistency",
            "inconsistent" if notes else "consistent",
            float(len(notes)),
            "; ".join(notes[:5]) or "nearby stations agree",
        )
        for code, notes in involved.items()
    ]


__all__ = ["ConsistencyRule", "Measure", "evaluate_quality"]
