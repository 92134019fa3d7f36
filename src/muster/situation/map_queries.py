"""Read functions of the situation map (the common operating picture), for its API.

Two ways to the same picture: *now* reads the read models (open incidents, their open
tasks, the active trigger instances); *as of a past moment* folds the event log up to
that moment (:func:`fold_log`): one query over the events table, only the types that
move the map, in log order, at most ``FOLD_LIMIT`` events. CAP areas come from the
stored alerts either way (they are kept as received, with their receipt time), and
:func:`observation_status` colours a reading by the trigger rules in force.

:func:`exposed_assets` places what the cascade engine (``situation.assess_service``)
finds exposed by each incident. Observations are not read here: they leave Muster
only through the sharing read (``situation.api``).
Imported by ``situation.api`` and tests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.engine import Connection

from muster.core.clock import parse_utc
from muster.core.errors import MusterError
from muster.core.eventlog.tables import events
from muster.ingest import queries as ingest
from muster.ingest.formats.cap import CapAlert, parse_cap
from muster.response import queries as response
from muster.situation import queries as situation
from muster.situation.assess_service import (
    MAX_LAYER_RECORDS,
    assess_incident,
    current_model,
)
from muster.situation.domain.cascade_model import CascadeModel

logger = logging.getLogger(__name__)

FOLD_LIMIT = 100_000
"""The most events a past picture folds (a bound, not a page: beyond it, it is cut)."""
CAP_LIMIT = 500
"""The newest stored CAP alerts considered for a picture."""
CLOSED_TASK_STATUSES = frozenset({"done", "skipped"})
CANCELLING_TYPES = frozenset({"Update", "Cancel"})
AREA_TYPES = frozenset({"Alert", "Update"})

INCIDENT_TYPES = (
    "response.IncidentOpened",
    "response.IncidentStatusChanged",
    "response.ResponseActivated",
    "response.ResponseLevelChanged",
)
TASK_TYPES = (
    "response.TaskAssigned",
    "response.TaskAcknowledged",
    "response.TaskStarted",
    "response.TaskCompleted",
    "response.TaskDeclined",
    "response.TaskBlocked",
    "response.TaskReassigned",
    "response.TaskSkipped",
    "response.TaskOverdue",
)
TRIGGER_TYPES = ("situation.TriggerFired", "situation.TriggerCleared")
FOLDED_TYPES = INCIDENT_TYPES + TASK_TYPES + TRIGGER_TYPES
_TASK_STATUS = {
    "response.TaskAcknowledged": "acknowledged",
    "response.TaskStarted": "in_progress",
    "response.TaskCompleted": "done",
    "response.TaskDeclined": "declined",
    "response.TaskBlocked": "blocked",
    "response.TaskSkipped": "skipped",
}


@dataclass(frozen=True, slots=True)
class MapIncident:
    """An incident as the map places it."""

    id: str
    title: str
    category: str
    type_code: str | None
    level: str | None
    status: str
    latitude: float
    longitude: float
    opened_at: str


@dataclass(frozen=True, slots=True)
class MapTask:
    """An open task; the map places it at its incident."""

    id: str
    incident_id: str
    title_zh: str
    title_en: str
    status: str
    lead_department: str
    due_at: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class MapTrigger:
    """A rule instance that holds, with where and why it fired."""

    rule: str
    instance: str
    value: float
    threshold: float
    since: str
    incident_id: str | None
    latitude: float | None
    longitude: float | None
    explanation: str


@dataclass(frozen=True, slots=True)
class CapShape:
    """One area of a CAP alert in force: polygons as (lat, lon) rings, circles as
    (lat, lon, radius km)."""

    alert_key: str
    identifier: str
    sender: str
    msg_type: str
    event: str
    severity: str
    urgency: str
    headline: str
    expires: str | None
    area: str
    polygons: tuple[tuple[tuple[float, float], ...], ...]
    circles: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True, slots=True)
class Picture:
    """Incidents, open tasks and active triggers at one moment."""

    incidents: list[MapIncident]
    tasks: list[MapTask]
    triggers: list[MapTrigger]
    truncated: bool = False


def log_start(conn: Connection) -> str | None:
    """Return when the log's first event was recorded (the time slider's left end)."""
    first = conn.execute(select(func.min(events.c.recorded_at))).scalar_one_or_none()
    return str(first) if first is not None else None


def picture_now(conn: Connection) -> Picture:
    """Return the open incidents, their open tasks and the active triggers."""
    opened = response.open_incidents(conn)
    incidents = [
        MapIncident(
            id=item.id, title=item.title, category=item.category,
            type_code=item.type_code, level=item.level, status=item.status,
            latitude=item.latitude, longitude=item.longitude, opened_at=item.opened_at,
        )
        for item in opened
    ]  # fmt: skip
    tasks = [
        MapTask(
            id=task.id, incident_id=task.incident_id, title_zh=task.title_zh,
            title_en=task.title_en, status=task.status,
            lead_department=task.lead_department, due_at=task.due_at,
            overdue=task.overdue,
        )
        for incident in opened
        for task in response.incident_tasks(conn, incident.id)
        if task.status not in CLOSED_TASK_STATUSES
    ]  # fmt: skip
    return Picture(incidents, tasks, _active_triggers(conn))


def _active_triggers(conn: Connection) -> list[MapTrigger]:
    explained: dict[tuple[str, str], str] = {}
    for change in situation.trigger_history(conn, limit=2000):
        if change.change == "fired":
            explained[(change.rule, change.instance)] = change.explanation
    return [
        MapTrigger(
            rule=item.rule, instance=item.instance, value=item.value,
            threshold=item.threshold, since=item.since, incident_id=item.incident_id,
            latitude=item.latitude, longitude=item.longitude,
            explanation=explained.get((item.rule, item.instance), ""),
        )
        for item in situation.active_triggers(conn)
    ]  # fmt: skip


def fold_log(conn: Connection, until: str) -> Picture:
    """Return the picture as of ``until`` (ISO UTC, like ``recorded_at``): replay the
    incident, task and trigger events recorded up to then, in log order."""
    query = (
        select(cast(events.c.body, Text))
        .where(events.c.type.in_(FOLDED_TYPES), events.c.recorded_at <= until)
        .order_by(events.c.seq)
        .limit(FOLD_LIMIT + 1)
    )
    folder = _Folder()
    count = 0
    for (body,) in conn.execute(query):
        count += 1
        if count > FOLD_LIMIT:
            logger.warning("the map folded only the first %d events", FOLD_LIMIT)
            break
        envelope = json.loads(body)
        folder.apply(envelope["type"], envelope["data"], envelope["recorded_at"])
    return folder.picture(truncated=count > FOLD_LIMIT)


class _Folder:
    """The fold of :func:`fold_log`: plain dictionaries keyed by id."""

    def __init__(self) -> None:
        self.incidents: dict[str, MapIncident] = {}
        self.tasks: dict[str, MapTask] = {}
        self.triggers: dict[tuple[str, str], MapTrigger] = {}

    def apply(self, type_: str, data: Mapping[str, Any], at: str) -> None:
        """Apply one event's payload."""
        if type_ in INCIDENT_TYPES:
            self._incident(type_, data, at)
        elif type_ in TASK_TYPES:
            self._task(type_, data)
        elif type_ == "situation.TriggerFired":
            self.triggers[(data["rule"], data["key"])] = MapTrigger(
                rule=data["rule"], instance=data["key"], value=data["value"],
                threshold=data["threshold"], since=data["observed_at"],
                incident_id=data.get("incident_id"), latitude=data.get("latitude"),
                longitude=data.get("longitude"), explanation=data["explanation"],
            )  # fmt: skip
        elif type_ == "situation.TriggerCleared":
            self.triggers.pop((data["rule"], data["key"]), None)

    def _incident(self, type_: str, data: Mapping[str, Any], at: str) -> None:
        if type_ == "response.IncidentOpened":
            self.incidents[data["incident_id"]] = MapIncident(
                id=data["incident_id"], title=data["title"], category=data["category"],
                type_code=data.get("type_code"), level=None, status="reported",
                latitude=data["latitude"], longitude=data["longitude"], opened_at=at,
            )  # fmt: skip
            return
        found = self.incidents.get(data["incident_id"])
        if found is None:
            return
        if type_ == "response.IncidentStatusChanged":
            found = replace(
                found,
                status=data["to_status"],
                type_code=data.get("type_code") or found.type_code,
            )
        elif type_ == "response.ResponseActivated":
            found = replace(found, status="responding", level=data["level"])
        else:
            found = replace(found, level=data["to_level"])
        self.incidents[found.id] = found

    def _task(self, type_: str, data: Mapping[str, Any]) -> None:
        if type_ == "response.TaskAssigned":
            self.tasks[data["task_id"]] = MapTask(
                id=data["task_id"], incident_id=data["incident_id"],
                title_zh=data["title_zh"], title_en=data["title_en"],
                status="assigned", lead_department=data["lead_department"],
                due_at=data["due_at"], overdue=False,
            )  # fmt: skip
            return
        found = self.tasks.get(data["task_id"])
        if found is None:
            return
        if type_ == "response.TaskOverdue":
            found = replace(found, overdue=True)
        elif type_ == "response.TaskReassigned":
            found = replace(
                found, status="assigned", lead_department=data["to_department"]
            )
        else:
            found = replace(found, status=_TASK_STATUS[type_])
        self.tasks[found.id] = found

    def picture(self, *, truncated: bool) -> Picture:
        """Return what is open: incidents not closed, their tasks not finished."""
        incidents = [
            item for item in self.incidents.values() if item.status != "closed"
        ]
        shown = {item.id for item in incidents}
        tasks = [
            task
            for task in self.tasks.values()
            if task.incident_id in shown and task.status not in CLOSED_TASK_STATUSES
        ]
        return Picture(incidents, tasks, list(self.triggers.values()), truncated)


