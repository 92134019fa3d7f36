"""HTTP API of the review part (R13): improvement items and the incident timeline.

``/api/v1/review/improvements`` lists items (by incident, owner department, status;
``overdue`` computed now); adopting is ``POST …/incidents/{id}/improvements`` and
moving an item along ``POST …/improvements/{id}/{start|complete|cancel}``. The review
timeline ``GET …/incidents/{id}/timeline`` filters by department, kind, pins and time
and exports JSON or CSV (both state the log head they were read at); pins are
``POST``/``DELETE …/incidents/{id}/pins``. Refusals are MusterErrors, answered as
problem+json by ``web.errors``. Imported by ``web.app``.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from muster.core.clock import parse_utc
from muster.core.errors import ValidationFailed
from muster.core.messages import Actor, Command
from muster.review import queries
from muster.review.domain.commands import (
    AdoptImprovementItems,
    ChangeImprovementItem,
    ImprovementAction,
    ImprovementItemDraft,
    PinTimelineEvent,
    UnpinTimelineEvent,
)
from muster.review.timeline import (
    KINDS,
    ReviewTimeline,
    TimelineFilter,
    parse_list,
    review_timeline,
)
from muster.web.deps import CurrentActor, Language, MusterDep
from muster.web.summaries import Summarizer

router = APIRouter(prefix="/api/v1/review", tags=["review"])

TIMELINE_COLUMNS = (
    "seq", "at", "type", "kind", "actor_id", "department", "departments", "pinned",
    "pin_note", "summary",
)  # fmt: skip
CSV_MEDIA = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImprovementDraftIn(BaseModel):
    """One improvement item to adopt."""

    finding: str = Field(min_length=1, max_length=200)
    owner_department: str = Field(min_length=1, max_length=64)
    title_zh: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    due_at: str = Field(description="ISO-8601 time with a zone, in the future")
    source_seqs: list[int] = Field(default_factory=list, max_length=1000)


class AdoptIn(BaseModel):
    """The items of an improvement plan to adopt for an incident."""

    items: list[ImprovementDraftIn] = Field(min_length=1, max_length=100)


class AdoptedOut(BaseModel):
    """The ids given to the adopted items, in the order sent."""

    ids: list[str]


class NoteIn(BaseModel):
    """A note with an action (required to complete or cancel)."""

    note: str = Field(default="", max_length=2000)


class PinIn(BaseModel):
    """The event to pin and why it matters."""

    seq: int = Field(ge=1)
    note: str = Field(default="", max_length=500)


class ResultOut(BaseModel):
    """What a command returned: an outcome word or a status."""

    result: str


class ImprovementOut(BaseModel):
    """An improvement item with its status and whether it is overdue now."""

    id: str
    incident_id: str
    finding: str
    title_zh: str
    title_en: str
    owner_department: str
    due_at: str
    status: str
    overdue: bool
    source_seqs: list[int]
    adopted_at: str
    adopted_by: str
    closed_at: str | None
    note: str | None
    seq: int


async def _handle(muster: MusterDep, command: Command, actor: Actor) -> Any:
    return await run_in_threadpool(muster.bus.handle, command, actor)


@router.get("/improvements", response_model=list[ImprovementOut])
def list_improvements(
    _actor: CurrentActor,
    muster: MusterDep,
    incident: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> list[ImprovementOut]:
    """List improvement items by due time; ``status`` is open, in_progress, done,
    cancelled, active (open or in progress) or overdue."""
    if status and status not in queries.STATUS_FILTERS:
        raise ValidationFailed(
            f"status is one of {', '.join(queries.STATUS_FILTERS)}", field="status"
        )
    with muster.engine.connect() as conn:
        items = queries.list_improvements(
            conn,
            now=muster.clock.now(),
            incident_id=incident or None,
            department=department or None,
            status=status or None,
        )
    return [ImprovementOut(**item.to_json()) for item in items]


@router.post(
    "/incidents/{incident_id}/improvements", status_code=201, response_model=AdoptedOut
)
async def adopt_improvements(
    incident_id: str, body: AdoptIn, actor: CurrentActor, muster: MusterDep
) -> AdoptedOut:
    """Adopt improvement items for an incident (commander or admin)."""
    command = AdoptImprovementItems(
        incident_id=incident_id,
        items=tuple(
            ImprovementItemDraft(
                finding=item.finding, owner_department=item.owner_department,
                title_zh=item.title_zh, title_en=item.title_en, due_at=item.due_at,
                source_seqs=tuple(item.source_seqs),
            )
            for item in body.items
        ),
    )  # fmt: skip
    ids = await _handle(muster, command, actor)
    return AdoptedOut(ids=list(ids))


@router.post("/improvements/{item_id}/{action}", response_model=ResultOut)
async def change_improvement(
    item_id: str,
    action: Literal["start", "complete", "cancel"],
    actor: CurrentActor,
    muster: MusterDep,
    body: NoteIn | None = None,
) -> ResultOut:
    """Start, complete or cancel an item (its department's duty officer or head, or
    a commander); completing and cancelling need a note. Returns the new status."""
    verb: ImprovementAction = action
    command = ChangeImprovementItem(
        item_id=item_id, action=verb, note=body.note if body else ""
    )
    return ResultOut(result=str(await _handle(muster, command, actor)))


@router.get(
    "/incidents/{incident_id}/timeline",
    responses={200: {"content": {"text/csv": {}}}},
)
def timeline(
    incident_id: str,
    _actor: CurrentActor,
    language: Language,
    muster: MusterDep,
    department: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    pinned: bool = False,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """The incident's events in order, each with its kind, pin and a summary in the
    caller's language; filter by department(s), kind(s), pinned and time (ISO with a
    zone); ``?format=csv`` for a spreadsheet."""
    kinds = parse_list(kind or [])
    if kinds - set(KINDS):
        raise ValidationFailed(f"kind is one of {', '.join(KINDS)}", field="kind")
    where = TimelineFilter(
        departments=parse_list(department or []),
        kinds=kinds,
        pinned_only=pinned,
        since=_moment(since, "since"),
        until=_moment(until, "until"),
    )
    with muster.engine.connect() as conn:
        found = review_timeline(
            conn, incident_id, summarise=Summarizer(muster).timeline, where=where
        )
    if format == "csv":
        return Response(
            timeline_csv(found, language),
            media_type=CSV_MEDIA,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="timeline-{incident_id}.csv"'
                )
            },
        )
    return JSONResponse(
        {
            "incident_id": incident_id,
            "total": found.total,
            "log_range": found.log_range(),
            "entries": [entry.to_json(language) for entry in found.entries],
        }
    )


def _moment(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_utc(text)
    except ValueError:
        raise ValidationFailed(
            f"{name} needs an ISO-8601 time with a zone", field=name
        ) from None


def timeline_csv(found: ReviewTimeline, language: str) -> str:
    """Write a review timeline as CSV: a line naming the log head it was read at,
    a header row, one row per event (cells safe from spreadsheet formulas)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    log = found.log_range()
    buffer.write(
        f"# incident {_cell(found.incident_id)}; log head seq {log['head_seq']}, "
        f"chain hash {log['head_hash']}\n"
    )
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TIMELINE_COLUMNS)
    for entry in found.entries:
        row = entry.to_json(language)
        row["departments"] = " ".join(entry.departments)
        row["pinned"] = "yes" if entry.pinned else ""
        writer.writerow([_cell(row[name]) for name in TIMELINE_COLUMNS])
    return buffer.getvalue()


def _cell(value: object) -> str:
    """Return a CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@router.post("/incidents/{incident_id}/pins", response_model=ResultOut)
async def pin_event(
    incident_id: str, body: PinIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Pin an event of the incident's timeline as significant (or change its note)."""
    command = PinTimelineEvent(incident_id=incident_id, seq=body.seq, note=body.note)
    return ResultOut(result=str(await _handle(muster, command, actor)))


@router.delete("/incidents/{incident_id}/pins/{seq}", response_model=ResultOut)
async def unpin_event(
    incident_id: str, seq: int, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Remove the significant mark from an event."""
    command = UnpinTimelineEvent(incident_id=incident_id, seq=seq)
    return ResultOut(result=str(await _handle(muster, command, actor)))


__all__ = ["router", "timeline_csv"]
