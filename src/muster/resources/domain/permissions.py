"""Who may describe a department's resources and change their statuses (pure).

A department's own systems (its API keys, role ``connector``: a fleet or stock system
pushing updates) may do what its duty officers may, for its own resources only. Used
by ``muster.resources.handlers`` (to refuse) and the resource board (to offer
only the forms a person may use).
"""

from __future__ import annotations

from muster.core.messages import Actor

_OWNERS = ("duty_officer", "head", "connector")  # in the resource's department


def may_change_status(actor: Actor, department: str) -> bool:
    """Tell whether an actor may change the status of a department's resource:
    admins, commanders, Muster itself, and the department's duty officers, heads
    and API keys."""
    if actor.has_role("admin", "system", "commander"):
        return True
    return actor.department == department and actor.has_role(*_OWNERS)


def may_register(actor: Actor, department: str) -> bool:
    """Tell whether an actor may register or describe a department's resource:
    admins, Muster itself, and the department's duty officers, heads and API
    keys."""
    if actor.has_role("admin", "system"):
        return True
    return actor.department == department and actor.has_role(*_OWNERS)


__all__ = ["may_change_status", "may_register"]
