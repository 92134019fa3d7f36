"""Events of the catalog part. Subscribed to by the web feed and the ingest part."""

from __future__ import annotations

from dataclasses import dataclass, field

from muster.core.messages import Event, event_type

FieldValue = str | int | float | bool | list[str] | None
FieldData = dict[str, FieldValue]
"""One field of a schema as the log stores it (``DatasetField.to_data``)."""


@event_type("catalog.DatasetRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DatasetRegistered(Event):
    """A department entered a dataset in the catalog (its schema follows)."""

    code: str
    name_zh: str
    name_en: str
    description: str
    owner_department: str
    sharing_class: str
    sharing_conditions: str
    legal_basis: str
    data_grade: str
    update_interval_minutes: int
    format: str
    connector: str
    feed_url: str | None = None
    csv_mapping: dict[str, str] = field(default_factory=dict)
    csv_encoding: str | None = None
    keywords: tuple[str, ...] = ()


@event_type("catalog.DatasetUpdated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DatasetUpdated(Event):
    """A dataset's metadata changed; carries the whole new metadata."""

    code: str
    name_zh: str
    name_en: str
    description: str
    owner_department: str
    sharing_class: str
    sharing_conditions: str
    legal_basis: str
    data_grade: str
    update_interval_minutes: int
    format: str
    connector: str
    feed_url: str | None = None
    csv_mapping: dict[str, str] = field(default_factory=dict)
    csv_encoding: str | None = None
    keywords: tuple[str, ...] = ()


@event_type("catalog.DatasetSchemaVersioned", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DatasetSchemaVersioned(Event):
    """A dataset got a new schema version (1, 2, …): the complete list of fields."""

    code: str
    version: int
    fields: tuple[FieldData, ...]


__all__ = [
    "DatasetRegistered",
    "DatasetSchemaVersioned",
    "DatasetUpdated",
    "FieldData",
    "FieldValue",
]