def cap_areas_at(conn: Connection, at: datetime) -> list[CapShape]:
    """Return the areas of the CAP alerts in force at a moment: received by then,
    an Alert or Update, not yet superseded by an Update or Cancel received by then,
    and (per info block) not expired."""
    received = [
        row
        for row in ingest.list_cap_alerts(conn, limit=CAP_LIMIT)
        if _before(row["received_at"], at) and row["status"] in ("Actual", "Exercise")
    ]
    ended: set[str] = set()
    for row in received:
        if row["msg_type"] in CANCELLING_TYPES:
            ended.update(ingest.alert_references(conn, row["alert_key"]))
    shapes: list[CapShape] = []
    for row in received:
        if row["msg_type"] not in AREA_TYPES or row["alert_key"] in ended:
            continue
        stored = ingest.cap_alert_document(conn, row["alert_key"])
        if stored is None:
            continue
        try:
            alert = parse_cap(stored[0].encode("utf-8"), verify_signatures=False)
        except Exception:  # a stored alert was accepted once; never break the map
            logger.exception("could not read stored CAP alert %s", row["alert_key"])
            continue
        shapes.extend(_shapes(row["alert_key"], alert, at))
    return shapes


def _before(text: str, at: datetime) -> bool:
    try:
        return parse_utc(text) <= at
    except ValueError:
        return False


