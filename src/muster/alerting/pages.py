"""The incident's public-warnings page and the public warnings page.

``GET /incidents/{id}/warnings`` shows the incident's alerts (state, colour,
headlines, approval chain, concurrence and its joint decision, population covered,
delivery per channel, the published XML) and the compose form from the templates;
``POST /incidents/{id}/warnings`` composes, ``POST …/warnings/{alert}/approve``,
``/link``, ``/publish`` and ``/discard`` move an alert on. Each form sends the same
command as the API and the CLI; success redirects back with a notice (``?done=``), a
refusal shows the page again with the reason. Buttons are offered only to those the
rules allow (never Approve to the author); the handlers decide in the end.
``GET /warnings`` (no sign-in) lists the warnings in force with the Atom feed.
Imported by ``web.app``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from muster.alerting import current, page_rows, queries
from muster.alerting.api import MSG_TYPE_LABELS
from muster.alerting.domain.commands import (
    ApproveAlert,
    ComposeAlert,
    DiscardAlert,
    LinkConcurrence,
    PublishAlert,
)
from muster.core.errors import MusterError, NotFound, ValidationFailed
from muster.core.messages import Command
from muster.identity import queries as identity
from muster.response import queries as response
from muster.web.errors import message_for, status_for
from muster.web.i18n import N_
from muster.web.templating import Page, PageDep, SignedInPage

router = APIRouter(include_in_schema=False)

PAGE = "/incidents/{incident_id}/warnings"
STATE_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "approved": N_("Approved"),
    "published": N_("Published"),
    "discarded": N_("Discarded"),
}
OUTCOME_LABELS: dict[str, str] = {
    "open": N_("Open"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "expired": N_("Expired"),
}
CHANNEL_LABELS: dict[str, str] = {
    "email": N_("E-mail"),
    "webhook": N_("Webhook"),
    "sms": N_("SMS"),
}
WAITING: dict[str, str] = {
    "approval": N_("Waiting for a second person's approval."),
    "concurrence": N_("Waiting for concurrence: link the joint decision."),
    "decision": N_("Waiting for the joint decision to be approved."),
}
NOTICES: dict[str, str] = {
    "composed": N_("The warning was drafted. A second person must approve it."),
    "approved": N_("The warning was approved."),
    "linked": N_("The joint decision was linked to the warning."),
    "published": N_("The warning was published."),
    "discarded": N_("The draft warning was discarded."),
}
REFUSALS: dict[str, str] = {
    "alert_invalid:colour": N_("Choose a hazard and a warning colour."),
    "alert_invalid:radius_km": N_("The radius is between 0 and 500 km."),
    "validation:radius_km": N_("The radius is between 0 and 500 km."),
    "alert_invalid:districts": N_("Choose districts from the list."),
    "alert_invalid:follows": N_(
        "An update or cancellation names a published warning of this incident."
    ),
    "alert_invalid:msg_type": N_(
        "A new warning follows nothing; choose update or cancellation to follow one."
    ),
    "alert_invalid:reason": N_("Say why the warning is discarded."),
    "alert_invalid:decision_id": N_(
        "That joint decision does not ask every department whose concurrence "
        "the warning needs."
    ),
    "alert_invalid": N_("The warning breaks a rule of CAP 1.2: check its texts."),
    "unknown_warning_template": N_("There is no template for this hazard and colour."),
    "not_found:link": N_("That joint decision is not one of this incident's."),
    "alert_state:compose": N_(
        "Only the current published warning of this incident can be updated or "
        "cancelled."
    ),
    "alert_state:approve": N_(
        "This warning cannot be approved: it is not a draft, or you wrote it "
        "(a second person must approve)."
    ),
    "alert_state:publish": N_(
        "This warning cannot be published yet: it needs a second person's approval "
        "and any concurrence it requires."
    ),
    "alert_state:link": N_("Only an unpublished warning can be linked to a decision."),
    "alert_state:discard": N_(
        "Only an unpublished warning can be discarded; send a cancellation to "
        "withdraw a published one."
    ),
}


def refusal(page: Page, error: MusterError, action: str) -> str:
    """Return a refused form action's message in the page's language."""
    detail = str(error.params.get("field") or "")
    for key in (f"{error.code}:{detail}", f"{error.code}:{action}", error.code):
        if key in REFUSALS:
            return page.translate(REFUSALS[key])
    return message_for(error, page.language)


def _labels(page: Page) -> dict[str, dict[str, str]]:
    tables = {
        "states": STATE_LABELS,
        "outcomes": OUTCOME_LABELS,
        "msg_types": MSG_TYPE_LABELS,
    }
    return {
        name: {key: page.translate(label) for key, label in table.items()}
        for name, table in tables.items()
    }


def warnings_context(page: Page, incident_id: str) -> dict[str, Any]:
    """Return what the incident's warnings page renders."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    language = page.language
    with page.muster.engine.connect() as conn:
        incident = response.get_incident(conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}", incident=incident_id)
        templates = queries.current_templates(conn)
        views = queries.list_alerts(conn, incident_id=incident_id)
        decisions = response.incident_decisions(conn, incident_id)
        departments = {
            item.code: item.name(language) for item in identity.list_departments(conn)
        }
        who = page_rows.reader(page.user.actor, page_rows.speakers(incident, templates))
        words = page_rows.Words(
            language=language,
            translate=page.translate,
            waiting=WAITING,
            channels=CHANNEL_LABELS,
        )
        rows = page_rows.alert_rows(
            conn, views, decisions=decisions, who=who, words=words
        )
    return {
        "incident": incident,
        "rows": rows,
        "who": who,
        "has_templates": templates is not None,
        "hazards": page_rows.template_choices(
            templates, language=language, departments=departments
        ),
        "districts": page_rows.district_choices(templates, language=language),
        "follows": [
            (view.record.id, current.info_for(view, language).headline)
            for view in views
            if view.is_current and view.record.content.msg_type != current.CANCEL
        ],
        "decisions": [
            {
                "id": decision.id,
                "title": decision.title,
                "departments": [departments.get(d, d) for d in decision.departments],
                "outcome": decision.outcome,
            }
            for decision in decisions
        ],
        "labels": _labels(page),
    }


