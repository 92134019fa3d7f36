"""Fusing reports into clusters and clusters into incidents, and the duty officer's
merge and split (ADR 0011).

Reports come from the pack's report streams (records batches of the 12345 hotline,
queued like observation batches) and from field teams (``SubmitReport``). Each is
added to a ``Fuser`` restored from the clusters still open around it (the h3 index
of ``fusion.py``); the decision and its reason are a ``ReportFused`` event. A
cluster without an incident then attaches to an open incident of a related type
within ``attach_km``, or proposes one (opened as reported through the response
part, in the same transaction) once it holds ``propose_at`` reports or a field
report. Imported by the situation handlers and the trigger evaluation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from muster.core.clock import isoformat_utc, parse_utc
from muster.core.errors import NotFound, PermissionDenied, ValidationFailed
from muster.core.messages import Command, Event
from muster.core.uow import SharedUnitOfWork, UnitOfWork
from muster.ingest import queries as ingest_queries
from muster.response import queries as response_queries
from muster.response.domain.commands import OpenIncident
from muster.response.domain.event_types import CATEGORY_DIGITS
from muster.situation.domain import events as ev
from muster.situation.domain.commands import MergeClusters, SplitCluster, SubmitReport
from muster.situation.domain.reports import (
    ClusterRecord,
    FusionRules,
    Report,
    distance_km,
)
from muster.situation.domain.trigger_rules import parse_trigger_rules
from muster.situation.domain.triggers import ReportStream, TriggerSet
from muster.situation.fusion import Fuser
from muster.situation.read_models import clusters, reports, trigger_rules

Dispatch = Callable[[Command, UnitOfWork], Any]
"""Runs another part's handler in the caller's shared unit of work (bootstrap)."""
STREAM = "reports"
ACTING_ROLES = ("duty_officer", "commander", "admin")
CATEGORY_OF_DIGIT = {digit: name for name, digit in CATEGORY_DIGITS.items()}
"""GB/T 35561 category digit → the response part's category name."""


def stream_reports(
    conn: Any, stream: ReportStream, batch_id: str, department: str
) -> list[Report]:
    """Return a report-stream batch's records as reports (records lacking a place,
    a time or a mapped category are not fused; they stay in the dataset)."""
    found: list[Report] = []
    for values in ingest_queries.batch_records(conn, batch_id):
        category = stream.categories.get(str(values.get(stream.category_field)))
        place = values.get(stream.location_field)
        when = values.get(stream.time_field)
        if category is None or not isinstance(place, list | tuple) or not when:
            continue
        try:
            found.append(
                Report(
                    report_id=f"{stream.dataset}:{values.get(stream.id_field)}",
                    source=stream.source,  # type: ignore[arg-type]
                    department=department,
                    category=category,
                    latitude=float(place[0]),
                    longitude=float(place[1]),
                    received_at=parse_utc(str(when)),
                    text=str(values.get(stream.text_field or "", "") or "")[:500],
                )
            )
        except (ValueError, TypeError, ValidationFailed):
            continue
    return found


def fuse_reports(
    uow: UnitOfWork, rules: TriggerSet, new: Sequence[Report], dispatch: Dispatch
) -> int:
    """Fuse reports (skipping ones already fused), link clusters; return how many."""
    conn = uow.conn
    seen = {
        row[0]
        for row in conn.execute(
            select(reports.c.report_id).where(
                reports.c.report_id.in_([r.report_id for r in new])
            )
        )
    }
    fresh = sorted((r for r in new if r.report_id not in seen), key=_when)
    if not fresh:
        return 0
    settings = rules.fusion
    fusion = FusionRules(
        max_distance_km=settings.max_distance_km,
        max_gap_minutes=settings.max_gap_minutes,
    )
    horizon = fresh[0].received_at - timedelta(
        minutes=fusion.max_gap_minutes + fusion.eviction_slack_minutes
    )
    known, members = _open_clusters(conn, isoformat_utc(horizon))
    fuser = Fuser.restore(
        [_record(cid, ids) for cid, ids in members.items()], known, fusion
    )
    fused: list[Event] = []
    for report in fresh:
        link = fuser.add(report)
        known[report.report_id] = report
        reason = link.reason
        fused.append(
            ev.ReportFused(
                report_id=report.report_id, source=report.source,
                department=report.department, category=report.category,
                latitude=report.latitude, longitude=report.longitude,
                received_at=isoformat_utc(report.received_at), text=report.text,
                cluster_id=link.cluster_id, joined=link.joined,
                relation=reason.category_relation if reason else None,
                distance_km=round(reason.distance_km, 3) if reason else None,
                minutes_apart=round(reason.minutes_apart, 1) if reason else None,
                score=round(link.score, 4),
            )
        )  # fmt: skip
    uow.append(STREAM, fused, expected_version=uow.stream_version(STREAM))
    touched = {
        record.cluster_id: record.report_ids
        for record in fuser.records()
        if any(rid in {r.report_id for r in fresh} for rid in record.report_ids)
    }
    linked: list[Event] = []
    for cid, ids in sorted(touched.items()):
        event = _link(uow, fusion, settings, cid, [known[i] for i in ids], dispatch)
        if event is not None:
            linked.append(event)
    if linked:
        uow.append(STREAM, linked, expected_version=uow.stream_version(STREAM))
    return len(fresh)


