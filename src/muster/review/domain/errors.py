"""Errors of the review part (subclasses of the core tree).

Raised by ``muster.review.domain`` rules and the review handlers; the web and CLI
edges translate them like any other MusterError.
"""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound, ValidationFailed


class ImprovementInvalid(ValidationFailed):
    """An improvement item is incomplete, names an unknown department or is due in
    the past."""

    code = "improvement_invalid"


class UnknownImprovementItem(NotFound):
    """No improvement item has this id."""

    code = "unknown_improvement"


class ImprovementItemClosed(DomainError):
    """The item is done or cancelled; closed items do not change."""

    code = "improvement_closed"


class ImprovementTransitionRefused(DomainError):
    """The action does not apply to the item's status (starting a started item)."""

    code = "improvement_transition"


class UnknownReviewIncident(NotFound):
    """No incident has this id."""

    code = "unknown_review_incident"


class NotOnTimeline(NotFound):
    """The event is not on this incident's timeline."""

    code = "not_on_timeline"


class NotPinned(DomainError):
    """The event is not pinned, so it cannot be unpinned."""

    code = "not_pinned"


__all__ = [
    "ImprovementInvalid",
    "ImprovementItemClosed",
    "ImprovementTransitionRefused",
    "NotOnTimeline",
    "NotPinned",
    "UnknownImprovementItem",
    "UnknownReviewIncident",
]
