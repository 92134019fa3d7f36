"""The ingest batch store: record contents, observations, quarantine, CAP alerts.

Written only by this part's handlers, inside the unit of work's transaction, next to
the event that records the batch's count and digest (ADR 0006). Statements are built
once; observations go through the driver's executemany (bench/ingest.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from muster.core.clock import isoformat_utc
from muster.ingest.read_models import (
    batches,
    cap_alerts,
    cap_references,
    quarantine,
    records,
    resource_messages,
)

_INSERT_RECORDS = insert(records)
_INSERT_QUARANTINE = insert(quarantine)


def to_json(value: object) -> str:
    """Serialise typed values deterministically (sorted keys, UTF-8 text)."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain
    )


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return isoformat_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def digest_texts(texts: Sequence[str]) -> str:
    """Return the SHA-256 of stored texts joined by newlines (recomputable by audit)."""
    hasher = hashlib.sha256()
    for text in texts:
        hasher.update(text.encode("utf-8"))
        hasher.update(b"\n")
    return hasher.hexdigest()


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A validated record ready for the store."""

    locator: str
    values: dict[str, object]
    geometry: dict[str, object] | None


def add_records(
    conn: Connection,
    *,
    batch_id: str,
    dataset_code: str,
    rows: Sequence[StoredRecord],
    received_at: str,
) -> str:
    """Store accepted records; return the digest of their stored texts."""
    texts = [to_json(row.values) for row in rows]
    if rows:
        conn.execute(
            _INSERT_RECORDS,
            [
                {
                    "batch_id": batch_id,
                    "ordinal": ordinal,
                    "dataset_code": dataset_code,
                    "locator": row.locator,
                    "record_values": text,
                    "geometry": to_json(row.geometry) if row.geometry else None,
                    "received_at": received_at,
                }
                for ordinal, (row, text) in enumerate(zip(rows, texts, strict=True))
            ],
        )
    return digest_texts(texts)


ObservationRow = tuple[str, str, float, str | None, str, float | None, float | None]
"""(station, metric, value, unit, observed_at ISO UTC, latitude, longitude)."""


def add_observations(
    conn: Connection,
    *,
    batch_id: str,
    dataset_code: str,
    rows: Sequence[ObservationRow],
) -> str:
    """Store observations with the driver's executemany; return their digest."""
    if rows:
        marker = "%s" if conn.dialect.name == "postgresql" else "?"
        columns = (
            "batch_id, ordinal, dataset_code, station, metric, value, unit,"
            " observed_at, latitude, longitude"
        )
        markers = ", ".join([marker] * 10)
        sql = f"INSERT INTO ingest_observations ({columns}) VALUES ({markers})"  # noqa: S608
        conn.exec_driver_sql(
            sql,
            [
                (batch_id, ordinal, dataset_code, *row)
                for ordinal, row in enumerate(rows)
            ],
        )
    # One encoder call for the whole batch: the digest covers the rows exactly as
    # stored, in order, as a JSON array of arrays (recomputable from the table).
    return hashlib.sha256(
        json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ).hexdigest()


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """Something that could not be accepted, with every reason."""

    id: str
    dataset_code: str | None
    batch_id: str | None
    source: str
    format: str
    locator: str
    line: int | None
    content: str
    reasons: list[dict[str, Any]]


def add_quarantine(
    conn: Connection, entries: Sequence[QuarantineEntry], *, created_at: str
) -> None:
    """Put entries in quarantine (status open); nothing is ever dropped."""
    if not entries:
        return
    conn.execute(
        _INSERT_QUARANTINE,
        [
            {
                "id": entry.id,
                "dataset_code": entry.dataset_code,
                "batch_id": entry.batch_id,
                "source": entry.source,
                "format": entry.format,
                "locator": entry.locator,
                "line": entry.line,
                "content": entry.content,
                "reasons": to_json(entry.reasons),
                "status": "open",
                "created_at": created_at,
            }
            for entry in entries
        ],
    )


def get_quarantine(conn: Connection, item_id: str) -> dict[str, Any] | None:
    """Return one quarantine row as a dict, or None."""
    row = conn.execute(select(quarantine).where(quarantine.c.id == item_id)).first()
    return dict(row._mapping) if row is not None else None


def close_quarantine(
    conn: Connection, item_id: str, *, status: str, resolution: str, at: str
) -> None:
    """Mark a quarantine item accepted or discarded."""
    conn.execute(
        update(quarantine)
        .where(quarantine.c.id == item_id)
        .values(status=status, resolution=resolution, resolved_at=at)
    )


def update_quarantine_reasons(
    conn: Connection, item_id: str, *, content: str, reasons: list[dict[str, Any]]
) -> None:
    """Keep the steward's latest attempt and why it still fails."""
    conn.execute(
        update(quarantine)
        .where(quarantine.c.id == item_id)
        .values(content=content, reasons=to_json(reasons))
    )


def batch_with_digest(conn: Connection, dataset_code: str, digest: str) -> str | None:
    """Return the id of an earlier batch of the same dataset with this digest."""
    row = conn.execute(
        select(batches.c.batch_id).where(
            batches.c.dataset_code == dataset_code, batches.c.digest == digest
        )
    ).first()
    return str(row[0]) if row is not None else None


def cap_alert_matching(conn: Connection, *, key: str, digest: str) -> str | None:
    """Return the key of a stored alert with this key or these exact bytes."""
    row = conn.execute(
        select(cap_alerts.c.alert_key).where(
            (cap_alerts.c.alert_key == key) | (cap_alerts.c.digest == digest)
        )
    ).first()
    return str(row[0]) if row is not None else None


def add_cap_alert(
    conn: Connection, *, row: dict[str, Any], references: Sequence[str]
) -> None:
    """Store an accepted alert and the keys of the alerts it references."""
    conn.execute(insert(cap_alerts).values(**row))
    for referenced in dict.fromkeys(references):
        conn.execute(
            insert(cap_references).values(
                alert_key=row["alert_key"], referenced_key=referenced
            )
        )


def resource_message_exists(conn: Connection, digest: str) -> bool:
    """Tell whether these exact EDXL-RM bytes were stored before."""
    row = conn.execute(
        select(resource_messages.c.message_id).where(
            resource_messages.c.digest == digest
        )
    ).first()
    return row is not None


def add_resource_message(conn: Connection, row: dict[str, Any]) -> None:
    """Store a parsed EDXL-RM message for the resources part."""
    conn.execute(insert(resource_messages).values(**row))


__all__ = [
    "ObservationRow",
    "QuarantineEntry",
    "StoredRecord",
    "add_cap_alert",
    "add_observations",
    "add_quarantine",
    "add_records",
    "add_resource_message",
    "batch_with_digest",
    "cap_alert_matching",
    "close_quarantine",
    "digest_texts",
    "get_quarantine",
    "resource_message_exists",
    "to_json",
    "update_quarantine_reasons",
]
