"""The situation of one incident: ``GET /situation/incidents/{id}``.

One page for the duty officers and the commander: the triggers that fed the
incident (with their explanations), the fused report clusters with each report's
reason (merge two clusters, split reports out), the cascade assessment (chains,
steps, exposed assets with their departments, the departments to add with their
tasks, and the explanation naming every rule and dataset), and the joint
assessments (views side by side, the combined view, a view form for the asked
departments, and the commander's forms to open and to conclude one).

Every form posts one command through the bus and redirects (303) back with a
notice, or renders the page again with the refusal beside the form's inputs.
Imported by ``situation.pages``, which includes ``router``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, NotFound
from muster.core.messages import Actor, Command
from muster.identity import queries as identity
from muster.response import queries as response
from muster.situation import queries
from muster.situation.assess_service import assess_incident
from muster.situation.assessment_handlers import VIEW_ROLES
from muster.situation.domain.assessment import CONFIDENCES, LEVELS
from muster.situation.domain.cascade_results import Assessment
from muster.situation.domain.commands import (
    ConcludeAssessment,
    MergeClusters,
    OpenAssessment,
    SplitCluster,
    SubmitView,
)
from muster.situation.fusion_handlers import ACTING_ROLES
from muster.web.errors import message_for, status_for
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

RISK_LABELS: dict[str, str] = {
    "blue": N_("Blue"),
    "yellow": N_("Yellow"),
    "orange": N_("Orange"),
    "red": N_("Red"),
}
CONFIDENCE_LABELS: dict[str, str] = {
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
}
RELATION_LABELS: dict[str, str] = {
    "same_type": N_("Same type"),
    "same_subcategory": N_("Same sub-category"),
    "related": N_("Related category"),
    "same_category": N_("Same category"),
    "unrelated": N_("Unrelated category"),
}
ROLE_LABELS: dict[str, str] = {
    "lead": N_("Leads"),
    "supporting": N_("Supports"),
    "task": N_("Has tasks"),
    "asset_owner": N_("Owns exposed assets"),
}
RESPONSE_LEVELS: dict[str, str] = {
    "L4": N_("Level IV"),
    "L3": N_("Level III"),
    "L2": N_("Level II"),
    "L1": N_("Level I"),
}
NOTICES: dict[str, str] = {
    "merged": N_("The clusters were merged."),
    "split": N_("The reports were split into a new cluster."),
    "opened": N_("The joint assessment was opened."),
    "given": N_("Your department's view was recorded."),
    "revised": N_("Your department's view was revised."),
    "concluded": N_("The joint assessment was concluded."),
    "decided": N_("The joint assessment was concluded and a joint decision proposed."),
}
CASCADE_NEEDS_ROLE = N_("The cascade assessment needs a department role.")
MAX_EVIDENCE_LINES = 50
LIST_INPUTS = frozenset({"report_ids", "departments"})  # read as lists, even of one

Errors = dict[str, dict[str, str]]  # form key -> input name ("" = the form) -> text
Values = dict[str, dict[str, Any]]  # form key -> input name -> value posted


def _actor(page: Page) -> Actor:
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    return page.user.actor


def _labels(page: Page) -> dict[str, dict[str, str]]:
    tables = {
        "risk": RISK_LABELS,
        "confidence": CONFIDENCE_LABELS,
        "relation": RELATION_LABELS,
        "role": ROLE_LABELS,
        "response_level": RESPONSE_LEVELS,
    }
    return {
        name: {code: page.translate(text) for code, text in table.items()}
        for name, table in tables.items()
    }


def explanation_text(text: str, language: str) -> str:
    """Return the line of a bilingual trigger explanation (Chinese first, then
    English) in the page's language; the whole text when it is not two lines."""
    lines = text.split("\n")
    if len(lines) != 2:
        return text
    return lines[0] if language.startswith("zh") else lines[1]


