"""Projections of the situation part: events -> its tables. Imported by bootstrap.

Besides its own events, this listens to ingest's ``ObservationsIngested`` and
``CapAlertReceived``: each queues the batch or alert for trigger evaluation in the
same transaction that stored it.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.ingest.domain.events import (
    BatchIngested,
    CapAlertReceived,
    ObservationsIngested,
)
from muster.situation.cascade_handlers import CASCADE_PROJECTORS
from muster.situation.domain import events as ev
from muster.situation.read_models import (
    PROJECTED_TABLES,
    assessments,
    clusters,
    pending,
    reports,
    trigger_history,
    trigger_rules,
    trigger_state,
    views,
)


def on_observations(
    event: ObservationsIngested, envelope: Envelope, conn: Connection
) -> None:
    """Queue a stored observation batch for evaluation."""
    if event.count:
        conn.execute(
            insert(pending),
            {
                "seq": envelope.seq,
                "kind": "observations",
                "ref": event.batch_id,
                "dataset_code": event.dataset_code,
                "added_at": envelope.occurred_at,
            },
        )


def on_records(event: BatchIngested, envelope: Envelope, conn: Connection) -> None:
    """Queue a stored records batch: it may hold reports to fuse."""
    if event.accepted:
        conn.execute(
            insert(pending),
            {
                "seq": envelope.seq,
                "kind": "records",
                "ref": event.batch_id,
                "dataset_code": event.dataset_code,
                "added_at": envelope.occurred_at,
            },
        )


def on_report_fused(
    event: ev.ReportFused, envelope: Envelope, conn: Connection
) -> None:
    """Store the report; start its cluster or extend it."""
    conn.execute(
        insert(reports),
        {
            "report_id": event.report_id,
            "seq": envelope.seq,
            "source": event.source,
            "department": event.department,
            "category": event.category,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "received_at": event.received_at,
            "text": event.text,
            "cluster_id": event.cluster_id,
            "joined": event.joined,
            "relation": event.relation,
            "distance_km": event.distance_km,
            "minutes_apart": event.minutes_apart,
            "score": event.score,
        },
    )
    _recount(conn, event.cluster_id, category=event.category)


def _recount(conn: Connection, cluster_id: str, *, category: str | None = None) -> None:
    """Set a cluster's report count and time span from its reports (create it)."""
    count, first, last = conn.execute(
        select(
            func.count(),
            func.min(reports.c.received_at),
            func.max(reports.c.received_at),
        ).where(reports.c.cluster_id == cluster_id)
    ).one()
    values = {"reports": count, "first_at": first or "", "last_at": last or ""}
    changed = conn.execute(
        update(clusters).where(clusters.c.cluster_id == cluster_id).values(**values)
    ).rowcount
    if not changed:
        conn.execute(
            insert(clusters),
            {"cluster_id": cluster_id, "status": "open", "category": category or "",
             **values},
        )  # fmt: skip


def on_cluster_linked(
    event: ev.ClusterLinked, envelope: Envelope, conn: Connection
) -> None:
    """Tie the cluster to its incident."""
    conn.execute(
        update(clusters)
        .where(clusters.c.cluster_id == event.cluster_id)
        .values(
            incident_id=event.incident_id,
            link_action=event.action,
            link_explanation=event.explanation,
        )
    )


def on_merged(event: ev.ClustersMerged, envelope: Envelope, conn: Connection) -> None:
    """Move the other cluster's reports into the kept one."""
    conn.execute(
        update(reports)
        .where(reports.c.cluster_id == event.other)
        .values(cluster_id=event.keep)
    )
    conn.execute(
        update(clusters)
        .where(clusters.c.cluster_id == event.other)
        .values(status="merged", merged_into=event.keep, reports=0)
    )
    _recount(conn, event.keep)


def on_split(event: ev.ClusterSplit, envelope: Envelope, conn: Connection) -> None:
    """Move the named reports into a new cluster."""
    category = conn.execute(
        select(reports.c.category).where(reports.c.report_id == event.report_ids[0])
    ).scalar_one()
    conn.execute(
        update(reports)
        .where(reports.c.report_id.in_(event.report_ids))
        .values(cluster_id=event.new_cluster_id)
    )
    _recount(conn, event.new_cluster_id, category=category)
    _recount(conn, event.cluster_id)


def on_assessment_opened(
    event: ev.AssessmentOpened, envelope: Envelope, conn: Connection
) -> None:
    """Add the assessment, open."""
    conn.execute(
        insert(assessments),
        {
            "assessment_id": event.assessment_id,
            "incident_id": event.incident_id,
            "topic": event.topic,
            "departments": json.dumps(list(event.departments)),
            "status": "open",
            "opened_by": envelope.actor_id,
            "opened_at": envelope.occurred_at,
        },
    )


