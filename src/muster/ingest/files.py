"""File intake of the ingest part: files and pushes of records for a dataset (R6).

Parse -> validate every record against the dataset's current schema -> store the
accepted ones, quarantine the rest with their reasons -> log one event per batch.
CAP and EDXL documents are handled in ``alerts.py``; quarantine fixes in
``quarantine.py``.
"""

from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from muster.catalog import queries as catalog
from muster.core.clock import isoformat_utc
from muster.core.errors import ValidationFailed
from muster.core.gc_pause import gc_paused
from muster.core.uow import UnitOfWork
from muster.ingest import batch_store
from muster.ingest.domain.commands import IngestFile
from muster.ingest.domain.errors import UnknownDataset
from muster.ingest.domain.events import (
    BatchIngested,
    DocumentRejected,
    DuplicateReceived,
    ObservationsIngested,
)
from muster.ingest.domain.model import require_steward
from muster.ingest.domain.validation import FieldRule, RecordValidator, compile_rules
from muster.ingest.formats import FormatRejected
from muster.ingest.formats.geojson import parse_geojson
from muster.ingest.formats.records import (
    ParsedBatch,
    RecordsRejected,
    digest_of,
    parse_json_records,
)
from muster.ingest.formats.tabular import parse_csv

STATION_FIELDS = ("station_id", "station")
OBSERVATION_FIELDS = ("value", "observed_at")
"""An observations dataset has a station field, ``value`` and ``observed_at``;
``metric``, ``unit`` and ``location`` (a point) are optional."""


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What happened to a submitted file: accepted, duplicate or rejected."""

    status: str
    dataset_code: str | None
    batch_id: str | None = None
    accepted: int = 0
    quarantined: int = 0
    error: str | None = None
    quarantine_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def dataset_rules(dataset: catalog.DatasetView) -> list[FieldRule]:
    """Translate the catalog's current schema into validation rules."""
    return [
        FieldRule(
            name=item.name,
            type=item.type,  # type: ignore[arg-type]
            required=item.required,
            unit=item.unit,
            choices=tuple(item.choices),
            minimum=item.minimum,
            maximum=item.maximum,
            max_length=item.max_length,
        )
        for item in dataset.fields
    ]


def ingest_file(
    command: IngestFile, uow: UnitOfWork, *, timezone: tzinfo
) -> IngestOutcome:
    """Read, validate and store a batch of records for a dataset."""
    with uow, gc_paused():
        dataset = find_dataset(uow, command.dataset_code)
        require_steward(uow.actor, dataset.owner_department, action="submit data")
        data_format = command.format or dataset.format
        digest = digest_of(command.data)
        original = batch_store.batch_with_digest(uow.conn, dataset.code, digest)
        if original is not None:
            return _duplicate(uow, command, dataset.code, digest, original)
        try:
            parsed = _parse(data_format, command.data, dataset)
        except (FormatRejected, RecordsRejected) as rejected:
            outcome = reject_document(
                uow,
                dataset_code=dataset.code,
                source=command.source,
                data_format=data_format,
                data=command.data,
                rejected=rejected,
            )
            uow.commit()
            return outcome
        validator = compile_rules(dataset_rules(dataset), default_timezone=timezone)
        if data_format == "observations" or dataset.format == "observations":
            outcome = _store_observations(uow, command, dataset, parsed, validator)
        else:
            outcome = _store_records(uow, command, dataset, parsed, validator)
        uow.commit()
        return outcome


def find_dataset(uow: UnitOfWork, code: str) -> catalog.DatasetView:
    """Return a catalog dataset or raise UnknownDataset."""
    dataset = catalog.get_dataset(uow.conn, code)
    if dataset is None:
        raise UnknownDataset(f"no dataset {code} in the catalog", dataset=code)
    return dataset


def _parse(data_format: str, data: bytes, dataset: catalog.DatasetView) -> ParsedBatch:
    if data_format == "csv":
        return parse_csv(data, mapping=dataset.csv_mapping or None)
    if data_format == "geojson":
        return parse_geojson(data)
    if data_format in ("json", "observations"):
        if data.lstrip()[:1] in (b"[", b"{"):
            return parse_json_records(data)
        return parse_csv(data, mapping=dataset.csv_mapping or None)
    raise ValidationFailed(
        f"format {data_format!r} is not read as records; CAP and EDXL go to the alert"
        " intake (`muster ingest cap`)",
        field="format",
    )