def cascade_of(
    page: Page, conn: Any, incident_id: str
) -> tuple[Assessment | None, str]:
    """Return the incident's cascade assessment, or None and why there is none
    (the assessment reads stored layers: department roles only)."""
    if not _actor(page).has_role(*VIEW_ROLES):
        return None, page.translate(CASCADE_NEEDS_ROLE)
    try:
        return assess_incident(conn, incident_id, now=page.muster.clock.now()), ""
    except MusterError as error:
        detail = error.message.strip()
        lead = message_for(error, page.language)
        return None, f"{lead} {detail}" if detail else lead


def situation_context(page: Page, incident_id: str) -> dict[str, Any]:
    """Return what the incident's situation page renders."""
    actor = _actor(page)
    with page.muster.engine.connect() as conn:
        incident = response.get_incident(conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}", incident=incident_id)
        triggers = queries.trigger_history(conn, incident_id=incident_id)
        clusters = queries.clusters_of(conn, incident_id=incident_id)
        open_clusters = queries.clusters_of(conn)
        assessments = queries.incident_assessments(conn, incident_id)
        departments = {
            item.code: item.name(page.language)
            for item in identity.list_departments(conn)
        }
        cascade, cascade_problem = cascade_of(page, conn, incident_id)
    is_zh = page.language.startswith("zh")
    return {
        "incident": incident,
        "triggers": [
            (item, explanation_text(item.explanation, page.language))
            for item in triggers
        ],
        "clusters": clusters,
        "open_clusters": open_clusters,
        "assessments": assessments,
        "departments": departments,
        "cascade": cascade,
        "cascade_problem": cascade_problem,
        "cascade_lines": (
            (cascade.explanation.lines_zh if is_zh else cascade.explanation.lines_en)
            if cascade is not None
            else ()
        ),
        "is_zh": is_zh,
        "labels": _labels(page),
        "levels": LEVELS,
        "confidences": CONFIDENCES,
        "response_levels": tuple(RESPONSE_LEVELS),
        "can_fuse": actor.has_role(*ACTING_ROLES),
        "can_command": actor.has_role("commander", "admin"),
        "can_view": actor.department is not None and actor.has_role(*VIEW_ROLES),
        "my_department": actor.department,
        "is_open": incident.status != "closed",
    }


def render_situation(
    page: Page,
    incident_id: str,
    *,
    notice: str = "",
    errors: Errors | None = None,
    values: Values | None = None,
    status_code: int = 200,
) -> Response:
    """Render the whole situation page of an incident."""
    context = situation_context(page, incident_id)
    return page.render(
        "situation_incident.html",
        status_code=status_code,
        notice=page.translate(NOTICES[notice]) if notice in NOTICES else "",
        errors=errors or {},
        values=values or {},
        **context,
    )


@router.get("/situation/incidents/{incident_id}")
def situation_incident(
    incident_id: str, page: SignedInPage, notice: str = ""
) -> Response:
    """Show an incident's situation: triggers, reports, cascade, joint assessment."""
    return render_situation(page, incident_id, notice=notice)


def refusal(page: Page, error: MusterError) -> tuple[str, str]:
    """Return the input a refusal names ("" for none) and its readable text: the
    translated kind of refusal, then the rule's own words."""
    lead = message_for(error, page.language)
    detail = error.message.strip()
    text = f"{lead} {detail[:1].upper()}{detail[1:]}." if detail else lead
    return str(error.params.get("field") or ""), text.replace("..", ".")


async def _dispatch(
    page: Page,
    incident_id: str,
    command: Command,
    *,
    form: str,
    posted: Mapping[str, Any],
    notice: str | None = None,
    anchor: str,
) -> Response:
    """Send a form's command; redirect back with a notice (``None``: the handler's
    result names it), or render the page with the refusal beside the form."""
    try:
        result = await run_in_threadpool(page.muster.bus.handle, command, _actor(page))
    except MusterError as error:  # shown on the page (a missing incident: 404)
        field, text = refusal(page, error)
        errors, status = {form: {field: text}}, status_for(error)
        return await run_in_threadpool(
            lambda: render_situation(
                page, incident_id, errors=errors, values={form: dict(posted)},
                status_code=status,
            )
        )  # fmt: skip
    outcome = notice if notice is not None else str(result)
    location = f"/situation/incidents/{incident_id}?notice={outcome}#{anchor}"
    return RedirectResponse(location, status_code=303)


