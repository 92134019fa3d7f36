"""Joint decisions (会商/联合研判): proposal, signatures, the rule, the outcome.

Pure (stdlib only). A decision is folded from its stream (``decision-{id}``). Each
required department signs once (concur / object, with a comment) through an
authorised user of that department; the decision closes as soon as its rule is
settled either way, or expires at its deadline. Once closed it never changes.

Rules: ``all`` — every department concurs; ``majority`` — more than half concur;
``veto`` — every named veto department concurs and more than half of all concur.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor, Event
from muster.response.domain.errors import Conflict
from muster.response.domain.events import (
    DecisionClosed,
    DecisionProposed,
    DecisionSigned,
)
from muster.response.domain.plans import DecisionRule

SIGNING_ROLES = ("head", "commander", "duty_officer", "admin")
POSITIONS = ("concur", "object")
MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class Decision:
    """A joint decision as folded from its stream."""

    id: str
    incident_id: str
    departments: tuple[str, ...]
    rule: DecisionRule
    veto: tuple[str, ...]
    deadline_at: str
    raises_to: str | None
    positions: dict[str, str]
    outcome: str | None
    version: int


def evolve(decision: Decision | None, event: Event) -> Decision | None:
    """Apply one event to a decision."""
    if isinstance(event, DecisionProposed):
        return Decision(
            id=event.decision_id,
            incident_id=event.incident_id,
            departments=event.departments,
            rule=DecisionRule(event.rule),
            veto=event.veto,
            deadline_at=event.deadline_at,
            raises_to=event.raises_to,
            positions={},
            outcome=None,
            version=1,
        )
    if decision is None:
        return None
    decision = replace(decision, version=decision.version + 1)
    if isinstance(event, DecisionSigned):
        return replace(
            decision, positions={**decision.positions, event.department: event.position}
        )
    if isinstance(event, DecisionClosed):
        return replace(decision, outcome=event.outcome)
    return decision


def fold(events: Iterable[Event]) -> Decision | None:
    """Rebuild a decision from its stream."""
    decision: Decision | None = None
    for event in events:
        decision = evolve(decision, event)
    return decision


def check_proposal(
    *, departments: tuple[str, ...], rule: str, veto: tuple[str, ...], title: str
) -> DecisionRule:
    """Validate a proposal's parts; return its rule."""
    if not title.strip():
        raise ValidationFailed("a decision needs a title", field="title")
    if not departments:
        raise ValidationFailed(
            "name the departments that must sign", field="departments"
        )
    if len(set(departments)) != len(departments):
        raise ValidationFailed("a department is named twice", field="departments")
    try:
        parsed = DecisionRule(rule)
    except ValueError:
        raise ValidationFailed(
            f"rule must be one of {', '.join(item.value for item in DecisionRule)}",
            field="rule",
        ) from None
    stray = [item for item in veto if item not in departments]
    if stray:
        raise ValidationFailed(
            f"veto departments must also sign: {', '.join(stray)}", field="veto"
        )
    if parsed is DecisionRule.VETO and not veto:
        raise ValidationFailed("a veto rule names the veto departments", field="veto")
    return parsed


def outcome_of(decision: Decision, *, expired: bool = False) -> str | None:
    """Return approved / rejected when the rule is settled, expired, or None."""
    concur = {dep for dep, pos in decision.positions.items() if pos == "concur"}
    objecting = {dep for dep, pos in decision.positions.items() if pos == "object"}
    total = len(decision.departments)
    undecided = total - len(concur) - len(objecting)
    match decision.rule:
        case DecisionRule.ALL:
            if objecting:
                return "rejected"
            if len(concur) == total:
                return "approved"
        case DecisionRule.MAJORITY | DecisionRule.VETO:
            if decision.rule is DecisionRule.VETO and objecting & set(decision.veto):
                return "rejected"
            veto_met = decision.rule is not DecisionRule.VETO or (
                set(decision.veto) <= concur
            )
            if 2 * len(concur) > total and veto_met:
                return "approved"
            if 2 * (len(concur) + undecided) <= total:
                return "rejected"
    return "expired" if expired else None


def sign(
    decision: Decision, *, position: str, comment: str, actor: Actor
) -> list[Event]:
    """Record a department's position; close the decision if the rule is settled."""
    if decision.outcome is not None:
        raise Conflict(
            f"decision is closed ({decision.outcome}); it cannot be signed",
            detail={"decision_id": decision.id},
        )
    if position not in POSITIONS:
        raise ValidationFailed("position must be concur or object", field="position")
    department = actor.department
    if department not in decision.departments or not actor.has_role(*SIGNING_ROLES):
        raise PermissionDenied(
            "only an authorised user of a named department may sign: "
            + ", ".join(decision.departments),
            action="sign decision",
        )
    if department in decision.positions:
        raise Conflict(
            f"{department} has already signed ({decision.positions[department]})",
            detail={"decision_id": decision.id},
        )
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(f"comment is longer than {MAX_COMMENT}", field="comment")
    if position == "object" and not comment:
        raise ValidationFailed("an objection needs a comment", field="comment")
    signed = DecisionSigned(
        decision_id=decision.id,
        incident_id=decision.incident_id,
        department=department,
        position=position,
        comment=comment,
    )
    after = evolve(decision, signed)
    assert after is not None  # noqa: S101 - evolve of a signature keeps the decision
    outcome = outcome_of(after)
    return [signed, *([close(after, outcome)] if outcome else [])]


def close(decision: Decision, outcome: str) -> DecisionClosed:
    """The closing event with the tally."""
    positions = decision.positions
    return DecisionClosed(
        decision_id=decision.id,
        incident_id=decision.incident_id,
        outcome=outcome,
        concur=tuple(d for d in decision.departments if positions.get(d) == "concur"),
        object=tuple(d for d in decision.departments if positions.get(d) == "object"),
        silent=tuple(d for d in decision.departments if d not in positions),
    )


def expire(decision: Decision) -> list[Event]:
    """At the deadline: close as settled, or expired if the rule is not met."""
    if decision.outcome is not None:
        return []
    outcome = outcome_of(decision, expired=True)
    return [close(decision, outcome or "expired")]


__all__ = [
    "POSITIONS",
    "Decision",
    "check_proposal",
    "close",
    "evolve",
    "expire",
    "fold",
    "outcome_of",
    "sign",
]
