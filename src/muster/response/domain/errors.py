"""Errors of the response part (subclasses of the core tree)."""

from __future__ import annotations

from typing import Any

from muster.core.errors import DomainError, NotFound


class Conflict(DomainError):
    """The thing acted on is not in a state that allows the action (HTTP 409)."""

    code = "state_conflict"

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message, **(detail or {}))


class DecisionRequired(DomainError):
    """The plan requires a joint decision for this level change."""

    code = "decision_required"


class UnknownIncident(NotFound):
    """No incident has this id."""

    code = "unknown_incident"


class UnknownTask(NotFound):
    """No task has this id."""

    code = "unknown_task"


class UnknownPlan(NotFound):
    """No plan has this code."""

    code = "unknown_plan"


class UnknownDecision(NotFound):
    """No decision has this id."""

    code = "unknown_decision"


__all__ = [
    "Conflict",
    "DecisionRequired",
    "UnknownDecision",
    "UnknownIncident",
    "UnknownPlan",
    "UnknownTask",
]
