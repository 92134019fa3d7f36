"""The dataset form of the catalog pages: posted text to a ``RegisterDataset``, a
dataset view back to text, and which input a refusal names.

Pure functions, no HTTP; the catalog's rules stay in the command's handler. Imported
by ``catalog.form_pages`` (and tests).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.catalog.domain.model import MAX_FIELDS
from muster.catalog.queries import DatasetView, FieldView
from muster.core.errors import MusterError, PermissionDenied
from muster.web.i18n import N_

METADATA_INPUTS = (
    "code", "name_zh", "name_en", "description", "owner_department", "sharing_class",
    "sharing_conditions", "legal_basis", "data_grade", "update_interval_minutes",
    "format", "connector", "feed_url", "csv_encoding", "keywords",
)  # fmt: skip
ROW_INPUTS = (
    "name", "type", "unit", "required", "sensitivity", "minimum", "maximum",
    "choices", "max_length", "description_zh", "description_en", "csv_header",
)  # fmt: skip
# A row is blank (ignored) unless one of these has text; the selects for required and
# sensitivity always send a value, so they do not count.
_ROW_TEXTS = tuple(key for key in ROW_INPUTS if key not in ("required", "sensitivity"))
# Refusals that name no single input are shown above the field table or the form.
TABLE_TARGETS = ("fields", "csv_mapping")
BLANK_ROWS = 3
MAX_ROWS = MAX_FIELDS + 20  # rows past this are not read; the schema limit is lower
_ROW_INPUT = re.compile(r"fields-(\d{1,4})-([a-z_]+)")
_FIELD_TARGET = re.compile(r"fields\[(\d+)\]\.([a-z_]+)")

NUMBER_EXPECTED = N_("Enter a number.")
WHOLE_NUMBER_EXPECTED = N_("Enter a whole number.")
CSV_COLUMN_TWICE = N_("This CSV column is already given for another field.")
DATASET_EXISTS = N_(
    "A dataset with this code is already registered; open it and choose Edit."
)
NOT_PERMITTED = N_("You may not register or change datasets of this department.")
INTERVAL_MESSAGE = N_("Enter the update interval as a whole number of minutes above 0.")
# What to tell the person about a refusal naming an input (field), by error code
# first, then by field ("fields[].name" stands for every row's name).
CODE_MESSAGES: dict[str, str] = {
    "sensitive_data_graded_general": N_(
        "A dataset with sensitive personal information cannot be general data "
        "(take the higher grade): choose important or core data."
    ),
    "unknown_owner_department": N_("Choose an existing department as the owner."),
}
FIELD_MESSAGES: dict[str, str] = {
    "code": N_(
        "Enter a code: an upper-case letter, then 2 to 63 upper-case letters, "
        "digits or underscores."
    ),
    "name_zh": N_("Enter a name of 1 to 200 characters."),
    "name_en": N_("Enter a name of 1 to 200 characters."),
    "description": N_("Enter at most 5000 characters."),
    "sharing_conditions": N_(
        "State the conditions of a conditionally shared dataset "
        "(at most 5000 characters)."
    ),
    "legal_basis": N_(
        "State the legal basis of a dataset that is not shared "
        "(at most 5000 characters)."
    ),
    "owner_department": N_("Choose an existing department as the owner."),
    "sharing_class": N_("Choose a sharing class."),
    "data_grade": N_("Choose a data grade."),
    "update_interval_minutes": INTERVAL_MESSAGE,
    "format": N_("Choose a format."),
    "connector": N_("Choose a connector."),
    "feed_url": N_(
        "Only a CAP feed connector has a feed URL, and it starts with http:// or "
        "https://."
    ),
    "csv_encoding": N_("Only a dataset in CSV format has a CSV encoding."),
    "keywords": N_("Give at most 50 keywords of 1 to 100 characters, one per line."),
    "text": N_("Text may not contain NUL characters."),
    "fields": N_("A schema has 1 to 200 fields; fill in at least one row."),
    "csv_mapping": N_(
        "CSV columns are only for a dataset in CSV format, each for a different field."
    ),
    "fields[].name": N_(
        "Enter a field name used once: a lower-case letter, then lower-case "
        "letters, digits or underscores."
    ),
    "fields[].type": N_("Choose a type."),
    "fields[].sensitivity": N_("Choose a sensitivity."),
    "fields[].choices": N_(
        "Choice fields, and only they, list their choices: one per line, each once."
    ),
    "fields[].minimum": N_(
        "Only integer and number fields have a minimum or maximum, and the minimum "
        "is not above the maximum."
    ),
    "fields[].max_length": N_(
        "Only text fields have a maximum length, and it is at least 1."
    ),
}

Row = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class DatasetForm:
    """What the form shows or was sent: metadata inputs and field rows, as text."""

    values: Mapping[str, str]
    rows: tuple[Row, ...]

    def value(self, name: str) -> str:
        """Return a metadata input's text ("" if absent)."""
        return self.values.get(name, "")

    def with_value(self, name: str, text: str) -> DatasetForm:
        """Return the form with one metadata input replaced."""
        return replace(self, values={**self.values, name: text})

    def with_blank_rows(self, count: int = BLANK_ROWS) -> DatasetForm:
        """Return the form with more blank field rows (up to ``MAX_ROWS`` in all)."""
        added = max(0, min(count, MAX_ROWS - len(self.rows)))
        blank: Row = {}
        return replace(self, rows=(*self.rows, *(blank,) * added))


