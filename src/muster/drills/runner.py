"""The drill runner: play a scenario in a sandbox on a real incident's own code path.

``start_drill`` creates the sandbox (``muster.drills.sandbox``), records
``drills.DrillStarted`` in the live log and bootstraps the sandbox deployment on the
drill's clock; its events all carry ``is_exercise`` (ADR 0013). ``Drill`` then plays
injects and scripted participants' actions in scenario-minute order as the real
commands (``muster.drills.inject_commands``), runs between steps what the web
lifespan's loops run (timers, trigger evaluation, grants, notification delivery), so
escalations, triggers and reporting clocks run on scenario time, and ``finish``
evaluates the sandbox log (``muster.drills.domain.evaluation``), appends
``DrillEvaluated`` there and ``DrillCompleted`` to the live log.

``run_unattended`` does it all on a ``SimulatedClock`` moved step by step, without
sleeping; ``play_scaled`` plays on a ``ScaledClock`` in scaled real time (attended
drills, with or without the sandbox's web app). Imported by ``muster.drills.cli``.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import Clock, SimulatedClock, isoformat_utc
from muster.core.errors import MusterError
from muster.core.messages import SYSTEM_ACTOR
from muster.drills.clock import ScaledClock
from muster.drills.domain.commands import CompleteDrill, StartDrill
from muster.drills.domain.scenario import Inject, Scenario, ScriptedAction
from muster.drills.held_channels import HeldMessages, held_channels
from muster.drills.inject_commands import (
    Situation,
    action_play,
    check_scenario,
    inject_play,
)
from muster.drills.outcome import (
    NOTABLE,
    DrillReport,
    StepOutcome,
    describe,
    evaluate_sandbox,
    event_detail,
)
from muster.drills.sandbox import Sandbox, create_sandbox
from muster.notify.tasks import deliver_once
from muster.response.tasks import run_timers_once
from muster.sharing.tasks import reconcile_once
from muster.situation.tasks import evaluate_pending

Progress = Callable[[StepOutcome], None]
MODES = ("unattended", "attended", "served")
TICK_MINUTES = 1.0
"""Unattended runs fire timers and evaluate triggers once per scenario minute."""


@dataclass(frozen=True, slots=True)
class _Step:
    at_minutes: float
    order: int  # injects before scripted actions at the same minute
    item: Inject | ScriptedAction


def timeline(scenario: Scenario, *, scripted: bool) -> list[_Step]:
    """Return the injects (and, if scripted, the participants' actions) in order."""
    steps = [_Step(inject.at_minutes, 0, inject) for inject in scenario.injects]
    if scripted:
        steps += [_Step(act.at_minutes, 1, act) for act in scenario.participants]
    indexed = list(enumerate(steps))
    indexed.sort(key=lambda pair: (pair[1].at_minutes, pair[1].order, pair[0]))
    return [step for _index, step in indexed]


def exercise_metadata(drill_id: str) -> dict[str, Any]:
    """Return the envelope metadata of the live log's events about a drill."""
    return {"is_exercise": True, "drill_id": drill_id}


def new_drill_id(scenario_code: str, now: datetime) -> str:
    """Return a fresh drill id: scenario code, UTC time and a random suffix."""
    code = re.sub(r"[^A-Za-z0-9_.-]", "-", scenario_code)[:60] or "drill"
    return f"{code}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


class Drill:
    """A drill in progress: the live deployment, the sandbox deployment, the clock."""

    def __init__(
        self,
        *,
        live: Muster,
        sandbox: Sandbox,
        deployment: Muster,
        scenario: Scenario,
        mode: str,
        started_at: datetime,
        held: HeldMessages | None,
        progress: Progress | None,
    ) -> None:
        self.live = live
        self.sandbox = sandbox
        self.deployment = deployment
        self.scenario = scenario
        self.mode = mode
        self.started_at = started_at
        self.held = held
        self.progress = progress
        self.inject_times: dict[str, datetime] = {}
        self.steps: list[StepOutcome] = []
        self.incident_id: str | None = None
        self._location: tuple[float, float] | None = None
        self._cursor = sandbox.live_head_seq

    @property
    def drill_id(self) -> str:
        """Return the drill's id."""
        return self.sandbox.drill_id

    @property
    def clock(self) -> Clock:
        """Return the drill's clock (scenario time)."""
        return self.deployment.clock

    def minutes(self) -> float:
        """Return the scenario minutes elapsed."""
        return (self.clock.now() - self.started_at).total_seconds() / 60.0

    def play(self, step: _Step) -> StepOutcome:
        """Play one inject or scripted action now; a refusal is reported, not raised."""
        item = step.item
        now = self.clock.now()
        situation = Situation(self.drill_id, now, self.incident_id, self._location)
        kind, department = ("inject", item.department)
        reference = item.id if isinstance(item, Inject) else item.action
        if isinstance(item, ScriptedAction):
            kind = "action"
        label = reference
        try:
            with self.deployment.engine.connect() as conn:
                if isinstance(item, Inject):
                    play = inject_play(conn, item, situation)
                else:
                    play = action_play(conn, item, situation, self.scenario)
            label = play.label
            result = self.deployment.bus.handle(play.command, play.actor)
            outcome = self._outcome(step, kind, reference, label, department, True)
            outcome = replace(outcome, detail=describe(result))
        except MusterError as error:
            outcome = self._outcome(step, kind, reference, label, department, False)
            outcome = replace(outcome, detail=error.message)
        if isinstance(item, Inject):
            self.inject_times[item.id] = now
            self._remember_location(item)
        self._report(outcome)
        self.watch()
        return outcome

    def tick(self) -> None:
        """Run what the web lifespan's loops run, once, on the drill's clock."""
        run_timers_once(self.deployment)
        evaluate_pending(self.deployment.bus)
        reconcile_once(self.deployment)
        deliver_once(self.deployment.bus)
        self.watch()

    def watch(self) -> None:
        """Find the drill incident and report notable sandbox events since last time."""
        with self.deployment.engine.connect() as conn:
            recorded = self.deployment.store.read_all(conn, after=self._cursor)
        for item in recorded:
            envelope = item.envelope
            self._cursor = envelope.seq
            if envelope.type == "response.IncidentOpened" and self.incident_id is None:
                self.incident_id = str(envelope.data.get("incident_id"))
            label = NOTABLE.get(envelope.type)
            if label is not None:
                self._report(
                    StepOutcome(
                        at_minutes=round(self.minutes(), 2),
                        sim_time=envelope.occurred_at,
                        kind="event",
                        reference=envelope.type,
                        label=label,
                        department=envelope.actor_department,
                        ok=True,
                        detail=event_detail(envelope.data),
                    )
                )

    def finish(self, *, ended_early: bool = False) -> DrillReport:
        """Evaluate, record DrillEvaluated in the sandbox and DrillCompleted live."""
        report = evaluate_sandbox(self, ended_early=ended_early)
        self.live.bus.handle(
            CompleteDrill(
                drill_id=self.drill_id,
                results=report.results,
                summary=report.summary,
                departments=report.participants,
                sandbox_last_seq=report.sandbox_last_seq,
                sandbox_head_hash=report.sandbox_head_hash,
                sim_end=report.sim_end,
                ended_early=ended_early,
            ),
            SYSTEM_ACTOR,
            metadata=exercise_metadata(self.drill_id),
        )
        return report

    def close(self) -> None:
        """Release the sandbox's database connections."""
        self.deployment.engine.dispose()

    def _outcome(
        self,
        step: _Step,
        kind: str,
        reference: str,
        label: str,
        department: str | None,
        ok: bool,
    ) -> StepOutcome:
        return StepOutcome(
            at_minutes=step.at_minutes, sim_time=isoformat_utc(self.clock.now()),
            kind=kind, reference=reference, label=label, department=department, ok=ok,
        )  # fmt: skip

    def _report(self, outcome: StepOutcome) -> None:
        if outcome.kind != "event":
            self.steps.append(outcome)
        if self.progress is not None:
            self.progress(outcome)

    def _remember_location(self, inject: Inject) -> None:
        latitude = inject.payload.get("latitude")
        longitude = inject.payload.get("longitude")
        if isinstance(latitude, int | float) and isinstance(longitude, int | float):
            self._location = (float(latitude), float(longitude))


def start_drill(
    live: Muster,
    scenario: Scenario,
    *,
    mode: str,
    clock: Clock,
    speed: float,
    hold_messages: bool = True,
    progress: Progress | None = None,
    drill_id: str | None = None,
) -> Drill:
    """Create the sandbox, record DrillStarted live and bootstrap the sandbox.

    ``hold_messages`` keeps every e-mail and webhook of the drill in memory
    (``HeldMessages``); False sends them through the deployment's real channels.
    """
    if mode not in MODES:
        raise ValueError(f"unknown drill mode {mode!r}")
    check_scenario(scenario)
    drill_id = drill_id or new_drill_id(scenario.code, live.clock.now())
    sandbox = create_sandbox(
        live.engine, live.settings, drill_id=drill_id, clock=live.clock
    )
    started_at = clock.now()
    live.bus.handle(
        StartDrill(
            drill_id=drill_id, scenario_code=scenario.code,
            title_zh=scenario.title_zh, title_en=scenario.title_en,
            speed=speed, mode=mode, live_head_seq=sandbox.live_head_seq,
            live_head_hash=sandbox.live_head_hash.hex(),
            sandbox_path=str(sandbox.path), sim_start=isoformat_utc(started_at),
        ),
        SYSTEM_ACTOR,
        metadata=exercise_metadata(drill_id),
    )  # fmt: skip
    held = HeldMessages() if hold_messages else None
    deployment = bootstrap(
        sandbox.settings,
        clock=clock,
        hasher=live.hasher,
        channels=held_channels(held) if held is not None else None,
        live_channels=held is None,
    )
    return Drill(
        live=live, sandbox=sandbox, deployment=deployment, scenario=scenario,
        mode=mode, started_at=started_at, held=held, progress=progress,
    )  # fmt: skip


def run_unattended(
    live: Muster,
    scenario: Scenario,
    *,
    progress: Progress | None = None,
    drill_id: str | None = None,
    tick_minutes: float = TICK_MINUTES,
) -> DrillReport:
    """Play a scenario with its scripted participants on a simulated clock."""
    clock = SimulatedClock(live.clock.now())
    drill = start_drill(
        live, scenario, mode="unattended", clock=clock, speed=0.0,
        progress=progress, drill_id=drill_id,
    )  # fmt: skip
    try:
        tick = timedelta(minutes=tick_minutes)
        for step in timeline(scenario, scripted=True):
            _advance(drill, clock, to_minutes=step.at_minutes, tick=tick)
            drill.play(step)
            drill.tick()
        _advance(drill, clock, to_minutes=scenario.duration_minutes, tick=tick)
        return drill.finish()
    finally:
        drill.close()


def _advance(
    drill: Drill, clock: SimulatedClock, *, to_minutes: float, tick: timedelta
) -> None:
    """Move the simulated clock to a scenario minute, ticking on the way."""
    target = drill.started_at + timedelta(minutes=to_minutes)
    while clock.now() < target:
        clock.advance(min(tick, target - clock.now()))
        drill.tick()


def play_scaled(
    drill: Drill,
    clock: ScaledClock,
    *,
    scripted: bool,
    ticking: bool,
    stop: threading.Event,
    tick_seconds: float = 5.0,
) -> bool:
    """Play the scenario in scaled real time until its end or ``stop``.

    ``ticking`` runs the lifespan's loops between steps (a served sandbox's web app
    runs its own). Returns True when the scenario ran to its end.
    """
    clock.resume()
    for step in timeline(drill.scenario, scripted=scripted):
        if not _wait(drill, clock, step.at_minutes, ticking, stop, tick_seconds):
            return False
        drill.play(step)
        if ticking:
            drill.tick()
    return _wait(
        drill, clock, drill.scenario.duration_minutes, ticking, stop, tick_seconds
    )


def _wait(
    drill: Drill,
    clock: ScaledClock,
    minutes: float,
    ticking: bool,
    stop: threading.Event,
    tick_seconds: float,
) -> bool:
    """Wait (in real time) until a scenario minute; False when stopped first."""
    target = drill.started_at + timedelta(minutes=minutes)
    while True:
        remaining = clock.real_seconds_until(target)
        if remaining <= 0:
            return True
        if stop.wait(min(remaining, tick_seconds)):
            return False
        if ticking:
            drill.tick()
        else:
            drill.watch()


__all__ = [
    "MODES",
    "Drill",
    "Progress",
    "exercise_metadata",
    "new_drill_id",
    "play_scaled",
    "run_unattended",
    "start_drill",
    "timeline",
]
