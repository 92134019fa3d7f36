"""HTTP API of the response part (R13).

``/api/incidents`` lists, shows and opens incidents; ``/api/v1`` coordinates the
response: lifecycle, plan activation and levels, tasks and the department inbox,
joint decisions, situation reports, plans and the incident timeline (JSON or CSV).
Refusals are MusterErrors, answered as problem+json by ``web.errors``.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import NotFound
from muster.core.messages import Actor, Command
from muster.response import queries, views
from muster.response.domain.commands import (
    ActivatePlan,
    ActOnTask,
    AddTask,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    CheckChecklistItem,
    OpenIncident,
    ProposeDecision,
    ReassignTask,
    RecordIncidentFacts,
    SendSituationReport,
    SignDecision,
    SkipTask,
)
from muster.response.schemas import (
    ActivationIn,
    ChecklistIn,
    DecisionIn,
    FactsIn,
    IncidentCreated,
    IncidentIn,
    IncidentOut,
    LevelIn,
    Outcome,
    PlanOut,
    ReassignIn,
    ReportIn,
    ResponseOut,
    SignatureIn,
    SkipIn,
    StatusIn,
    TaskActionIn,
    TaskIn,
    TaskOut,
    TimelineEntryOut,
)
from muster.web.deps import CurrentActor, Language, MusterDep
from muster.web.summaries import Summarizer

incidents = APIRouter(prefix="/api/incidents", tags=["response"])
v1 = APIRouter(prefix="/api/v1", tags=["response"])
router = APIRouter()

TIMELINE_COLUMNS = ("seq", "at", "type", "actor_id", "department", "summary")


@incidents.get("", response_model=list[IncidentOut])
def list_incidents(_actor: CurrentActor, muster: MusterDep) -> list[IncidentOut]:
    """List incidents, newest first."""
    with muster.engine.connect() as conn:
        return [IncidentOut.of(view) for view in queries.list_incidents(conn)]


@incidents.get("/{incident_id}", response_model=IncidentOut)
def get_incident(
    incident_id: str, _actor: CurrentActor, muster: MusterDep
) -> IncidentOut:
    """Show one incident."""
    with muster.engine.connect() as conn:
        view = queries.get_incident(conn, incident_id)
    if view is None:
        raise NotFound(f"no incident {incident_id}", incident=incident_id)
    return IncidentOut.of(view)


@incidents.post("", status_code=201, response_model=IncidentCreated)
def open_incident(
    body: IncidentIn, actor: CurrentActor, muster: MusterDep
) -> IncidentCreated:
    """Open an incident for the caller's department (or the one named)."""
    command = OpenIncident(
        title=body.title,
        category=body.category.value,
        latitude=body.latitude,
        longitude=body.longitude,
        description=body.description,
        reporting_department=body.reporting_department,
    )
    incident_id = muster.bus.handle(command, actor)
    return IncidentCreated(id=str(incident_id))


async def _handle(muster: MusterDep, command: Command, actor: Actor) -> Outcome:
    result = await run_in_threadpool(muster.bus.handle, command, actor)
    return Outcome(result=str(result))


@v1.get("/incidents/{incident_id}", response_model=ResponseOut)
def get_response(
    incident_id: str, _actor: CurrentActor, muster: MusterDep
) -> ResponseOut:
    """Show an incident with its response: level, lead and supporting departments,
    tasks, decisions, reporting clocks and unresponsive departments."""
    with muster.engine.connect() as conn:
        view = views.overview(conn, incident_id)
    if view is None:
        raise NotFound(f"no incident {incident_id}", incident=incident_id)
    return ResponseOut.of_overview(view)


