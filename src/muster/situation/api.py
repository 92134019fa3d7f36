"""HTTP API of the situation map (the common operating picture): its layers as GeoJSON.

``GET /api/v1/situation/map/layers?at=ISO`` answers one FeatureCollection per layer:
``incidents`` (open), ``triggers`` (active firings, why), ``observations`` (the latest
reading per station and metric of each observations dataset, with a ``status`` from the
trigger rules), ``cap_areas`` (alerts in force), ``exposed_assets`` (what the cascade
engine finds exposed by each incident shown, for department roles only), ``tasks``
(open, placed at their incident) and ``resources`` (every department's resources with
their status, from ``muster.resources.geojson``).

The time slider. Without ``at`` (or with ``at`` not before the clock) the layers show
*now*, from the read models. With ``at`` in the past they show the picture as of that
moment, rebuilt from the event log: ``map_queries.fold_log`` replays the incident,
task and trigger events recorded up to ``at`` (one bounded query on the events table;
no read model is touched), and resources likewise (``muster.resources.history``).
CAP areas are the stored alerts received by ``at``, not superseded by then and not
expired at ``at``. Observations are the newest readings
the sharing read returns (``MAX_LIMIT`` rows a dataset) observed by ``at``: a moment
far back in a busy dataset may show none. ``span`` gives the slider's ends: the log's
first event and now.

Sharing. Observations leave only through the sharing read (``ReadShared``: decided by
Cedar, masked, logged with channel ``map``), one read per dataset, so a masked location
stays snapped, a counts-only release appears under the layer's ``aggregated`` and a
refusal under ``withheld`` (with its reason), never as points. Incidents, tasks,
triggers and CAP alerts are what every signed-in user already sees in the live feed.
Imported by ``web.app`` (``router``) and ``situation.pages`` (``LIVE_EVENT_TYPES``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from muster.bootstrap import Muster
from muster.catalog import queries as catalog
from muster.core.clock import isoformat_utc, parse_utc
from muster.core.errors import ValidationFailed
from muster.core.messages import Actor
from muster.resources.geojson import map_features as resource_features
from muster.response.domain.event_types import event_type
from muster.response.pages import LEVEL_LABELS, STATUS_LABELS, TASK_STATUS_LABELS
from muster.sharing.domain.commands import ReadShared
from muster.sharing.reads import MAX_LIMIT, SharedRead
from muster.sharing.schemas import tlp_label
from muster.situation import map_queries as mq
from muster.situation.assessment_handlers import VIEW_ROLES as CASCADE_ROLES
from muster.web import i18n
from muster.web.deps import CurrentActor, Language, MusterDep

router = APIRouter(prefix="/api/v1/situation", tags=["situation"])

LIVE_EVENT_TYPES = (
    *mq.FOLDED_TYPES,
    "ingest.CapAlertReceived",
    "ingest.ObservationsIngested",
    "resources.ResourceRegistered",
    "resources.ResourceUpdated",
    "resources.ResourceStatusChanged",
)
"""The feed's event types after which an open map fetches its layers again."""
LIVE_READ_LIMIT = 5000
"""Rows a live map reads per observations dataset (newest first)."""

Feature = dict[str, Any]


def _collection(features: Iterable[Feature], **members: object) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **members}


def _point(lat: float, lon: float, properties: dict[str, Any]) -> Feature:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def _label(language: str, labels: dict[str, str], code: str | None) -> str | None:
    if code is None:
        return None
    return i18n.translate(language, labels[code]) if code in labels else code


def incident_features(picture: mq.Picture, language: str) -> list[Feature]:
    """Return the incidents as points (title, type, level, status, link)."""
    features = []
    for item in picture.incidents:
        known = event_type(item.type_code)
        features.append(
            _point(item.latitude, item.longitude, {
                "id": item.id, "title": item.title, "category": item.category,
                "type": item.type_code,
                "type_name": known.name(language) if known else None,
                "level": item.level,
                "level_label": _label(language, LEVEL_LABELS, item.level),
                "status": item.status,
                "status_label": _label(language, STATUS_LABELS, item.status),
                "opened_at": item.opened_at, "link": f"/incidents/{item.id}",
            })
        )  # fmt: skip
    return features


