"""HTTP API of the ingest part: push records and CAP alerts, read what is stored, fix
or discard quarantined items, and read data quality (R13).

Stored records leave only through the sharing read (``read_records`` sends
``ReadShared``: decided by Cedar, masked, logged). The quarantine is the provider's
work queue: the decision point's ``manage_quarantine`` says who works it
(``require_quarantine_access``). Imported by ``web.app`` and ``ingest.pages``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Connection

from muster.bootstrap import Muster
from muster.catalog import queries as catalog
from muster.core.errors import PermissionDenied
from muster.core.messages import Actor
from muster.ingest import queries
from muster.ingest.domain.commands import (
    DiscardRecord,
    IngestCap,
    IngestFile,
    ResubmitRecord,
)
from muster.ingest.domain.errors import UnknownDataset, UnknownQuarantineItem
from muster.ingest.schemas import (
    AlertOut,
    CapAlertOut,
    DatasetQualityOut,
    DiscardIn,
    IngestOut,
    MeasureOut,
    QuarantineItemOut,
    ReasonOut,
    ResolutionOut,
    ResubmitIn,
)
from muster.sharing import queries as sharing
from muster.sharing.api import TLP_HEADER, refusal_problem
from muster.sharing.domain.commands import ReadShared
from muster.sharing.domain.policies import MANAGE_QUARANTINE
from muster.sharing.pdp import Context
from muster.sharing.policy_state import decide_on_dataset
from muster.sharing.reads import SharedRead
from muster.sharing.schemas import SharedRecordOut, tlp_label
from muster.web import i18n
from muster.web.deps import CurrentActor, Language, MusterDep
from muster.web.errors import problem
from muster.web.i18n import N_

router = APIRouter(prefix="/api", tags=["ingest"])

RECORD_MEDIA_TYPES: dict[str, str] = {
    "application/json": "json",
    "text/csv": "csv",
    "application/geo+json": "geojson",
}
CAP_MEDIA_TYPES = frozenset({"application/cap+xml", "application/xml", "text/xml"})

DOCUMENT_REJECTED = N_(
    "The whole submission was refused and kept in quarantine: %(error)s"
)
RECORD_STILL_INVALID = N_("The corrected record still fails its dataset's rules.")
UNSUPPORTED_MEDIA = N_("Send the body as one of: %(types)s.")

Limit = Annotated[int, Query(ge=1, le=1000)]


def read_records(
    muster: Muster,
    actor: Actor,
    code: str,
    *,
    limit: int,
    channel: str,
    purpose: str | None = None,
    incident_id: str | None = None,
) -> SharedRead:
    """Read records through the sharing decision point (masked, logged; never raises
    on a refusal: the decision is ``deny`` and the reason says why)."""
    command = ReadShared(
        dataset=code,
        purpose=purpose or None,
        incident_id=incident_id or None,
        limit=limit,
        channel=channel,
    )
    read: SharedRead = muster.bus.handle(command, actor)
    return read


def may_manage_quarantine(
    muster: Muster, conn: Connection, actor: Actor, dataset_code: str
) -> bool:
    """Ask the decision point whether an actor works a dataset's quarantine."""
    facts = sharing.dataset_facts(conn, dataset_code)
    if facts is None:
        return False
    now = Context(now=muster.clock.now())
    return decide_on_dataset(
        conn, muster.pdp, actor, MANAGE_QUARANTINE, facts, now
    ).allowed


def manageable_datasets(
    muster: Muster, conn: Connection, actor: Actor
) -> list[catalog.DatasetView]:
    """Return the datasets whose quarantine the actor works (the decision point's)."""
    return [
        view
        for view in catalog.list_datasets(conn)
        if may_manage_quarantine(muster, conn, actor, view.code)
    ]


def require_quarantine_access(
    muster: Muster, actor: Actor, dataset: catalog.DatasetView
) -> None:
    """Raise PermissionDenied, and log the refusal, unless the actor works the
    dataset's quarantine (its owner's stewards and admins)."""
    with muster.engine.connect() as conn:
        if may_manage_quarantine(muster, conn, actor, dataset.code):
            return
    refusal = PermissionDenied(
        f"the quarantine of {dataset.code} is worked by "
        f"{dataset.owner_department}'s stewards and admins",
        action="manage quarantine",
    )
    # Reading the queue is no command; the bus logs its refusal like a command's.
    muster.bus.record_refusal("ReadQuarantine", actor, refusal)
    raise refusal


