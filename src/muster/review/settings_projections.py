"""Projections of the review settings: ``ScorecardWeightsSet`` into ``review_settings``.

``PROJECTIONS`` (the set "review_settings", owning that one table) is listed in
``muster.bootstrap.PROJECTIONS``; ``muster.review.settings_queries`` reads the rows.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.review.domain.settings import SCORECARD_KEY, ScorecardWeightsSet
from muster.review.read_models import settings


def on_scorecard_weights_set(
    event: ScorecardWeightsSet, envelope: Envelope, conn: Connection
) -> None:
    """Keep the weights in force (one row, key "scorecard")."""
    document = {"weights": event.weights, "source": event.source}
    conn.execute(delete(settings).where(settings.c.key == SCORECARD_KEY))
    conn.execute(
        insert(settings),
        {
            "key": SCORECARD_KEY,
            "document": json.dumps(document, ensure_ascii=False, sort_keys=True),
            "set_at": envelope.occurred_at,
            "seq": envelope.seq,
        },
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    ScorecardWeightsSet: [on_scorecard_weights_set],
}

PROJECTIONS = ProjectionSet(
    name="review_settings", handlers=_PROJECTORS, tables=[settings]
)

__all__ = ["PROJECTIONS", "on_scorecard_weights_set"]
