"""The review part's settings: the scorecard weights in force (pure, stdlib only).

``SetScorecardWeights`` carries a pack's ``scorecard.yaml`` weights (a measure left
out keeps its default); the stream ``review-settings-scorecard`` records each change
as ``ScorecardWeightsSet`` with every measure's weight spelled out, so a later change
of the defaults never changes what a recorded setting meant. Imported by the pack
loader, ``muster.review.settings_handlers``, ``settings_projections`` and
``settings_queries``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from muster.core.errors import ValidationFailed
from muster.core.messages import Command, Event, event_type
from muster.review.domain.scorecard import ScorecardWeights, weights_from_document

SCORECARD_STREAM = "review-settings-scorecard"
SCORECARD_KEY = "scorecard"
"""The key of the scorecard weights in the ``review_settings`` table."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SetScorecardWeights(Command):
    """Set the weights of the scored measures (missing measures: their defaults)."""

    weights: dict[str, int]
    source: str = "pack"


@event_type("review.ScorecardWeightsSet", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ScorecardWeightsSet(Event):
    """The scorecard weights in force changed (every measure's weight)."""

    weights: dict[str, int]
    source: str


def checked_weights(given: Mapping[str, object]) -> ScorecardWeights:
    """Return the weights a setting means, or refuse unknown measures, negative or
    non-integer weights, and weights that are all zero (no score could be given)."""
    weights = weights_from_document({"weights": given})
    if not any(weights_as_dict(weights).values()):
        raise ValidationFailed(
            "at least one scorecard weight must be above 0", field="weights"
        )
    return weights


def weights_as_dict(weights: ScorecardWeights) -> dict[str, int]:
    """Return every measure's weight by name."""
    return {name: int(value) for name, value in asdict(weights).items()}


def weights_of_setting(document: Mapping[str, object] | None) -> ScorecardWeights:
    """Return the weights recorded in a setting (None: the defaults)."""
    if document is None:
        return ScorecardWeights()
    given = document.get("weights")
    return weights_from_document({"weights": given if isinstance(given, dict) else {}})


__all__ = [
    "SCORECARD_KEY",
    "SCORECARD_STREAM",
    "ScorecardWeightsSet",
    "SetScorecardWeights",
    "checked_weights",
    "weights_as_dict",
    "weights_of_setting",
]
