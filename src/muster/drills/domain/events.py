"""Events of the drills part (ADR 0013).

Two logs see drill events. The LIVE log records that a drill took place:
``DrillStarted`` and ``DrillCompleted`` (stream ``drill-{drill_id}``, appended with
metadata ``is_exercise``), read by ``muster drill list/show`` and by training's
readiness. The drill's SANDBOX log holds everything the drill did, including the
injected messages (``MessageInjected``, stream ``drill-{drill_id}-messages``) and the
evaluation (``DrillEvaluated``, stream ``drill-{drill_id}``: each expected action's
result as ``muster.drills.domain.evaluation.result_data`` gives it). Times are
ISO-8601 UTC strings. Imported by the drill runner, its handlers and queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, JsonValue, event_type


@event_type("drills.DrillEvaluated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DrillEvaluated(Event):
    """A drill was judged: each expected action met, late or missed."""

    drill_id: str
    scenario: str
    results: tuple[dict[str, JsonValue], ...]


@event_type("drills.DrillStarted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DrillStarted(Event):
    """A drill of a scenario started in a sandbox holding a copy of the live log.

    ``live_head_seq``/``live_head_hash`` say which prefix of the live chain the
    sandbox continues; ``mode`` is unattended, attended or served.
    """

    drill_id: str
    scenario_code: str
    title_zh: str
    title_en: str
    speed: float
    mode: str
    live_head_seq: int
    live_head_hash: str
    sandbox_path: str
    sim_start: str


@event_type("drills.DrillCompleted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DrillCompleted(Event):
    """A drill ended and was evaluated; its sandbox chain ended at the given head.

    ``results`` has one entry per expected action (``result_data``); ``summary``
    one row ``{department, expected, met, late, missed}`` per department evaluated;
    ``departments`` the departments whose people (or scripted duty officers) acted
    in the sandbox. ``finished_at`` is real time, ``sim_end`` the scenario time the
    drill ended at. Training's readiness reads this payload
    (``muster.training.drill_log``).
    """

    drill_id: str
    scenario_code: str
    scenario_title_zh: str
    scenario_title_en: str
    results: tuple[dict[str, JsonValue], ...]
    summary: tuple[dict[str, JsonValue], ...]
    departments: tuple[str, ...]
    sandbox_last_seq: int
    sandbox_head_hash: str
    sim_end: str
    finished_at: str
    ended_early: bool = False


@event_type("drills.DrillClockChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DrillClockChanged(Event):
    """Exercise control paused or resumed scenario time (sandbox only)."""

    drill_id: str
    action: str  # "pause" or "resume"
    scenario_time: str
    reason: str = ""


@event_type("drills.MessageInjected", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class MessageInjected(Event):
    """The exercise control sent a scenario message to departments (sandbox only)."""

    drill_id: str
    inject_id: str
    to: tuple[str, ...]
    from_department: str | None
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str


__all__ = [
    "DrillClockChanged",
    "DrillCompleted",
    "DrillEvaluated",
    "DrillStarted",
    "MessageInjected",
]