def _shapes(key: str, alert: CapAlert, at: datetime) -> Iterable[CapShape]:
    for info in alert.infos:
        if info.expires is not None and info.expires <= at:
            continue
        for area in info.areas:
            if not area.polygons and not area.circles:
                continue
            yield CapShape(
                alert_key=key, identifier=alert.identifier, sender=alert.sender,
                msg_type=alert.msg_type, event=info.event, severity=info.severity,
                urgency=info.urgency, headline=info.headline or "",
                expires=info.expires.isoformat() if info.expires else None,
                area=area.description, polygons=area.polygons, circles=area.circles,
            )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Threshold:
    """A threshold rule on one metric of one dataset: fire at ``above``."""

    rule: str
    above: float
    clear_below: float | None


def thresholds(conn: Connection) -> dict[tuple[str, str], list[Threshold]]:
    """Return, per (dataset, metric), the rules a single reading can cross
    (``threshold`` and ``multi_station`` rules; sums and rates are not one reading)."""
    document = situation.rules_document(conn) or {}
    found: dict[tuple[str, str], list[Threshold]] = {}
    for rule in document.get("rules", []):
        if rule.get("kind") not in ("threshold", "multi_station"):
            continue
        if not isinstance(rule.get("above"), int | float):
            continue
        clear = rule.get("clear_below")
        found.setdefault((str(rule["dataset"]), str(rule["metric"])), []).append(
            Threshold(
                rule=str(rule["code"]),
                above=float(rule["above"]),
                clear_below=float(clear) if isinstance(clear, int | float) else None,
            )
        )
    return found