def on_view_submitted(
    event: ev.ViewSubmitted, envelope: Envelope, conn: Connection
) -> None:
    """Keep every view (the latest per department counts)."""
    conn.execute(
        insert(views),
        {
            "seq": envelope.seq,
            "assessment_id": event.assessment_id,
            "department": event.department,
            "level": event.level,
            "confidence": event.confidence,
            "note": event.note,
            "evidence": json.dumps(list(event.evidence), ensure_ascii=False),
            "submitted_by": envelope.actor_id,
            "submitted_at": envelope.occurred_at,
        },
    )


def on_assessment_concluded(
    event: ev.AssessmentConcluded, envelope: Envelope, conn: Connection
) -> None:
    """Close the assessment with its conclusion."""
    conn.execute(
        update(assessments)
        .where(assessments.c.assessment_id == event.assessment_id)
        .values(
            status="concluded",
            conclusion=event.conclusion,
            level=event.level,
            decision_id=event.decision_id,
            concluded_at=envelope.occurred_at,
        )
    )


def on_cap_alert(event: CapAlertReceived, envelope: Envelope, conn: Connection) -> None:
    """Queue an accepted CAP alert for evaluation."""
    conn.execute(
        insert(pending),
        {
            "seq": envelope.seq,
            "kind": "cap",
            "ref": event.alert_key,
            "dataset_code": event.dataset_code,
            "added_at": envelope.occurred_at,
        },
    )


def on_rules_registered(
    event: ev.TriggerRulesRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Keep the rules in force (one row)."""
    conn.execute(delete(trigger_rules))
    conn.execute(
        insert(trigger_rules),
        {
            "id": 1,
            "document": json.dumps(event.document, ensure_ascii=False, sort_keys=True),
            "rules": event.rules,
            "registered_at": envelope.occurred_at,
        },
    )


def on_fired(event: ev.TriggerFired, envelope: Envelope, conn: Connection) -> None:
    """Mark the instance active and add the firing to the history."""
    key = {"rule": event.rule, "instance": event.key}
    row = {
        "active": True,
        "value": event.value,
        "threshold": event.threshold,
        "changed_at": envelope.occurred_at,
        "incident_id": event.incident_id,
        "latitude": event.latitude,
        "longitude": event.longitude,
    }
    changed = conn.execute(
        update(trigger_state)
        .where(trigger_state.c.rule == event.rule)
        .where(trigger_state.c.instance == event.key)
        .values(**row)
    ).rowcount
    if not changed:
        conn.execute(insert(trigger_state), {**key, **row})
    _history(conn, envelope, event.rule, event.key, "fired", event.value,
             event.threshold, event.observed_at, event.incident_id, event.action,
             event.explanation)  # fmt: skip


def on_cleared(event: ev.TriggerCleared, envelope: Envelope, conn: Connection) -> None:
    """Mark the instance inactive and add the clearing to the history."""
    conn.execute(
        update(trigger_state)
        .where(trigger_state.c.rule == event.rule)
        .where(trigger_state.c.instance == event.key)
        .values(active=False, value=event.value, changed_at=envelope.occurred_at)
    )
    _history(conn, envelope, event.rule, event.key, "cleared", event.value,
             event.threshold, event.observed_at, None, None, "")  # fmt: skip


def _history(
    conn: Connection,
    envelope: Envelope,
    rule: str,
    key: str,
    change: str,
    value: float,
    threshold: float,
    observed_at: str,
    incident_id: str | None,
    action: str | None,
    explanation: str,
) -> None:
    conn.execute(
        insert(trigger_history),
        {
            "seq": envelope.seq,
            "rule": rule,
            "instance": key,
            "change": change,
            "value": value,
            "threshold": threshold,
            "observed_at": observed_at,
            "incident_id": incident_id,
            "action": action,
            "explanation": explanation,
            "recorded_at": envelope.occurred_at,
        },
    )


def on_evaluated(
    event: ev.TriggersEvaluated, envelope: Envelope, conn: Connection
) -> None:
    """Take the evaluated batches and alerts off the queue."""
    if event.items:
        conn.execute(delete(pending).where(pending.c.seq.in_(event.items)))


_PROJECTORS: dict[type[Event], list[Projector]] = {
    ObservationsIngested: [on_observations],
    CapAlertReceived: [on_cap_alert],
    BatchIngested: [on_records],
    ev.ReportFused: [on_report_fused],
    ev.ClusterLinked: [on_cluster_linked],
    ev.ClustersMerged: [on_merged],
    ev.ClusterSplit: [on_split],
    ev.AssessmentOpened: [on_assessment_opened],
    ev.ViewSubmitted: [on_view_submitted],
    ev.AssessmentConcluded: [on_assessment_concluded],
    ev.TriggerRulesRegistered: [on_rules_registered],
    ev.TriggerFired: [on_fired],
    ev.TriggerCleared: [on_cleared],
    ev.TriggersEvaluated: [on_evaluated],
    **CASCADE_PROJECTORS,
}

PROJECTIONS = ProjectionSet(
    name="situation", handlers=_PROJECTORS, tables=PROJECTED_TABLES
)

__all__ = ["PROJECTIONS"]
