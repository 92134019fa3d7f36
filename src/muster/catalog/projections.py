"""Projections of the catalog part: events -> its tables. Imported by bootstrap."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from muster.catalog.domain.commands import DatasetField
from muster.catalog.domain.events import (
    DatasetRegistered,
    DatasetSchemaVersioned,
    DatasetUpdated,
)
from muster.catalog.read_models import (
    PROJECTED_TABLES,
    dataset_fields,
    datasets,
    schema_versions,
)
from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event


def on_dataset_registered(
    event: DatasetRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Insert the new dataset (its schema arrives with the next event)."""
    conn.execute(
        insert(datasets).values(
            **_metadata_columns(event),
            schema_version=0,
            search_text="",
            registered_at=envelope.recorded_at,
            registered_by=envelope.actor_id,
            updated_at=envelope.recorded_at,
        )
    )
    _refresh_search_text(conn, event.code)


def on_dataset_updated(
    event: DatasetUpdated, envelope: Envelope, conn: Connection
) -> None:
    """Replace the dataset's metadata."""
    conn.execute(
        update(datasets)
        .where(datasets.c.code == event.code)
        .values(**_metadata_columns(event), updated_at=envelope.recorded_at)
    )
    _refresh_search_text(conn, event.code)


def on_dataset_schema_versioned(
    event: DatasetSchemaVersioned, envelope: Envelope, conn: Connection
) -> None:
    """Keep the new version in the history and make its fields the current ones."""
    fields = [DatasetField.from_data(item) for item in event.fields]
    conn.execute(
        insert(schema_versions).values(
            dataset_code=event.code,
            version=event.version,
            fields=json.dumps([item.to_data() for item in fields], ensure_ascii=False),
            recorded_at=envelope.recorded_at,
            recorded_by=envelope.actor_id,
        )
    )
    conn.execute(
        delete(dataset_fields).where(dataset_fields.c.dataset_code == event.code)
    )
    conn.execute(
        insert(dataset_fields),
        [
            _field_row(event.code, position, item)
            for position, item in enumerate(fields)
        ],
    )
    conn.execute(
        update(datasets)
        .where(datasets.c.code == event.code)
        .values(schema_version=event.version, updated_at=envelope.recorded_at)
    )
    _refresh_search_text(conn, event.code)


def search_text(*parts: str) -> str:
    """Return the lower-cased text that catalog search matches terms against."""
    return "\n".join(part for part in parts if part).lower()


def _metadata_columns(event: DatasetRegistered | DatasetUpdated) -> dict[str, Any]:
    return {
        "code": event.code,
        "name_zh": event.name_zh,
        "name_en": event.name_en,
        "description": event.description,
        "owner_department": event.owner_department,
        "sharing_class": event.sharing_class,
        "sharing_conditions": event.sharing_conditions,
        "legal_basis": event.legal_basis,
        "data_grade": event.data_grade,
        "update_interval_minutes": event.update_interval_minutes,
        "format": event.format,
        "connector": event.connector,
        "feed_url": event.feed_url,
        "csv_mapping": json.dumps(
            event.csv_mapping, ensure_ascii=False, sort_keys=True
        ),
        "csv_encoding": event.csv_encoding,
        "keywords": json.dumps(list(event.keywords), ensure_ascii=False),
    }


def _field_row(code: str, position: int, item: DatasetField) -> dict[str, Any]:
    return {
        "dataset_code": code,
        "position": position,
        "name": item.name,
        "type": item.type,
        "unit": item.unit,
        "required": item.required,
        "sensitivity": item.sensitivity,
        "choices": json.dumps(list(item.choices), ensure_ascii=False),
        "minimum": item.minimum,
        "maximum": item.maximum,
        "max_length": item.max_length,
        "description_zh": item.description_zh,
        "description_en": item.description_en,
    }


def _refresh_search_text(conn: Connection, code: str) -> None:
    """Recompute a dataset's search text from its metadata and current field names."""
    row = conn.execute(select(datasets).where(datasets.c.code == code)).one()
    names = conn.execute(
        select(dataset_fields.c.name)
        .where(dataset_fields.c.dataset_code == code)
        .order_by(dataset_fields.c.position)
    ).scalars()
    text = search_text(
        row.code,
        row.name_zh,
        row.name_en,
        row.description,
        *json.loads(row.keywords),
        *names,
    )
    conn.execute(
        update(datasets).where(datasets.c.code == code).values(search_text=text)
    )


_HANDLERS: dict[type[Event], list[Projector]] = {
    DatasetRegistered: [on_dataset_registered],
    DatasetUpdated: [on_dataset_updated],
    DatasetSchemaVersioned: [on_dataset_schema_versioned],
}

PROJECTIONS = ProjectionSet(name="catalog", handlers=_HANDLERS, tables=PROJECTED_TABLES)

__all__ = ["PROJECTIONS", "search_text"]