def get_dataset(conn: Connection, code: str) -> catalog.DatasetView:
    """Return a catalog dataset, or raise UnknownDataset (404)."""
    dataset = catalog.get_dataset(conn, code)
    if dataset is None:
        raise UnknownDataset(f"no dataset {code} in the catalog", dataset=code)
    return dataset


def get_item(conn: Connection, item_id: str) -> queries.QuarantineView:
    """Return a quarantined item, or raise UnknownQuarantineItem (404)."""
    item = queries.get_quarantine_item(conn, item_id)
    if item is None:
        raise UnknownQuarantineItem(f"no quarantined item {item_id}", item=item_id)
    return item


def readable_item(muster: Muster, actor: Actor, item_id: str) -> queries.QuarantineView:
    """Return a quarantined item the actor may read (items without a dataset: all)."""
    with muster.engine.connect() as conn:
        item = get_item(conn, item_id)
        dataset = catalog.get_dataset(conn, item.dataset_code or "")
    if dataset is not None:
        require_quarantine_access(muster, actor, dataset)
    return item


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _unsupported(request: Request, language: str, types: list[str]) -> Response:
    detail = i18n.translate(language, UNSUPPORTED_MEDIA, types=", ".join(types))
    return problem(request, status=415, code="unsupported_media_type", detail=detail)


@router.post(
    "/datasets/{code}/records",
    response_model=IngestOut,
    responses={
        415: {"description": "Not JSON, CSV or GeoJSON"},
        422: {"description": "Unreadable; kept in quarantine"},
    },
)
def push_records(
    code: str,
    request: Request,
    body: RawBody,
    actor: CurrentActor,
    muster: MusterDep,
    language: Language,
) -> Response:
    """Push records (JSON array or {"records": [...]}, CSV or GeoJSON) to a dataset.

    Accepted or duplicate: 200 with the counts. A body that cannot be read at all:
    422 with the ``quarantine_id`` under which it is kept.
    """
    data_format = RECORD_MEDIA_TYPES.get(_media_type(request))
    if data_format is None:
        return _unsupported(request, language, sorted(RECORD_MEDIA_TYPES))
    command = IngestFile(
        dataset_code=code, source=f"api:{actor.id}", data=body, format=data_format
    )
    outcome = muster.bus.handle(command, actor)
    if outcome.status == "rejected":
        detail = i18n.translate(language, DOCUMENT_REJECTED, error=outcome.error)
        return problem(
            request,
            status=422,
            code="document_rejected",
            detail=detail,
            quarantine_id=outcome.quarantine_id,
            error=outcome.error,
        )
    return JSONResponse(IngestOut.of(outcome).model_dump())


@router.post(
    "/cap",
    response_model=AlertOut,
    responses={415: {"description": "Not XML"}, 422: {"description": "Rejected"}},
)
def post_cap(
    request: Request,
    body: RawBody,
    actor: CurrentActor,
    muster: MusterDep,
    language: Language,
    dataset: str | None = None,
) -> Response:
    """Accept a CAP 1.2 alert or an EDXL-DE envelope; 422 if it was rejected."""
    if _media_type(request) not in CAP_MEDIA_TYPES:
        return _unsupported(request, language, sorted(CAP_MEDIA_TYPES))
    command = IngestCap(source=f"api:{actor.id}", data=body, dataset_code=dataset)
    outcome = AlertOut.of(muster.bus.handle(command, actor))
    if outcome.status == "rejected":
        detail = i18n.translate(language, DOCUMENT_REJECTED, error=outcome.error)
        return problem(
            request,
            status=422,
            code="alert_rejected",
            detail=detail,
            quarantine_id=outcome.quarantine_id,
            alert=outcome.model_dump(),
        )
    return JSONResponse(outcome.model_dump())


Purpose = Annotated[str | None, Query(max_length=64)]
REFUSED: dict[int | str, dict[str, Any]] = {403: {"description": "Refused; why"}}
Records = list[SharedRecordOut]


@router.get("/datasets/{code}/records", response_model=Records, responses=REFUSED)
@router.get("/datasets/{code}/observations", response_model=Records, responses=REFUSED)
def list_records(
    code: str,
    request: Request,
    actor: CurrentActor,
    muster: MusterDep,
    limit: Limit = 100,
    purpose: Purpose = None,
    incident: Purpose = None,
) -> Response:
    """List a dataset's newest records (or observations) as the sharing policies
    release them: masked, labelled ``X-TLP``, logged; a refusal is 403 with its
    reason. The full answer is ``/api/v1/datasets/{code}/shared``."""
    read = read_records(
        muster, actor, code, limit=limit, channel="api",
        purpose=purpose, incident_id=incident,
    )  # fmt: skip
    if read.decision == "deny":
        return refusal_problem(request, read)
    body = [SharedRecordOut.of(record).model_dump() for record in read.records]
    return JSONResponse(body, headers={TLP_HEADER: tlp_label(read.tlp)})


