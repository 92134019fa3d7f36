"""Commands of the catalog part and the values a registration carries (stdlib only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from muster.catalog.domain.events import (
    DatasetRegistered,
    DatasetUpdated,
    FieldData,
    FieldValue,
)
from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class DatasetField:
    """One field of a dataset's schema; ``to_data`` is its form in the log.

    ``type`` is a ``FieldType`` value and ``sensitivity`` a ``Sensitivity`` value
    (``catalog.domain.model``); ``choices`` only for enum fields, ``minimum`` and
    ``maximum`` only for numbers, ``max_length`` only for strings.
    """

    name: str
    type: str
    required: bool = False
    sensitivity: str = "none"
    unit: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    description_zh: str = ""
    description_en: str = ""

    def to_data(self) -> FieldData:
        """Return the field as JSON-compatible data for an event."""
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "sensitivity": self.sensitivity,
            "unit": self.unit,
            "choices": list(self.choices),
            "minimum": self.minimum,
            "maximum": self.maximum,
            "max_length": self.max_length,
            "description_zh": self.description_zh,
            "description_en": self.description_en,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, FieldValue]) -> DatasetField:
        """Rebuild a field from its form in the log."""
        choices = data.get("choices")
        max_length = data.get("max_length")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            required=data.get("required") is True,
            sensitivity=str(data.get("sensitivity", "none")),
            unit=_optional_text(data.get("unit")),
            choices=tuple(choices) if isinstance(choices, list) else (),
            minimum=_optional_number(data.get("minimum")),
            maximum=_optional_number(data.get("maximum")),
            max_length=max_length if isinstance(max_length, int) else None,
            description_zh=_optional_text(data.get("description_zh")) or "",
            description_en=_optional_text(data.get("description_en")) or "",
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class DatasetMetadata:
    """Everything about a dataset except its fields (enums in ``domain.model``)."""

    code: str
    name_zh: str
    name_en: str
    description: str = ""
    owner_department: str
    sharing_class: str
    sharing_conditions: str = ""
    legal_basis: str = ""
    data_grade: str
    update_interval_minutes: int
    format: str
    connector: str
    feed_url: str | None = None
    csv_mapping: tuple[tuple[str, str], ...] = ()  # (CSV header, field name)
    csv_encoding: str | None = None
    keywords: tuple[str, ...] = ()

    def to_event(
        self, cls: type[DatasetRegistered] | type[DatasetUpdated]
    ) -> DatasetRegistered | DatasetUpdated:
        """Return the event that records this metadata (registered or updated)."""
        return cls(
            code=self.code,
            name_zh=self.name_zh,
            name_en=self.name_en,
            description=self.description,
            owner_department=self.owner_department,
            sharing_class=self.sharing_class,
            sharing_conditions=self.sharing_conditions,
            legal_basis=self.legal_basis,
            data_grade=self.data_grade,
            update_interval_minutes=self.update_interval_minutes,
            format=self.format,
            connector=self.connector,
            feed_url=self.feed_url,
            csv_mapping=dict(self.csv_mapping),
            csv_encoding=self.csv_encoding,
            keywords=self.keywords,
        )

    @classmethod
    def from_event(cls, event: DatasetRegistered | DatasetUpdated) -> DatasetMetadata:
        """Return the metadata an event recorded (CSV mapping sorted by header)."""
        return cls(
            code=event.code,
            name_zh=event.name_zh,
            name_en=event.name_en,
            description=event.description,
            owner_department=event.owner_department,
            sharing_class=event.sharing_class,
            sharing_conditions=event.sharing_conditions,
            legal_basis=event.legal_basis,
            data_grade=event.data_grade,
            update_interval_minutes=event.update_interval_minutes,
            format=event.format,
            connector=event.connector,
            feed_url=event.feed_url,
            csv_mapping=tuple(sorted(event.csv_mapping.items())),
            csv_encoding=event.csv_encoding,
            keywords=tuple(event.keywords),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterDataset(Command):
    """Enter a dataset in the catalog, or bring an entry up to date.

    Answers "created", "updated" (new metadata and/or a new schema version) or
    "unchanged".
    """

    metadata: DatasetMetadata
    fields: tuple[DatasetField, ...]


def _optional_text(value: FieldValue) -> str | None:
    return value if isinstance(value, str) else None


def _optional_number(value: FieldValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


__all__ = ["DatasetField", "DatasetMetadata", "RegisterDataset"]
