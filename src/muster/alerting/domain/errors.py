"""Errors of the alerting part (subclasses of the core tree).

Raised by ``muster.alerting.domain`` and ``muster.alerting.handlers``.
"""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound, ValidationFailed


class AlertInvalid(ValidationFailed):
    """An alert's content breaks a CAP 1.2 rule or one of Muster's."""

    code = "alert_invalid"


class AlertStateConflict(DomainError):
    """The alert is not in a state that allows this (published alerts never change;
    an author never approves their own alert; concurrence not yet given)."""

    code = "alert_state"


class UnknownAlert(NotFound):
    """No alert has this id."""

    code = "unknown_alert"


class UnknownTemplate(NotFound):
    """No warning template for this hazard and colour."""

    code = "unknown_warning_template"


__all__ = ["AlertInvalid", "AlertStateConflict", "UnknownAlert", "UnknownTemplate"]
