"""Catalog rules (stdlib only): dataset entries, their schemas, who may register them.
A dataset is rebuilt from its stream with ``evolve``; ``register_dataset`` decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass, replace
from enum import StrEnum
from typing import Literal

from muster.catalog.domain.commands import DatasetField, DatasetMetadata
from muster.catalog.domain.errors import InvalidDataset, SensitiveDataGradedGeneral
from muster.catalog.domain.events import (
    DatasetRegistered,
    DatasetSchemaVersioned,
    DatasetUpdated,
)
from muster.core.errors import PermissionDenied
from muster.core.messages import Actor, Event


class FieldType(StrEnum):
    """Type of a dataset field's values."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    POINT = "point"
    GEOMETRY = "geometry"
    ENUM = "enum"


class Sensitivity(StrEnum):
    """What a field reveals about people (PIPL): none, personal, sensitive, location."""

    NONE = "none"
    PERSONAL = "personal"
    SENSITIVE_PERSONAL = "sensitive_personal"
    LOCATION = "location"


class SharingClass(StrEnum):
    """Government data sharing class (政务数据共享类型, glossary §7)."""

    UNCONDITIONAL = "UNCONDITIONAL"
    CONDITIONAL = "CONDITIONAL"
    NOT_SHARED = "NOT_SHARED"


class DataGrade(StrEnum):
    """Data grade under GB/T 43697-2024 (数据分级, glossary §8)."""

    GENERAL = "GENERAL"
    IMPORTANT = "IMPORTANT"
    CORE = "CORE"


class DataFormat(StrEnum):
    """How a dataset's records are encoded when they arrive."""

    CAP = "cap"
    EDXL = "edxl"
    GEOJSON = "geojson"
    CSV = "csv"
    JSON = "json"
    OBSERVATIONS = "observations"


class Connector(StrEnum):
    """How a dataset's records reach Muster."""

    UPLOAD = "upload"
    API_PUSH = "api_push"
    CAP_FEED = "cap_feed"
    FILE_DROP = "file_drop"


Outcome = Literal["created", "updated", "unchanged"]

CSV_ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
DATASET_CODE = re.compile(r"[A-Z][A-Z0-9_]{2,63}")
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
STEWARD_ROLES = ("commander", "duty_officer", "analyst")
MAX_NAME, MAX_TEXT, MAX_FIELDS, MAX_KEYWORDS = 200, 5000, 200, 50


@dataclass(frozen=True, kw_only=True, slots=True)
class Dataset:
    """A registered dataset: metadata, current fields and how many events built it."""

    metadata: DatasetMetadata
    fields: tuple[DatasetField, ...] = ()
    schema_version: int = 0
    version: int = 0


def may_register(actor: Actor, department: str) -> bool:
    """Tell whether the actor may register a dataset of department (or change it)."""
    if actor.has_role("admin", "system"):
        return True
    return (
        actor.kind == "user"
        and actor.department == department
        and actor.has_role(*STEWARD_ROLES)
    )


def register_dataset(
    current: Dataset | None,
    metadata: DatasetMetadata,
    fields: tuple[DatasetField, ...],
    *,
    actor: Actor,
) -> tuple[Outcome, list[Event]]:
    """Decide what registering an entry means; return the outcome and its events."""
    owners = {metadata.owner_department.strip()}
    if current is not None:
        owners.add(current.metadata.owner_department)
    for owner in sorted(owners):
        if not may_register(actor, owner):
            raise PermissionDenied(
                f"registering a dataset of {owner} needs the admin role, or the "
                f"commander, duty officer or analyst role in {owner}",
                action="register dataset",
            )
    metadata, fields = check_dataset(metadata, fields)
    schema = DatasetSchemaVersioned(
        code=metadata.code,
        version=1 if current is None else current.schema_version + 1,
        fields=tuple(item.to_data() for item in fields),
    )
    if current is None:
        return "created", [metadata.to_event(DatasetRegistered), schema]
    events: list[Event] = []
    if metadata != current.metadata:
        events.append(metadata.to_event(DatasetUpdated))
    if fields != current.fields:
        events.append(schema)
    return ("updated" if events else "unchanged"), events


def evolve(dataset: Dataset | None, event: Event) -> Dataset:
    """Apply one event of a dataset's stream to its state."""
    match event:
        case DatasetRegistered():
            return Dataset(metadata=DatasetMetadata.from_event(event), version=1)
        case DatasetUpdated() if dataset is not None:
            return replace(
                dataset,
                metadata=DatasetMetadata.from_event(event),
                version=dataset.version + 1,
            )
        case DatasetSchemaVersioned() if dataset is not None:
            return replace(
                dataset,
                fields=tuple(DatasetField.from_data(item) for item in event.fields),
                schema_version=event.version,
                version=dataset.version + 1,
            )
    raise ValueError(f"{type(event).__name__} cannot apply to {dataset!r}")


