"""Web pages of the sharing part (R13): the department's sharing overview, deciding
requests, revoking agreements, notices, the access log and reading a shared dataset.

``/sharing`` shows what the signed-in person's department provides and consumes, the
requests it received and made, the grants and break-glass in force and the open
personal-information notices. ``/sharing/data/{code}`` reads through ``ReadShared``
(the only path to shared records, which masks and logs). The forms live in
``form_pages``, whose router this one mounts. Imported by ``web.app``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.catalog import queries as catalog
from muster.core.clock import isoformat_utc
from muster.core.errors import MusterError, NotFound
from muster.core.messages import Command
from muster.identity import queries as identity
from muster.sharing import form_pages, queries
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    ReadShared,
    RecordNoticeGiven,
    RevokeAgreement,
)
from muster.sharing.form_pages import (
    MASKS,
    TLPS,
    actor_of,
    department_names,
    refusal,
    translated,
)
from muster.sharing.reads import SharedRead
from muster.web.errors import status_for
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)
router.include_router(form_pages.router)

SHOWN_RECORDS = 200
LOG_LIMIT = 500
NOTICES: dict[str, str] = {
    "requested": N_("Your request was sent to the providing department."),
    "approved": N_("The request was approved; its agreement is in force."),
    "denied": N_("The request was denied; the requester sees your reason."),
    "revoked": N_("The agreement was revoked."),
    "notice_given": N_("The notice was recorded."),
    "break_glass": N_("Break-glass access is open; the provider has been told."),
    "agreement_created": N_("The agreement was registered."),
    "agreement_updated": N_("The agreement was updated."),
    "agreement_unchanged": N_("The agreement was already registered as it is."),
}
DECISIONS: dict[str, str] = {
    "allow": N_("Allowed"),
    "aggregate": N_("Counts only"),
    "deny": N_("Denied"),
}
STATUSES: dict[str, str] = {
    "active": N_("In force"),
    "revoked": N_("Revoked"),
    "pending": N_("Waiting for a decision"),
    "approved": N_("Approved"),
    "denied": N_("Denied"),
    "open": N_("Open"),
    "done": N_("Done"),
}
TLP_STYLES = {
    "CLEAR": "none",
    "GREEN": "ok",
    "AMBER": "warn",
    "AMBER+STRICT": "warn",
    "RED": "bad",
}


@router.get("/sharing")
def sharing_overview(page: SignedInPage, notice: str = "") -> Response:
    """Show the department's agreements, requests, grants and notices."""
    text = page.translate(NOTICES[notice]) if notice in NOTICES else ""
    return _render_overview(page, notice=text)


def overview_context(page: Page) -> dict[str, Any]:
    """Return what the sharing overview renders for the person's department."""
    department = actor_of(page).department or ""
    now = isoformat_utc(page.muster.clock.now())
    with page.muster.engine.connect() as conn:
        provided = queries.list_agreements(conn, provider=department or None)
        consumed = [
            item
            for item in queries.list_agreements(conn)
            if item["provider"] != department
            and item["status"] == "active"
            and (
                department in item["data"]["consumers"]
                or "*" in item["data"]["consumers"]
            )
        ]
        requests = queries.list_requests(conn, department=department or None)
        grants = [item for item in queries.list_grants(conn) if item["active"]]
        break_glass = [
            item for item in queries.list_break_glass(conn) if item["expires_at"] > now
        ]
        notices = [
            item
            for item in queries.list_notices(conn, provider=department or None)
            if item["status"] == "open"
        ]
        names = department_names(conn, page.language)
    return {
        "department": department,
        "provided": provided if department else [],
        "consumed": consumed,
        "received": [
            item
            for item in requests
            if item["provider"] == department and item["status"] == "pending"
        ],
        "made": [item for item in requests if item["consumer"] == department],
        "grants": grants,
        "break_glass": break_glass,
        "notices": notices if department else [],
        "departments": names,
        "statuses": translated(page, STATUSES),
        "masks": translated(page, MASKS),
        "tlps": TLPS,
        "tlp_styles": TLP_STYLES,
    }


def _render_overview(
    page: Page, *, notice: str = "", error: str = "", status_code: int = 200
) -> Response:
    return page.render(
        "sharing_overview.html",
        status_code=status_code,
        notice=notice,
        error=error,
        **overview_context(page),
    )


