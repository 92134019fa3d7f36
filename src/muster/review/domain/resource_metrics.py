"""Resource metrics over the event log: units a department committed to requests.

Outcome measure ``resource_units_provided``: one sample per commitment
(``resources.ResourceCommitted``) made within the period, counted for the committing
department, valued by its units, tagged with the incident; the drill-down is the
commitment's event. Re-exported by ``muster.review.domain.metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence

from muster.review.domain.records import LogRecord, Period, Sample

RESOURCES_PROVIDED = "resource_units_provided"
_COMMITTED = "resources.ResourceCommitted"


def resource_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Units committed to resource requests, per commitment."""
    return [
        Sample(
            metric=RESOURCES_PROVIDED,
            department=record.text("department"),
            subject=record.text("commitment_id"),
            value=float(record.number("units")),
            seqs=(record.seq,),
            incident_id=record.text("incident_id") or None,
            is_exercise=record.is_exercise,
        )
        for record in records
        if record.type == _COMMITTED and period.contains(record.occurred_at)
    ]


__all__ = ["RESOURCES_PROVIDED", "resource_samples"]
