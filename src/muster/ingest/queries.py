"""Read functions of the ingest part: quarantine, stored records, alerts, quality."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from muster.ingest.read_models import (
    batches,
    cap_alerts,
    cap_references,
    observations,
    quality,
    quarantine,
    records,
)


@dataclass(frozen=True, slots=True)
class QuarantineView:
    """A quarantined record or document with every reason it was refused."""

    id: str
    dataset_code: str | None
    batch_id: str | None
    source: str
    format: str
    locator: str
    line: int | None
    content: Any
    reasons: list[dict[str, Any]]
    status: str
    created_at: str
    resolved_at: str | None
    resolution: str | None

    @property
    def is_document(self) -> bool:
        """Tell whether a whole document (not one record) was refused."""
        return self.locator == "document"

    @property
    def values(self) -> dict[str, Any]:
        """Return the record's values as last submitted (empty for documents)."""
        if isinstance(self.content, dict):
            values = self.content.get("values")
            return dict(values) if isinstance(values, dict) else {}
        return {}


@dataclass(frozen=True, slots=True)
class RecordView:
    """A stored record of a dataset."""

    batch_id: str
    ordinal: int
    locator: str
    values: dict[str, Any]
    geometry: dict[str, Any] | None
    received_at: str


@dataclass(frozen=True, slots=True)
class QualityView:
    """The current status of one quality measure of a dataset."""

    measure: str
    status: str
    value: float | None
    detail: str
    changed_at: str


def list_quarantine(
    conn: Connection,
    *,
    dataset_code: str | None = None,
    status: str | None = "open",
    limit: int = 500,
) -> list[QuarantineView]:
    """Return quarantined items, newest first."""
    query = select(quarantine).order_by(quarantine.c.created_at.desc()).limit(limit)
    if dataset_code is not None:
        query = query.where(quarantine.c.dataset_code == dataset_code)
    if status is not None:
        query = query.where(quarantine.c.status == status)
    return [_quarantine_view(row._mapping) for row in conn.execute(query)]


def get_quarantine_item(conn: Connection, item_id: str) -> QuarantineView | None:
    """Return one quarantined item, or None."""
    row = conn.execute(select(quarantine).where(quarantine.c.id == item_id)).first()
    return _quarantine_view(row._mapping) if row is not None else None


