"""HTTP API of the sharing part (R13). Imported by ``web.app`` and ``ingest.api``.

``/api/v1/datasets/{code}/shared`` reads records through the decision point (JSON or
a CSV export, always labelled with ``X-TLP``); agreements, access requests,
break-glass, grants, the access log and personal-information notices are managed
here. Who may do what is Cedar's answer inside the handlers; refusals are
MusterErrors, answered as problem+json by ``web.errors``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.bootstrap import Muster
from muster.catalog import queries as catalog
from muster.core.messages import Actor, Command, JsonValue
from muster.sharing import queries
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    OpenBreakGlass,
    ReadShared,
    RecordNoticeGiven,
    RegisterAgreement,
    RequestAccess,
    RevokeAgreement,
)
from muster.sharing.domain.errors import UnknownAgreement
from muster.sharing.domain.policies import MANAGE
from muster.sharing.policy_state import authorize
from muster.sharing.reads import MAX_LIMIT, SharedRead
from muster.sharing.schemas import (
    AccessEntryOut,
    AccessRequestIn,
    AccessRequestOut,
    AgreementOut,
    BreakGlassIn,
    BreakGlassOut,
    GrantOut,
    NoticeGivenIn,
    NoticeGivenOut,
    NoticeOut,
    RegisteredOut,
    RequestCreated,
    RequestDecisionIn,
    RequestDecisionOut,
    RevokeIn,
    SharedReadOut,
    tlp_label,
)
from muster.web.deps import CurrentActor, MusterDep
from muster.web.errors import problem

router = APIRouter(prefix="/api/v1", tags=["sharing"])

TLP_HEADER = "X-TLP"
CSV_MEDIA = "text/csv; charset=utf-8"
LOG_COLUMNS = (
    "at", "user_id", "department", "dataset", "purpose", "incident_id", "decision",
    "records", "aggregated", "masks", "policies", "channel", "reason",
)  # fmt: skip

Format = Annotated[Literal["json", "csv"], Query()]
Text = Annotated[str | None, Query(max_length=64)]


async def _handle(muster: Muster, command: Command, actor: Actor) -> Any:
    return await run_in_threadpool(muster.bus.handle, command, actor)


def refusal_problem(request: Request, read: SharedRead) -> Response:
    """Answer a refused read: 403 problem+json whose detail is the reason."""
    response = problem(
        request,
        status=403,
        code="access_denied",
        detail=read.reason,
        decision=read.decision,
        policies=list(read.policies),
        dataset=read.dataset,
        access_id=read.access_id,
    )
    response.headers[TLP_HEADER] = tlp_label(read.tlp)
    return response


def cell(value: object) -> str:
    """Return a released value as one CSV cell (a point as ``lat,lon``)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple) and _is_point(value):
        return f"{value[0]},{value[1]}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _is_point(value: list[object] | tuple[object, ...]) -> bool:
    return len(value) == 2 and all(
        isinstance(part, int | float) and not isinstance(part, bool) for part in value
    )


def columns(read: SharedRead) -> list[str]:
    """Return the released fields a reader sees (hidden ones left out)."""
    return [name for name in read.fields if read.masks.get(name) != "hide"]


def shared_csv(read: SharedRead) -> str:
    """Write a read as CSV: the TLP line with the reason, a header row, the rows."""
    out = io.StringIO()
    out.write(f"# {tlp_label(read.tlp)} — {read.reason}\n")
    writer = csv.writer(out, lineterminator="\n")
    if read.records or read.aggregate_by is None:
        names = columns(read)
        writer.writerow(names)
        for record in read.records:
            writer.writerow([cell(record["values"].get(name)) for name in names])
    else:
        writer.writerow([read.aggregate_by, "count"])
        writer.writerows([value, count] for value, count in read.aggregates)
    return out.getvalue()


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/datasets/{code}/shared",
    response_model=SharedReadOut,
    responses={403: {"description": "Refused; the reason says which rule or term"}},
)
async def read_shared(
    code: str,
    request: Request,
    actor: CurrentActor,
    muster: MusterDep,
    purpose: Text = None,
    incident: Text = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
    format: Format = "json",
) -> Response:
    """Read a dataset's records as the sharing policies release them: masked,
    labelled with TLP, logged. Counts only when an agreement shares only counts."""
    command = ReadShared(
        dataset=code,
        purpose=purpose or None,
        incident_id=incident or None,
        limit=limit,
        channel="export" if format == "csv" else "api",
    )
    read: SharedRead = await _handle(muster, command, actor)
    if read.decision == "deny":
        return refusal_problem(request, read)
    headers = {TLP_HEADER: tlp_label(read.tlp)}
    if format == "csv":
        headers |= _attachment(f"{read.dataset}-{read.access_id[:8]}.csv")
        return Response(shared_csv(read), media_type=CSV_MEDIA, headers=headers)
    return JSONResponse(SharedReadOut.of(read).model_dump(), headers=headers)


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(
    _actor: CurrentActor, muster: MusterDep, provider: Text = None
) -> list[AgreementOut]:
    """List agreements, newest first (one provider's with ``provider=``)."""
    with muster.engine.connect() as conn:
        rows = queries.list_agreements(conn, provider=provider or None)
    return [AgreementOut.of(row) for row in rows]


