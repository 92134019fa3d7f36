"""The scorecard weights (``scorecard.yaml``) of a pack, checked beyond their schema.

The JSON Schema (``schemas/scorecard.schema.json``, read by ``muster.pack.validation``)
allows the known measures with integer weights from 0 to 100; the review part's own
rule (``muster.review.domain.settings.checked_weights``) then refuses weights that
are all zero, counting the defaults of measures left out. Problems are reported at
their lines. Used by ``muster.pack.validation``; the loader sends the weights on as
``SetScorecardWeights``.
"""

from __future__ import annotations

from muster.core.errors import PackProblem, ValidationFailed
from muster.pack.documents import Document
from muster.review.domain.settings import checked_weights

SCORECARD = "scorecard.yaml"


def scorecard_problems(document: Document) -> list[PackProblem]:
    """Check a schema-valid scorecard.yaml; return its problems at their lines."""
    weights = document.data["scorecard"]["weights"]
    try:
        checked_weights(weights)
    except ValidationFailed as refused:
        field = str(refused.params.get("field") or "weights")
        path: list[str | int] = ["scorecard", "weights"]
        if field in weights:
            path.append(field)
        return [document.problem(path, refused.message)]
    return []


def weights_of(document: Document) -> dict[str, int]:
    """Return the weights a checked scorecard.yaml sets (measures left out: none)."""
    return {
        str(name): int(value)
        for name, value in document.data["scorecard"]["weights"].items()
    }


__all__ = ["SCORECARD", "scorecard_problems", "weights_of"]
