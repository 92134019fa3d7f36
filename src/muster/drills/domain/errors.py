"""Errors of the drills part (subclasses of the core tree)."""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound


class DrillStateConflict(DomainError):
    """A drill was started twice, or completed twice or before it started."""

    code = "drill_state_conflict"


class UnknownDrill(NotFound):
    """No drill has this id in the live log."""

    code = "unknown_drill"


class InjectRefused(DomainError):
    """A scenario inject cannot be played (e.g. a CAP alert that is no exercise)."""

    code = "inject_refused"


__all__ = ["DrillStateConflict", "InjectRefused", "UnknownDrill"]