async def _act(page: Page, command: Command, notice: str) -> Response:
    """Send a command from an overview form; show a refusal on the overview."""
    try:
        await run_in_threadpool(page.muster.bus.handle, command, actor_of(page))
    except MusterError as error:
        if isinstance(error, NotFound):
            raise
        message, status = refusal(page, error)[1], status_for(error)
        return await run_in_threadpool(
            lambda: _render_overview(page, error=message, status_code=status)
        )
    return RedirectResponse(f"/sharing?notice={notice}", status_code=303)


@router.post("/sharing/requests/{request_id}/decision")
async def decide_request(request_id: str, page: SignedInPage) -> Response:
    """Approve (making an agreement) or deny an access request, with a reason."""
    posted = await page.request.form()  # already read (and cached) by the CSRF check
    approve = posted.get("decision") == "approve"
    masks = {
        str(key)[len("mask-") :]: str(value)
        for key, value in posted.multi_items()
        if str(key).startswith("mask-") and value
    }
    days = str(posted.get("valid_days") or "")
    command = DecideAccessRequest(
        request_id=request_id,
        approve=approve,
        reason=str(posted.get("reason") or ""),
        masks=masks if approve else {},
        valid_days=int(days) if days.isdigit() else 90,
        tlp=str(posted.get("tlp") or "") or None,
    )
    return await _act(page, command, "approved" if approve else "denied")


@router.post("/sharing/agreements/{code}/revoke")
async def revoke_agreement(code: str, page: SignedInPage) -> Response:
    """End one of the department's agreements now, with a reason."""
    posted = await page.request.form()
    command = RevokeAgreement(code=code, reason=str(posted.get("reason") or ""))
    return await _act(page, command, "revoked")


@router.post("/sharing/notices/{notice_id}/given")
async def record_notice(notice_id: str, page: SignedInPage) -> Response:
    """Record that the people whose data was shared were told (PIPL Art. 18)."""
    posted = await page.request.form()
    command = RecordNoticeGiven(notice_id=notice_id, note=str(posted.get("note") or ""))
    return await _act(page, command, "notice_given")


@router.get("/sharing/log")
def access_log(
    page: SignedInPage,
    dataset: str = "",
    department: str = "",
    decision: str = "",
    incident: str = "",
) -> Response:
    """Show who read the department's datasets, how it was decided and why."""
    provider = actor_of(page).department or ""
    where = queries.LogFilter(
        provider=provider,
        dataset=dataset or None,
        department=department or None,
        decision=decision or None,
        incident_id=incident or None,
    )
    with page.muster.engine.connect() as conn:
        entries = (
            queries.access_entries(conn, where, limit=LOG_LIMIT) if provider else []
        )
        owned = catalog.list_datasets(conn, department=provider) if provider else []
        names = department_names(conn, page.language)
        people = {item.id: item.display_name for item in identity.list_users(conn)}
    filters = {
        key: value
        for key, value in (
            ("dataset", dataset),
            ("department", department),
            ("decision", decision),
            ("incident", incident),
        )
        if value
    }
    return page.render(
        "sharing_log.html",
        entries=entries,
        datasets=[item.code for item in owned],
        departments=names,
        people=people,
        masks=translated(page, MASKS),
        decisions=translated(page, DECISIONS),
        chosen={
            "dataset": dataset,
            "department": department,
            "decision": decision,
            "incident": incident,
        },
        csv_url="/api/v1/access-log?" + urlencode({"format": "csv", **filters}),
        json_url="/api/v1/access-log?" + urlencode({"format": "json", **filters}),
    )


@router.get("/sharing/data/{code}")
def shared_data(
    code: str, page: SignedInPage, purpose: str = "", incident: str = ""
) -> Response:
    """Read a dataset through the decision point: masked records, counts or the
    reason of a refusal (every read is logged)."""
    command = ReadShared(
        dataset=code,
        purpose=purpose.strip() or None,
        incident_id=incident.strip() or None,
        limit=SHOWN_RECORDS,
        channel="page",
    )
    read: SharedRead = page.muster.bus.handle(command, actor_of(page))
    with page.muster.engine.connect() as conn:
        facts = queries.dataset_facts(conn, code)
        names = department_names(conn, page.language)
    columns = list(read.fields) or (list(facts.names) if facts else [])
    return page.render(
        "sharing_data.html",
        status_code=403 if read.decision == "deny" else 200,
        read=read,
        columns=columns,
        records=read.records[:SHOWN_RECORDS],
        purpose=purpose,
        incident=incident,
        departments=names,
        decisions=translated(page, DECISIONS),
        masks=translated(page, MASKS),
        tlp_style=TLP_STYLES.get(read.tlp, "bad"),
    )


__all__ = ["NOTICES", "overview_context", "router"]
