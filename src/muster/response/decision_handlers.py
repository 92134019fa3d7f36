"""Command handlers for joint decisions (会商): propose and sign (R6).

An approved decision applies its level change in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from muster.core.bus import Handler
from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Command, Event
from muster.core.uow import UnitOfWork
from muster.response.domain import activation as act
from muster.response.domain import decisions as dec
from muster.response.domain.commands import ProposeDecision, SignDecision
from muster.response.domain.errors import Conflict, UnknownDecision
from muster.response.domain.events import DecisionClosed, DecisionProposed
from muster.response.domain.model import Incident, IncidentStatus
from muster.response.loading import (
    apply_activation,
    clocked,
    existing_parts,
    load,
    load_incident,
    load_plan,
    unknown_departments,
)


def handle_propose_decision(command: ProposeDecision, uow: UnitOfWork) -> str:
    """Propose a joint decision; return its id."""
    decision_id = str(uuid.uuid4())
    with uow:
        incident = load_incident(uow, command.incident_id)
        if incident.status is IncidentStatus.CLOSED:
            raise Conflict("the incident is closed", detail={})
        if not uow.actor.has_role("commander", "admin"):
            raise PermissionDenied(
                "proposing a joint decision needs the commander role",
                action="propose decision",
            )
        command = _from_decision_point(uow, incident, command)
        rule = dec.check_proposal(
            departments=command.departments,
            rule=command.rule,
            veto=command.veto,
            title=command.title,
        )
        evidence = tuple(item.strip() for item in command.evidence if item.strip())
        if len(evidence) > MAX_EVIDENCE or any(len(item) > 500 for item in evidence):
            raise ValidationFailed(
                f"give at most {MAX_EVIDENCE} evidence links of up to 500 characters",
                field="evidence",
            )
        unknown = unknown_departments(uow, set(command.departments))
        if unknown:
            raise ValidationFailed(
                f"unknown departments: {', '.join(unknown)}", field="departments"
            )
        raises_to = act.parse_level(command.raises_to) if command.raises_to else None
        if not 1 <= command.deadline_minutes <= 7 * 24 * 60:
            raise ValidationFailed(
                "deadline must be 1 minute to 7 days", field="deadline"
            )
        event = DecisionProposed(
            decision_id=decision_id,
            incident_id=incident.id,
            decision_key=command.decision_key,
            title=command.title.strip(),
            proposal=command.proposal.strip(),
            evidence=evidence,
            departments=command.departments,
            rule=rule.value,
            veto=command.veto,
            deadline_at=clocked(uow).after(command.deadline_minutes),
            raises_to=raises_to.value if raises_to else None,
        )
        uow.append(f"decision-{decision_id}", [event], expected_version=0)
        uow.commit()
    return decision_id


MAX_EVIDENCE = 10


def _from_decision_point(
    uow: UnitOfWork, incident: Incident, command: ProposeDecision
) -> ProposeDecision:
    """Fill what the proposal leaves out from the plan's decision point it names."""
    if command.decision_key is None or incident.plan_code is None:
        return command
    plan = load_plan(uow, incident.plan_code)
    point = next(
        (
            item
            for level in plan.levels
            for item in level.decisions
            if item.key == command.decision_key
        ),
        None,
    )
    if point is None:
        raise ValidationFailed(
            f"plan {plan.code} has no decision point {command.decision_key}",
            field="decision_key",
        )
    return replace(
        command,
        title=command.title.strip() or f"{point.title_zh} / {point.title_en}",
        departments=command.departments or point.departments,
        rule=command.rule if command.departments else point.rule.value,
        veto=command.veto or point.veto,
        raises_to=command.raises_to
        or (point.raises_to.value if point.raises_to else None),
        deadline_minutes=(
            command.deadline_minutes if command.departments else point.deadline_minutes
        ),
    )


def handle_sign_decision(command: SignDecision, uow: UnitOfWork) -> str:
    """Sign for the actor's department; return the outcome or "open"."""
    stream = f"decision-{command.decision_id}"
    with uow:
        decision = load(
            uow, stream, dec.fold,
            UnknownDecision(f"no decision {command.decision_id}"),
        )  # fmt: skip
        events = dec.sign(
            decision, position=command.position, comment=command.comment,
            actor=uow.actor,
        )  # fmt: skip
        uow.append(stream, events, expected_version=decision.version)
        outcome = _outcome(events)
        if outcome == "approved" and decision.raises_to:
            apply_decided_level(uow, decision)
        uow.commit()
    return outcome or "open"


def _outcome(events: list[Event]) -> str | None:
    closed = [event for event in events if isinstance(event, DecisionClosed)]
    return closed[0].outcome if closed else None


def apply_decided_level(uow: UnitOfWork, decision: dec.Decision) -> None:
    """Apply an approved decision's level change (its only effect)."""
    incident = load_incident(uow, decision.incident_id)
    if incident.plan_code is None or decision.raises_to is None:
        return
    level = act.parse_level(decision.raises_to)
    if incident.level is not None and incident.level.rank >= level.rank:
        return  # already there (a commander raised it meanwhile): nothing to apply
    plan = load_plan(uow, incident.plan_code)
    result = act.change_level(
        incident, plan, level, actor=uow.actor,
        reason=f"joint decision {decision.id} approved", clock=clocked(uow),
        existing=existing_parts(uow, incident.id), new_id=lambda: str(uuid.uuid4()),
        decision_id=decision.id, decided_level=level,
    )  # fmt: skip
    apply_activation(uow, incident, result)


DECISION_HANDLERS: dict[type[Command], Handler] = {
    ProposeDecision: handle_propose_decision,
    SignDecision: handle_sign_decision,
}

__all__ = ["DECISION_HANDLERS", "apply_decided_level"]
