"""Errors of the situation part (subclasses of the core error tree, R12).

``TriggerRulesInvalid`` (a ``ValidationFailed``): a triggers document breaks a rule
the JSON Schema cannot express (an unknown group or rule, a clear level above the
fire level, a composite of composites); it carries every problem with its path.
``NotOpen`` (a ``DomainError``): the incident or assessment acted on is closed or
concluded.
"""

from __future__ import annotations

from typing import Any

from muster.core.errors import DomainError, ValidationFailed


class NotOpen(DomainError):
    """The incident or assessment acted on is closed (HTTP 409)."""

    code = "state_conflict"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message, **detail)


class TriggerRulesInvalid(ValidationFailed):
    """A triggers document is inconsistent; ``problems`` lists (path, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        text = "; ".join(f"{path}: {message}" for path, message in problems)
        super().__init__(f"trigger rules are inconsistent: {text}", field="triggers")


__all__ = ["NotOpen", "TriggerRulesInvalid"]
