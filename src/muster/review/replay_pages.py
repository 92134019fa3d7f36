"""Replay mode: an incident as it stood at a seq or moment, read-only, with a scrubber.

``GET /review/incidents/{id}/replay?seq=N`` (or ``?at=ISO``; default: the incident's
last event) shows the incident's state replayed from the log into a separate database
(``muster.review.replay_view``): status, level, departments, facts, task board,
decisions, reporting clocks and sent reports, the timeline up to then, and data
quality, rendered with the live page's own sections and the parts' own queries, so it
shows exactly what the live page showed then, and nothing more (no shared records).
It offers no forms and no actions. ``static/review_replay.js`` moves the scrubber over
the incident's events and fetches ``…/replay/state?seq=N`` (the state alone).
``GET /api/v1/review/incidents/{id}/replay`` answers the same as JSON.
Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from muster.catalog import queries as catalog_queries
from muster.core.cli import parse_moment_option
from muster.core.errors import NotFound
from muster.core.eventlog.replay_into import Replayed
from muster.identity import queries as identity_queries
from muster.ingest import labels as ingest_labels
from muster.ingest import queries as ingest_queries
from muster.response import queries as response_queries
from muster.response import views
from muster.response.pages import labels
from muster.review.replay_cli import state_summary
from muster.review.replay_view import CACHE, hash_at, seq_at
from muster.web.deps import CurrentActor, MusterDep
from muster.web.summaries import Summarizer
from muster.web.templating import Page, SignedInPage

router = APIRouter()

TIMELINE_LIMIT = 100_000
"""Every event of an incident: the scrubber spans the whole timeline."""
Moment = Annotated[str | None, Query(max_length=64)]
Seq = Annotated[int | None, Query(ge=0)]


@dataclass(frozen=True, slots=True)
class Position:
    """One stop of the scrubber: an event of the incident's timeline."""

    seq: int
    at: str
    summary: str


@dataclass(frozen=True, slots=True)
class Target:
    """The seq to replay to, the incident's stops, and the live chain hash there."""

    incident: response_queries.IncidentView
    seq: int
    head_hash: bytes | None
    positions: list[Position]

    @property
    def index(self) -> int:
        """Return the scrubber stop at or before the seq (0 before the first)."""
        before = [i for i, stop in enumerate(self.positions) if stop.seq <= self.seq]
        return before[-1] if before else 0


def resolve_target(
    muster: MusterDep,
    incident_id: str,
    *,
    seq: int | None,
    at: str | None,
    language: str,
) -> Target:
    """Find the incident in the live log and the seq to show (seq, at or its last)."""
    with muster.engine.connect() as conn:
        incident = response_queries.get_incident(conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}", incident=incident_id)
        entries = response_queries.incident_timeline(
            conn, incident_id, limit=TIMELINE_LIMIT
        )
        summaries = Summarizer(muster).timeline(conn, entries)
        head = muster.store.head(conn)[0]
        if seq is not None:
            target = min(seq, head)
        elif at:
            target = seq_at(conn, parse_moment_option(at, "at"))
        else:
            target = entries[-1].seq if entries else head
        expected = hash_at(conn, target)
    positions = [
        Position(seq=entry.seq, at=entry.at, summary=summary[language])
        for entry, summary in zip(entries, summaries, strict=True)
    ]
    return Target(
        incident=incident, seq=target, head_hash=expected, positions=positions
    )


def _departments_of(view: views.ResponseOverview) -> list[str]:
    incident = view.incident
    codes = {incident.reporting_department, *incident.supporting_departments}
    codes.update(task.lead_department for task in view.tasks)
    for decision in view.decisions:
        codes.update(decision.departments)
    if incident.lead_department:
        codes.add(incident.lead_department)
    return sorted(code for code in codes if code)


def _state(
    conn: Connection, replayed: Replayed, *, incident_id: str, language: str
) -> dict[str, Any]:
    """Read the replayed state with the parts' own queries (runs under the cache)."""
    view = views.overview(conn, incident_id)
    names = {
        item.code: item.name(language)
        for item in identity_queries.list_departments(conn)
    }
    entries = response_queries.incident_timeline(
        conn, incident_id, limit=TIMELINE_LIMIT
    )
    datasets = {
        item.code: item.name(language) for item in catalog_queries.list_datasets(conn)
    }
    return {
        "replayed": replayed,
        "view": view,
        "departments": names,
        "entries": entries,
        "datasets": datasets,
        "quality": ingest_queries.quality_by_dataset(conn),
        "involved": _departments_of(view) if view is not None else [],
    }


