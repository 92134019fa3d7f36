"""Command handlers of the drills part (R6); registered by bootstrap.

``StartDrill``/``CompleteDrill`` append to the live log (the runner sends them with
metadata ``is_exercise``), ``InjectMessage`` to a drill's sandbox log. Only Muster
itself or an admin runs drills.
"""

from __future__ import annotations

from muster.core.bus import Handler
from muster.core.clock import isoformat_utc
from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.drills.clock import ScaledClock
from muster.drills.domain.commands import (
    CLOCK_ACTIONS,
    CompleteDrill,
    ControlDrillClock,
    InjectMessage,
    RecordDrillEvaluation,
    StartDrill,
)
from muster.drills.domain.errors import DrillStateConflict
from muster.drills.domain.events import (
    DrillClockChanged,
    DrillCompleted,
    DrillEvaluated,
    DrillStarted,
    MessageInjected,
)


def _require_control(uow: UnitOfWork, action: str) -> None:
    if not uow.actor.has_role("admin", "system"):
        raise PermissionDenied(f"{action} needs the admin role", action=action)


def handle_start_drill(command: StartDrill, uow: UnitOfWork) -> str:
    """Record that a drill started; return its id."""
    stream = f"drill-{command.drill_id}"
    with uow:
        _require_control(uow, "starting a drill")
        if uow.stream_version(stream):
            raise DrillStateConflict(
                f"drill {command.drill_id} was already started", drill=command.drill_id
            )
        event = DrillStarted(
            drill_id=command.drill_id, scenario_code=command.scenario_code,
            title_zh=command.title_zh, title_en=command.title_en,
            speed=command.speed, mode=command.mode,
            live_head_seq=command.live_head_seq,
            live_head_hash=command.live_head_hash,
            sandbox_path=command.sandbox_path, sim_start=command.sim_start,
        )  # fmt: skip
        uow.append(stream, [event], expected_version=0)
        uow.commit()
    return command.drill_id


def handle_complete_drill(command: CompleteDrill, uow: UnitOfWork) -> str:
    """Record how a drill ended; return its id."""
    stream = f"drill-{command.drill_id}"
    with uow:
        _require_control(uow, "completing a drill")
        started = uow.context.store.read_stream(uow.conn, stream)
        if not started or not isinstance(started[0].event, DrillStarted):
            raise DrillStateConflict(
                f"drill {command.drill_id} was never started", drill=command.drill_id
            )
        if len(started) > 1:
            raise DrillStateConflict(
                f"drill {command.drill_id} is already complete", drill=command.drill_id
            )
        start = started[0].event
        event = DrillCompleted(
            drill_id=command.drill_id, scenario_code=start.scenario_code,
            scenario_title_zh=start.title_zh, scenario_title_en=start.title_en,
            results=command.results, summary=command.summary,
            departments=command.departments,
            sandbox_last_seq=command.sandbox_last_seq,
            sandbox_head_hash=command.sandbox_head_hash,
            sim_end=command.sim_end, finished_at=isoformat_utc(uow.clock.now()),
            ended_early=command.ended_early,
        )  # fmt: skip
        uow.append(stream, [event], expected_version=len(started))
        uow.commit()
    return command.drill_id


def handle_inject_message(command: InjectMessage, uow: UnitOfWork) -> str:
    """Record a scenario message to departments; return the inject id."""
    stream = f"drill-{command.drill_id}-messages"
    with uow:
        _require_control(uow, "injecting a drill message")
        if not command.to:
            raise ValidationFailed("a drill message names its departments", field="to")
        event = MessageInjected(
            drill_id=command.drill_id, inject_id=command.inject_id,
            to=command.to, from_department=command.from_department,
            subject_zh=command.subject_zh, subject_en=command.subject_en,
            body_zh=command.body_zh, body_en=command.body_en,
        )  # fmt: skip
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return command.inject_id


def handle_record_evaluation(command: RecordDrillEvaluation, uow: UnitOfWork) -> str:
    """Record a drill's evaluation (in its sandbox); return the drill id."""
    stream = f"drill-{command.drill_id}"
    with uow:
        _require_control(uow, "evaluating a drill")
        event = DrillEvaluated(
            drill_id=command.drill_id, scenario=command.scenario,
            results=command.results,
        )  # fmt: skip
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return command.drill_id


def handle_control_clock(command: ControlDrillClock, uow: UnitOfWork) -> str:
    """Pause or resume a served drill's scenario time; return whether it is paused.

    Only in a drill's sandbox whose clock scales real time (``muster drill run
    --serve``, the demo); a commander or an admin decides, and the change is logged.
    """
    drill_id = (uow.context.default_metadata or {}).get("drill_id")
    clock = uow.clock
    if not drill_id or not isinstance(clock, ScaledClock):
        raise ValidationFailed(
            "only a served drill's scenario time can be paused", field="action"
        )
    if command.action not in CLOCK_ACTIONS:
        raise ValidationFailed("the action is pause or resume", field="action")
    with uow:
        if not uow.actor.has_role("commander", "admin", "system"):
            raise PermissionDenied(
                "pausing a drill needs the commander or admin role",
                action="control drill clock",
            )
        stream = f"drill-{drill_id}-clock"
        event = DrillClockChanged(
            drill_id=str(drill_id), action=command.action,
            scenario_time=isoformat_utc(clock.now()), reason=command.reason,
        )  # fmt: skip
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    if command.action == "pause":
        clock.pause()
    else:
        clock.resume()
    return "paused" if clock.is_paused else "running"


COMMAND_HANDLERS: dict[type[Command], Handler] = {
    ControlDrillClock: handle_control_clock,
    StartDrill: handle_start_drill,
    CompleteDrill: handle_complete_drill,
    InjectMessage: handle_inject_message,
    RecordDrillEvaluation: handle_record_evaluation,
}

__all__ = ["COMMAND_HANDLERS"]
