"""Read functions of the situation part, for web, CLI and tests.

Trigger history (firings and clearings, newest last), the instances active now, the
rules in force, and how many batches and alerts wait for evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from muster.situation.domain.assessment import Combined, View, combine
from muster.situation.read_models import (
    assessments,
    clusters,
    pending,
    reports,
    trigger_rules,
    trigger_state,
    views,
)
from muster.situation.read_models import trigger_history as history


@dataclass(frozen=True, slots=True)
class TriggerChange:
    """A rule instance fired or cleared."""

    seq: int
    rule: str
    instance: str
    change: str
    value: float
    threshold: float
    observed_at: str
    incident_id: str | None
    action: str | None
    explanation: str
    recorded_at: str


@dataclass(frozen=True, slots=True)
class ActiveTrigger:
    """A rule instance that holds now."""

    rule: str
    instance: str
    value: float
    threshold: float
    since: str
    incident_id: str | None
    latitude: float | None
    longitude: float | None


def trigger_history(
    conn: Connection,
    *,
    rule: str | None = None,
    incident_id: str | None = None,
    limit: int = 500,
) -> list[TriggerChange]:
    """Return firings and clearings, oldest first (the newest ``limit``)."""
    query = select(history).order_by(history.c.seq.desc()).limit(limit)
    if rule is not None:
        query = query.where(history.c.rule == rule)
    if incident_id is not None:
        query = query.where(history.c.incident_id == incident_id)
    rows = list(conn.execute(query))
    return [TriggerChange(**dict(row._mapping)) for row in reversed(rows)]


def active_triggers(conn: Connection) -> list[ActiveTrigger]:
    """Return the instances that hold now."""
    query = (
        select(trigger_state)
        .where(trigger_state.c.active.is_(True))
        .order_by(trigger_state.c.changed_at, trigger_state.c.rule)
    )
    return [
        ActiveTrigger(
            rule=row.rule,
            instance=row.instance,
            value=row.value,
            threshold=row.threshold,
            since=row.changed_at,
            incident_id=row.incident_id,
            latitude=row.latitude,
            longitude=row.longitude,
        )
        for row in conn.execute(query)
    ]


def rules_document(conn: Connection) -> dict[str, Any] | None:
    """Return the trigger rules in force (the triggers document), or None."""
    row = conn.execute(select(trigger_rules.c.document)).first()
    return dict(json.loads(row[0])) if row is not None else None


def pending_count(conn: Connection) -> int:
    """Return how many batches and alerts wait for evaluation."""
    return int(conn.execute(select(func.count()).select_from(pending)).scalar_one())


@dataclass(frozen=True, slots=True)
class AssessmentView:
    """A joint assessment with its views side by side."""

    assessment_id: str
    incident_id: str
    topic: str
    departments: tuple[str, ...]
    status: str
    opened_by: str
    opened_at: str
    conclusion: str | None
    level: str | None
    decision_id: str | None
    views: tuple[View, ...]
    combined: Combined


def assessment(conn: Connection, assessment_id: str) -> AssessmentView | None:
    """Return one assessment and its views, or None."""
    row = conn.execute(
        select(assessments).where(assessments.c.assessment_id == assessment_id)
    ).first()
    if row is None:
        return None
    given = tuple(
        View(
            department=v.department, level=v.level, confidence=v.confidence,
            note=v.note, evidence=tuple(json.loads(v.evidence)),
            submitted_by=v.submitted_by, submitted_at=v.submitted_at,
        )
        for v in conn.execute(
            select(views)
            .where(views.c.assessment_id == assessment_id)
            .order_by(views.c.seq)
        )
    )  # fmt: skip
    asked = tuple(json.loads(row.departments))
    return AssessmentView(
        assessment_id=row.assessment_id, incident_id=row.incident_id, topic=row.topic,
        departments=asked, status=row.status, opened_by=row.opened_by,
        opened_at=row.opened_at, conclusion=row.conclusion, level=row.level,
        decision_id=row.decision_id, views=given, combined=combine(asked, given),
    )  # fmt: skip


def incident_assessments(conn: Connection, incident_id: str) -> list[AssessmentView]:
    """Return an incident's assessments, oldest first."""
    ids = conn.execute(
        select(assessments.c.assessment_id)
        .where(assessments.c.incident_id == incident_id)
        .order_by(assessments.c.opened_at)
    ).scalars()
    return [found for aid in ids if (found := assessment(conn, aid)) is not None]


@dataclass(frozen=True, slots=True)
class ClusterView:
    """A cluster of fused reports, with the reasons each joined."""

    cluster_id: str
    status: str
    incident_id: str | None
    link_action: str | None
    link_explanation: str | None
    category: str
    first_at: str
    last_at: str
    reports: tuple[dict[str, Any], ...]


def clusters_of(
    conn: Connection, *, incident_id: str | None = None, limit: int = 100
) -> list[ClusterView]:
    """Return open clusters (of one incident, or the newest), with their reports."""
    query = select(clusters).where(clusters.c.status == "open")
    if incident_id is not None:
        query = query.where(clusters.c.incident_id == incident_id)
    rows = list(conn.execute(query.order_by(clusters.c.last_at.desc()).limit(limit)))
    members: dict[str, list[dict[str, Any]]] = {}
    if rows:
        for item in conn.execute(
            select(reports)
            .where(reports.c.cluster_id.in_([r.cluster_id for r in rows]))
            .order_by(reports.c.received_at, reports.c.seq)
        ):
            members.setdefault(item.cluster_id, []).append(dict(item._mapping))
    return [
        ClusterView(
            cluster_id=r.cluster_id, status=r.status, incident_id=r.incident_id,
            link_action=r.link_action, link_explanation=r.link_explanation,
            category=r.category, first_at=r.first_at, last_at=r.last_at,
            reports=tuple(members.get(r.cluster_id, ())),
        )
        for r in rows
    ]  # fmt: skip


__all__ = [
    "ActiveTrigger",
    "AssessmentView",
    "ClusterView",
    "TriggerChange",
    "active_triggers",
    "assessment",
    "clusters_of",
    "incident_assessments",
    "pending_count",
    "rules_document",
    "trigger_history",
]
