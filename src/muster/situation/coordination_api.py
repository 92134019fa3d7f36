"""HTTP API of the situation part's coordination: triggers, fused reports and
clusters, an incident's cascade assessment, joint assessments (R13). Imported by
``web.app``.

Reading is open to every signed-in user, like incidents in the live feed (no
personal data is held here: hotline caller fields never enter the situation part).
Commands are refused by their handlers (roles, departments asked); refusals are
MusterErrors, answered as problem+json by ``web.errors``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from muster.core.errors import NotFound, PermissionDenied
from muster.core.messages import Actor, Command
from muster.situation import queries
from muster.situation.assess_service import assess_incident
from muster.situation.assessment_handlers import VIEW_ROLES
from muster.situation.domain.commands import (
    ConcludeAssessment,
    MergeClusters,
    OpenAssessment,
    SplitCluster,
    SubmitReport,
    SubmitView,
)
from muster.situation.schemas import (
    AssessmentCreated,
    AssessmentIn,
    ClusterOut,
    ConcludedOut,
    ConcludeIn,
    FieldReportIn,
    MergeIn,
    ReportOut,
    SplitIn,
    ViewIn,
    ViewOut,
)
from muster.web.deps import CurrentActor, MusterDep

router = APIRouter(prefix="/api/v1/situation", tags=["situation"])


async def _handle(muster: Any, command: Command, actor: Actor) -> Any:
    return await run_in_threadpool(muster.bus.handle, command, actor)


@router.get("/triggers")
def triggers(
    muster: MusterDep,
    actor: CurrentActor,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    incident: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The rule instances active now and the recent firings and clearings."""
    with muster.engine.connect() as conn:
        active = queries.active_triggers(conn)
        history = queries.trigger_history(conn, rule=rule, incident_id=incident)
    return {
        "active": [dataclasses.asdict(item) for item in active],
        "history": [dataclasses.asdict(item) for item in history],
    }


@router.post("/reports", status_code=201)
async def submit_report(
    body: FieldReportIn, muster: MusterDep, actor: CurrentActor
) -> ReportOut:
    """A field team reports something; it is fused at once."""
    command = SubmitReport(category=body.category, latitude=body.latitude,
                           longitude=body.longitude, text=body.text)  # fmt: skip
    return ReportOut(report_id=str(await _handle(muster, command, actor)))


@router.get("/clusters")
def clusters(
    muster: MusterDep,
    actor: CurrentActor,
    incident: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Open clusters of fused reports (of one incident), each report with its reason."""
    with muster.engine.connect() as conn:
        found = queries.clusters_of(conn, incident_id=incident)
    return [dataclasses.asdict(item) for item in found]


@router.post("/clusters/merge")
async def merge(body: MergeIn, muster: MusterDep, actor: CurrentActor) -> ClusterOut:
    """Merge cluster ``other`` into ``keep`` (one event)."""
    command = MergeClusters(keep=body.keep, other=body.other, reason=body.reason)
    return ClusterOut(cluster_id=str(await _handle(muster, command, actor)))


@router.post("/clusters/{cluster_id}/split")
async def split(
    cluster_id: str, body: SplitIn, muster: MusterDep, actor: CurrentActor
) -> ClusterOut:
    """Move reports out of a cluster into a new one (another event)."""
    command = SplitCluster(cluster_id=cluster_id, report_ids=tuple(body.report_ids),
                           reason=body.reason)  # fmt: skip
    return ClusterOut(cluster_id=str(await _handle(muster, command, actor)))


@router.post("/assessments", status_code=201)
async def open_assessment(
    body: AssessmentIn, muster: MusterDep, actor: CurrentActor
) -> AssessmentCreated:
    """Ask departments for their view of an incident's risk."""
    command = OpenAssessment(incident_id=body.incident_id, topic=body.topic,
                             departments=tuple(body.departments))  # fmt: skip
    return AssessmentCreated(assessment_id=str(await _handle(muster, command, actor)))


@router.get("/assessments/{assessment_id}")
def assessment(
    assessment_id: str, muster: MusterDep, actor: CurrentActor
) -> dict[str, Any]:
    """An assessment with every view and the combined view."""
    with muster.engine.connect() as conn:
        found = queries.assessment(conn, assessment_id)
    if found is None:
        raise NotFound("no such assessment", assessment_id=assessment_id)
    return dataclasses.asdict(found)


@router.get("/incidents/{incident_id}/assessments")
def incident_assessments(
    incident_id: str, muster: MusterDep, actor: CurrentActor
) -> list[dict[str, Any]]:
    """An incident's assessments, oldest first."""
    with muster.engine.connect() as conn:
        found = queries.incident_assessments(conn, incident_id)
    return [dataclasses.asdict(item) for item in found]


@router.get("/incidents/{incident_id}/cascade")
def incident_cascade(
    incident_id: str, muster: MusterDep, actor: CurrentActor
) -> dict[str, Any]:
    """What may follow the incident (灾害链): chains, steps, exposed assets,
    departments to add with their tasks, and the explanation (department roles)."""
    if not actor.has_role(*VIEW_ROLES):
        raise PermissionDenied(
            "the cascade assessment needs a department role", action="assess"
        )
    with muster.engine.connect() as conn:
        found = assess_incident(conn, incident_id, now=muster.clock.now())
    return found.to_dict()


@router.post("/assessments/{assessment_id}/views")
async def submit_view(
    assessment_id: str, body: ViewIn, muster: MusterDep, actor: CurrentActor
) -> ViewOut:
    """Give or revise the caller's department's view."""
    command = SubmitView(assessment_id=assessment_id, level=body.level,
                         confidence=body.confidence, note=body.note,
                         evidence=tuple(body.evidence))  # fmt: skip
    return ViewOut(result=str(await _handle(muster, command, actor)))


@router.post("/assessments/{assessment_id}/conclude")
async def conclude(
    assessment_id: str, body: ConcludeIn, muster: MusterDep, actor: CurrentActor
) -> ConcludedOut:
    """Conclude the assessment (and propose a joint decision if titled)."""
    command = ConcludeAssessment(assessment_id=assessment_id,
                                 conclusion=body.conclusion, level=body.level,
                                 decision_title=body.decision_title,
                                 raises_to=body.raises_to)  # fmt: skip
    found = await _handle(muster, command, actor)
    return ConcludedOut(decision_id=None if found is None else str(found))


__all__ = ["router"]
