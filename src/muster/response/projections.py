"""Projections of the response part: events -> its tables. Imported by bootstrap.

Timers (``response_timers``) are a read model like any other: every deadline is in
the event that set it, so the table is rebuilt exactly by replay and a restart finds
every pending escalation where the log left it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.prepared import Prepared
from muster.core.eventlog.projections import AppendRow, ProjectionSet, Projector, Row
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event, decoded_as_is, event_to_data
from muster.response.domain import events as ev
from muster.response.domain.model import root_code
from muster.response.projection_rows import clear_timer as _clear_timer
from muster.response.projection_rows import (
    incident_facts,
    update_incident,
    write_incident,
)
from muster.response.projection_rows import set_timer as _set_timer
from muster.response.projection_rows import to_json as _json
from muster.response.read_models import (
    PROJECTED_TABLES,
    chains,
    plans,
    reports,
    sitreps,
    timeline,
    timers,
    unresponsive,
)
from muster.response.task_projections import TASK_PROJECTORS

# Statements built once (R10): replay runs these for every event of the log, and
# building one per event cost more than executing it (docs/benchmarks.md, Replay).
# The incident row's statements are in projection_rows (held on replay).
_CLEAR_INCIDENT_TIMERS = Prepared(
    delete(timers).where(timers.c.incident_id == bindparam("incident_id"))
)

# --- configuration --------------------------------------------------------------------


def on_plan_registered(
    event: ev.PlanRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Keep the plan's current version."""
    conn.execute(delete(plans).where(plans.c.code == event.plan_code))
    document = event.document
    conn.execute(
        insert(plans),
        {
            "code": event.plan_code,
            "version": event.version,
            "name_zh": str(document.get("name_zh", "")),
            "name_en": str(document.get("name_en", "")),
            "categories": _json(list(document.get("categories", []))),
            "document": _json(document),
            "registered_at": envelope.recorded_at,
        },
    )


def on_chain_set(
    event: ev.EscalationChainSet, envelope: Envelope, conn: Connection
) -> None:
    """Keep a department's current chain."""
    conn.execute(delete(chains).where(chains.c.department == event.department))
    conn.execute(
        insert(chains),
        {
            "department": event.department,
            "steps": _json(list(event.steps)),
            "repeat": event.repeat,
            "repeat_after": event.repeat_after,
        },
    )


# --- incidents ------------------------------------------------------------------------


def on_incident_opened(
    event: ev.IncidentOpened, envelope: Envelope, conn: Connection
) -> None:
    """Insert the new incident."""
    write_incident(
        conn,
        {
            "id": event.incident_id,
            "title": event.title,
            "category": event.category,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "description": event.description,
            "status": "reported",
            "reporting_department": event.reporting_department,
            "opened_at": envelope.recorded_at,
            "opened_by": envelope.actor_id,
            "type_code": event.type_code or root_code(event.category),
            "updated_at": envelope.recorded_at,
        },
    )


def _update_incident(conn: Connection, incident_id: str, **values: Any) -> None:
    update_incident(conn, incident_id, values)


def on_status_changed(
    event: ev.IncidentStatusChanged, envelope: Envelope, conn: Connection
) -> None:
    """Move the incident; closing it cancels every pending timer."""
    values: dict[str, Any] = {"status": event.to_status}
    if event.type_code:
        values["type_code"] = event.type_code
    _update_incident(conn, event.incident_id, updated_at=envelope.recorded_at, **values)
    if event.to_status == "closed":
        _CLEAR_INCIDENT_TIMERS.run(conn, {"incident_id": event.incident_id})


def on_facts_recorded(
    event: ev.IncidentFactsRecorded, envelope: Envelope, conn: Connection
) -> None:
    """Merge the recorded facts into the incident's."""
    stored = incident_facts(conn, event.incident_id)
    facts = {**json.loads(stored if stored is not None else "{}"), **event.facts}
    _update_incident(
        conn, event.incident_id, facts=_json(facts), updated_at=envelope.recorded_at
    )


def on_response_activated(
    event: ev.ResponseActivated, envelope: Envelope, conn: Connection
) -> None:
    """The incident responds under a plan at a level."""
    _update_incident(
        conn,
        event.incident_id,
        status="responding",
        plan_code=event.plan_code,
        plan_version=event.plan_version,
        level=event.level,
        lead_department=event.lead_department,
        supporting_departments=_json(list(event.supporting_departments)),
        command_roles=_json(event.command_roles),
        updated_at=envelope.recorded_at,
    )


def on_level_changed(
    event: ev.ResponseLevelChanged, envelope: Envelope, conn: Connection
) -> None:
    """The response level changed."""
    _update_incident(
        conn,
        event.incident_id,
        level=event.to_level,
        lead_department=event.lead_department,
        supporting_departments=_json(list(event.supporting_departments)),
        updated_at=envelope.recorded_at,
    )