def task_features(picture: mq.Picture, language: str) -> list[Feature]:
    """Return the open tasks, each placed at its incident."""
    where = {item.id: (item.latitude, item.longitude) for item in picture.incidents}
    return [
        _point(*where[task.incident_id], {
            "id": task.id, "incident_id": task.incident_id,
            "title": task.title_zh if language.startswith("zh") else task.title_en,
            "status": task.status,
            "status_label": _label(language, TASK_STATUS_LABELS, task.status),
            "lead_department": task.lead_department, "due_at": task.due_at,
            "overdue": task.overdue,
            "link": f"/incidents/{task.incident_id}#task-board",
        })
        for task in picture.tasks
        if task.incident_id in where
    ]  # fmt: skip


def trigger_features(picture: mq.Picture) -> list[Feature]:
    """Return the active trigger instances that have a position."""
    return [
        _point(item.latitude, item.longitude, {
            "rule": item.rule, "instance": item.instance, "value": item.value,
            "threshold": item.threshold, "since": item.since,
            "incident_id": item.incident_id, "explanation": item.explanation,
            "link": f"/incidents/{item.incident_id}" if item.incident_id else None,
        })
        for item in picture.triggers
        if item.latitude is not None and item.longitude is not None
    ]  # fmt: skip


def cap_features(shapes: list[mq.CapShape]) -> list[Feature]:
    """Return the CAP areas: polygons (GeoJSON lon/lat, closed) and circles (points
    with ``radius_km``)."""
    features: list[Feature] = []
    for shape in shapes:
        properties = {
            "alert_key": shape.alert_key, "identifier": shape.identifier,
            "sender": shape.sender, "msg_type": shape.msg_type, "event": shape.event,
            "severity": shape.severity, "urgency": shape.urgency,
            "headline": shape.headline, "expires": shape.expires, "area": shape.area,
        }  # fmt: skip
        for polygon in shape.polygons:
            ring = [[lon, lat] for lat, lon in polygon]
            if ring and ring[0] != ring[-1]:
                ring.append(ring[0])
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": properties,
                }
            )
        for lat, lon, radius in shape.circles:
            features.append(_point(lat, lon, {**properties, "radius_km": radius}))
    return features


def _observed_by(values: dict[str, Any], at: datetime | None) -> bool:
    if at is None:
        return True
    observed = values.get("observed_at")
    if not isinstance(observed, str):
        return False
    try:
        return parse_utc(observed) <= at
    except ValueError:
        return False


def _position(value: object) -> tuple[float, float] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        lat, lon = value
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return float(lat), float(lon)
    return None


def observation_features(
    read: SharedRead,
    rules: dict[tuple[str, str], list[mq.Threshold]],
    at: datetime | None,
) -> list[Feature]:
    """Return the latest released reading per station and metric of one read
    (records come newest first), coloured by the rules; unplaced readings are left
    out (a hidden location)."""
    latest: dict[tuple[object, ...], Feature] = {}
    for record in read.records:
        values = record["values"]
        where = _position(values.get("location"))
        if where is None or not _observed_by(values, at):
            continue
        station = values.get("station_id")
        key = (station if station is not None else where, values.get("metric"))
        if key in latest:
            continue
        metric = str(values.get("metric"))
        status, rule = mq.observation_status(
            rules.get((read.dataset, metric)), values.get("value")
        )
        latest[key] = _point(*where, {
            "dataset": read.dataset, "station": station, "metric": metric,
            "value": values.get("value"), "unit": values.get("unit"),
            "observed_at": values.get("observed_at"), "status": status,
            "rule": rule.rule if rule else None,
            "threshold": rule.above if rule else None,
            "masked": sorted(read.masks), "tlp": tlp_label(read.tlp),
        })  # fmt: skip
    return list(latest.values())