def _quarantine_view(row: Any) -> QuarantineView:
    content: Any = row["content"]
    if row["locator"] != "document":
        content = json.loads(content)
    return QuarantineView(
        id=row["id"],
        dataset_code=row["dataset_code"],
        batch_id=row["batch_id"],
        source=row["source"],
        format=row["format"],
        locator=row["locator"],
        line=row["line"],
        content=content,
        reasons=json.loads(row["reasons"]),
        status=row["status"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
        resolution=row["resolution"],
    )


def list_records(
    conn: Connection, dataset_code: str, *, limit: int = 200
) -> list[RecordView]:
    """Return a dataset's stored records, newest first."""
    query = (
        select(records)
        .where(records.c.dataset_code == dataset_code)
        .order_by(records.c.received_at.desc(), records.c.ordinal)
        .limit(limit)
    )
    return [
        RecordView(
            batch_id=row.batch_id,
            ordinal=row.ordinal,
            locator=row.locator,
            values=json.loads(row.record_values),
            geometry=json.loads(row.geometry) if row.geometry else None,
            received_at=row.received_at,
        )
        for row in conn.execute(query)
    ]


def batch_records(conn: Connection, batch_id: str) -> list[dict[str, Any]]:
    """Return a stored batch's record values, in order."""
    query = (
        select(records.c.record_values)
        .where(records.c.batch_id == batch_id)
        .order_by(records.c.ordinal)
    )
    return [dict(json.loads(row[0])) for row in conn.execute(query)]


def list_observations(
    conn: Connection, dataset_code: str, *, limit: int = 500
) -> list[dict[str, Any]]:
    """Return a dataset's newest observations."""
    query = (
        select(observations)
        .where(observations.c.dataset_code == dataset_code)
        .order_by(observations.c.observed_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def batch_stations(
    conn: Connection, batch_id: str
) -> tuple[dict[str, list[str]], str | None]:
    """Return, per metric, the stations a batch reported, and its newest time."""
    query = (
        select(
            observations.c.metric, observations.c.station, observations.c.observed_at
        )
        .where(observations.c.batch_id == batch_id)
        .order_by(observations.c.ordinal)
    )
    found: dict[str, dict[str, None]] = {}
    newest: str | None = None
    for metric, station, observed_at in conn.execute(query):
        found.setdefault(str(metric), {})[str(station)] = None
        newest = max(newest or "", str(observed_at))
    return {metric: list(stations) for metric, stations in found.items()}, newest


def station_samples(
    conn: Connection,
    dataset_code: str,
    metric: str,
    stations: list[str],
    *,
    since: str,
    until: str | None = None,
) -> dict[str, list[tuple[str, float, float | None, float | None]]]:
    """Return each station's (observed_at, value, lat, lon) for a metric since a time
    (ISO UTC, inclusive), oldest first; stations without samples are left out."""
    found: dict[str, list[tuple[str, float, float | None, float | None]]] = {}
    for start in range(0, len(stations), 500):
        query = (
            select(
                observations.c.station,
                observations.c.observed_at,
                observations.c.value,
                observations.c.latitude,
                observations.c.longitude,
            )
            .where(observations.c.dataset_code == dataset_code)
            .where(observations.c.metric == metric)
            .where(observations.c.station.in_(stations[start : start + 500]))
            .where(observations.c.observed_at >= since)
            .order_by(observations.c.observed_at, observations.c.batch_id)
        )
        if until is not None:
            query = query.where(observations.c.observed_at <= until)
        for station, observed_at, value, lat, lon in conn.execute(query):
            found.setdefault(str(station), []).append(
                (str(observed_at), float(value), lat, lon)
            )
    return found


def cap_alert_document(
    conn: Connection, alert_key: str
) -> tuple[str, str | None] | None:
    """Return a stored CAP alert's text as received and its dataset, or None."""
    row = conn.execute(
        select(cap_alerts.c.raw, cap_alerts.c.dataset_code).where(
            cap_alerts.c.alert_key == alert_key
        )
    ).first()
    return (str(row[0]), row[1]) if row is not None else None


def count_stored(conn: Connection, dataset_code: str) -> int:
    """Return how many records or observations a dataset holds."""
    stored = conn.execute(
        select(func.coalesce(func.sum(batches.c.accepted), 0)).where(
            batches.c.dataset_code == dataset_code
        )
    ).scalar_one()
    return int(stored)


def quality_by_dataset(conn: Connection) -> dict[str, dict[str, QualityView]]:
    """Return the current quality measures of every dataset."""
    result: dict[str, dict[str, QualityView]] = {}
    for row in conn.execute(select(quality)):
        result.setdefault(row.dataset_code, {})[row.measure] = QualityView(
            measure=row.measure,
            status=row.status,
            value=row.value,
            detail=row.detail,
            changed_at=row.changed_at,
        )
    return result


def list_cap_alerts(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """Return stored CAP alerts (without their raw XML), newest first."""
    columns = [column for column in cap_alerts.c if column.name != "raw"]
    query = select(*columns).order_by(cap_alerts.c.received_at.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def alert_references(conn: Connection, alert_key: str) -> list[str]:
    """Return the keys of the alerts that an Update or Cancel refers to."""
    query = select(cap_references.c.referenced_key).where(
        cap_references.c.alert_key == alert_key
    )
    return [str(row[0]) for row in conn.execute(query)]


__all__ = [
    "QualityView",
    "QuarantineView",
    "RecordView",
    "alert_references",
    "batch_records",
    "batch_stations",
    "cap_alert_document",
    "count_stored",
    "get_quarantine_item",
    "list_cap_alerts",
    "list_observations",
    "list_quarantine",
    "list_records",
    "quality_by_dataset",
    "station_samples",
]
