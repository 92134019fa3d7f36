"""The after-action report on the web: ``/review/incidents/{id}/aar`` (R13).

The same report as ``muster report aar`` (``muster.review.aar`` gathers it from the
log, ``muster.review.aar_render`` renders it), for signed-in users: HTML in the page's
language, or a PDF download with ``?format=pdf``; ``?lang=`` overrides the language.
Imported by ``web.app``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import NotFound
from muster.response import queries as response
from muster.review.aar import AfterActionReview, gather
from muster.review.aar_render import render_html, render_pdf
from muster.review.aar_text import LANGUAGES
from muster.review.settings_queries import stored_weights
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

# The report is one self-contained document: inline CSS and SVG, no scripts.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _gather(page: Page, incident_id: str) -> AfterActionReview:
    muster = page.muster
    with muster.engine.connect() as conn:
        if response.get_incident(conn, incident_id) is None:
            raise NotFound(f"no incident {incident_id}", incident=incident_id)
        return gather(
            conn,
            incident_id,
            now=muster.clock.now(),
            store=muster.store,
            weights=stored_weights(conn),
        )


@router.get("/review/incidents/{incident_id}/aar")
async def aar_page(
    incident_id: str,
    page: SignedInPage,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
    lang: Annotated[str | None, Query()] = None,
) -> Response:
    """The incident's after-action report and improvement plan (AAR/IP, 复盘评估)."""
    language = lang if lang in LANGUAGES else page.language
    if language not in LANGUAGES:
        language = "en" if language.startswith("en") else "zh-CN"
    review = await run_in_threadpool(_gather, page, incident_id)
    command = f"muster report aar {incident_id} --out aar.{format} --lang {language}"
    if format == "html":
        return HTMLResponse(
            render_html(review, language=language, command=command),
            headers={"Content-Security-Policy": REPORT_POLICY},
        )
    pdf = await run_in_threadpool(
        render_pdf, review, language=language, command=command
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="aar-{incident_id}.pdf"'
        },
    )


__all__ = ["router"]
