"""Errors of the sharing part (subclasses of the core tree)."""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound, ValidationFailed


class AgreementInvalid(ValidationFailed):
    """A sharing agreement breaks a rule of its dataset's class, grade or schema."""

    code = "agreement_invalid"


class UnknownAgreement(NotFound):
    """No agreement has this code."""

    code = "unknown_agreement"


class UnknownAccessRequest(NotFound):
    """No access request has this id."""

    code = "unknown_access_request"


class RequestAlreadyDecided(DomainError):
    """An access request was approved or denied already."""

    code = "request_already_decided"


class BreakGlassInvalid(ValidationFailed):
    """Break-glass access needs a justification and a duration within the limit."""

    code = "break_glass_invalid"


class UnknownNotice(NotFound):
    """No personal-information notice obligation has this id."""

    code = "unknown_notice"


__all__ = [
    "AgreementInvalid",
    "BreakGlassInvalid",
    "RequestAlreadyDecided",
    "UnknownAccessRequest",
    "UnknownAgreement",
    "UnknownNotice",
]