def replay_context(page: Page, incident_id: str, target: Target) -> dict[str, Any]:
    """Return what the replay page and its state fragment render."""
    muster = page.muster
    state = CACHE.read_state(
        muster.engine,
        muster.bus.context.projections,
        seq=target.seq,
        expected_hash=target.head_hash,
        reader=lambda conn, replayed: _state(
            conn, replayed, incident_id=incident_id, language=page.language
        ),
    )
    replayed: Replayed = state["replayed"]
    view: views.ResponseOverview | None = state["view"]
    by_seq = {stop.seq: stop.summary for stop in target.positions}
    moment = replayed.recorded_at or ""
    return {
        **state,
        "incident": view.incident if view is not None else target.incident,
        "live_incident": target.incident,
        "seq": replayed.position,
        "moment": moment,
        "head_hash": replayed.head_hash.hex(),
        "positions": target.positions,
        "index": target.index,
        "facts": sorted(((view.incident.facts or {}) if view else {}).items()),
        "timeline": [(entry, by_seq.get(entry.seq, "")) for entry in state["entries"]],
        "labels": labels(page),
        "quality_labels": ingest_labels.translated(page.language),
        "measures": ingest_labels.MEASURES,
        "tones": ingest_labels.STATUS_TONES,
        # The live page's sections, with every action switched off.
        "can_command": False,
        "can_change_status": False,
        "can_report": False,
        "my_department": None,
        "now": moment,
    }


@router.get("/review/incidents/{incident_id}/replay", include_in_schema=False)
def replay_page(
    incident_id: str, page: SignedInPage, seq: Seq = None, at: Moment = None
) -> Response:
    """Show an incident as it stood at a seq or moment, with a time scrubber."""
    target = resolve_target(
        page.muster, incident_id, seq=seq, at=at, language=page.language
    )
    context = replay_context(page, incident_id, target)
    return page.render("review_replay.html", **context)


@router.get("/review/incidents/{incident_id}/replay/state", include_in_schema=False)
def replay_state(
    incident_id: str, page: SignedInPage, seq: Seq = None, at: Moment = None
) -> Response:
    """Return the replayed state alone (an HTML fragment for the scrubber)."""
    target = resolve_target(
        page.muster, incident_id, seq=seq, at=at, language=page.language
    )
    context = replay_context(page, incident_id, target)
    return page.render("review_replay_state.html", **context)


def _summary(
    conn: Connection, replayed: Replayed, *, incident_id: str
) -> dict[str, Any]:
    if response_queries.get_incident(conn, incident_id) is not None:
        return state_summary(conn, replayed, incident_id=incident_id)
    # Not opened yet at that seq: no incident, but data quality still stood.
    quality = ingest_queries.quality_by_dataset(conn)
    return {
        "log_range": replayed.log_range(),
        "events": replayed.events,
        "incidents": [],
        "data_quality": {
            dataset: {
                measure: {"status": view.status, "value": view.value}
                for measure, view in sorted(measures.items())
            }
            for dataset, measures in sorted(quality.items())
        },
    }


@router.get("/api/v1/review/incidents/{incident_id}/replay", tags=["review"])
def replay_json(
    incident_id: str,
    _actor: CurrentActor,
    muster: MusterDep,
    seq: Seq = None,
    at: Moment = None,
) -> dict[str, Any]:
    """Return an incident as it stood at a seq or moment (default: its last event),
    replayed from the log: status, level, departments, tasks, decisions, assessments
    and data quality, with the log range and chain hash it was replayed to."""
    target = resolve_target(muster, incident_id, seq=seq, at=at, language="en")
    summary = CACHE.read_state(
        muster.engine,
        muster.bus.context.projections,
        seq=target.seq,
        expected_hash=target.head_hash,
        reader=lambda conn, replayed: _summary(conn, replayed, incident_id=incident_id),
    )
    return {
        "incident_id": incident_id,
        "seq": summary["log_range"]["last_seq"],
        "at": summary["log_range"]["recorded_at"],
        **summary,
        "timeline": [{"seq": stop.seq, "at": stop.at} for stop in target.positions],
    }


__all__ = ["Position", "Target", "replay_context", "resolve_target", "router"]
