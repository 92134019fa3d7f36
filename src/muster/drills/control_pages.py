"""Exercise control of a served drill: ``/drills/control`` (R13).

In a drill's sandbox served with a scaled clock (``muster drill run --serve``, the
demo), shows the scenario time and speed and lets a commander or an admin pause and
resume it (``ControlDrillClock``, logged as ``drills.DrillClockChanged``); injects and
timers wait while scenario time stands still. Elsewhere it says there is nothing to
control. Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.clock import isoformat_utc
from muster.core.errors import MusterError, NotFound
from muster.drills.clock import ScaledClock
from muster.drills.domain.commands import CLOCK_ACTIONS, ControlDrillClock
from muster.web.errors import message_for, status_for
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

CONTROL = "/drills/control"


def _render(page: Page, *, error: str = "", status_code: int = 200) -> Response:
    clock = page.muster.clock
    scaled = clock if isinstance(clock, ScaledClock) else None
    user = page.user
    return page.render(
        "drills_control.html",
        status_code=status_code,
        served=scaled is not None and page.muster.settings.drill_id is not None,
        scenario_time=isoformat_utc(clock.now()),
        speed=scaled.speed if scaled else None,
        paused=scaled.is_paused if scaled else False,
        may_control=bool(user and user.actor.has_role("commander", "admin")),
        notice=page.request.query_params.get("notice", ""),
        error=error,
    )


@router.get(CONTROL)
def control_page(page: SignedInPage) -> Response:
    """Show the drill's scenario time, and pause/resume for those allowed."""
    return _render(page)


@router.post(CONTROL + "/{action}")
async def control(action: str, page: SignedInPage) -> Response:
    """Pause or resume scenario time."""
    if action not in CLOCK_ACTIONS or page.user is None:
        raise NotFound(f"no action {action}", action=action)
    posted = await page.request.form()  # read (and cached) by the CSRF check
    command = ControlDrillClock(action=action, reason=str(posted.get("reason") or ""))
    try:
        state = await run_in_threadpool(
            page.muster.bus.handle, command, page.user.actor
        )
    except MusterError as error:
        message = message_for(error, page.language)
        return _render(page, error=message, status_code=status_for(error))
    return RedirectResponse(f"{CONTROL}?notice={state}", status_code=303)


__all__ = ["router"]