def observation_status(
    rules: list[Threshold] | None, value: object
) -> tuple[str, Threshold | None]:
    """Colour one reading: ``over`` (at or above a rule's threshold: the lowest such
    rule), ``normal`` (rated, below every threshold) or ``unrated`` (no rule reads
    it, or the value is not a number)."""
    if not rules or not isinstance(value, int | float) or isinstance(value, bool):
        return "unrated", None
    crossed = [rule for rule in rules if value >= rule.above]
    if crossed:
        return "over", min(crossed, key=lambda rule: rule.above)
    return "normal", min(rules, key=lambda rule: rule.above)


def exposed_assets(
    conn: Connection, incidents: Iterable[MapIncident], at: datetime
) -> list[dict[str, Any]]:
    """Return the assets the cascade assessment finds exposed by the incidents, as
    GeoJSON features (id, names, layer, dataset, department, hazards, incidents).

    Each incident is assessed on the layers stored now, at ``at`` (a past picture
    shows its incidents' cascades on today's layers); an incident the engine cannot
    assess (no type yet, no model loaded) exposes nothing. Geometry comes from the
    layer's stored records; an asset without one is left out.
    """
    model = current_model(conn)
    if model is None:
        return []
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for incident in incidents:
        try:
            assessment = assess_incident(conn, incident.id, now=at)
        except MusterError:
            continue
        for step in assessment.steps:
            for asset in step.assets:
                properties = found.setdefault((asset.layer, asset.id), {
                    "id": asset.id, "name_zh": asset.name_zh,
                    "name_en": asset.name_en, "layer": asset.layer,
                    "dataset": asset.dataset, "department": asset.department,
                    "hazards": [], "incidents": [],
                })  # fmt: skip
                for key, value in (
                    ("hazards", step.hazard),
                    ("incidents", incident.id),
                ):
                    if value not in properties[key]:
                        properties[key].append(value)
    return _placed(conn, model, found)


def _placed(
    conn: Connection,
    model: CascadeModel,
    found: Mapping[tuple[str, str], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Return the found assets with their stored geometry, by layer and id."""
    features: list[dict[str, Any]] = []
    for name in sorted({layer for layer, _ in found}):
        spec = model.layers.get(name)
        if spec is None:
            continue
        wanted = {ident for layer, ident in found if layer == name}
        shapes: dict[str, Any] = {}
        for record in ingest.list_records(conn, spec.dataset, limit=MAX_LAYER_RECORDS):
            ident = str(record.values.get(spec.id_property))
            if ident in wanted and record.geometry and ident not in shapes:
                shapes[ident] = record.geometry  # newest first: the latest wins
        features.extend(
            {"type": "Feature", "geometry": shapes[ident],
             "properties": found[(name, ident)]}
            for ident in sorted(wanted)
            if ident in shapes
        )  # fmt: skip
    return features


__all__ = [
    "FOLDED_TYPES",
    "CapShape",
    "MapIncident",
    "MapTask",
    "MapTrigger",
    "Picture",
    "Threshold",
    "cap_areas_at",
    "exposed_assets",
    "fold_log",
    "log_start",
    "observation_status",
    "picture_now",
    "thresholds",
]