def observations_layer(
    muster: Muster,
    actor: Actor,
    datasets: list[str],
    rules: dict[tuple[str, str], list[mq.Threshold]],
    *,
    at: datetime | None,
    purpose: str | None,
) -> dict[str, Any]:
    """Read each observations dataset through the sharing decision point and build
    the layer: released points, counts-only releases, refusals."""
    features: list[Feature] = []
    aggregated: list[dict[str, Any]] = []
    withheld: list[dict[str, Any]] = []
    for code in datasets:
        command = ReadShared(
            dataset=code,
            purpose=purpose or None,
            limit=LIVE_READ_LIMIT if at is None else MAX_LIMIT,
            channel="map",
        )
        read: SharedRead = muster.bus.handle(command, actor)
        if read.decision == "deny":
            withheld.append({"dataset": code, "reason": read.reason})
        elif read.decision == "aggregate":
            aggregated.append({
                "dataset": code, "by": read.aggregate_by,
                "counts": [[value, count] for value, count in read.aggregates],
                "tlp": tlp_label(read.tlp),
            })  # fmt: skip
        else:
            features.extend(observation_features(read, rules, at))
    return _collection(features, aggregated=aggregated, withheld=withheld)


def moment_of(at: str | None, now: datetime) -> datetime | None:
    """Return the past moment asked for, or None for now (no ``at``, or not before
    the clock); a time without a zone is refused."""
    if not at:
        return None
    try:
        moment = parse_utc(at)
    except ValueError as error:
        raise ValidationFailed(
            f"at must be an ISO-8601 time with a zone, not {at!r}", field="at"
        ) from error
    return moment if moment < now else None


def map_layers(
    muster: Muster, actor: Actor, language: str, *, at: str | None, purpose: str | None
) -> dict[str, Any]:
    """Build the map's layers for an actor, now or as of a past moment."""
    now = muster.clock.now()
    past = moment_of(at, now)
    moment = past or now
    with muster.engine.connect() as conn:
        picture = (
            mq.picture_now(conn)
            if past is None
            else mq.fold_log(conn, isoformat_utc(past))
        )
        areas = mq.cap_areas_at(conn, moment)
        rules = mq.thresholds(conn)
        assets = (
            mq.exposed_assets(conn, picture.incidents, moment)
            if actor.has_role(*CASCADE_ROLES)
            else []
        )
        start = mq.log_start(conn)
        resources = resource_features(
            conn, language=language, at=None if past is None else isoformat_utc(past)
        )
        datasets = [
            view.code
            for view in catalog.list_datasets(conn)
            if view.format == "observations"
        ]
    observations = observations_layer(
        muster, actor, datasets, rules, at=past, purpose=purpose
    )
    return {
        "at": isoformat_utc(moment),
        "live": past is None,
        "span": {"start": start, "end": isoformat_utc(now)},
        "truncated": picture.truncated,
        "layers": {
            "incidents": _collection(incident_features(picture, language)),
            "triggers": _collection(trigger_features(picture)),
            "observations": observations,
            "cap_areas": _collection(cap_features(areas)),
            "exposed_assets": _collection(assets),
            "tasks": _collection(task_features(picture, language)),
            "resources": _collection(resources),
        },
    }


Text = Annotated[str | None, Query(max_length=64)]


@router.get("/map/layers")
def get_map_layers(
    actor: CurrentActor,
    muster: MusterDep,
    language: Language,
    at: Text = None,
    purpose: Text = None,
) -> JSONResponse:
    """Return the common operating picture's layers as GeoJSON FeatureCollections,
    now or (``at``, ISO-8601 with a zone) as of a past moment rebuilt from the log.

    Observations pass the sharing decision point like any read (logged, masked;
    ``purpose`` is passed on): counts-only releases are listed under the layer's
    ``aggregated``, refusals under ``withheld``."""
    body = map_layers(muster, actor, language, at=at, purpose=purpose)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


__all__ = [
    "LIVE_EVENT_TYPES",
    "map_layers",
    "moment_of",
    "observations_layer",
    "router",
]
