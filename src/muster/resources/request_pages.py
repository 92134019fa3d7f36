"""The resource board's request forms: raise, commit, decline, cancel, track.

``POST /resources/requests`` raises a request for an incident;
``POST /resources/requests/{id}/commit|decline|cancel`` answer or withdraw one;
``POST /resources/commitments/{id}/status`` tracks committed units (en route, on
scene, released). Each sends the same command as the API and the CLI; a refusal is
shown on the board with a message in the person's language, success redirects back
to it with a notice (``?done=``). Imported by ``web.app``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, ValidationFailed
from muster.core.messages import Command
from muster.resources.domain.commands import (
    CancelRequest,
    ChangeCommitmentStatus,
    CommitResource,
    DeclineRequest,
    RequestResource,
)
from muster.resources.labels import REFUSALS
from muster.resources.pages import BOARD, render_board
from muster.web.errors import message_for, status_for
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Form(max_length=100)]
Long = Annotated[str, Form(max_length=1000)]


def refusal(page: Page, error: MusterError) -> str:
    """Return a refusal's message for the board, in the page's language."""
    field = str(error.params.get("field", ""))
    message = REFUSALS.get(field) or REFUSALS.get(error.code)
    if message is not None:
        return page.translate(message)
    return message_for(error, page.language)


async def _send(page: Page, command: Command, done: str, anchor: str) -> Response:
    """Send a form's command; redirect to the board, or show the refusal on it."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    try:
        await run_in_threadpool(page.muster.bus.handle, command, page.user.actor)
    except MusterError as error:
        message, code = refusal(page, error), status_for(error)
        return await run_in_threadpool(
            lambda: render_board(page, None, error=message, status_code=code)
        )
    return RedirectResponse(f"{BOARD}?done={done}#{anchor}", status_code=303)


def _number(text: str, field: str, kind: type[int] | type[float]) -> int | float | None:
    """Return a form's optional number, or refuse it naming the field."""
    if not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError:
        raise ValidationFailed(f"{field} is not a number", field=field) from None


def _raise_command(
    page: Page,
    *,
    incident_id: str,
    requested_by: str,
    type_code: str,
    quantity: str,
    priority: str,
    min_capability: str,
    max_tier: str,
    needed_within: str,
    to_department: str,
    location_name: str,
    note: str,
) -> RequestResource:
    """Build the command a raise-request form asks for."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    units = _number(quantity, "quantity", int)
    minutes = _number(needed_within, "needed_by", int)
    if minutes is not None and minutes < 0:
        raise ValidationFailed("needed within is ≥ 0 minutes", field="needed_by")
    needed_by = (
        None
        if minutes is None
        else (page.muster.clock.now() + timedelta(minutes=minutes)).isoformat()
    )
    rank = _number(priority, "priority", int)
    capability = _number(min_capability, "min_capability", float)
    return RequestResource(
        incident_id=incident_id,
        requested_by=requested_by or page.user.actor.department or "",
        type_code=type_code,
        quantity=int(units or 0),
        priority=None if rank is None else int(rank),
        min_capability=capability,
        max_tier=max_tier or None,
        needed_by=needed_by,
        to_department=to_department or None,
        location_name=location_name,
        note=note,
    )


@router.post(BOARD + "/requests")
async def raise_request(
    page: SignedInPage,
    incident_id: Short,
    type_code: Short,
    quantity: Short,
    requested_by: Short = "",
    priority: Short = "",
    min_capability: Short = "",
    max_tier: Short = "",
    needed_within: Short = "",
    to_department: Short = "",
    location_name: Long = "",
    note: Long = "",
) -> Response:
    """Raise a request for an incident from the board."""
    try:
        command = _raise_command(
            page,
            incident_id=incident_id,
            requested_by=requested_by,
            type_code=type_code,
            quantity=quantity,
            priority=priority,
            min_capability=min_capability,
            max_tier=max_tier,
            needed_within=needed_within,
            to_department=to_department,
            location_name=location_name,
            note=note,
        )
    except MusterError as error:
        message, code = refusal(page, error), status_for(error)
        return await run_in_threadpool(
            lambda: render_board(page, None, error=message, status_code=code)
        )
    return await _send(page, command, "raised", "resource-requests")


@router.post(BOARD + "/requests/{request_id}/commit")
async def commit(
    request_id: str, page: SignedInPage, resource_id: Short, units: Short = "1"
) -> Response:
    """Commit units of one of the department's resources to a request."""
    try:
        count = _number(units, "units", int)
    except MusterError as error:
        message = refusal(page, error)
        return await run_in_threadpool(
            lambda: render_board(page, None, error=message, status_code=422)
        )
    command = CommitResource(
        request_id=request_id, resource_id=resource_id, units=int(count or 0)
    )
    return await _send(page, command, "committed", f"request-{request_id}")


@router.post(BOARD + "/requests/{request_id}/decline")
async def decline(request_id: str, page: SignedInPage, reason: Long = "") -> Response:
    """Decline a request for the person's department, with the reason."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    command = DeclineRequest(
        request_id=request_id,
        department=page.user.actor.department or "",
        reason=reason,
    )
    return await _send(page, command, "declined", "resource-requests")


@router.post(BOARD + "/requests/{request_id}/cancel")
async def cancel(request_id: str, page: SignedInPage, reason: Long = "") -> Response:
    """Withdraw a request, with the reason."""
    command = CancelRequest(request_id=request_id, reason=reason)
    return await _send(page, command, "cancelled", "resource-requests")


@router.post(BOARD + "/commitments/{commitment_id}/status")
async def track(
    commitment_id: str, page: SignedInPage, status: Short, note: Long = ""
) -> Response:
    """Move committed units on: en route, on scene, released."""
    command = ChangeCommitmentStatus(
        commitment_id=commitment_id, status=status, note=note
    )
    return await _send(page, command, "tracked", f"commitment-{commitment_id}")


__all__ = ["refusal", "router"]
