"""Quarantine handlers: a steward fixes and resubmits, or discards with a reason.

Nothing leaves quarantine silently: both outcomes are events, and a resubmission that
still fails keeps the steward's attempt and the new reasons.
"""

from __future__ import annotations

import json
import uuid
from datetime import tzinfo
from typing import Any

from muster.core.clock import isoformat_utc
from muster.core.errors import ValidationFailed
from muster.core.uow import UnitOfWork
from muster.ingest import batch_store
from muster.ingest.domain.commands import DiscardRecord, ResubmitRecord
from muster.ingest.domain.errors import QuarantineItemClosed, UnknownQuarantineItem
from muster.ingest.domain.events import (
    BatchIngested,
    ObservationsIngested,
    RecordDiscarded,
    RecordResubmitted,
)
from muster.ingest.domain.model import require_steward
from muster.ingest.domain.validation import compile_rules
from muster.ingest.files import (
    IngestOutcome,
    dataset_rules,
    find_dataset,
    observation_row,
)


def resubmit_record(
    command: ResubmitRecord, uow: UnitOfWork, *, timezone: tzinfo
) -> IngestOutcome:
    """Validate corrected values; store them as a one-record batch if they pass."""
    with uow:
        item = _open_item(uow, command.quarantine_id)
        if item["dataset_code"] is None or item["locator"] == "document":
            raise ValidationFailed(
                "a rejected document cannot be edited here: submit a corrected file",
                field="quarantine_id",
            )
        dataset = find_dataset(uow, item["dataset_code"])
        require_steward(uow.actor, dataset.owner_department, action="resubmit data")
        content = json.loads(item["content"])
        geometry = content.get("geometry") if isinstance(content, dict) else None
        validator = compile_rules(dataset_rules(dataset), default_timezone=timezone)
        outcome = validator(command.values, geometry)
        stream = f"quarantine-{command.quarantine_id}"
        version = uow.stream_version(stream)
        new_content = batch_store.to_json(
            {"values": command.values, "geometry": geometry}
        )
        if not outcome.is_valid:
            reasons = [
                {"field": reason.field, "rule": reason.rule, "message": reason.message}
                for reason in outcome.reasons
            ]
            batch_store.update_quarantine_reasons(
                uow.conn, command.quarantine_id, content=new_content, reasons=reasons
            )
            event = RecordResubmitted(
                quarantine_id=command.quarantine_id,
                dataset_code=dataset.code,
                is_accepted=False,
                batch_id=None,
                reasons=tuple(reason.message for reason in outcome.reasons),
            )
            uow.append(stream, [event], expected_version=version)
            uow.commit()
            return IngestOutcome(
                status="rejected",
                dataset_code=dataset.code,
                quarantined=1,
                quarantine_id=command.quarantine_id,
                error="; ".join(reason.message for reason in outcome.reasons),
            )
        batch_id = str(uuid.uuid4())
        now = isoformat_utc(uow.clock.now())
        source = f"quarantine:{command.quarantine_id}"
        digest = batch_store.digest_texts([command.quarantine_id, new_content])
        if dataset.format == "observations":
            row = observation_row(
                outcome.values,
                metric_default=dataset.code.lower(),
                unit_default=next(
                    (item.unit for item in dataset.fields if item.name == "value"), None
                ),
            )
            stored_digest = batch_store.add_observations(
                uow.conn, batch_id=batch_id, dataset_code=dataset.code, rows=[row]
            )
            batch_event: BatchIngested | ObservationsIngested = ObservationsIngested(
                batch_id=batch_id,
                dataset_code=dataset.code,
                source=source,
                digest=digest,
                records_digest=stored_digest,
                count=1,
                quarantined=0,
                first_observed_at=row[4],
                last_observed_at=row[4],
            )
        else:
            stored = batch_store.StoredRecord(item["locator"], outcome.values, geometry)
            stored_digest = batch_store.add_records(
                uow.conn,
                batch_id=batch_id,
                dataset_code=dataset.code,
                rows=[stored],
                received_at=now,
            )
            batch_event = BatchIngested(
                batch_id=batch_id,
                dataset_code=dataset.code,
                source=source,
                format=item["format"],
                encoding="utf-8",
                digest=digest,
                records_digest=stored_digest,
                accepted=1,
                quarantined=0,
            )
        batch_store.close_quarantine(
            uow.conn,
            command.quarantine_id,
            status="accepted",
            resolution=f"resubmitted as batch {batch_id}",
            at=now,
        )
        uow.append(f"batch-{batch_id}", [batch_event], expected_version=0)
        accepted = RecordResubmitted(
            quarantine_id=command.quarantine_id,
            dataset_code=dataset.code,
            is_accepted=True,
            batch_id=batch_id,
            reasons=(),
        )
        uow.append(stream, [accepted], expected_version=version)
        uow.commit()
        return IngestOutcome(
            status="accepted", dataset_code=dataset.code, batch_id=batch_id, accepted=1
        )


def discard_record(command: DiscardRecord, uow: UnitOfWork) -> None:
    """Discard a quarantined item; the reason is required and logged."""
    reason = command.reason.strip()
    if not reason:
        raise ValidationFailed("discarding needs a reason", field="reason")
    with uow:
        item = _open_item(uow, command.quarantine_id)
        if item["dataset_code"] is not None:
            dataset = find_dataset(uow, item["dataset_code"])
            require_steward(uow.actor, dataset.owner_department, action="discard data")
        elif not uow.actor.has_role("admin", "system", "commander", "duty_officer"):
            require_steward(uow.actor, "", action="discard data")
        batch_store.close_quarantine(
            uow.conn,
            command.quarantine_id,
            status="discarded",
            resolution=reason,
            at=isoformat_utc(uow.clock.now()),
        )
        stream = f"quarantine-{command.quarantine_id}"
        event = RecordDiscarded(
            quarantine_id=command.quarantine_id,
            dataset_code=item["dataset_code"],
            reason=reason,
        )
        uow.append(
            stream,
            [event],
            expected_version=uow.stream_version(stream),
        )
        uow.commit()


def _open_item(uow: UnitOfWork, item_id: str) -> dict[str, Any]:
    item = batch_store.get_quarantine(uow.conn, item_id)
    if item is None:
        raise UnknownQuarantineItem(f"no quarantined item {item_id}", item=item_id)
    if item["status"] != "open":
        raise QuarantineItemClosed(
            f"item {item_id} is already {item['status']}", item=item_id
        )
    return item


__all__ = ["discard_record", "resubmit_record"]