@router.get("/quarantine", response_model=list[QuarantineItemOut])
def list_quarantine(
    actor: CurrentActor,
    muster: MusterDep,
    dataset: str | None = None,
    status: Annotated[str, Query(pattern="^(open|accepted|discarded|all)$")] = "open",
) -> list[QuarantineItemOut]:
    """List quarantined items of the datasets the caller works, newest first."""
    with muster.engine.connect() as conn:
        chosen = get_dataset(conn, dataset) if dataset else None
        items = queries.list_quarantine(
            conn, dataset_code=dataset, status=None if status == "all" else status
        )
        worked = {view.code for view in manageable_datasets(muster, conn, actor)}
    if chosen is not None:
        require_quarantine_access(muster, actor, chosen)
    return [
        QuarantineItemOut.of(item)
        for item in items
        if item.dataset_code is None or item.dataset_code in worked
    ]


@router.get("/quarantine/{item_id}", response_model=QuarantineItemOut)
def get_quarantine_item(
    item_id: str, actor: CurrentActor, muster: MusterDep
) -> QuarantineItemOut:
    """Show one quarantined item with its reasons and last submitted values."""
    return QuarantineItemOut.of(readable_item(muster, actor, item_id))


@router.post(
    "/quarantine/{item_id}/resubmit",
    response_model=ResolutionOut,
    responses={422: {"description": "Still invalid; the new reasons"}},
)
def resubmit(
    item_id: str,
    body: ResubmitIn,
    request: Request,
    actor: CurrentActor,
    muster: MusterDep,
    language: Language,
) -> Response:
    """Resubmit corrected values; 200 when stored, 422 with the new reasons."""
    command = ResubmitRecord(quarantine_id=item_id, values=body.values)
    outcome = muster.bus.handle(command, actor)
    if outcome.status != "accepted":
        with muster.engine.connect() as conn:
            item = get_item(conn, item_id)
        return problem(
            request,
            status=422,
            code="record_invalid",
            detail=i18n.translate(language, RECORD_STILL_INVALID),
            quarantine_id=item_id,
            reasons=[ReasonOut.of(reason).model_dump() for reason in item.reasons],
        )
    resolution = ResolutionOut(
        status="accepted", quarantine_id=item_id, batch_id=outcome.batch_id
    )
    return JSONResponse(resolution.model_dump())


@router.post("/quarantine/{item_id}/discard", response_model=ResolutionOut)
def discard(
    item_id: str, body: DiscardIn, actor: CurrentActor, muster: MusterDep
) -> ResolutionOut:
    """Discard a quarantined record or document, giving a reason (logged)."""
    muster.bus.handle(DiscardRecord(quarantine_id=item_id, reason=body.reason), actor)
    return ResolutionOut(status="discarded", quarantine_id=item_id)


@router.get("/quality", response_model=list[DatasetQualityOut])
def quality(_actor: CurrentActor, muster: MusterDep) -> list[DatasetQualityOut]:
    """List every dataset's current quality measures (as last evaluated)."""
    with muster.engine.connect() as conn:
        measured = queries.quality_by_dataset(conn)
        owners = {
            view.code: view.owner_department for view in catalog.list_datasets(conn)
        }
    return [
        DatasetQualityOut(
            dataset=code,
            owner_department=owners.get(code),
            measures={
                name: MeasureOut.of(view)
                for name, view in sorted(measured.get(code, {}).items())
            },
        )
        for code in sorted(set(owners) | set(measured))
    ]


@router.get("/cap/alerts", response_model=list[CapAlertOut])
def cap_alerts(
    _actor: CurrentActor, muster: MusterDep, limit: Limit = 100
) -> list[CapAlertOut]:
    """List received CAP alerts, newest first (without their XML)."""
    with muster.engine.connect() as conn:
        rows = queries.list_cap_alerts(conn, limit=limit)
    return [CapAlertOut.of(row) for row in rows]


__all__ = [
    "get_dataset",
    "get_item",
    "manageable_datasets",
    "may_manage_quarantine",
    "read_records",
    "readable_item",
    "require_quarantine_access",
    "router",
]
