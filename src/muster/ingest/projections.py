"""Projections of the ingest part: batch and quality events -> their tables."""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.ingest.domain.events import (
    BatchIngested,
    ObservationsIngested,
    QualityChanged,
)
from muster.ingest.read_models import PROJECTED_TABLES, batches, quality

_INSERT_BATCH = insert(batches)


def on_batch_ingested(
    event: BatchIngested, envelope: Envelope, conn: Connection
) -> None:
    """Record the batch."""
    conn.execute(
        _INSERT_BATCH,
        {
            "batch_id": event.batch_id,
            "dataset_code": event.dataset_code,
            "kind": "records",
            "source": event.source,
            "format": event.format,
            "encoding": event.encoding,
            "digest": event.digest,
            "received_at": envelope.recorded_at,
            "accepted": event.accepted,
            "quarantined": event.quarantined,
            "seq": envelope.seq,
        },
    )


def on_observations_ingested(
    event: ObservationsIngested, envelope: Envelope, conn: Connection
) -> None:
    """Record the observation batch."""
    conn.execute(
        _INSERT_BATCH,
        {
            "batch_id": event.batch_id,
            "dataset_code": event.dataset_code,
            "kind": "observations",
            "source": event.source,
            "format": "observations",
            "encoding": "",
            "digest": event.digest,
            "received_at": envelope.recorded_at,
            "accepted": event.count,
            "quarantined": event.quarantined,
            "seq": envelope.seq,
        },
    )


def on_quality_changed(
    event: QualityChanged, envelope: Envelope, conn: Connection
) -> None:
    """Keep the current status of each dataset's quality measure."""
    conn.execute(
        delete(quality).where(
            quality.c.dataset_code == event.dataset_code,
            quality.c.measure == event.measure,
        )
    )
    conn.execute(
        insert(quality).values(
            dataset_code=event.dataset_code,
            measure=event.measure,
            status=event.status,
            value=event.value,
            detail=event.detail,
            changed_at=envelope.recorded_at,
        )
    )


_HANDLERS: dict[type[Event], list[Projector]] = {
    BatchIngested: [on_batch_ingested],
    ObservationsIngested: [on_observations_ingested],
    QualityChanged: [on_quality_changed],
}

PROJECTIONS = ProjectionSet(name="ingest", handlers=_HANDLERS, tables=PROJECTED_TABLES)

__all__ = ["PROJECTIONS"]
