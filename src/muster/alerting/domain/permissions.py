"""Who may write, approve and publish an incident's public warnings (pure).

Authors: commanders, admins and Muster itself, and the duty officers and heads of
the departments that speak for the incident — its lead, its information officer's
department (the plan's command roles) and the deployment's issuing departments
(``warnings.yaml`` ``issuers``). Approvers: commanders, admins, and the heads of those
departments; never the alert's author (``model.check_approver``). Used by the handlers
and by the pages (to offer only the forms a person may use).
"""

from __future__ import annotations

from collections.abc import Collection

from muster.core.messages import Actor

_AUTHORS = ("duty_officer", "head")


def may_author(actor: Actor, speakers: Collection[str]) -> bool:
    """Tell whether an actor may compose, revise or publish the incident's alerts."""
    if actor.has_role("admin", "system", "commander"):
        return True
    return actor.department in speakers and actor.has_role(*_AUTHORS)


def may_approve(actor: Actor, speakers: Collection[str]) -> bool:
    """Tell whether an actor may approve the incident's alerts (not their own)."""
    if actor.has_role("admin", "system", "commander"):
        return True
    return actor.department in speakers and actor.has_role("head")


__all__ = ["may_approve", "may_author"]
