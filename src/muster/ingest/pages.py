"""Server-rendered ingest pages: quarantine (inspect, fix, discard) and a dataset's
records with its upload form. Includes the dashboards of ``dashboard_pages``.

Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from muster.catalog import queries as catalog
from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor
from muster.identity import queries as identity_queries
from muster.ingest import dashboard_pages, labels, queries
from muster.ingest.api import (
    get_dataset,
    manageable_datasets,
    read_records,
    readable_item,
    require_quarantine_access,
)
from muster.ingest.domain.commands import (
    DiscardRecord,
    IngestFile,
    ResubmitRecord,
)
from muster.ingest.domain.model import require_steward
from muster.ingest.files import IngestOutcome
from muster.sharing.api import cell as csv_cell
from muster.sharing.api import columns as released_columns
from muster.sharing.reads import SharedRead
from muster.web.errors import STATUS_TITLES, message_for
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)
router.include_router(dashboard_pages.router)

REASON_NEEDED = N_("Give a reason for discarding.")
CHOOSE_FILE = N_("Choose a file to upload.")
EXCERPT_CHARS = 2000
FIELD_PREFIX = "value__"
UPLOAD_FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "json"}

Text = Annotated[str, Form()]


@router.get("/quarantine")
def quarantine_list(
    page: SignedInPage, dataset: str = "", status: str = "open", notice: str = ""
) -> Response:
    """List quarantined items of the datasets the viewer works (or the one chosen)."""
    actor = _actor(page)
    status = status if status in (*labels.ITEM_STATUS_LABELS, "all") else "open"
    with page.muster.engine.connect() as conn:
        datasets = catalog.list_datasets(conn)
        chosen = get_dataset(conn, dataset) if dataset else None
        worked = manageable_datasets(page.muster, conn, actor)
    if chosen is not None:
        require_quarantine_access(page.muster, actor, chosen)
    codes: list[str] | None = [view.code for view in worked]
    if chosen is not None:
        codes = [chosen.code]
    elif len(worked) == len(datasets):
        codes = None  # the whole queue, with documents of no dataset (admins)
    with page.muster.engine.connect() as conn:
        items = _items(conn, codes, None if status == "all" else status)
    return page.render(
        "ingest_quarantine_list.html",
        items=items,
        datasets=worked,
        names={view.code: view.name(page.language) for view in datasets},
        dataset=dataset,
        status=status,
        labels=_labels(page),
        notice=_notice(page, notice),
    )


def _items(
    conn: Connection, codes: list[str] | None, status: str | None
) -> list[queries.QuarantineView]:
    if codes is None:
        return queries.list_quarantine(conn, status=status)
    items = [
        item
        for code in codes
        for item in queries.list_quarantine(conn, dataset_code=code, status=status)
    ]
    return sorted(items, key=lambda item: item.created_at, reverse=True)


@router.get("/quarantine/{item_id}")
def quarantine_item(item_id: str, page: SignedInPage) -> Response:
    """Inspect a quarantined item: reasons, the correction form, the discard form."""
    item = readable_item(page.muster, _actor(page), item_id)
    return _render_item(page, item)


@router.post("/quarantine/{item_id}/resubmit")
async def quarantine_resubmit(item_id: str, page: SignedInPage) -> Response:
    """Resubmit the corrected values; on success go to the dataset's records."""
    form = await page.request.form()
    values: dict[str, object] = {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in form.multi_items()
        if key.startswith(FIELD_PREFIX) and isinstance(value, str) and value.strip()
    }
    command = ResubmitRecord(quarantine_id=item_id, values=values)
    outcome: IngestOutcome = await run_in_threadpool(
        page.muster.bus.handle, command, _actor(page)
    )
    if outcome.status == "accepted":
        code = quote(str(outcome.dataset_code), safe="")
        return RedirectResponse(
            f"/datasets/{code}/records?notice=resubmitted", status_code=303
        )
    item = await run_in_threadpool(readable_item, page.muster, _actor(page), item_id)
    return await run_in_threadpool(_render_item, page, item, status_code=422)


@router.post("/quarantine/{item_id}/discard")
async def quarantine_discard(
    item_id: str, page: SignedInPage, reason: Text = ""
) -> Response:
    """Discard the item with a reason; a missing reason shows the page again."""
    command = DiscardRecord(quarantine_id=item_id, reason=reason)
    try:
        await run_in_threadpool(page.muster.bus.handle, command, _actor(page))
    except ValidationFailed as error:
        is_reason = error.params.get("field") == "reason"
        message = page.translate(REASON_NEEDED) if is_reason else ""
        item = await run_in_threadpool(
            readable_item, page.muster, _actor(page), item_id
        )
        return await run_in_threadpool(
            _render_item,
            page,
            item,
            status_code=422,
            discard_error=message or message_for(error, page.language),
        )
    return RedirectResponse("/quarantine?notice=discarded", status_code=303)


