"""HTTP API of public warnings (R13), and their public feed and CAP documents.

``router`` (signed-in people and API keys): ``POST /api/v1/incidents/{id}/alerts``
composes a draft from a template; ``GET /api/v1/alerts`` (``?incident=``) lists
alerts and ``GET …/alerts/{id}`` shows one; ``POST …/{id}/approve``, ``/link``,
``/publish`` and ``/discard`` move it on; ``GET …/alerts/current.geojson`` is the
situation map's live layer (the warnings in force). The handlers decide who may do
what (the two-person rule included); refusals are MusterErrors, answered as
problem+json by ``web.errors``.

``public_router`` (no sign-in): ``GET /warnings/feed.atom``, the Atom feed of the
current alerts, and ``GET /warnings/alerts/{identifier}.xml``, the exact CAP XML
that was published (``application/cap+xml``). Both send a strong ETag and
Last-Modified and answer ``If-None-Match`` / ``If-Modified-Since`` with 304. An
Exercise alert never appears in a live deployment's feed (only in a drill's
sandbox). Imported by ``web.app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.alerting import current, queries
from muster.alerting.domain.commands import (
    ApproveAlert,
    ComposeAlert,
    DiscardAlert,
    LinkConcurrence,
    PublishAlert,
)
from muster.alerting.domain.errors import UnknownAlert
from muster.alerting.domain.model import COLOUR_NAMES
from muster.alerting.domain.templates import WarningTemplates
from muster.alerting.feed import (
    ATOM_TYPE,
    CAP_TYPE,
    Entry,
    atom_feed,
    entry_id,
    etag_for,
    http_date,
    is_not_modified,
)
from muster.alerting.schemas import (
    AlertOut,
    ApproveIn,
    ComposeIn,
    CreatedOut,
    DiscardIn,
    LinkIn,
    PublishedOut,
    ResultOut,
    TextLanguage,
)
from muster.core.clock import parse_utc
from muster.core.errors import NotFound
from muster.web import i18n
from muster.web.deps import CurrentActor, Language, MusterDep
from muster.web.i18n import N_

router = APIRouter(prefix="/api/v1", tags=["warnings"])
public_router = APIRouter(tags=["warnings"])

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEED_CACHE = "public, no-cache"  # revalidate (ETag): a Cancel must not wait
XML_CACHE = "public, max-age=86400"  # a published alert never changes
MSG_TYPE_LABELS: dict[str, str] = {
    "Alert": N_("New warning"),
    "Update": N_("Warning update"),
    "Cancel": N_("Warning cancelled"),
}
MAP_LABELS: dict[str, str] = {
    "layer": N_("Public warnings"),
    "msg_type": N_("Message type"),
    "area": N_("Area"),
    "sent": N_("Sent"),
    "expires": N_("Expires"),
    "population": N_("People covered (estimate)"),
    "open": N_("Open the incident's warnings"),
    "xml": N_("CAP XML"),
    "legend": N_("Public warning, %(colour)s"),
}


def _texts(given: Mapping[TextLanguage, str]) -> dict[str, str]:
    """Return the non-blank texts per language."""
    return {language: text for language, text in given.items() if text.strip()}


def _out(view: queries.AlertView) -> AlertOut:
    body = view.to_json()
    if view.xml is not None:
        body["xml_url"] = current.xml_path(view.record.content.identifier)
    return AlertOut.model_validate(body)


def _alert_or_404(muster: MusterDep, alert_id: str) -> queries.AlertView:
    with muster.engine.connect() as conn:
        view = queries.get_alert(conn, alert_id)
    if view is None:
        raise UnknownAlert(f"no alert {alert_id}", alert_id=alert_id)
    return view


@router.post("/incidents/{incident_id}/alerts", status_code=201)
async def compose(
    incident_id: str, body: ComposeIn, actor: CurrentActor, muster: MusterDep
) -> CreatedOut:
    """Draft an alert for an incident from a template (the incident's speaking
    departments' duty officers and heads, commanders, admins)."""
    command = ComposeAlert(
        incident_id=incident_id,
        hazard=body.hazard,
        colour=body.colour,
        msg_type=body.msg_type,
        follows=body.follows,
        radius_km=body.radius_km,
        districts=tuple(body.districts),
        headline=_texts(body.headline),
        description=_texts(body.description),
        instruction=_texts(body.instruction),
        response_types=None
        if body.response_types is None
        else tuple(body.response_types),
        expires_hours=body.expires_hours,
        note=body.note,
    )
    alert_id = await run_in_threadpool(muster.bus.handle, command, actor)
    return CreatedOut(id=str(alert_id))


@router.get("/alerts")
def list_alerts(
    _actor: CurrentActor,
    muster: MusterDep,
    incident: Annotated[str | None, Query(max_length=200)] = None,
) -> list[AlertOut]:
    """Alerts, newest first (``incident``: only that incident's)."""
    with muster.engine.connect() as conn:
        views = queries.list_alerts(conn, incident_id=incident or None)
    return [_out(view) for view in views]


@router.get("/alerts/current.geojson")
def current_geojson(
    _actor: CurrentActor, muster: MusterDep, language: Language
) -> JSONResponse:
    """The situation map's warnings layer: the warnings in force (no Cancels, none
    superseded or expired), each circle and polygon coloured by warning colour."""
    texts = current.MapTexts(
        msg_types={
            kind: i18n.translate(language, label)
            for kind, label in MSG_TYPE_LABELS.items()
        },
        colours={
            colour.value: names[0 if language == "zh-CN" else 1]
            for colour, names in COLOUR_NAMES.items()
        },
    )
    with muster.engine.connect() as conn:
        views = current.in_force(
            conn,
            now=muster.clock.now(),
            include_exercise=muster.settings.drill_id is not None,
        )
    body = current.map_collection(views, language=language, texts=texts)
    body["labels"] = {
        key: i18n.translate(language, label)
        for key, label in MAP_LABELS.items()
        if key != "legend"
    }
    body["legend"] = {
        colour: i18n.translate(language, MAP_LABELS["legend"], colour=name)
        for colour, name in texts.colours.items()
    }
    return JSONResponse(
        body, media_type="application/geo+json", headers={"Cache-Control": "no-store"}
    )


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: str, _actor: CurrentActor, muster: MusterDep) -> AlertOut:
    """One alert with its workflow and content (``xml_url`` once published)."""
    return _out(_alert_or_404(muster, alert_id))


