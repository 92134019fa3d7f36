"""The ingest part's command table (R6): files, alerts, quarantine, quality.

The handlers live by concept in ``files.py``, ``alerts.py``, ``quarantine.py`` and
``quality.py``; this module binds their ports and is imported by bootstrap.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from muster.core.bus import Handler
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.ingest.alerts import ingest_cap
from muster.ingest.domain.commands import (
    DiscardRecord,
    EvaluateQuality,
    IngestCap,
    IngestFile,
    ResubmitRecord,
)
from muster.ingest.files import ingest_file
from muster.ingest.quality import ConsistencyRule, evaluate_quality
from muster.ingest.quarantine import discard_record, resubmit_record


def command_handlers(
    *, timezone: tzinfo, consistency: ConsistencyRule
) -> dict[type[Command], Handler]:
    """Return this part's command table with its settings bound."""

    def _ingest_file(command: IngestFile, uow: UnitOfWork) -> Any:
        return ingest_file(command, uow, timezone=timezone)

    def _resubmit(command: ResubmitRecord, uow: UnitOfWork) -> Any:
        return resubmit_record(command, uow, timezone=timezone)

    def _evaluate(command: EvaluateQuality, uow: UnitOfWork) -> Any:
        return evaluate_quality(command, uow, rule=consistency)

    return {
        IngestFile: _ingest_file,
        IngestCap: ingest_cap,
        ResubmitRecord: _resubmit,
        DiscardRecord: discard_record,
        EvaluateQuality: _evaluate,
    }


__all__ = ["command_handlers"]