def _render_item(
    page: Page,
    item: queries.QuarantineView,
    *,
    status_code: int = 200,
    discard_error: str = "",
) -> Response:
    with page.muster.engine.connect() as conn:
        dataset = catalog.get_dataset(conn, item.dataset_code or "")
    fields = dataset.fields if dataset is not None and not item.is_document else ()
    problems: dict[str, list[dict[str, Any]]] = {}
    for reason in item.reasons:
        problems.setdefault(str(reason.get("field") or ""), []).append(reason)
    owner = dataset.owner_department if dataset else None
    return page.render(
        "ingest_quarantine_item.html",
        status_code=status_code,
        item=item,
        dataset=dataset,
        fields=fields,
        values={field.name: cell(item.values.get(field.name)) for field in fields},
        problems=problems,
        excerpt=_excerpt(item),
        can_act=item.status == "open" and _may_submit(_actor(page), owner),
        status_failed=status_code == 422 and not discard_error,
        discard_error=discard_error,
        labels=_labels(page),
    )


def _excerpt(item: queries.QuarantineView) -> str:
    content = item.content
    if isinstance(content, dict):
        content = content.get("raw", "")
    return str(content or "")[:EXCERPT_CHARS]


@router.get("/datasets/{code}/records")
def dataset_records(
    code: str,
    page: SignedInPage,
    notice: str = "",
    purpose: str = "",
    incident: str = "",
) -> Response:
    """Show a dataset's newest records (or observations) as the sharing policies
    release them to the viewer (masked, logged) and, to stewards, the upload form."""
    return _render_records(
        page, code, notice=notice, purpose=purpose[:64], incident=incident[:64]
    )


@router.post("/datasets/{code}/records")
async def upload_records(code: str, page: SignedInPage) -> Response:
    """Read an uploaded file into the dataset and show what was stored."""
    form = await page.request.form()
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            error = page.translate(CHOOSE_FILE)
            return await run_in_threadpool(
                _render_records, page, code, upload_error=error, status_code=422
            )
        name = PurePosixPath(upload.filename.replace("\\", "/")).name[:200]
        command = IngestFile(
            dataset_code=code,
            source=f"upload:{name}",
            data=await upload.read(),
            format=UPLOAD_FORMATS.get(PurePosixPath(name).suffix.lower()),
        )
    finally:
        await form.close()  # the spooled file; nobody else closes a form read here
    outcome: IngestOutcome = await run_in_threadpool(
        page.muster.bus.handle, command, _actor(page)
    )
    status_code = 422 if outcome.status == "rejected" else 200
    return await run_in_threadpool(
        _render_records, page, code, upload=outcome, status_code=status_code
    )


def _render_records(
    page: Page,
    code: str,
    *,
    notice: str = "",
    upload: IngestOutcome | None = None,
    upload_error: str = "",
    status_code: int = 200,
    purpose: str = "",
    incident: str = "",
) -> Response:
    actor = _actor(page)
    with page.muster.engine.connect() as conn:
        dataset = get_dataset(conn, code)
    read = read_records(
        page.muster, actor, code, limit=RECORDS_SHOWN, channel="page",
        purpose=purpose, incident_id=incident,
    )  # fmt: skip
    if read.decision == "deny":
        return page.render(
            "error.html",
            status_code=403,
            title=page.translate(STATUS_TITLES[403]),
            message=read.reason,
            status=403,
        )
    with page.muster.engine.connect() as conn:
        waiting = len(queries.list_quarantine(conn, dataset_code=code))
        stored = queries.count_stored(conn, code)
        owner = identity_queries.get_department(conn, dataset.owner_department)
    columns, rows = _table(read)
    return page.render(
        "ingest_records.html",
        status_code=status_code,
        dataset=dataset,
        owner_name=owner.name(page.language) if owner else dataset.owner_department,
        columns=columns,
        rows=rows,
        stored=stored,
        waiting=waiting,
        can_upload=_may_submit(actor, dataset.owner_department),
        upload=upload,
        upload_error=upload_error,
        notice=_notice(page, notice),
    )


RECORDS_SHOWN = 200


def _table(read: SharedRead) -> tuple[list[str], list[list[str]]]:
    """Return the released columns and rows of cell texts, newest first (or the
    counts, when only counts are shared)."""
    if not read.records and read.aggregate_by is not None:
        return [read.aggregate_by, "count"], [
            [value, str(count)] for value, count in read.aggregates
        ]
    names = released_columns(read)
    return names, [
        [_cell(record["values"].get(name)) for name in names] for record in read.records
    ]


def _cell(value: object) -> str:
    """Return a released value as text; a point as ``lat, lon``."""
    text = csv_cell(value)
    is_point = isinstance(value, list) and not text.startswith("[")
    return text.replace(",", ", ") if is_point else cell(value)


def cell(value: object) -> str:
    """Return a stored value as text for a table cell or a form input."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _actor(page: Page) -> Actor:
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    return page.user.actor


def _may_submit(actor: Actor, owner: str | None) -> bool:
    """Tell whether the actor may submit or fix data of a department's datasets."""
    if owner is None:  # a document for no dataset (discard only)
        return actor.has_role("admin", "system", "commander", "duty_officer")
    try:
        require_steward(actor, owner, action="submit data")
    except PermissionDenied:
        return False
    return True


def _notice(page: Page, key: str) -> str:
    return page.translate(labels.NOTICES[key]) if key in labels.NOTICES else ""


def _labels(page: Page) -> dict[str, dict[str, str]]:
    return labels.translated(page.language)


__all__ = ["cell", "router"]
