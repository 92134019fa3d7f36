"""Pydantic models of the catalog API (the edge only; never stored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from muster.catalog.domain.commands import DatasetField, DatasetMetadata
from muster.catalog.domain.model import (
    MAX_FIELDS,
    MAX_KEYWORDS,
    MAX_NAME,
    MAX_TEXT,
    Connector,
    DataFormat,
    DataGrade,
    FieldType,
    Sensitivity,
    SharingClass,
)
from muster.catalog.queries import DatasetView, FieldView, SchemaVersionView

CODE_PATTERN = r"^[A-Z][A-Z0-9_]{2,63}$"
FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class FieldIn(BaseModel):
    """One field of the schema a client registers."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=FIELD_NAME_PATTERN)
    type: FieldType
    unit: str | None = Field(default=None, max_length=50)
    required: bool = False
    sensitivity: Sensitivity = Sensitivity.NONE
    choices: list[str] = Field(default_factory=list, max_length=500)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = Field(default=None, ge=1)
    description_zh: str = Field(default="", max_length=1000)
    description_en: str = Field(default="", max_length=1000)

    def to_field(self) -> DatasetField:
        """Return the domain value this field describes."""
        return DatasetField(
            name=self.name,
            type=self.type.value,
            unit=self.unit,
            required=self.required,
            sensitivity=self.sensitivity.value,
            choices=tuple(self.choices),
            minimum=self.minimum,
            maximum=self.maximum,
            max_length=self.max_length,
            description_zh=self.description_zh,
            description_en=self.description_en,
        )


class DatasetIn(BaseModel):
    """What a client sends to register a dataset (or bring it up to date)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1, max_length=MAX_NAME * 2)
    name_en: str = Field(min_length=1, max_length=MAX_NAME * 2)
    description: str = Field(default="", max_length=MAX_TEXT * 2)
    owner_department: str | None = Field(
        default=None, description="Defaults to the caller's department."
    )
    fields: list[FieldIn] = Field(min_length=1, max_length=MAX_FIELDS)
    sharing_class: SharingClass
    sharing_conditions: str = Field(default="", max_length=MAX_TEXT * 2)
    legal_basis: str = Field(default="", max_length=MAX_TEXT * 2)
    data_grade: DataGrade
    update_interval_minutes: int = Field(gt=0, description="The update SLA.")
    format: DataFormat
    connector: Connector
    feed_url: str | None = Field(default=None, max_length=2000)
    csv_mapping: dict[str, str] = Field(
        default_factory=dict, description="CSV header -> field name (csv only)."
    )
    csv_encoding: str | None = Field(default=None, max_length=20)
    keywords: list[str] = Field(default_factory=list, max_length=MAX_KEYWORDS)

    def to_metadata(self, *, default_owner: str | None) -> DatasetMetadata:
        """Return the domain metadata, owned by the caller's department by default."""
        return DatasetMetadata(
            code=self.code,
            name_zh=self.name_zh,
            name_en=self.name_en,
            description=self.description,
            owner_department=self.owner_department or default_owner or "",
            sharing_class=self.sharing_class.value,
            sharing_conditions=self.sharing_conditions,
            legal_basis=self.legal_basis,
            data_grade=self.data_grade.value,
            update_interval_minutes=self.update_interval_minutes,
            format=self.format.value,
            connector=self.connector.value,
            feed_url=self.feed_url,
            csv_mapping=tuple(self.csv_mapping.items()),
            csv_encoding=self.csv_encoding,
            keywords=tuple(self.keywords),
        )


class RegistrationOut(BaseModel):
    """What registering did: created, updated or unchanged, and the schema version."""

    code: str
    outcome: str
    schema_version: int


class FieldOut(BaseModel):
    """One field of a dataset's schema."""

    name: str
    type: str
    unit: str | None
    required: bool
    sensitivity: str
    choices: list[str]
    minimum: float | None
    maximum: float | None
    max_length: int | None
    description_zh: str = ""
    description_en: str = ""

    @classmethod
    def of(cls, view: FieldView, descriptions: tuple[str, str] = ("", "")) -> FieldOut:
        """Build the response model from the read model (and the descriptions)."""
        return cls(
            description_zh=descriptions[0],
            description_en=descriptions[1],
            name=view.name,
            type=view.type,
            unit=view.unit,
            required=view.required,
            sensitivity=view.sensitivity,
            choices=list(view.choices),
            minimum=view.minimum,
            maximum=view.maximum,
            max_length=view.max_length,
        )


class SchemaVersionOut(BaseModel):
    """One recorded version of a schema."""

    version: int
    recorded_at: str
    recorded_by: str
    fields: list[FieldOut]

    @classmethod
    def of(cls, view: SchemaVersionView) -> SchemaVersionOut:
        """Build the response model from the read model."""
        return cls(
            version=view.version,
            recorded_at=view.recorded_at,
            recorded_by=view.recorded_by,
            fields=[FieldOut.of(item) for item in view.fields],
        )


class DatasetSummaryOut(BaseModel):
    """A catalog entry as listed: metadata and the current schema version."""

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
    csv_mapping: dict[str, str]
    csv_encoding: str | None
    keywords: list[str]
    schema_version: int
    registered_at: str
    updated_at: str

    @classmethod
    def of(cls, view: DatasetView) -> DatasetSummaryOut:
        """Build the response model from the read model."""
        return cls(**_summary(view))


class DatasetOut(DatasetSummaryOut):
    """A catalog entry with its current fields and its schema history."""

    fields: list[FieldOut]
    versions: list[SchemaVersionOut]

    @classmethod
    def of(cls, view: DatasetView) -> DatasetOut:
        """Build the response model from the read model."""
        return cls(
            **_summary(view),
            fields=[
                FieldOut.of(item, view.field_descriptions.get(item.name, ("", "")))
                for item in view.fields
            ],
            versions=[SchemaVersionOut.of(item) for item in view.versions],
        )


def _summary(view: DatasetView) -> dict[str, object]:
    return {
        "code": view.code,
        "name_zh": view.name_zh,
        "name_en": view.name_en,
        "description": view.description,
        "owner_department": view.owner_department,
        "sharing_class": view.sharing_class,
        "sharing_conditions": view.sharing_conditions,
        "legal_basis": view.legal_basis,
        "data_grade": view.data_grade,
        "update_interval_minutes": view.update_interval_minutes,
        "format": view.format,
        "connector": view.connector,
        "feed_url": view.feed_url,
        "csv_mapping": dict(view.csv_mapping),
        "csv_encoding": view.csv_encoding,
        "keywords": list(view.keywords),
        "schema_version": view.schema_version,
        "registered_at": view.registered_at,
        "updated_at": view.updated_at,
    }


__all__ = [
    "DatasetIn",
    "DatasetOut",
    "DatasetSummaryOut",
    "FieldIn",
    "FieldOut",
    "RegistrationOut",
    "SchemaVersionOut",
]
