"""Metrics over the event log: one definition per metric, pure (stdlib only).

Imported by ``muster.review.metrics_queries`` (which reads the log and builds the
records) and ``muster.review.domain.scorecard``; the UI and the after-action review
use the same functions through ``metrics_queries``, so a figure means the same thing
everywhere.

Every metric turns plain ``LogRecord``s into ``Sample``s: one per task, report,
delivery, request or invitation, each naming the department it is counted for and the
seqs of the events behind it (the drill-down). Aggregates (``rate``, ``percentile``,
``total``) work on samples.

Scope rule: a subject belongs to the period in which it was opened (a task when it was
assigned or reassigned, a report obligation when its clock was set, a request when it
was made, a decision when it was proposed, a data delivery or a read when it happened).
Its later events count up to the period's end. Events before the period are context
only (who owns a dataset, the previous delivery).

The definitions live by concept: ``task_metrics`` (tasks, situation reports) and
``exchange_metrics`` (data freshness, sharing, joint decisions), on the records,
samples and aggregates of ``records``; this module re-exports them all, so callers
import ``muster.review.domain.metrics`` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from muster.review.domain.exchange_metrics import (
    DATA_SHARED,
    DECISION_PARTICIPATION,
    FRESHNESS_ON_TIME,
    SHARING_ANSWER_LATENCY,
    SHARING_ANSWERED,
    decision_samples,
    freshness_samples,
    sharing_samples,
)
from muster.review.domain.records import (
    LogRecord,
    Period,
    Sample,
    percentile,
    rate,
    seqs_of,
    total,
)
from muster.review.domain.resource_metrics import RESOURCES_PROVIDED, resource_samples
from muster.review.domain.task_metrics import (
    ACK_LATENCY,
    ACK_ON_TIME,
    REPORT_ON_TIME,
    TASK_ON_TIME,
    TASKS_COMPLETED,
    report_samples,
    task_samples,
)


def all_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Return the samples of every metric (records in log order)."""
    return [
        *task_samples(records, period),
        *report_samples(records, period),
        *freshness_samples(records, period),
        *sharing_samples(records, period),
        *decision_samples(records, period),
        *resource_samples(records, period),
    ]


__all__ = [
    "ACK_LATENCY",
    "ACK_ON_TIME",
    "DATA_SHARED",
    "DECISION_PARTICIPATION",
    "FRESHNESS_ON_TIME",
    "REPORT_ON_TIME",
    "RESOURCES_PROVIDED",
    "SHARING_ANSWERED",
    "SHARING_ANSWER_LATENCY",
    "TASKS_COMPLETED",
    "TASK_ON_TIME",
    "LogRecord",
    "Period",
    "Sample",
    "all_samples",
    "decision_samples",
    "freshness_samples",
    "percentile",
    "rate",
    "report_samples",
    "resource_samples",
    "seqs_of",
    "sharing_samples",
    "task_samples",
    "total",
]