@router.get("/agreements/{code}", response_model=AgreementOut)
def get_agreement(code: str, _actor: CurrentActor, muster: MusterDep) -> AgreementOut:
    """Show one agreement with its data and state."""
    with muster.engine.connect() as conn:
        row = queries.get_agreement(conn, code)
    if row is None:
        raise UnknownAgreement(f"no agreement {code}", agreement=code)
    return AgreementOut.of(row)


@router.post(
    "/agreements",
    response_model=RegisteredOut,
    status_code=201,
    responses={200: {"description": "Updated or unchanged"}},
)
async def register_agreement(
    body: Annotated[dict[str, JsonValue], Body()],
    actor: CurrentActor,
    muster: MusterDep,
) -> Response:
    """Register an agreement on one of the caller's datasets: 201 when created, 200
    when an existing one was updated (or was already the same)."""
    result = await _handle(
        muster, RegisterAgreement(agreement=body, source="ui"), actor
    )
    outcome = RegisteredOut(result=str(result), code=str(body.get("code") or ""))
    status = 201 if result == "created" else 200
    return JSONResponse(outcome.model_dump(), status_code=status)


@router.post("/agreements/{code}/revoke", response_model=AgreementOut)
def revoke_agreement(
    code: str, body: RevokeIn, actor: CurrentActor, muster: MusterDep
) -> AgreementOut:
    """End an agreement now, with a reason; its scenario grants end with it."""
    muster.bus.handle(RevokeAgreement(code=code, reason=body.reason), actor)
    return get_agreement(code, actor, muster)


@router.post("/access-requests", response_model=RequestCreated, status_code=201)
async def request_access(
    body: AccessRequestIn, actor: CurrentActor, muster: MusterDep
) -> RequestCreated:
    """Ask a provider for a dataset's fields for stated purposes."""
    command = RequestAccess(
        dataset=body.dataset,
        fields=tuple(body.fields),
        purposes=tuple(body.purposes),
        justification=body.justification,
    )
    return RequestCreated(request_id=str(await _handle(muster, command, actor)))


@router.get("/access-requests", response_model=list[AccessRequestOut])
def list_requests(actor: CurrentActor, muster: MusterDep) -> list[AccessRequestOut]:
    """List the requests the caller's department made or received, newest first."""
    if not actor.department:
        return []
    with muster.engine.connect() as conn:
        rows = queries.list_requests(conn, department=actor.department)
    return [AccessRequestOut.of(row) for row in rows]


@router.post(
    "/access-requests/{request_id}/decision", response_model=RequestDecisionOut
)
async def decide_request(
    request_id: str, body: RequestDecisionIn, actor: CurrentActor, muster: MusterDep
) -> RequestDecisionOut:
    """Approve (making an agreement) or deny a request, with a reason."""
    command = DecideAccessRequest(
        request_id=request_id,
        approve=body.approve,
        reason=body.reason,
        masks=dict(body.masks),
        valid_days=body.valid_days,
        tlp=body.tlp,
    )
    code = await _handle(muster, command, actor)
    return RequestDecisionOut(
        status="approved" if body.approve else "denied",
        agreement_code=None if code is None else str(code),
    )