def _duplicate(
    uow: UnitOfWork, command: IngestFile, dataset_code: str, digest: str, original: str
) -> IngestOutcome:
    event = DuplicateReceived(
        dataset_code=dataset_code,
        source=command.source,
        digest=digest,
        original=original,
    )
    uow.append(
        f"dataset-{dataset_code}-duplicates",
        [event],
        expected_version=uow.stream_version(f"dataset-{dataset_code}-duplicates"),
    )
    uow.commit()
    return IngestOutcome(
        status="duplicate", dataset_code=dataset_code, batch_id=original
    )


def reject_document(
    uow: UnitOfWork,
    *,
    dataset_code: str | None,
    source: str,
    data_format: str,
    data: bytes,
    rejected: FormatRejected | RecordsRejected,
) -> IngestOutcome:
    """Quarantine a whole document that could not be read and log it (no commit)."""
    item_id = str(uuid.uuid4())
    reason = getattr(rejected, "reason", "format")
    line = getattr(rejected, "line", None)
    entry = batch_store.QuarantineEntry(
        id=item_id,
        dataset_code=dataset_code,
        batch_id=None,
        source=source,
        format=data_format,
        locator="document",
        line=line,
        content=document_content(data),
        reasons=[
            {"field": None, "rule": reason, "message": rejected.message, "line": line}
        ],
    )
    batch_store.add_quarantine(uow.conn, [entry], created_at=_now(uow))
    event = DocumentRejected(
        quarantine_id=item_id,
        dataset_code=dataset_code,
        source=source,
        format=data_format,
        digest=digest_of(data),
        reason=reason,
        message=rejected.message,
        line=line,
    )
    uow.append(f"quarantine-{item_id}", [event], expected_version=0)
    return IngestOutcome(
        status="rejected",
        dataset_code=dataset_code,
        error=f"{reason}: {rejected.message}",
        quarantine_id=item_id,
    )


def _store_records(
    uow: UnitOfWork,
    command: IngestFile,
    dataset: catalog.DatasetView,
    parsed: ParsedBatch,
    validator: RecordValidator,
) -> IngestOutcome:
    batch_id = str(uuid.uuid4())
    accepted: list[batch_store.StoredRecord] = []
    rejected: list[batch_store.QuarantineEntry] = []
    for record in parsed.records:
        outcome = validator(record.values, record.geometry)
        if outcome.is_valid:
            accepted.append(
                batch_store.StoredRecord(
                    record.locator, outcome.values, record.geometry
                )
            )
        else:
            rejected.append(
                _quarantine_entry(
                    command,
                    dataset.code,
                    batch_id,
                    parsed.format,
                    record,
                    outcome.reasons,
                )
            )
    rejected.extend(_problem_entries(command, dataset.code, batch_id, parsed))
    now = _now(uow)
    records_digest = batch_store.add_records(
        uow.conn,
        batch_id=batch_id,
        dataset_code=dataset.code,
        rows=accepted,
        received_at=now,
    )
    batch_store.add_quarantine(uow.conn, rejected, created_at=now)
    event = BatchIngested(
        batch_id=batch_id,
        dataset_code=dataset.code,
        source=command.source,
        format=parsed.format,
        encoding=parsed.encoding,
        digest=parsed.digest,
        records_digest=records_digest,
        accepted=len(accepted),
        quarantined=len(rejected),
    )
    uow.append(f"batch-{batch_id}", [event], expected_version=0)
    return IngestOutcome(
        status="accepted",
        dataset_code=dataset.code,
        batch_id=batch_id,
        accepted=len(accepted),
        quarantined=len(rejected),
    )