def rebuild(events: Iterable[Event]) -> Dataset | None:
    """Fold a dataset's events into its state; None for an empty stream."""
    dataset: Dataset | None = None
    for event in events:
        dataset = evolve(dataset, event)
    return dataset


def check_code(code: str) -> str:
    """Return the code if it is a valid dataset code, or refuse it."""
    if not DATASET_CODE.fullmatch(code):
        message = "a dataset code is an upper-case letter, then 2-63 of A-Z, 0-9, _"
        raise InvalidDataset(message, field="code")
    return code


def check_dataset(
    metadata: DatasetMetadata, fields: tuple[DatasetField, ...]
) -> tuple[DatasetMetadata, tuple[DatasetField, ...]]:
    """Return an entry normalised (text stripped), or refuse it with the reason."""
    code = check_code(metadata.code)
    if any("\x00" in text for text in _texts(astuple(metadata), *map(astuple, fields))):
        raise _refuse("text may not contain NUL characters", field="text", code=code)
    fields = tuple(
        _checked_field(item, f"fields[{index}]", code=code)
        for index, item in enumerate(fields)
    )
    _check_field_set(fields, code=code)
    metadata = _checked_sources(_checked_texts(metadata), fields)
    if metadata.data_grade == DataGrade.GENERAL and any(
        item.sensitivity == Sensitivity.SENSITIVE_PERSONAL for item in fields
    ):
        raise SensitiveDataGradedGeneral(
            f"dataset {code} has sensitive personal fields, so it cannot be graded "
            "GENERAL (就高从严: take the higher grade); grade it IMPORTANT or CORE",
            field="data_grade",
            dataset=code,
        )
    return metadata, fields


def _texts(*values: object) -> Iterator[str]:
    """Yield every string inside nested tuples (of ``dataclasses.astuple``)."""
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple):
            yield from _texts(*value)


def _refuse(message: str, *, field: str, code: str) -> InvalidDataset:
    return InvalidDataset(
        f"dataset {code}: {field}: {message}", field=field, dataset=code
    )


def _checked_field(item: DatasetField, where: str, *, code: str) -> DatasetField:
    """Check one field's name, type, sensitivity and constraints; strip its text."""
    if not FIELD_NAME.fullmatch(item.name):
        message = "a field name is a lower-case letter, then letters, digits or '_'"
        raise _refuse(message, field=f"{where}.name", code=code)
    type_ = _member(item.type, FieldType, field=f"{where}.type", code=code)
    sensitivity = _member(
        item.sensitivity, Sensitivity, field=f"{where}.sensitivity", code=code
    )
    choices = tuple(choice.strip() for choice in item.choices)
    if (type_ == FieldType.ENUM) != bool(choices) or "" in choices:
        message = "enum fields, and only they, have a list of non-empty choices"
        raise _refuse(message, field=f"{where}.choices", code=code)
    if len(set(choices)) != len(choices):
        raise _refuse("choices repeat", field=f"{where}.choices", code=code)
    _check_limits(item, type_, where=where, code=code)
    return replace(
        item,
        type=type_,
        sensitivity=sensitivity,
        unit=(item.unit or "").strip() or None,
        choices=choices,
        minimum=None if item.minimum is None else float(item.minimum),
        maximum=None if item.maximum is None else float(item.maximum),
        description_zh=item.description_zh.strip(),
        description_en=item.description_en.strip(),
    )


def _check_limits(item: DatasetField, type_: str, *, where: str, code: str) -> None:
    """Check minimum/maximum (numbers only) and max_length (strings only)."""
    has_range = item.minimum is not None or item.maximum is not None
    if has_range and type_ not in (FieldType.INTEGER, FieldType.NUMBER):
        message = "only integer and number fields have a minimum or maximum"
        raise _refuse(message, field=f"{where}.minimum", code=code)
    if (
        item.minimum is not None
        and item.maximum is not None
        and item.minimum > item.maximum
    ):
        message = "the minimum is above the maximum"
        raise _refuse(message, field=f"{where}.minimum", code=code)
    if item.max_length is not None and (
        type_ != FieldType.STRING or item.max_length < 1
    ):
        message = "only string fields have a max_length, and it is at least 1"
        raise _refuse(message, field=f"{where}.max_length", code=code)


def _check_field_set(fields: tuple[DatasetField, ...], *, code: str) -> None:
    if not 1 <= len(fields) <= MAX_FIELDS:
        message = f"a schema has 1 to {MAX_FIELDS} fields"
        raise _refuse(message, field="fields", code=code)
    seen: set[str] = set()
    for index, item in enumerate(fields):
        if item.name in seen:
            message = f"field name '{item.name}' repeats"
            raise _refuse(message, field=f"fields[{index}].name", code=code)
        seen.add(item.name)