@router.post("/alerts/{alert_id}/approve")
async def approve(
    alert_id: str, actor: CurrentActor, muster: MusterDep, body: ApproveIn | None = None
) -> ResultOut:
    """Approve a draft: a head of a speaking department or a commander, never its
    author (the two-person rule)."""
    command = ApproveAlert(alert_id=alert_id, comment=(body or ApproveIn()).comment)
    result = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(result))


@router.post("/alerts/{alert_id}/link")
async def link(
    alert_id: str, body: LinkIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Tie an unpublished alert to the incident's joint decision that gives the
    concurrence it needs."""
    command = LinkConcurrence(alert_id=alert_id, decision_id=body.decision_id)
    result = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(result))


@router.post("/alerts/{alert_id}/publish")
async def publish(
    alert_id: str, actor: CurrentActor, muster: MusterDep
) -> PublishedOut:
    """Publish an approved alert (its concurrence approved, if required); its CAP
    XML is frozen and served at ``xml_url``."""
    command = PublishAlert(alert_id=alert_id)
    identifier = str(await run_in_threadpool(muster.bus.handle, command, actor))
    return PublishedOut(identifier=identifier, xml_url=current.xml_path(identifier))


@router.post("/alerts/{alert_id}/discard")
async def discard(
    alert_id: str, body: DiscardIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Drop an alert that was never published, with the reason."""
    command = DiscardAlert(alert_id=alert_id, reason=body.reason)
    result = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(result))


IfNoneMatch = Annotated[str | None, Header()]
IfModifiedSince = Annotated[str | None, Header()]


def _conditional(
    body: bytes,
    *,
    media_type: str,
    last_modified: datetime | None,
    cache: str,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> Response:
    """Answer 200 with validators, or 304 when the client's copy is current."""
    etag = etag_for(body)
    headers = {"ETag": etag, "Cache-Control": cache}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    if is_not_modified(
        etag=etag,
        last_modified=last_modified,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
    ):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _feed_title(templates: WarningTemplates | None) -> str:
    names = [] if templates is None else list(templates.sender_name.values())
    shown = " · ".join(name for name in names if name)
    return shown or "Muster 预警 Warnings"


def _entry(request: Request, view: queries.AlertView) -> Entry:
    record = view.record
    identifier = record.content.identifier
    first = record.content.infos[0]
    summary = " / ".join(info.headline for info in record.content.infos[1:])
    return Entry(
        id=entry_id(record.content.sender, record.content.identifier),
        title=first.headline,
        updated=parse_utc(str(record.sent)),
        summary=f"{summary}\n{first.description}" if summary else first.description,
        xml_url=str(request.url_for("warning_xml", identifier=identifier)),
        msg_type=record.content.msg_type,
        status=record.content.status,
        colour=record.colour.value,
        author=first.sender_name or record.content.sender,
    )


def _feed(request: Request, muster: MusterDep) -> tuple[bytes, datetime | None]:
    include_exercise = muster.settings.drill_id is not None
    now = muster.clock.now()
    with muster.engine.connect() as conn:
        views = current.feed_alerts(conn, now=now, include_exercise=include_exercise)
        changed = current.last_change(conn, now=now, include_exercise=include_exercise)
        templates = queries.current_templates(conn)
    sender = "muster" if templates is None else templates.sender
    body = atom_feed(
        [_entry(request, view) for view in views],
        feed_id=f"urn:muster:warnings:{sender}",
        title=_feed_title(templates),
        self_url=str(request.url_for("warnings_feed")),
        updated=changed or EPOCH,
    )
    return body, changed


@public_router.get(current.FEED_PATH, name="warnings_feed")
async def warnings_feed(
    request: Request,
    muster: MusterDep,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    """The Atom feed of current public warnings (no sign-in), with conditional GET."""
    body, changed = await run_in_threadpool(_feed, request, muster)
    return _conditional(
        body,
        media_type=ATOM_TYPE,
        last_modified=changed,
        cache=FEED_CACHE,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
    )


@public_router.get("/warnings/alerts/{identifier}.xml", name="warning_xml")
def warning_xml(
    identifier: str,
    muster: MusterDep,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    """A published alert's CAP XML, byte for byte as it went out (no sign-in)."""
    with muster.engine.connect() as conn:
        view = queries.by_identifier(conn, identifier)
    include_exercise = muster.settings.drill_id is not None
    if (
        view is None
        or view.xml is None
        or not current.is_shown(view, include_exercise=include_exercise)
    ):
        raise NotFound(f"no published alert {identifier}", alert=identifier)
    published = parse_utc(view.published_at) if view.published_at else None
    return _conditional(
        view.xml.encode("utf-8"),
        media_type=CAP_TYPE,
        last_modified=published,
        cache=XML_CACHE,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
    )


__all__ = ["MAP_LABELS", "MSG_TYPE_LABELS", "public_router", "router"]
