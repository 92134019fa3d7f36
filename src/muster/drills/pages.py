"""Drill pages (演练): ``GET /drills`` (every drill the live log records: scenario,
mode, when it started, running/finished/ended early and its met/late/missed totals)
and ``GET /drills/{drill_id}`` (its evaluation: met/late/missed per department, each
expected action's result with capability, deadline, when it was done and how long it
took, and the sandbox with the command that verifies it).

Read from the live log's ``drills.DrillStarted``/``DrillCompleted`` through
``muster.drills.queries``; the sandbox is never opened, so the pages show nothing a
drill did beyond its evaluation (ADR 0013). Deadlines and done times are scenario
time. Any signed-in person may look. Imported by ``web.app``, which mounts
``router``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from muster.core.messages import JsonValue
from muster.drills import queries
from muster.drills.api import find_drill, report_command, totals, verify_command
from muster.drills.queries import DrillView
from muster.identity import queries as identity
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

DRILL_STATUSES = {
    "running": (N_("Running"), "badge-warn"),
    "completed": (N_("Finished"), "badge-ok"),
    "ended early": (N_("Ended early"), "badge-bad"),
}
RESULT_STATUSES = {
    "met": (N_("Met"), "badge-ok"),
    "late": (N_("Late"), "badge-warn"),
    "missed": (N_("Missed"), "badge-bad"),
}
MODES = {
    "unattended": N_("Unattended"),
    "attended": N_("Attended"),
    "served": N_("Served"),
}
ACTIONS = {
    "open_incident": N_("Open an incident"),
    "verify_incident": N_("Verify the incident"),
    "activate_plan": N_("Activate the plan"),
    "change_level": N_("Change the response level"),
    "acknowledge_task": N_("Acknowledge the task"),
    "start_task": N_("Start the task"),
    "complete_task": N_("Complete the task"),
    "send_report": N_("Send the report"),
    "propose_decision": N_("Propose the decision"),
    "sign_decision": N_("Sign the decision"),
    "record_facts": N_("Record the facts"),
}


def _when(moment: object) -> str:
    """Return an ISO time as ``YYYY-MM-DD HH:MM`` (UTC), or a dash."""
    return str(moment)[:16].replace("T", " ") if moment else "–"


def _title(page: Page, drill: DrillView) -> str:
    started = drill.started
    return started.title_zh if page.language == "zh-CN" else started.title_en


def _status(page: Page, drill: DrillView) -> dict[str, str]:
    label, badge = DRILL_STATUSES.get(drill.status, (drill.status, "badge-none"))
    return {"code": drill.status, "label": page.translate(label), "badge": badge}


def _mode(page: Page, mode: str) -> str:
    return page.translate(MODES[mode]) if mode in MODES else mode


def _departments(page: Page) -> dict[str, str]:
    with page.muster.engine.connect() as conn:
        return {d.code: d.name(page.language) for d in identity.list_departments(conn)}


def _match(match: JsonValue) -> str:
    """Return what an expected action had to match, as ``key=value`` pairs."""
    if not isinstance(match, Mapping):
        return ""
    return ", ".join(f"{key}={value}" for key, value in match.items())


def _minutes(value: JsonValue) -> str:
    return f"{value:.0f}" if isinstance(value, int | float) else "–"


def _result(
    page: Page, result: Mapping[str, JsonValue], names: Mapping[str, str]
) -> dict[str, Any]:
    status = str(result.get("status") or "")
    label, badge = RESULT_STATUSES.get(status, (status, "badge-none"))
    action = str(result.get("action") or "")
    department = str(result.get("department") or "")
    return {
        "id": str(result.get("id") or ""),
        "department": names.get(department, department),
        "department_code": department,
        "action": page.translate(ACTIONS[action]) if action in ACTIONS else action,
        "match": _match(result.get("match")),
        "capability": str(result.get("capability") or "–"),
        "deadline": _when(result.get("deadline")),
        "done_at": _when(result.get("done_at")),
        "minutes": _minutes(result.get("minutes")),
        "status": status,
        "status_label": page.translate(label),
        "badge": badge,
        "note": str(result.get("note") or ""),
        "seq": result.get("seq"),
    }


@router.get("/drills")
def drills_page(page: SignedInPage) -> Response:
    """List every drill, newest first, with its status and results."""
    with page.muster.engine.connect() as conn:
        found = queries.list_drills(conn, store=page.muster.store)
    rows = [
        {
            "id": drill.drill_id,
            "title": _title(page, drill),
            "code": drill.started.scenario_code,
            "mode": _mode(page, drill.started.mode),
            "started": _when(drill.started_at),
            "status": _status(page, drill),
            "totals": totals(drill),
        }
        for drill in reversed(found)
    ]
    return page.render("drills_list.html", rows=rows)


@router.get("/drills/{drill_id}")
def drill_page(page: SignedInPage, drill_id: str) -> Response:
    """Show one drill's evaluation and how to verify its sandbox."""
    drill = find_drill(page.muster, drill_id)
    names = _departments(page)
    started, done = drill.started, drill.completed
    summary = [
        {
            "code": str(row.get("department") or ""),
            "name": names.get(str(row.get("department")), str(row.get("department"))),
            **{key: row.get(key) for key in ("expected", "met", "late", "missed")},
        }
        for row in (done.summary if done else ())
    ]
    return page.render(
        "drills_detail.html",
        drill={
            "id": drill.drill_id,
            "title": _title(page, drill),
            "code": started.scenario_code,
            "mode": _mode(page, started.mode),
            "speed": started.speed,
            "started": _when(drill.started_at),
            "sim_start": _when(started.sim_start),
            "finished": _when(done.finished_at) if done else "–",
            "sim_end": _when(done.sim_end) if done else "–",
            "status": _status(page, drill),
            "totals": totals(drill),
            "participants": [names.get(code, code) for code in done.departments]
            if done
            else [],
        },
        summary=summary,
        results=[_result(page, r, names) for r in (done.results if done else ())],
        sandbox={
            "path": started.sandbox_path,
            "live_head_seq": started.live_head_seq,
            "live_head_hash": started.live_head_hash,
            "last_seq": done.sandbox_last_seq if done else None,
            "head_hash": done.sandbox_head_hash if done else None,
            "verify": verify_command(drill),
            "report": report_command(drill),
        },
    )


__all__ = ["ACTIONS", "DRILL_STATUSES", "MODES", "RESULT_STATUSES", "router"]
