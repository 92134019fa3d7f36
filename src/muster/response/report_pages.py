"""Situation reports (信息报告): the form prefilled from the incident, sending it, and
the sent report as printable HTML or PDF (WeasyPrint, when installed).

Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, NotFound
from muster.core.pdf import html_to_pdf
from muster.response import views
from muster.response.domain.commands import SendSituationReport
from muster.response.pages import department_names, labels, refusal_text
from muster.web.errors import status_for
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

SECTIONS: tuple[tuple[str, str], ...] = (
    ("time", N_("Time")),
    ("place", N_("Place")),
    ("what", N_("What happened")),
    ("casualties", N_("Casualties and losses")),
    ("measures", N_("Measures taken")),
    ("requests", N_("Requests for support")),
)
MAX_SECTION = 5000
REPORT_CSS = Path(__file__).resolve().parent.parent / "web" / "static" / "report.css"


def _overview(
    page: Page, incident_id: str
) -> tuple[views.ResponseOverview, dict[str, str]]:
    with page.muster.engine.connect() as conn:
        view = views.overview(conn, incident_id)
        names = department_names(conn, page.language)
    if view is None:
        raise NotFound(f"no incident {incident_id}", incident=incident_id)
    return view, names


def prefilled(page: Page, view: views.ResponseOverview) -> dict[str, str]:
    """Return the report sections as the incident's state fills them in."""
    incident = view.incident
    done = [
        f"- {task.title(page.language)}" for task in view.tasks if task.status == "done"
    ]
    return {
        "time": page.muster.clock.now().strftime("%Y-%m-%d %H:%M UTC"),
        "place": (
            f"{incident.latitude:.5f}, {incident.longitude:.5f} — {incident.title}"
        ),
        "what": incident.description,
        "casualties": "",
        "measures": "\n".join(done),
        "requests": "",
    }


def _render_form(
    page: Page,
    view: views.ResponseOverview,
    *,
    values: dict[str, str],
    obligation: str,
    recipient: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    return page.render(
        "response_report_form.html",
        status_code=status_code,
        incident=view.incident,
        clocks=view.clocks,
        sections=[(key, page.translate(label)) for key, label in SECTIONS],
        values=values,
        obligation=obligation,
        recipient=recipient,
        error=error,
    )


@router.get("/incidents/{incident_id}/reports/new")
def new_report(incident_id: str, page: SignedInPage, obligation: str = "") -> Response:
    """Show the situation report form, prefilled from the incident."""
    view, _names = _overview(page, incident_id)
    if not obligation and view.clocks:
        obligation = view.clocks[0].obligation
    return _render_form(page, view, values=prefilled(page, view), obligation=obligation)


@router.post("/incidents/{incident_id}/reports")
async def send_report(incident_id: str, page: SignedInPage) -> Response:
    """Sign off and send the report; on a refusal show the form again."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    form = await page.request.form()
    values = {key: str(form.get(key, ""))[:MAX_SECTION] for key, _label in SECTIONS}
    obligation = str(form.get("obligation", ""))
    recipient = str(form.get("recipient", ""))
    command = SendSituationReport(
        incident_id=incident_id,
        content={key: value for key, value in values.items() if value.strip()},
        obligation=obligation or None,
        recipient=recipient,
    )
    try:
        report_id = await run_in_threadpool(
            page.muster.bus.handle, command, page.user.actor
        )
    except MusterError as error:
        if isinstance(error, NotFound):
            raise
        view, _names = await run_in_threadpool(_overview, page, incident_id)
        return _render_form(
            page, view, values=values, obligation=obligation, recipient=recipient,
            error=refusal_text(page, error), status_code=status_for(error),
        )  # fmt: skip
    return RedirectResponse(
        f"/incidents/{incident_id}/reports/{report_id}", status_code=303
    )


@router.get("/incidents/{incident_id}/reports/{report_id}")
def show_report(
    incident_id: str,
    report_id: str,
    page: SignedInPage,
    format: str = "html",
) -> Response:
    """Show a sent report as printable HTML, or as a PDF with ``?format=pdf``."""
    view, names = _overview(page, incident_id)
    with page.muster.engine.connect() as conn:
        report = views.get_report(conn, incident_id, report_id)
    if report is None:
        raise NotFound(f"no report {report_id}", report=report_id)
    context: dict[str, Any] = {
        "incident": view.incident,
        "report": report,
        "clock": next(
            (c for c in view.clocks if c.obligation == report["obligation"]), None
        ),
        "sections": [(key, page.translate(label)) for key, label in SECTIONS],
        "departments": names,
        "labels": labels(page),
        "is_pdf": format == "pdf",
        "report_css": REPORT_CSS.read_text(encoding="utf-8") if format == "pdf" else "",
    }
    html = page.render("response_report.html", **context)
    if format != "pdf":
        return html
    return Response(
        html_to_pdf(bytes(html.body).decode("utf-8")),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="report-{report_id}.pdf"'},
    )


__all__ = ["SECTIONS", "prefilled", "router"]