@dataclass(frozen=True, slots=True)
class Submission:
    """The command a form asks for, and the form row of each of its fields."""

    command: RegisterDataset
    rows: tuple[int, ...]


def parse_form(items: Iterable[tuple[str, str]]) -> DatasetForm:
    """Read posted (name, text) pairs; rows keep their order, gaps close up."""
    values: dict[str, str] = {}
    rows: dict[int, dict[str, str]] = {}
    for name, text in items:
        found = _ROW_INPUT.fullmatch(name)
        if found is None:
            if name in METADATA_INPUTS:
                values[name] = text
            continue
        index, key = int(found[1]), found[2]
        if index < MAX_ROWS and key in ROW_INPUTS:
            rows.setdefault(index, {})[key] = text
    return DatasetForm(values=values, rows=tuple(rows[i] for i in sorted(rows)))


def blank_form(*, owner: str) -> DatasetForm:
    """Return the form of a new dataset owned by a department, with blank rows."""
    return DatasetForm(values={"owner_department": owner}, rows=()).with_blank_rows()


def form_of(view: DatasetView) -> DatasetForm:
    """Return the form showing a registered dataset, blank rows after its fields."""
    values = {
        "code": view.code,
        "name_zh": view.name_zh,
        "name_en": view.name_en,
        "description": view.description,
        "owner_department": view.owner_department,
        "sharing_class": view.sharing_class,
        "sharing_conditions": view.sharing_conditions,
        "legal_basis": view.legal_basis,
        "data_grade": view.data_grade,
        "update_interval_minutes": str(view.update_interval_minutes),
        "format": view.format,
        "connector": view.connector,
        "feed_url": view.feed_url or "",
        "csv_encoding": view.csv_encoding or "",
        "keywords": "\n".join(view.keywords),
    }
    headers = {target: header for header, target in view.csv_mapping.items()}
    rows = tuple(
        _row_of(item, view.field_descriptions.get(item.name, ("", "")), headers)
        for item in view.fields
    )
    return DatasetForm(values=values, rows=rows).with_blank_rows()


def _row_of(
    item: FieldView, descriptions: tuple[str, str], headers: Mapping[str, str]
) -> Row:
    return {
        "name": item.name,
        "type": item.type,
        "unit": item.unit or "",
        "required": "on" if item.required else "",
        "sensitivity": item.sensitivity,
        "minimum": number_text(item.minimum),
        "maximum": number_text(item.maximum),
        "choices": "\n".join(item.choices),
        "max_length": "" if item.max_length is None else str(item.max_length),
        "description_zh": descriptions[0],
        "description_en": descriptions[1],
        "csv_header": headers.get(item.name, ""),
    }


def number_text(value: float | None) -> str:
    """Return a number as the shortest text that reads back as the same number."""
    if value is None:
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def is_blank(row: Row) -> bool:
    """Tell whether a field row has no text (and so is ignored)."""
    return not any(row.get(key, "").strip() for key in _ROW_TEXTS)