@v1.post("/incidents/{incident_id}/status", response_model=Outcome)
async def change_status(
    incident_id: str, body: StatusIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Verify, move to recovery, resume or close an incident (closing needs a
    reason); returns the new status."""
    command = ChangeIncidentStatus(
        incident_id=incident_id,
        to_status=body.to_status,
        reason=body.reason,
        type_code=body.type_code,
    )
    return await _handle(muster, command, actor)


@v1.post("/incidents/{incident_id}/facts", response_model=Outcome)
async def record_facts(
    incident_id: str, body: FactsIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Record facts that plans' activation conditions read: changed or unchanged."""
    command = RecordIncidentFacts(incident_id=incident_id, facts=dict(body.facts))
    return await _handle(muster, command, actor)


@v1.post("/incidents/{incident_id}/activation", response_model=Outcome)
async def activate_plan(
    incident_id: str, body: ActivationIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Activate a plan at a level (commanders): activated, changed or unchanged."""
    command = ActivatePlan(
        incident_id=incident_id,
        plan_code=body.plan_code,
        level=body.level,
        reason=body.reason,
    )
    return await _handle(muster, command, actor)


@v1.post("/incidents/{incident_id}/level", response_model=Outcome)
async def change_level(
    incident_id: str, body: LevelIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Change the response level with a reason (levels the plan gates need a joint
    decision): changed or unchanged."""
    command = ChangeResponseLevel(
        incident_id=incident_id, level=body.level, reason=body.reason
    )
    return await _handle(muster, command, actor)


@v1.post("/incidents/{incident_id}/tasks", status_code=201, response_model=Outcome)
async def add_task(
    incident_id: str, body: TaskIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Add a task the plan does not have (a recorded deviation); returns its id."""
    command = AddTask(
        incident_id=incident_id,
        title_zh=body.title_zh,
        title_en=body.title_en,
        lead_department=body.lead_department,
        due_minutes=body.due_minutes,
        ack_minutes=body.ack_minutes,
        supporting_departments=tuple(body.supporting_departments),
        checklist=tuple(body.checklist),
    )
    return await _handle(muster, command, actor)


@v1.get("/inbox", response_model=list[TaskOut])
def inbox(
    actor: CurrentActor, muster: MusterDep, include_closed: bool = False
) -> list[TaskOut]:
    """List the tasks of the caller's department, open ones first by deadline."""
    if actor.department is None:
        return []
    with muster.engine.connect() as conn:
        tasks = queries.department_inbox(
            conn, actor.department, include_closed=include_closed
        )
    return [TaskOut.of(task) for task in tasks]


@v1.post("/tasks/{task_id}/actions", response_model=Outcome)
async def act_on_task(
    task_id: str, body: TaskActionIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Acknowledge, start, complete, decline or block a task (decline and block need
    a note); a stale ``expected_version`` is answered 409."""
    command = ActOnTask(
        task_id=task_id,
        action=body.action,
        note=body.note,
        expected_version=body.expected_version,
    )
    return await _handle(muster, command, actor)


@v1.post("/tasks/{task_id}/reassign", response_model=Outcome)
async def reassign_task(
    task_id: str, body: ReassignIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Move a task to another department (commanders; a recorded deviation)."""
    command = ReassignTask(
        task_id=task_id, to_department=body.to_department, reason=body.reason
    )
    return await _handle(muster, command, actor)


@v1.post("/tasks/{task_id}/skip", response_model=Outcome)
async def skip_task(
    task_id: str, body: SkipIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Skip a plan task with a reason (commanders; a recorded deviation)."""
    return await _handle(muster, SkipTask(task_id=task_id, reason=body.reason), actor)


@v1.post("/tasks/{task_id}/checklist", response_model=Outcome)
async def check_item(
    task_id: str, body: ChecklistIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Tick or untick one checklist item of a task."""
    command = CheckChecklistItem(
        task_id=task_id, index=body.index, checked=body.checked
    )
    return await _handle(muster, command, actor)


@v1.post("/incidents/{incident_id}/decisions", status_code=201, response_model=Outcome)
async def propose_decision(
    incident_id: str, body: DecisionIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Propose a joint decision to named departments (commanders); returns its id."""
    command = ProposeDecision(
        incident_id=incident_id,
        title=body.title,
        proposal=body.proposal,
        departments=tuple(body.departments),
        rule=body.rule,
        veto=tuple(body.veto),
        deadline_minutes=body.deadline_minutes,
        raises_to=body.raises_to,
        evidence=tuple(body.evidence),
    )
    return await _handle(muster, command, actor)


@v1.post("/decisions/{decision_id}/signatures", response_model=Outcome)
async def sign_decision(
    decision_id: str, body: SignatureIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Concur or object for the caller's department: open, approved, rejected."""
    command = SignDecision(
        decision_id=decision_id, position=body.position, comment=body.comment
    )
    return await _handle(muster, command, actor)


@v1.post("/incidents/{incident_id}/reports", status_code=201, response_model=Outcome)
async def send_report(
    incident_id: str, body: ReportIn, actor: CurrentActor, muster: MusterDep
) -> Outcome:
    """Sign off and send a situation report (信息报告); returns its id."""
    command = SendSituationReport(
        incident_id=incident_id,
        content=body.content,
        obligation=body.obligation,
        recipient=body.recipient,
    )
    return await _handle(muster, command, actor)


@v1.get("/plans", response_model=list[PlanOut])
def list_plans(_actor: CurrentActor, muster: MusterDep) -> list[PlanOut]:
    """List the registered contingency plans (预案) with their documents."""
    with muster.engine.connect() as conn:
        plans = queries.list_plans(conn)
    return [
        PlanOut(
            code=plan.code, version=plan.version, name_zh=plan.name_zh,
            name_en=plan.name_en, categories=list(plan.categories),
            levels=list(plan.levels), document=plan.document,
        )
        for plan in plans
    ]  # fmt: skip


@v1.get(
    "/incidents/{incident_id}/timeline",
    response_model=list[TimelineEntryOut],
    responses={200: {"content": {"text/csv": {}}}},
)
def timeline(
    incident_id: str,
    _actor: CurrentActor,
    language: Language,
    muster: MusterDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> list[TimelineEntryOut] | Response:
    """The incident's events in order, each with a summary in the caller's
    language; ``?format=csv`` for a spreadsheet."""
    with muster.engine.connect() as conn:
        if queries.get_incident(conn, incident_id) is None:
            raise NotFound(f"no incident {incident_id}", incident=incident_id)
        entries = queries.incident_timeline(conn, incident_id, limit=10_000)
        summaries = Summarizer(muster).timeline(conn, entries)
    rows = [
        TimelineEntryOut(
            seq=entry.seq, type=entry.type, at=entry.at, actor_id=entry.actor_id,
            department=entry.department, summary=summary[language], data=entry.data,
        )
        for entry, summary in zip(entries, summaries, strict=True)
    ]  # fmt: skip
    if format == "json":
        return rows
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TIMELINE_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in TIMELINE_COLUMNS])
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="timeline-{incident_id}.csv"'
        },
    )


def _cell(value: object) -> str:
    """Return a CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


router.include_router(incidents)
router.include_router(v1)

__all__ = ["router"]