def _checked_texts(metadata: DatasetMetadata) -> DatasetMetadata:
    """Check names, texts, sharing, grade and interval; strip the text."""
    code = metadata.code
    names = {"name_zh": metadata.name_zh.strip(), "name_en": metadata.name_en.strip()}
    for key, name in names.items():
        if not 1 <= len(name) <= MAX_NAME:
            raise _refuse(f"needs 1-{MAX_NAME} characters", field=key, code=code)
    texts = {
        "description": metadata.description.strip(),
        "sharing_conditions": metadata.sharing_conditions.strip(),
        "legal_basis": metadata.legal_basis.strip(),
    }
    for key, text in texts.items():
        if len(text) > MAX_TEXT:
            raise _refuse(f"at most {MAX_TEXT} characters", field=key, code=code)
    owner = metadata.owner_department.strip()
    if not owner:
        raise _refuse("a dataset needs an owner", field="owner_department", code=code)
    sharing = _member(
        metadata.sharing_class, SharingClass, field="sharing_class", code=code
    )
    grade = _member(metadata.data_grade, DataGrade, field="data_grade", code=code)
    needed = {"CONDITIONAL": "sharing_conditions", "NOT_SHARED": "legal_basis"}
    if sharing in needed and not texts[needed[sharing]]:
        message = f"a {sharing} dataset needs its {needed[sharing]} stated"
        raise _refuse(message, field=needed[sharing], code=code)
    interval = metadata.update_interval_minutes
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        message = "the update interval is a whole number of minutes above 0"
        raise _refuse(message, field="update_interval_minutes", code=code)
    return replace(
        metadata,
        name_zh=names["name_zh"],
        name_en=names["name_en"],
        description=texts["description"],
        sharing_conditions=texts["sharing_conditions"],
        legal_basis=texts["legal_basis"],
        owner_department=owner,
        sharing_class=sharing,
        data_grade=grade,
    )


def _checked_sources(
    metadata: DatasetMetadata, fields: tuple[DatasetField, ...]
) -> DatasetMetadata:
    """Check format, connector, feed, CSV hints and keywords against the fields."""
    code = metadata.code
    format_ = _member(metadata.format, DataFormat, field="format", code=code)
    connector = _member(metadata.connector, Connector, field="connector", code=code)
    feed_url = (metadata.feed_url or "").strip() or None
    if feed_url is not None and (
        connector != Connector.CAP_FEED
        or not feed_url.startswith(("http://", "https://"))
    ):
        message = "only a cap_feed connector has a feed URL, and it is http(s)"
        raise _refuse(message, field="feed_url", code=code)
    is_csv = format_ == DataFormat.CSV
    mapping = tuple(sorted((h.strip(), f.strip()) for h, f in metadata.csv_mapping))
    names = {item.name for item in fields}
    targets = [target for _header, target in mapping]
    if mapping and (
        not is_csv
        or any(not header or target not in names for header, target in mapping)
        or len(set(targets)) != len(targets)
    ):
        message = "maps CSV headers of a csv dataset to distinct fields of its schema"
        raise _refuse(message, field="csv_mapping", code=code)
    encoding = (metadata.csv_encoding or "").strip().lower() or None
    if encoding is not None and (not is_csv or encoding not in CSV_ENCODINGS):
        message = f"a csv dataset's encoding is one of {', '.join(CSV_ENCODINGS)}"
        raise _refuse(message, field="csv_encoding", code=code)
    keywords = tuple(dict.fromkeys(word.strip() for word in metadata.keywords))
    if len(keywords) > MAX_KEYWORDS or any(not 0 < len(w) <= 100 for w in keywords):
        message = f"at most {MAX_KEYWORDS} keywords of 1-100 characters"
        raise _refuse(message, field="keywords", code=code)
    return replace(
        metadata,
        format=format_,
        connector=connector,
        feed_url=feed_url,
        csv_mapping=mapping,
        csv_encoding=encoding,
        keywords=keywords,
    )


def _member(value: str, allowed: type[StrEnum], *, field: str, code: str) -> str:
    options = [str(item.value) for item in allowed]
    if value not in options:
        raise _refuse(f"'{value}' is not one of {options}", field=field, code=code)
    return str(value)


__all__ = [
    "CSV_ENCODINGS",
    "DATASET_CODE",
    "FIELD_NAME",
    "STEWARD_ROLES",
    "Connector",
    "DataFormat",
    "DataGrade",
    "Dataset",
    "FieldType",
    "Outcome",
    "Sensitivity",
    "SharingClass",
    "check_code",
    "check_dataset",
    "evolve",
    "may_register",
    "rebuild",
    "register_dataset",
]