async def _form(page: Page) -> dict[str, Any]:
    """Return the posted form: single values as text, repeated ones as lists."""
    posted = await page.request.form()  # read (and cached) by the CSRF check
    values: dict[str, Any] = {}
    for key in posted:
        items = [item for item in posted.getlist(key) if isinstance(item, str)]
        values[key] = items if len(items) > 1 or key in LIST_INPUTS else "".join(items)
    return values


def _text(posted: Mapping[str, Any], key: str) -> str:
    value = posted.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _list(posted: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = posted.get(key, ())
    items = [value] if isinstance(value, str) else list(value)
    return tuple(item for item in items if item)


@router.post("/situation/incidents/{incident_id}/clusters/merge")
async def merge_clusters(incident_id: str, page: SignedInPage) -> Response:
    """Merge two clusters that describe one event."""
    posted = await _form(page)
    command = MergeClusters(keep=_text(posted, "keep"), other=_text(posted, "other"),
                            reason=_text(posted, "reason"))  # fmt: skip
    return await _dispatch(page, incident_id, command, form="merge", posted=posted,
                           notice="merged", anchor="clusters")  # fmt: skip


@router.post("/situation/incidents/{incident_id}/clusters/{cluster_id}/split")
async def split_cluster(
    incident_id: str, cluster_id: str, page: SignedInPage
) -> Response:
    """Move the chosen reports out of a cluster into a new one."""
    posted = await _form(page)
    command = SplitCluster(
        cluster_id=cluster_id, report_ids=_list(posted, "report_ids"),
        reason=_text(posted, "reason"),
    )  # fmt: skip
    return await _dispatch(
        page, incident_id, command, form=f"split:{cluster_id}", posted=posted,
        notice="split", anchor="clusters",
    )  # fmt: skip


@router.post("/situation/incidents/{incident_id}/assessments")
async def open_assessment(incident_id: str, page: SignedInPage) -> Response:
    """Open a joint assessment asking the chosen departments."""
    posted = await _form(page)
    command = OpenAssessment(incident_id=incident_id, topic=_text(posted, "topic"),
                             departments=_list(posted, "departments"))  # fmt: skip
    return await _dispatch(page, incident_id, command, form="open", posted=posted,
                           notice="opened", anchor="assessments")  # fmt: skip


@router.post("/situation/incidents/{incident_id}/assessments/{assessment_id}/views")
async def submit_view(
    incident_id: str, assessment_id: str, page: SignedInPage
) -> Response:
    """Give or revise the signed-in person's department's view."""
    posted = await _form(page)
    evidence = tuple(
        line.strip()
        for line in _text(posted, "evidence").splitlines()[:MAX_EVIDENCE_LINES]
        if line.strip()
    )
    command = SubmitView(assessment_id=assessment_id, level=_text(posted, "level"),
                         confidence=_text(posted, "confidence"),
                         note=_text(posted, "note"), evidence=evidence)  # fmt: skip
    return await _dispatch(
        page, incident_id, command, form=f"view:{assessment_id}", posted=posted,
        anchor=f"assessment-{assessment_id}",
    )  # fmt: skip


@router.post("/situation/incidents/{incident_id}/assessments/{assessment_id}/conclude")
async def conclude_assessment(
    incident_id: str, assessment_id: str, page: SignedInPage
) -> Response:
    """Conclude an assessment, optionally proposing a joint decision."""
    posted = await _form(page)
    title = _text(posted, "decision_title")
    command = ConcludeAssessment(
        assessment_id=assessment_id, conclusion=_text(posted, "conclusion"),
        level=_text(posted, "level"), decision_title=title or None,
        raises_to=(_text(posted, "raises_to") or None) if title else None,
    )  # fmt: skip
    return await _dispatch(page, incident_id, command,
                           form=f"conclude:{assessment_id}", posted=posted,
                           notice="decided" if title else "concluded",
                           anchor=f"assessment-{assessment_id}")  # fmt: skip


__all__ = [
    "CONFIDENCE_LABELS",
    "RISK_LABELS",
    "cascade_of",
    "explanation_text",
    "render_situation",
    "router",
    "situation_context",
]
