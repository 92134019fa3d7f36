"""Read the review settings in force: the scorecard weights.

``stored_weights`` reads the ``review_settings`` row the settings projection keeps;
``logged_weights`` finds the last setting in a log read from elsewhere (an exported
file), so figures recomputed from an export use the weights that log records.
Imported by the scorecard and bulletin CLIs and the scorecard pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.core.eventlog.store import Envelope
from muster.review.domain.scorecard import ScorecardWeights
from muster.review.domain.settings import (
    SCORECARD_KEY,
    ScorecardWeightsSet,
    weights_of_setting,
)
from muster.review.read_models import settings


def stored_weights(conn: Connection) -> ScorecardWeights:
    """Return the scorecard weights in force (the defaults when none were set)."""
    row = conn.execute(
        select(settings.c.document).where(settings.c.key == SCORECARD_KEY)
    ).first()
    if row is None:
        return ScorecardWeights()
    document = json.loads(row.document)
    return weights_of_setting(document if isinstance(document, dict) else None)


def logged_weights(envelopes: Iterable[Envelope]) -> ScorecardWeights:
    """Return the weights of the last setting in a log (the defaults when none)."""
    last: dict[str, object] | None = None
    for envelope in envelopes:
        if envelope.type == ScorecardWeightsSet.wire_name:
            last = envelope.data
    return weights_of_setting(last)


__all__ = ["logged_weights", "stored_weights"]