@router.post("/break-glass", response_model=BreakGlassOut, status_code=201)
def open_break_glass(
    body: BreakGlassIn, actor: CurrentActor, muster: MusterDep
) -> BreakGlassOut:
    """Open a commander's time-limited emergency access (the provider is told)."""
    command = OpenBreakGlass(
        dataset=body.dataset,
        justification=body.justification,
        minutes=body.minutes,
        incident_id=body.incident_id or None,
    )
    opened = str(muster.bus.handle(command, actor))
    with muster.engine.connect() as conn:
        rows = queries.list_break_glass(conn)
    expires = next(row["expires_at"] for row in rows if row["break_glass_id"] == opened)
    return BreakGlassOut(break_glass_id=opened, expires_at=expires)


def _log_provider(muster: Muster, actor: Actor, provider: str | None) -> str | None:
    """Return whose log the caller reads: their department's, or the one named when
    the decision point lets them manage that provider's datasets (as admins)."""
    if actor.kind != "user":
        return None  # the log names people and purposes: for people, not API keys
    if not provider or provider == actor.department:
        return actor.department
    with muster.engine.connect() as conn:
        codes = [
            view.code
            for view in catalog.list_datasets(conn)
            if view.owner_department == provider
        ]
        facts = queries.dataset_facts(conn, codes[0]) if codes else None
        if facts is not None:  # a provider without datasets has nothing logged
            authorize(
                conn, muster.pdp, actor, MANAGE, facts, muster.clock.now(),
                refusal=f"only {provider} and admins read its access log",
            )  # fmt: skip
    return provider


@router.get("/access-log", response_model=list[AccessEntryOut])
def access_log(
    actor: CurrentActor,
    muster: MusterDep,
    dataset: Text = None,
    department: Text = None,
    decision: Annotated[str | None, Query(pattern="^(allow|aggregate|deny)$")] = None,
    incident: Text = None,
    since: Text = None,
    until: Text = None,
    provider: Text = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    format: Format = "json",
) -> Response:
    """List who read the caller's department's datasets, newest first (JSON or CSV)."""
    owner = _log_provider(muster, actor, provider)
    if owner is None:
        rows: list[dict[str, Any]] = []
    else:
        where = queries.LogFilter(
            provider=owner, dataset=dataset, department=department,
            decision=decision, incident_id=incident, since=since, until=until,
        )  # fmt: skip
        with muster.engine.connect() as conn:
            rows = queries.access_entries(conn, where, limit=limit)
    if format == "csv":
        return Response(
            _log_csv(rows),
            media_type=CSV_MEDIA,
            headers=_attachment(f"access-log-{owner or 'none'}.csv"),
        )
    return JSONResponse([AccessEntryOut.of(row).model_dump() for row in rows])


def _log_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LOG_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                json.dumps(row[name], ensure_ascii=False, sort_keys=True)
                if name in ("masks", "policies")
                else cell(row[name])
                for name in LOG_COLUMNS
            ]
        )
    return out.getvalue()


@router.get("/grants", response_model=list[GrantOut])
def list_grants(_actor: CurrentActor, muster: MusterDep) -> list[GrantOut]:
    """List scenario grants, active first."""
    with muster.engine.connect() as conn:
        return [GrantOut.of(row) for row in queries.list_grants(conn)]


@router.get("/sharing/notices", response_model=list[NoticeOut])
def list_notices(actor: CurrentActor, muster: MusterDep) -> list[NoticeOut]:
    """List the caller's department's duties to tell people of shared data."""
    if not actor.department:
        return []
    with muster.engine.connect() as conn:
        rows = queries.list_notices(conn, provider=actor.department)
    return [NoticeOut.of(row) for row in rows]


@router.post("/sharing/notices/{notice_id}/given", response_model=NoticeGivenOut)
async def notice_given(
    notice_id: str, body: NoticeGivenIn, actor: CurrentActor, muster: MusterDep
) -> NoticeGivenOut:
    """Record how the people concerned were told (PIPL Art. 18)."""
    command = RecordNoticeGiven(notice_id=notice_id, note=body.note)
    await _handle(muster, command, actor)
    return NoticeGivenOut(notice_id=notice_id, status="done")


__all__ = [
    "TLP_HEADER",
    "cell",
    "columns",
    "refusal_problem",
    "router",
    "shared_csv",
]
