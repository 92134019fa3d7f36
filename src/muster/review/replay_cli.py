"""``muster replay``: incidents, tasks, decisions and data quality as of a moment.

Mounted by the root CLI (``app.command("replay")(replay)``). Replays the live log up
to ``--at`` (or ``--seq``) into a separate in-memory database through the same
projection functions as live (``muster.core.eventlog.replay_into``); the live database
is only read. The summary is read from the replayed database with the parts' own
queries and states the log range and chain head hash it was computed from.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.engine import Connection

from muster.core.cli import (
    cli_context,
    parse_moment_option,
    print_json,
    stderr,
    stdout,
)
from muster.core.clock import isoformat_utc
from muster.core.errors import NotFound
from muster.core.eventlog.replay_into import Replayed, replay_into
from muster.ingest import queries as ingest_queries
from muster.response import queries as response_queries
from muster.situation import queries as situation_queries

INCIDENT_LIMIT = 100_000
"""Every incident a deployment could hold; the summary is not paged."""


def _incident_json(conn: Connection, incident: response_queries.IncidentView) -> Any:
    tasks = response_queries.incident_tasks(conn, incident.id)
    decisions = response_queries.incident_decisions(conn, incident.id)
    assessments = situation_queries.incident_assessments(conn, incident.id)
    return {
        "id": incident.id,
        "title": incident.title,
        "type_code": incident.type_code,
        "status": incident.status,
        "level": incident.level,
        "lead_department": incident.lead_department,
        "supporting_departments": list(incident.supporting_departments),
        "opened_at": incident.opened_at,
        "updated_at": incident.updated_at,
        "tasks_by_status": dict(sorted(Counter(t.status for t in tasks).items())),
        "tasks": [
            {
                "id": task.id,
                "title_en": task.title_en,
                "title_zh": task.title_zh,
                "lead_department": task.lead_department,
                "status": task.status,
                "overdue": task.overdue,
                "due_at": task.due_at,
            }
            for task in tasks
        ],
        "decisions": [
            {
                "id": decision.id,
                "title": decision.title,
                "outcome": decision.outcome,
                "raises_to": decision.raises_to,
                "positions": len(decision.positions),
                "departments": len(decision.departments),
            }
            for decision in decisions
        ],
        "assessments": [
            {
                "id": view.assessment_id,
                "topic": view.topic,
                "status": view.status,
                "level": view.level,
            }
            for view in assessments
        ],
    }


def state_summary(
    conn: Connection, replayed: Replayed, *, incident_id: str | None = None
) -> dict[str, Any]:
    """Return the replayed state as ``muster replay --json`` prints it."""
    if incident_id is not None:
        found = response_queries.get_incident(conn, incident_id)
        if found is None:
            raise NotFound(f"no incident {incident_id} at this moment", id=incident_id)
        incidents = [found]
    else:
        incidents = response_queries.list_incidents(conn, limit=INCIDENT_LIMIT)
        incidents.sort(key=lambda view: (view.opened_at, view.id))
    quality = ingest_queries.quality_by_dataset(conn)
    return {
        "log_range": replayed.log_range(),
        "events": replayed.events,
        "incidents": [_incident_json(conn, incident) for incident in incidents],
        "data_quality": {
            dataset: {
                measure: {"status": view.status, "value": view.value}
                for measure, view in sorted(measures.items())
            }
            for dataset, measures in sorted(quality.items())
        },
    }


def _print_summary(summary: dict[str, Any], at: datetime | None) -> None:
    log_range = summary["log_range"]
    moment = isoformat_utc(at) if at is not None else "the head of the log"
    stdout.print(f"State at {moment} / 截至该时刻的状态")
    stdout.print(
        f"Replayed seqs 1–{log_range['last_seq']}, chain hash {log_range['head_hash']}"
    )
    for incident in summary["incidents"]:
        level = incident["level"] or "–"
        lead = incident["lead_department"] or "–"
        stdout.print(
            f"\n{incident['title']} [{incident['id']}] {incident['status']}, "
            f"level {level}, lead {lead}"
        )
        counts = ", ".join(f"{k} {v}" for k, v in incident["tasks_by_status"].items())
        stdout.print(f"  tasks 任务: {counts or 'none'}")
        for decision in incident["decisions"]:
            outcome = decision["outcome"] or "open"
            stdout.print(f"  decision 决策: {decision['title']} ({outcome})")
    if summary["data_quality"]:
        stdout.print("\nData quality 数据质量:")
    for dataset, measures in summary["data_quality"].items():
        cells = ", ".join(f"{name} {m['status']}" for name, m in measures.items())
        stdout.print(f"  {dataset}: {cells}")


def replay(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option("--at", help="The moment to show (ISO time with zone)."),
    ] = None,
    seq: Annotated[
        int | None, typer.Option("--seq", help="Or: the log position to show.", min=0)
    ] = None,
    incident: Annotated[
        str | None, typer.Option("--incident", help="Only this incident.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts.")
    ] = False,
) -> None:
    """Show incidents, tasks, decisions and data quality as they stood at a moment.

    Replays the log into a separate in-memory database; the live one is only read.
    """
    moment = parse_moment_option(at, "--at") if at is not None else None
    context = cli_context(ctx)
    with context.open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            head = deployment.store.head(conn)[0]
        total = min(head, seq) if seq is not None else head
        columns = (TextColumn("Replaying"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task("replay", total=total)
            replayed = replay_into(
                deployment.engine,
                context.projections,
                until_seq=seq,
                until=moment,
                progress=lambda _count, last: bar.update(task, completed=last),
            )
    try:
        with replayed.engine.connect() as conn:
            summary = state_summary(conn, replayed, incident_id=incident)
    finally:
        replayed.engine.dispose()
    if moment is not None:
        summary = {"at": isoformat_utc(moment), **summary}
    if as_json:
        print_json(summary)
        return
    _print_summary(summary, moment)


__all__ = ["replay", "state_summary"]