def _when(report: Report) -> Any:
    return report.received_at


def _record(cluster_id: str, ids: list[str]) -> ClusterRecord:
    return ClusterRecord(cluster_id, tuple(ids))


def load_rules(conn: Any) -> TriggerSet | None:
    """Return the trigger rules, report streams and fusion settings in force."""
    row = conn.execute(select(trigger_rules.c.document)).first()
    return parse_trigger_rules(json.loads(row[0])) if row is not None else None


def _open_clusters(
    conn: Any, since: str
) -> tuple[dict[str, Report], dict[str, list[str]]]:
    """Return the reports of open clusters active since a time, and their members."""
    open_ids = select(clusters.c.cluster_id).where(
        clusters.c.status == "open", clusters.c.last_at >= since
    )
    rows = conn.execute(
        select(reports)
        .where(reports.c.cluster_id.in_(open_ids))
        .order_by(reports.c.received_at, reports.c.seq)
    )
    known: dict[str, Report] = {}
    members: dict[str, list[str]] = {}
    for row in rows:
        known[row.report_id] = Report(
            report_id=row.report_id, source=row.source, department=row.department,
            category=row.category, latitude=row.latitude, longitude=row.longitude,
            received_at=parse_utc(row.received_at), text=row.text,
        )  # fmt: skip
        members.setdefault(row.cluster_id, []).append(row.report_id)
    return known, members


def _link(
    uow: UnitOfWork,
    fusion: FusionRules,
    settings: Any,
    cluster_id: str,
    members: Sequence[Report],
    dispatch: Dispatch,
) -> ev.ClusterLinked | None:
    """Tie a cluster with no incident to one: attach or propose (or wait)."""
    row = uow.conn.execute(
        select(clusters.c.incident_id).where(clusters.c.cluster_id == cluster_id)
    ).first()
    if row is not None and row[0] is not None:
        return None
    lat = sum(r.latitude for r in members) / len(members)
    lon = sum(r.longitude for r in members) / len(members)
    category = members[0].category
    nearby = sorted(
        (distance_km((lat, lon), (i.latitude, i.longitude)), i.opened_at, i.id)
        for i in response_queries.open_incidents(uow.conn)
        if i.type_code is not None
        and fusion.is_compatible(fusion.relation(category, i.type_code))
    )
    if nearby and nearby[0][0] <= settings.attach_km:
        distance, _, incident_id = nearby[0]
        return ev.ClusterLinked(
            cluster_id=cluster_id, incident_id=incident_id, action="attached",
            explanation=f"{len(members)} report(s) {distance:.2f} km from an open "
            f"incident of a related type ({category})",
        )  # fmt: skip
    field_report = any(r.source == "field" for r in members)
    if len(members) < settings.propose_at and not field_report:
        return None
    sources = sorted({r.source for r in members})
    explanation = (
        f"{len(members)} report(s) from {', '.join(sources)} within "
        f"{fusion.max_distance_km:g} km and {fusion.max_gap_minutes:g} min ({category})"
    )
    incident_id = dispatch(
        OpenIncident(
            title=f"报告汇集 / Fused reports: {members[0].text[:60] or category}",
            category=CATEGORY_OF_DIGIT.get(category[1], "NATURAL_DISASTER"),
            latitude=round(lat, 6),
            longitude=round(lon, 6),
            description=explanation,
            reporting_department=members[0].department,
            type_code=category if len(category) == 5 else f"{category[:3]}00",
        ),
        uow,
    )
    return ev.ClusterLinked(
        cluster_id=cluster_id, incident_id=str(incident_id), action="proposed",
        explanation=explanation,
    )  # fmt: skip


