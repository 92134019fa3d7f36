"""HTTP API of the drills part (R13): the drills the live log records, as JSON.

``GET /api/v1/drills`` lists every drill (scenario, mode, status, met/late/missed
totals once evaluated); ``GET /api/v1/drills/{drill_id}`` gives one drill with its
evaluation (per-department summary, each expected action's result), the chain heads
that pin its sandbox and the command that verifies the sandbox. ``status`` is the
one ``muster drill list --json`` gives: ``running``, ``completed`` or ``ended
early``. Read from ``drills.DrillStarted``/``DrillCompleted`` through
``muster.drills.queries``; the sandbox is not opened. Any signed-in person or API
key may read. Imported by ``web.app`` (and ``muster.drills.pages`` for the totals
and the commands).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter

from muster.core.errors import NotFound
from muster.drills import queries
from muster.drills.queries import DrillView
from muster.web.deps import CurrentActor, MusterDep

router = APIRouter(prefix="/api/v1", tags=["drills"])

STATUSES = ("met", "late", "missed")


def totals(drill: DrillView) -> dict[str, int] | None:
    """Return the drill's met, late and missed counts (None until evaluated)."""
    if drill.completed is None:
        return None
    counts = dict.fromkeys(STATUSES, 0)
    for row in drill.completed.summary:
        for status in STATUSES:
            value = row.get(status)
            counts[status] += int(value) if isinstance(value, int | float) else 0
    return counts


def verify_command(drill: DrillView) -> str:
    """Return the command that verifies the drill's sandbox chain and checkpoints."""
    sandbox = Path(drill.started.sandbox_path)
    key = sandbox.with_name(f"{drill.drill_id}.key.pem")
    return (
        f"MUSTER_DATABASE_URL=sqlite:///{sandbox} "
        f"MUSTER_SIGNING_KEY_FILE={key} muster audit verify"
    )


def report_command(drill: DrillView) -> str:
    """Return the command that writes the after-action report of the drill's incident
    (``INCIDENT``: the drill incident's id in the sandbox)."""
    return (
        f"MUSTER_DATABASE_URL=sqlite:///{drill.started.sandbox_path} "
        f"muster report aar INCIDENT --out aar-{drill.drill_id}.pdf"
    )


def drill_summary(drill: DrillView) -> dict[str, Any]:
    """Return a drill as one line of the list."""
    started = drill.started
    return {
        "drill_id": drill.drill_id,
        "scenario_code": started.scenario_code,
        "title_zh": started.title_zh,
        "title_en": started.title_en,
        "mode": started.mode,
        "speed": started.speed,
        "status": drill.status,
        "started_at": drill.started_at,
        "sim_start": started.sim_start,
        "completed_at": drill.completed_at,
        "totals": totals(drill),
    }


def drill_detail(drill: DrillView) -> dict[str, Any]:
    """Return a drill with its evaluation, the heads pinning its sandbox and the
    command that verifies the sandbox."""
    started, done = drill.started, drill.completed
    return {
        **drill_summary(drill),
        "sandbox_path": started.sandbox_path,
        "live_head_seq": started.live_head_seq,
        "live_head_hash": started.live_head_hash,
        "started_seq": drill.started_seq,
        "completed_seq": drill.completed_seq,
        "ended_early": None if done is None else done.ended_early,
        "finished_at": None if done is None else done.finished_at,
        "sim_end": None if done is None else done.sim_end,
        "departments": [] if done is None else list(done.departments),
        "sandbox_last_seq": None if done is None else done.sandbox_last_seq,
        "sandbox_head_hash": None if done is None else done.sandbox_head_hash,
        "summary": [] if done is None else [dict(row) for row in done.summary],
        "results": [] if done is None else [dict(row) for row in done.results],
        "verify_command": verify_command(drill),
    }


def find_drill(muster: MusterDep, drill_id: str) -> DrillView:
    """Return one drill of the live log, or raise NotFound."""
    with muster.engine.connect() as conn:
        found = queries.get_drill(conn, drill_id, store=muster.store)
    if found is None:
        raise NotFound(f"no drill {drill_id}", drill=drill_id)
    return found


@router.get("/drills")
def drills(_actor: CurrentActor, muster: MusterDep) -> list[dict[str, Any]]:
    """Every drill the live log records, newest first: scenario, mode, status and,
    once evaluated, the met/late/missed totals."""
    with muster.engine.connect() as conn:
        found = queries.list_drills(conn, store=muster.store)
    return [drill_summary(drill) for drill in reversed(found)]


@router.get("/drills/{drill_id}")
def drill(drill_id: str, _actor: CurrentActor, muster: MusterDep) -> dict[str, Any]:
    """One drill with its evaluation (404 for an unknown drill)."""
    return drill_detail(find_drill(muster, drill_id))


__all__ = [
    "drill_detail",
    "drill_summary",
    "find_drill",
    "report_command",
    "router",
    "totals",
    "verify_command",
]
