"""Why a read was allowed or refused, in words (stdlib only).

Cedar decides (``sharing.pdp``); this module only explains the decision it made: the
policies that allowed, the rule that forbade, or, when nothing permitted, each
candidate agreement's unmet condition (not a consumer, purpose not covered, not yet or
no longer in force, no incident at the level, records outside the incident's area).
Imported by the read service and ``muster access check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from muster.sharing.domain.agreements import Agreement, DatasetFacts, Mode
from muster.sharing.domain.grants import Grant
from muster.sharing.domain.policies import PolicyEntry

RULE_REASONS = {
    "rule:graded-data-needs-purpose": (
        "{dataset} is {grade} data: state a purpose (one the agreement names)"
    ),
    "rule:connectors-do-not-read": "connector keys push data; they never read it back",
}


@dataclass(frozen=True, slots=True)
class Asker:
    """Who reads, and for what."""

    department: str | None
    purpose: str | None
    incident_id: str | None


def explain_allow(entries: Sequence[PolicyEntry]) -> str:
    """Name what allowed a read."""
    parts = []
    for entry in entries:
        if entry.kind == "grant" and entry.grant is not None:
            parts.append(
                f"agreement {entry.grant.agreement_code}, switched on by incident "
                f"{entry.grant.incident_id} at level {entry.grant.level}"
            )
        elif entry.kind == "agreement" and entry.agreement is not None:
            parts.append(f"agreement {entry.agreement.code}")
        elif entry.kind == "break_glass":
            parts.append(f"break-glass access {entry.policy_id.split(':', 1)[1]}")
        elif entry.policy_id == "base:owner":
            parts.append("the provider reads its own data")
        elif entry.policy_id == "base:unconditional":
            parts.append("unconditional sharing (无条件共享)")
        else:
            parts.append(entry.policy_id)
    return "allowed by " + "; ".join(parts)


def explain_deny(
    dataset: DatasetFacts,
    asker: Asker,
    *,
    forbids: Sequence[str],
    agreements: Sequence[Agreement],
    grants: Sequence[Grant],
    now: datetime,
    outside_area: bool = False,
) -> str:
    """Say which rule forbade the read, or which condition of each agreement failed."""
    for policy_id in forbids:
        if template := RULE_REASONS.get(policy_id):
            return template.format(dataset=dataset.code, grade=dataset.grade)
    relevant = [item for item in agreements if item.dataset == dataset.code]
    if not relevant:
        if dataset.sharing_class == "NOT_SHARED":
            return (
                f"{dataset.code} is not shared (不予共享) and no agreement of "
                f"{dataset.owner} covers {asker.department}"
            )
        return (
            f"no agreement of {dataset.owner} shares {dataset.code} with "
            f"{asker.department}; request access from the provider"
        )
    reasons = [
        f"{agreement.code}: {_unmet(agreement, asker, grants, now, outside_area)}"
        for agreement in relevant
    ]
    return "refused: " + "; ".join(reasons)


def _unmet(
    agreement: Agreement,
    asker: Asker,
    grants: Sequence[Grant],
    now: datetime,
    outside_area: bool,
) -> str:
    if not agreement.for_all() and asker.department not in agreement.consumers:
        return f"{asker.department} is not a consumer"
    if agreement.purposes and asker.purpose not in agreement.purposes:
        return f"purpose must be one of {', '.join(agreement.purposes)}"
    if not agreement.in_force(now):
        return "not in force now (see valid_from / valid_until)"
    condition = agreement.incident
    if condition is not None:
        mine = [grant for grant in grants if grant.agreement_code == agreement.code]
        if not mine:
            categories = ", ".join(condition.categories) or "any category"
            return (
                f"needs an open incident ({categories}) at level {condition.min_level} "
                "or higher; none is"
            )
        if asker.incident_id and all(g.incident_id != asker.incident_id for g in mine):
            return f"incident {asker.incident_id} does not meet its conditions"
        if outside_area:
            return f"records lie outside {condition.within_km} km of the incident"
    if agreement.mode == Mode.AGGREGATE:
        return "shares counts only"
    return "conditions not met"


__all__ = ["RULE_REASONS", "Asker", "explain_allow", "explain_deny"]