def on_unresponsive(
    event: ev.DepartmentMarkedUnresponsive, envelope: Envelope, conn: Connection
) -> None:
    """Remember that a department did not answer its chain."""
    conn.execute(
        delete(unresponsive).where(
            unresponsive.c.incident_id == event.incident_id,
            unresponsive.c.department == event.department,
        )
    )
    conn.execute(
        insert(unresponsive),
        {
            "incident_id": event.incident_id,
            "department": event.department,
            "task_id": event.task_id,
            "marked_at": envelope.recorded_at,
        },
    )
    _clear_timer(conn, "ack", event.task_id)


# --- reports --------------------------------------------------------------------------


def _report_filter(incident_id: str, obligation: str) -> Any:
    return (reports.c.incident_id == incident_id) & (reports.c.obligation == obligation)


def on_report_due(event: ev.ReportDueSet, envelope: Envelope, conn: Connection) -> None:
    """Start or move a reporting clock."""
    where = _report_filter(event.incident_id, event.obligation)
    existing = conn.execute(reports.select().where(where)).first()
    if existing is None:
        conn.execute(
            insert(reports),
            {
                "incident_id": event.incident_id, "obligation": event.obligation,
                "name_zh": event.name_zh, "name_en": event.name_en,
                "department": event.department, "recipient": event.recipient,
                "due_at": event.due_at, "follow_up_minutes": event.follow_up_minutes,
                "sent_count": 0, "overdue_count": 0,
            },
        )  # fmt: skip
    else:
        conn.execute(update(reports).where(where).values(due_at=event.due_at))
    key = f"{event.incident_id}:{event.obligation}"
    _set_timer(conn, "report", key, event.incident_id, event.due_at)


def on_report_overdue(
    event: ev.ReportOverdue, envelope: Envelope, conn: Connection
) -> None:
    """Count a late report (迟报); the clock waits for the report."""
    where = _report_filter(event.incident_id, event.obligation)
    conn.execute(
        update(reports).where(where).values(overdue_count=reports.c.overdue_count + 1)
    )
    _clear_timer(conn, "report", f"{event.incident_id}:{event.obligation}")


def on_sitrep_sent(
    event: ev.SituationReportSent, envelope: Envelope, conn: Connection
) -> None:
    """Store the report; it satisfies its obligation's clock."""
    conn.execute(
        insert(sitreps),
        {
            "id": event.report_id, "incident_id": event.incident_id,
            "obligation": event.obligation, "department": event.department,
            "recipient": event.recipient, "content": _json(event.content),
            "sent_at": envelope.recorded_at, "sent_by": envelope.actor_id,
        },
    )  # fmt: skip
    if event.obligation is None:
        return
    where = _report_filter(event.incident_id, event.obligation)
    conn.execute(
        update(reports)
        .where(where)
        .values(
            sent_count=reports.c.sent_count + 1,
            last_sent_at=envelope.recorded_at,
            due_at=event.next_due_at,
        )
    )
    key = f"{event.incident_id}:{event.obligation}"
    if event.next_due_at is None:
        _clear_timer(conn, "report", key)
    else:
        _set_timer(conn, "report", key, event.incident_id, event.next_due_at)


def timeline_row(event: Event, envelope: Envelope) -> Row | None:
    """Return the event's row on its incident's timeline (None: not an incident's)."""
    if decoded_as_is(type(event), envelope.version, envelope.data):
        data = envelope.data  # what event_to_data gives (replay: skip rebuilding it)
    else:
        data = event_to_data(event)
    incident_id = data.get("incident_id")
    if not isinstance(incident_id, str):
        return None
    return {
        "seq": envelope.seq,
        "incident_id": incident_id,
        "type": envelope.type,
        "at": envelope.recorded_at,
        "actor_id": envelope.actor_id,
        "department": envelope.actor_department,
        "data": _json(data),
    }


on_any_incident_event = AppendRow(timeline, timeline_row)
"""Add the event to its incident's timeline (rows inserted in bulk on replay)."""


def _projectors() -> dict[type[Event], list[Projector]]:
    own: dict[type[Event], list[Projector]] = {
        ev.PlanRegistered: [on_plan_registered],
        ev.EscalationChainSet: [on_chain_set],
        ev.IncidentOpened: [on_incident_opened],
        ev.IncidentStatusChanged: [on_status_changed],
        ev.IncidentFactsRecorded: [on_facts_recorded],
        ev.ResponseActivated: [on_response_activated],
        ev.ResponseLevelChanged: [on_level_changed],
        ev.DepartmentMarkedUnresponsive: [on_unresponsive],
        ev.ReportDueSet: [on_report_due],
        ev.ReportOverdue: [on_report_overdue],
        ev.SituationReportSent: [on_sitrep_sent],
    }
    for event_class, projectors in TASK_PROJECTORS.items():
        own.setdefault(event_class, []).extend(projectors)
    for name in ev.__all__:
        event_class = getattr(ev, name)
        if "incident_id" in getattr(event_class, "__dataclass_fields__", {}):
            own.setdefault(event_class, []).append(on_any_incident_event)
    return own


PROJECTIONS = ProjectionSet(
    name="response", handlers=_projectors(), tables=PROJECTED_TABLES
)

__all__ = ["PROJECTIONS"]
