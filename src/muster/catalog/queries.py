"""Read functions of the catalog part, used by web, CLI and other parts (ingest).

``list_datasets`` and ``get_dataset`` are the documented way to learn a dataset's
current schema; ``FieldView`` is the stable shape of one field.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection

from muster.catalog.domain.commands import DatasetField
from muster.catalog.read_models import dataset_fields, datasets, schema_versions

MAX_SEARCH_TERMS = 10  # later terms are ignored; each one is a LIKE


@dataclass(frozen=True, slots=True)
class FieldView:
    """One field of a schema: what a record's value must be."""

    name: str
    type: str
    unit: str | None
    required: bool
    sensitivity: str
    choices: tuple[str, ...]
    minimum: float | None
    maximum: float | None
    max_length: int | None


@dataclass(frozen=True, slots=True)
class SchemaVersionView:
    """One recorded version of a dataset's schema."""

    version: int
    fields: tuple[FieldView, ...]
    recorded_at: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class DatasetView:
    """A catalog entry with its current fields and its schema history (oldest first).

    ``field_descriptions`` maps a field name to its (Chinese, English) description.
    """

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
    feed_url: str | None
    csv_mapping: Mapping[str, str]
    csv_encoding: str | None
    keywords: tuple[str, ...]
    schema_version: int
    registered_at: str
    registered_by: str
    updated_at: str
    fields: tuple[FieldView, ...]
    versions: tuple[SchemaVersionView, ...]
    field_descriptions: Mapping[str, tuple[str, str]]

    def name(self, language: str) -> str:
        """Return the dataset's name in the given language."""
        return self.name_zh if language == "zh-CN" else self.name_en

    def field(self, name: str) -> FieldView | None:
        """Return the current field with this name, or None."""
        return next((item for item in self.fields if item.name == name), None)

    def field_description(self, name: str, language: str) -> str:
        """Return a field's description in the language (or the other one)."""
        chinese, english = self.field_descriptions.get(name, ("", ""))
        return (chinese or english) if language == "zh-CN" else (english or chinese)


def list_datasets(
    conn: Connection, *, search: str | None = None, department: str | None = None
) -> list[DatasetView]:
    """Return datasets ordered by code, optionally filtered.

    ``search`` matches, case-insensitively, every whitespace-separated term against
    the code, names, description, keywords and field names (the first
    ``MAX_SEARCH_TERMS`` terms); ``department`` keeps the datasets that department owns.
    """
    query = select(datasets).order_by(datasets.c.code)
    if department:
        query = query.where(datasets.c.owner_department == department)
    for term in (search or "").lower().split()[:MAX_SEARCH_TERMS]:
        query = query.where(datasets.c.search_text.contains(term, autoescape=True))
    return _views(conn, list(conn.execute(query)))


def get_dataset(conn: Connection, code: str) -> DatasetView | None:
    """Return one dataset with its current fields and version history, or None."""
    row = conn.execute(select(datasets).where(datasets.c.code == code)).first()
    return _views(conn, [row])[0] if row is not None else None


def _views(
    conn: Connection, rows: Sequence[Row[tuple[object, ...]]]
) -> list[DatasetView]:
    codes = [row.code for row in rows]
    if not codes:
        return []
    fields: dict[str, list[Row[tuple[object, ...]]]] = defaultdict(list)
    for field_row in conn.execute(
        select(dataset_fields)
        .where(dataset_fields.c.dataset_code.in_(codes))
        .order_by(dataset_fields.c.dataset_code, dataset_fields.c.position)
    ):
        fields[field_row.dataset_code].append(field_row)
    versions: dict[str, list[SchemaVersionView]] = defaultdict(list)
    for version_row in conn.execute(
        select(schema_versions)
        .where(schema_versions.c.dataset_code.in_(codes))
        .order_by(schema_versions.c.dataset_code, schema_versions.c.version)
    ):
        versions[version_row.dataset_code].append(_version(version_row))
    return [_view(row, fields[row.code], versions[row.code]) for row in rows]


def _view(
    row: Row[tuple[object, ...]],
    field_rows: list[Row[tuple[object, ...]]],
    versions: list[SchemaVersionView],
) -> DatasetView:
    mapping = row._mapping
    return DatasetView(
        code=mapping["code"],
        name_zh=mapping["name_zh"],
        name_en=mapping["name_en"],
        description=mapping["description"],
        owner_department=mapping["owner_department"],
        sharing_class=mapping["sharing_class"],
        sharing_conditions=mapping["sharing_conditions"],
        legal_basis=mapping["legal_basis"],
        data_grade=mapping["data_grade"],
        update_interval_minutes=int(mapping["update_interval_minutes"]),
        format=mapping["format"],
        connector=mapping["connector"],
        feed_url=mapping["feed_url"],
        csv_mapping=json.loads(mapping["csv_mapping"]),
        csv_encoding=mapping["csv_encoding"],
        keywords=tuple(json.loads(mapping["keywords"])),
        schema_version=int(mapping["schema_version"]),
        registered_at=mapping["registered_at"],
        registered_by=mapping["registered_by"],
        updated_at=mapping["updated_at"],
        fields=tuple(_field_from_row(item) for item in field_rows),
        versions=tuple(versions),
        field_descriptions={
            item.name: (item.description_zh, item.description_en) for item in field_rows
        },
    )


def _field_from_row(row: Row[tuple[object, ...]]) -> FieldView:
    mapping = row._mapping
    return FieldView(
        name=mapping["name"],
        type=mapping["type"],
        unit=mapping["unit"],
        required=bool(mapping["required"]),
        sensitivity=mapping["sensitivity"],
        choices=tuple(json.loads(mapping["choices"])),
        minimum=mapping["minimum"],
        maximum=mapping["maximum"],
        max_length=mapping["max_length"],
    )


def _version(row: Row[tuple[object, ...]]) -> SchemaVersionView:
    mapping = row._mapping
    fields = (DatasetField.from_data(item) for item in json.loads(mapping["fields"]))
    return SchemaVersionView(
        version=int(mapping["version"]),
        fields=tuple(
            FieldView(
                name=item.name,
                type=item.type,
                unit=item.unit,
                required=item.required,
                sensitivity=item.sensitivity,
                choices=item.choices,
                minimum=item.minimum,
                maximum=item.maximum,
                max_length=item.max_length,
            )
            for item in fields
        ),
        recorded_at=mapping["recorded_at"],
        recorded_by=mapping["recorded_by"],
    )


__all__ = [
    "DatasetView",
    "FieldView",
    "SchemaVersionView",
    "get_dataset",
    "list_datasets",
]