def render_warnings(
    page: Page,
    incident_id: str,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    """Render the incident's warnings page."""
    return page.render(
        "alerting_incident.html",
        status_code=status_code,
        notice=page.translate(NOTICES[notice]) if notice in NOTICES else "",
        error=error,
        values=values or {},
        **warnings_context(page, incident_id),
    )


@router.get(PAGE)
def incident_warnings(incident_id: str, page: SignedInPage, done: str = "") -> Response:
    """Show an incident's public warnings and the compose form."""
    return render_warnings(page, incident_id, notice=done)


async def _send(
    page: Page,
    incident_id: str,
    command: Command,
    *,
    action: str,
    done: str,
    anchor: str = "",
    values: dict[str, Any] | None = None,
) -> Response:
    """Send a form's command; redirect with a notice, or show the refusal."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    try:
        result = await run_in_threadpool(
            page.muster.bus.handle, command, page.user.actor
        )
    except MusterError as error:
        message, code = refusal(page, error, action), status_for(error)
        return await run_in_threadpool(
            lambda: render_warnings(
                page, incident_id, error=message, status_code=code, values=values
            )
        )
    target = anchor or f"alert-{result}"
    url = PAGE.format(incident_id=incident_id)
    return RedirectResponse(f"{url}?done={done}#{target}", status_code=303)


def _texts(form: FormData, name: str) -> dict[str, str]:
    """Return a text override per language from ``name_zh`` / ``name_en`` fields."""
    found = {
        language: str(form.get(f"{name}_{suffix}", "")).strip()
        for language, suffix in (("zh-CN", "zh"), ("en", "en"))
    }
    return {language: text for language, text in found.items() if text}


def _radius(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationFailed("radius_km is a number", field="radius_km") from None


@router.post(PAGE)
async def compose(incident_id: str, page: SignedInPage) -> Response:
    """Draft an alert from the template chosen on the form."""
    form = await page.request.form()
    values: dict[str, Any] = {key: str(value) for key, value in form.items()}
    values["districts"] = [str(item) for item in form.getlist("districts")]
    hazard, _, colour = values.get("template", "").partition(":")
    follows = values.get("follows", "").strip() or None
    try:
        command = ComposeAlert(
            incident_id=incident_id,
            hazard=hazard,
            colour=colour,
            msg_type=values.get("msg_type") or "Alert",
            follows=follows,
            radius_km=_radius(values.get("radius_km", "")),
            districts=tuple(values["districts"]),
            headline=_texts(form, "headline"),
            description=_texts(form, "description"),
            instruction=_texts(form, "instruction"),
            note=values.get("note", "")[:1000],
        )
    except MusterError as error:
        message = refusal(page, error, "compose")
        return await run_in_threadpool(
            lambda: render_warnings(
                page, incident_id, error=message, status_code=422, values=values
            )
        )
    return await _send(
        page, incident_id, command, action="compose", done="composed", values=values
    )


@router.post(PAGE + "/{alert_id}/approve")
async def approve(incident_id: str, alert_id: str, page: SignedInPage) -> Response:
    """Approve a draft (a second authorised person)."""
    form = await page.request.form()
    comment = str(form.get("comment", ""))[:2000]
    command = ApproveAlert(alert_id=alert_id, comment=comment)
    return await _send(
        page,
        incident_id,
        command,
        action="approve",
        done="approved",
        anchor=f"alert-{alert_id}",
    )


@router.post(PAGE + "/{alert_id}/link")
async def link(incident_id: str, alert_id: str, page: SignedInPage) -> Response:
    """Tie an alert to the joint decision that gives its concurrence."""
    form = await page.request.form()
    command = LinkConcurrence(
        alert_id=alert_id, decision_id=str(form.get("decision_id", ""))
    )
    return await _send(
        page,
        incident_id,
        command,
        action="link",
        done="linked",
        anchor=f"alert-{alert_id}",
    )


@router.post(PAGE + "/{alert_id}/publish")
async def publish(incident_id: str, alert_id: str, page: SignedInPage) -> Response:
    """Publish an approved alert."""
    command = PublishAlert(alert_id=alert_id)
    return await _send(
        page,
        incident_id,
        command,
        action="publish",
        done="published",
        anchor=f"alert-{alert_id}",
    )


@router.post(PAGE + "/{alert_id}/discard")
async def discard(incident_id: str, alert_id: str, page: SignedInPage) -> Response:
    """Drop an unpublished alert, with the reason."""
    form = await page.request.form()
    reason = str(form.get("reason", ""))[:2000]
    command = DiscardAlert(alert_id=alert_id, reason=reason)
    return await _send(
        page,
        incident_id,
        command,
        action="discard",
        done="discarded",
        anchor=f"alert-{alert_id}",
    )


@router.get("/warnings")
def public_warnings(page: PageDep) -> Response:
    """List the warnings in force (no sign-in), with the Atom feed's link."""
    muster = page.muster
    with muster.engine.connect() as conn:
        views = current.in_force(
            conn,
            now=muster.clock.now(),
            include_exercise=muster.settings.drill_id is not None,
        )
    return page.render(
        "warnings_public.html",
        alerts=views,
        colour_name=page_rows.colour_name,
        xml_path=current.xml_path,
        expires_at=current.expires_at,
        feed_path=current.FEED_PATH,
        labels=_labels(page),
    )


__all__ = ["NOTICES", "REFUSALS", "refusal", "render_warnings", "router"]