def _require_role(uow: UnitOfWork, action: str) -> None:
    if not uow.actor.has_role(*ACTING_ROLES):
        raise PermissionDenied(
            f"{action} needs the duty officer, commander or admin role", action=action
        )


def shared(uow: UnitOfWork) -> SharedUnitOfWork:
    """Return a unit of work other parts' handlers can enter too (``dispatch``)."""
    if isinstance(uow, SharedUnitOfWork):
        return uow
    return SharedUnitOfWork(uow.context, actor=uow.actor, metadata=uow.metadata)


def submit_report(command: SubmitReport, uow: UnitOfWork, *, dispatch: Dispatch) -> str:
    """Fuse a field team's report; return its id."""
    uow = shared(uow)
    with uow:
        _require_role(uow, "submitting a field report")
        if uow.actor.department is None:
            raise ValidationFailed(
                "a field report needs a department", field="department"
            )
        report = Report(
            report_id=f"FIELD:{uuid.uuid4()}", source="field",
            department=uow.actor.department, category=command.category,
            latitude=command.latitude, longitude=command.longitude,
            received_at=uow.clock.now(), text=command.text[:500],
        )  # fmt: skip
        fuse_reports(uow, load_rules(uow.conn) or TriggerSet(), [report], dispatch)
        uow.commit()
    return report.report_id


def _cluster(conn: Any, cluster_id: str) -> Mapping[str, Any]:
    row = conn.execute(
        select(clusters).where(clusters.c.cluster_id == cluster_id)
    ).first()
    if row is None or row.status != "open":
        raise NotFound(f"no open cluster {cluster_id}", cluster_id=cluster_id)
    return dict(row._mapping)


def merge_clusters(command: MergeClusters, uow: UnitOfWork) -> str:
    """Merge two open clusters; the kept one keeps its incident."""
    with uow:
        _require_role(uow, "merging clusters")
        if command.keep == command.other:
            raise ValidationFailed("cannot merge a cluster with itself", field="other")
        if not command.reason.strip():
            raise ValidationFailed("say why the clusters are one event", field="reason")
        _cluster(uow.conn, command.keep)
        _cluster(uow.conn, command.other)
        event = ev.ClustersMerged(
            keep=command.keep, other=command.other, reason=command.reason.strip()
        )
        uow.append(STREAM, [event], expected_version=uow.stream_version(STREAM))
        uow.commit()
    return command.keep


def split_cluster(command: SplitCluster, uow: UnitOfWork) -> str:
    """Move reports of a cluster into a new cluster; return the new cluster's id."""
    with uow:
        _require_role(uow, "splitting a cluster")
        if not command.reason.strip():
            raise ValidationFailed(
                "say why the reports are another event", field="reason"
            )
        _cluster(uow.conn, command.cluster_id)
        members = [
            row[0]
            for row in uow.conn.execute(
                select(reports.c.report_id)
                .where(reports.c.cluster_id == command.cluster_id)
                .order_by(reports.c.received_at, reports.c.seq)
            )
        ]
        moving = [rid for rid in members if rid in set(command.report_ids)]
        if not moving or len(moving) != len(set(command.report_ids)):
            raise ValidationFailed("name reports of the cluster", field="report_ids")
        if len(moving) == len(members):
            raise ValidationFailed("leave at least one report", field="report_ids")
        new_id, number = f"C-{moving[0]}", 1
        while uow.conn.execute(
            select(clusters.c.cluster_id).where(clusters.c.cluster_id == new_id)
        ).first():
            number += 1
            new_id = f"C-{moving[0]}~{number}"
        event = ev.ClusterSplit(
            cluster_id=command.cluster_id, new_cluster_id=new_id,
            report_ids=tuple(moving), reason=command.reason.strip(),
        )  # fmt: skip
        uow.append(STREAM, [event], expected_version=uow.stream_version(STREAM))
        uow.commit()
    return new_id


__all__ = [
    "CATEGORY_OF_DIGIT",
    "Dispatch",
    "fuse_reports",
    "load_rules",
    "merge_clusters",
    "shared",
    "split_cluster",
    "stream_reports",
    "submit_report",
]