def _store_observations(
    uow: UnitOfWork,
    command: IngestFile,
    dataset: catalog.DatasetView,
    parsed: ParsedBatch,
    validator: RecordValidator,
) -> IngestOutcome:
    batch_id = str(uuid.uuid4())
    default_unit = next(
        (item.unit for item in dataset.fields if item.name == "value"), None
    )
    metric_default = dataset.code.lower()
    # Comprehensions rather than one loop with appends: this runs once per reading.
    outcomes = [validator(record.values, record.geometry) for record in parsed.records]
    rows = [
        observation_row(
            outcome.values, metric_default=metric_default, unit_default=default_unit
        )
        for outcome in outcomes
        if not outcome.reasons
    ]
    rejected = [
        _quarantine_entry(
            command, dataset.code, batch_id, "observations", record, outcome.reasons
        )
        for record, outcome in zip(parsed.records, outcomes, strict=True)
        if outcome.reasons
    ]
    rejected.extend(_problem_entries(command, dataset.code, batch_id, parsed))
    records_digest = batch_store.add_observations(
        uow.conn, batch_id=batch_id, dataset_code=dataset.code, rows=rows
    )
    batch_store.add_quarantine(uow.conn, rejected, created_at=_now(uow))
    times = [row[4] for row in rows]
    event = ObservationsIngested(
        batch_id=batch_id,
        dataset_code=dataset.code,
        source=command.source,
        digest=parsed.digest,
        records_digest=records_digest,
        count=len(rows),
        quarantined=len(rejected),
        first_observed_at=min(times) if times else None,
        last_observed_at=max(times) if times else None,
    )
    uow.append(f"batch-{batch_id}", [event], expected_version=0)
    return IngestOutcome(
        status="accepted",
        dataset_code=dataset.code,
        batch_id=batch_id,
        accepted=len(rows),
        quarantined=len(rejected),
    )


def _require_observation_schema(dataset: catalog.DatasetView) -> None:
    names = {item.name for item in dataset.fields}
    missing = [name for name in OBSERVATION_FIELDS if name not in names]
    if not names.intersection(STATION_FIELDS):
        missing.insert(0, "station_id")
    if missing:
        raise ValidationFailed(
            f"dataset {dataset.code} is an observations dataset but its schema lacks "
            f"{', '.join(missing)}",
            field="fields",
        )


def observation_row(
    values: dict[str, object], *, metric_default: str, unit_default: str | None
) -> batch_store.ObservationRow:
    """Turn validated values into a stored observation row."""
    get = values.get
    location = get("location")
    latitude, longitude = location if type(location) is tuple else (None, None)
    observed_at = values["observed_at"]
    assert isinstance(observed_at, datetime)  # noqa: S101 - guaranteed by the schema
    return (
        str(get("station_id") or get("station")),
        str(get("metric") or metric_default),
        float(values["value"]),  # type: ignore[arg-type]
        str(get("unit") or unit_default or "") or None,
        _iso(observed_at),
        latitude,
        longitude,
    )


@functools.lru_cache(maxsize=4096)
def _iso(moment: datetime) -> str:
    # Readings of one batch share few timestamps (every station reports at :00, :05).
    return isoformat_utc(moment)


def _quarantine_entry(
    command: IngestFile,
    dataset_code: str,
    batch_id: str,
    data_format: str,
    record: Any,
    reasons: Sequence[Any],
) -> batch_store.QuarantineEntry:
    return batch_store.QuarantineEntry(
        id=str(uuid.uuid4()),
        dataset_code=dataset_code,
        batch_id=batch_id,
        source=command.source,
        format=data_format,
        locator=record.locator,
        line=record.line,
        content=batch_store.to_json(
            {"values": record.values, "geometry": record.geometry}
        ),
        reasons=[
            {"field": reason.field, "rule": reason.rule, "message": reason.message}
            for reason in reasons
        ],
    )


def _problem_entries(
    command: IngestFile, dataset_code: str, batch_id: str, parsed: ParsedBatch
) -> list[batch_store.QuarantineEntry]:
    return [
        batch_store.QuarantineEntry(
            id=str(uuid.uuid4()),
            dataset_code=dataset_code,
            batch_id=batch_id,
            source=command.source,
            format=parsed.format,
            locator=problem.locator,
            line=problem.line,
            content=batch_store.to_json({"raw": problem.raw}),
            reasons=[
                {"field": None, "rule": problem.reason, "message": problem.message}
            ],
        )
        for problem in parsed.problems
    ]


def document_content(data: bytes) -> str:
    """Keep a refused document exactly: its UTF-8 text, or base64 for anything else."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:  # PostgreSQL text cannot hold NUL
        return BASE64_PREFIX + base64.b64encode(data).decode("ascii")
    return text


BASE64_PREFIX = "base64:"


def _now(uow: UnitOfWork) -> str:
    return isoformat_utc(uow.clock.now())


__all__ = [
    "IngestOutcome",
    "dataset_rules",
    "ingest_file",
    "observation_row",
    "reject_document",
]
