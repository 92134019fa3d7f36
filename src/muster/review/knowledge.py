"""What a department knew at a moment: the log read up to it, folded, with its range.

Imported by ``muster.review.knowledge_cli`` (``muster knew``) and
``muster.review.knowledge_pages`` (``/review/knew``). The classification of events
into knowledge items is ``muster.review.domain.knowledge``; this module reads the log
(``metrics_queries.read_records``: every event up to the moment by ``occurred_at``)
and states the log range and chain head hash the answer was computed from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from muster.core.clock import isoformat_utc
from muster.core.errors import NotFound
from muster.core.eventlog.store import SqlEventStore
from muster.identity import queries as identity_queries
from muster.review.domain.knowledge import fold_knowledge
from muster.review.domain.knowledge_items import Knowledge
from muster.review.domain.metrics import Period
from muster.review.metrics_queries import LogRange, read_records

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The start of the log's time: knowledge accumulates from the first event."""

SECTIONS = (
    "data_access",
    "access_requests",
    "notifications",
    "tasks",
    "reports",
    "decisions",
    "assessments",
    "escalations",
)
"""The kinds of items, in the order the CLI and the page show them."""


@dataclass(frozen=True, slots=True)
class KnowledgeReport:
    """A department's knowledge at a moment and the log range it was folded from."""

    knowledge: Knowledge
    log_range: LogRange | None


def department_knowledge(
    conn: Connection,
    department: str,
    at: datetime,
    incident_id: str | None = None,
    *,
    store: SqlEventStore | None = None,
) -> KnowledgeReport:
    """Return what reached a department up to ``at`` (one incident's items, or all).

    Raises NotFound when no such department is registered.
    """
    if identity_queries.get_department(conn, department) is None:
        raise NotFound(f"no department {department}", department=department)
    records, log_range = read_records(conn, Period(EPOCH, at), store=store)
    knowledge = fold_knowledge(
        records, department=department, at=at, incident_id=incident_id
    )
    return KnowledgeReport(knowledge=knowledge, log_range=log_range)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat_utc(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _item_json(item: Any) -> dict[str, Any]:
    document: dict[str, Any] = _plain(asdict(item))
    for name in ("masks", "content"):
        if name in document:  # pairs → an object, as they were logged
            document[name] = dict(document[name])
    if hasattr(item, "is_warning"):
        document["is_warning"] = item.is_warning
    return document


def knowledge_json(report: KnowledgeReport) -> dict[str, Any]:
    """Return the report as ``muster knew --json`` prints it and the API answers."""
    knowledge = report.knowledge
    log_range = report.log_range
    return {
        "department": knowledge.department,
        "at": isoformat_utc(knowledge.at),
        "incident_id": knowledge.incident_id,
        "log_range": {
            "first_seq": log_range.first_seq if log_range else 0,
            "last_seq": log_range.last_seq if log_range else 0,
        },
        "chain_head_hash": log_range.head_hash if log_range else None,
        **{
            name: [_item_json(item) for item in getattr(knowledge, name)]
            for name in SECTIONS
        },
    }


__all__ = [
    "EPOCH",
    "SECTIONS",
    "KnowledgeReport",
    "department_knowledge",
    "knowledge_json",
]
