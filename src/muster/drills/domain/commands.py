"""Commands of the drills part: record a drill in the live log, inject a message.

``StartDrill`` and ``CompleteDrill`` go to the LIVE deployment's bus; ``InjectMessage``
and ``RecordDrillEvaluation`` to the drill's SANDBOX bus (ADR 0013).
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Command, JsonValue


@dataclass(frozen=True, kw_only=True, slots=True)
class StartDrill(Command):
    """Record in the live log that a drill started in a sandbox."""

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


@dataclass(frozen=True, kw_only=True, slots=True)
class CompleteDrill(Command):
    """Record in the live log how a drill ended and how it was evaluated."""

    drill_id: str
    results: tuple[dict[str, JsonValue], ...]
    summary: tuple[dict[str, JsonValue], ...]
    departments: tuple[str, ...]
    sandbox_last_seq: int
    sandbox_head_hash: str
    sim_end: str
    ended_early: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class InjectMessage(Command):
    """Exercise control sends a scenario message to departments (sandbox only)."""

    drill_id: str
    inject_id: str
    to: tuple[str, ...]
    from_department: str | None
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDrillEvaluation(Command):
    """Record a drill's evaluation in its sandbox log."""

    drill_id: str
    scenario: str
    results: tuple[dict[str, JsonValue], ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ControlDrillClock(Command):
    """Exercise control pauses or resumes a served drill's scenario time."""

    action: str  # "pause" or "resume"
    reason: str = ""


CLOCK_ACTIONS = ("pause", "resume")

__all__ = [
    "CLOCK_ACTIONS",
    "CompleteDrill",
    "ControlDrillClock",
    "InjectMessage",
    "RecordDrillEvaluation",
    "StartDrill",
]