def to_submission(form: DatasetForm) -> tuple[Submission | None, dict[str, str]]:
    """Build the command the form asks for, or say which inputs cannot be read.

    The errors map input names to message ids. They cover only text that cannot
    become a value (a number, a CSV column given twice); the command's handler
    decides everything else.
    """
    errors: dict[str, str] = {}
    fields: list[DatasetField] = []
    rows: list[int] = []
    mapping: dict[str, str] = {}  # CSV header -> field name
    for index, row in enumerate(form.rows):
        if is_blank(row):
            continue
        fields.append(_field(row, index, errors))
        rows.append(index)
        header = row.get("csv_header", "").strip()
        if header in mapping:
            errors[f"fields-{index}-csv_header"] = CSV_COLUMN_TWICE
        elif header:
            mapping[header] = row.get("name", "").strip()
    interval = _whole(form.value("update_interval_minutes"))
    if interval is None:
        errors["update_interval_minutes"] = INTERVAL_MESSAGE
    if errors or interval is None:
        return None, errors
    command = RegisterDataset(
        metadata=_metadata(form, interval=interval, mapping=mapping),
        fields=tuple(fields),
    )
    return Submission(command=command, rows=tuple(rows)), errors


def _metadata(
    form: DatasetForm, *, interval: int, mapping: Mapping[str, str]
) -> DatasetMetadata:
    return DatasetMetadata(
        code=form.value("code").strip(),
        name_zh=form.value("name_zh"),
        name_en=form.value("name_en"),
        description=form.value("description"),
        owner_department=form.value("owner_department"),
        sharing_class=form.value("sharing_class"),
        sharing_conditions=form.value("sharing_conditions"),
        legal_basis=form.value("legal_basis"),
        data_grade=form.value("data_grade"),
        update_interval_minutes=interval,
        format=form.value("format"),
        connector=form.value("connector"),
        feed_url=form.value("feed_url").strip() or None,
        csv_mapping=tuple(mapping.items()),
        csv_encoding=form.value("csv_encoding").strip() or None,
        keywords=_lines(form.value("keywords")),
    )


def _field(row: Row, index: int, errors: dict[str, str]) -> DatasetField:
    """Return the field a row describes; unreadable numbers go into errors."""
    numbers: dict[str, float | None] = {}
    for key in ("minimum", "maximum"):
        text = row.get(key, "").strip()
        numbers[key] = _number(text) if text else None
        if text and numbers[key] is None:
            errors[f"fields-{index}-{key}"] = NUMBER_EXPECTED
    length_text = row.get("max_length", "").strip()
    max_length = _whole(length_text) if length_text else None
    if length_text and max_length is None:
        errors[f"fields-{index}-max_length"] = WHOLE_NUMBER_EXPECTED
    return DatasetField(
        name=row.get("name", "").strip(),
        type=row.get("type", ""),
        required=row.get("required", "") == "on",
        sensitivity=row.get("sensitivity", "none"),
        unit=row.get("unit", "").strip() or None,
        choices=_lines(row.get("choices", "")),
        minimum=numbers["minimum"],
        maximum=numbers["maximum"],
        max_length=max_length,
        description_zh=row.get("description_zh", ""),
        description_en=row.get("description_en", ""),
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None  # NaN cannot go into the log


def _whole(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _lines(text: str) -> tuple[str, ...]:
    """Return the non-empty lines of a text area, stripped."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def refusal_target(error: MusterError, rows: tuple[int, ...]) -> tuple[str, str | None]:
    """Return the input a refusal names and the message id to show beside it.

    The input is "" when the refusal names none the form shows (then it goes above
    the form); the message id is None when the form has no message of its own for
    it (then show the error's translated message).
    """
    if isinstance(error, PermissionDenied):
        return "owner_department", NOT_PERMITTED
    field = str(error.params.get("field", ""))
    found = _FIELD_TARGET.fullmatch(field)
    if found is not None:
        position = int(found[1])
        index = rows[position] if position < len(rows) else position
        target, generic = f"fields-{index}-{found[2]}", f"fields[].{found[2]}"
    elif field in METADATA_INPUTS or field in TABLE_TARGETS:
        target, generic = field, field
    else:
        target, generic = "", field
    return target, CODE_MESSAGES.get(error.code) or FIELD_MESSAGES.get(generic)


__all__ = [
    "BLANK_ROWS",
    "DATASET_EXISTS",
    "MAX_ROWS",
    "METADATA_INPUTS",
    "ROW_INPUTS",
    "DatasetForm",
    "Submission",
    "blank_form",
    "form_of",
    "is_blank",
    "number_text",
    "parse_form",
    "refusal_target",
    "to_submission",
]
