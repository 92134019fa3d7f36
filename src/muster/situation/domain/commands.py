"""Commands of the situation part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterTriggerRules(Command):
    """Replace the deployment's trigger rules with a checked triggers document."""

    document: dict[str, Any]
    source: str = "pack"


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluateTriggers(Command):
    """Evaluate the rules on the observation batches and CAP alerts not yet seen.

    Must run through ``MessageBus.handle_batch``: proposing an incident dispatches
    the response part's commands in the same transaction.
    """

    limit: int = 50


__all__ = ["EvaluateTriggers", "RegisterTriggerRules"]
