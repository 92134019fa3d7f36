"""Setting the review part's settings: the handler of ``SetScorecardWeights``.

``SETTINGS_HANDLERS`` is merged into the command table by ``muster.bootstrap``; the
pack loader sends the command as Muster itself when a pack has ``scorecard.yaml``.
"""

from __future__ import annotations

from muster.core.bus import Handler
from muster.core.errors import PermissionDenied
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.review.domain.settings import (
    SCORECARD_STREAM,
    ScorecardWeightsSet,
    SetScorecardWeights,
    checked_weights,
    weights_as_dict,
)


def set_scorecard_weights(command: SetScorecardWeights, uow: UnitOfWork) -> str:
    """Set the scorecard weights: created / updated / unchanged.

    Admins and Muster itself (loading a pack) may; the event spells out every
    measure's weight, defaults included.
    """
    weights = weights_as_dict(checked_weights(command.weights))
    with uow:
        if not uow.actor.has_role("admin", "system"):
            raise PermissionDenied(
                "setting the scorecard weights needs the admin role",
                action="set scorecard weights",
            )
        recorded = uow.context.store.read_stream(uow.conn, SCORECARD_STREAM)
        last = recorded[-1].event if recorded else None
        if isinstance(last, ScorecardWeightsSet) and last.weights == weights:
            return "unchanged"
        event = ScorecardWeightsSet(weights=weights, source=command.source)
        uow.append(SCORECARD_STREAM, [event], expected_version=len(recorded))
        uow.commit()
    return "updated" if recorded else "created"


SETTINGS_HANDLERS: dict[type[Command], Handler] = {
    SetScorecardWeights: set_scorecard_weights,
}

__all__ = ["SETTINGS_HANDLERS", "set_scorecard_weights"]
