"""Command handlers of the response part: incidents, plans, levels, decisions (R6).

Tasks are in ``task_handlers.py`` and the timer tick in ``timer_handlers.py``; the
table at the bottom wires all three.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from muster.core.bus import Handler
from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Command, Event
from muster.core.uow import UnitOfWork
from muster.response.decision_handlers import DECISION_HANDLERS
from muster.response.domain import activation as act
from muster.response.domain.commands import (
    ActivatePlan,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    OpenIncident,
    RecordIncidentFacts,
    RegisterPlan,
    SendSituationReport,
    SetEscalationChain,
)
from muster.response.domain.errors import Conflict
from muster.response.domain.escalation import chain_from_data
from muster.response.domain.events import (
    EscalationChainSet,
    PlanRegistered,
    SituationReportSent,
)
from muster.response.domain.model import (
    IncidentDraft,
    IncidentStatus,
    change_status,
    open_incident,
    record_facts,
)
from muster.response.domain.plans import plan_from_document
from muster.response.loading import (
    apply_activation,
    clocked,
    conn_first,
    existing_parts,
    load_incident,
    load_plan,
    unknown_departments,
)
from muster.response.read_models import chains, reports
from muster.response.task_handlers import TASK_HANDLERS
from muster.response.timer_handlers import TIMER_HANDLERS


def handle_open_incident(command: OpenIncident, uow: UnitOfWork) -> str:
    """Open an incident; return its id."""
    incident_id = str(uuid.uuid4())
    draft = IncidentDraft(
        incident_id=incident_id,
        title=command.title,
        category=command.category,
        latitude=command.latitude,
        longitude=command.longitude,
        description=command.description,
        reporting_department=command.reporting_department,
        type_code=command.type_code,
    )
    with uow:
        events = open_incident(draft, actor=uow.actor)
        uow.append(f"incident-{incident_id}", events, expected_version=0)
        uow.commit()
    return incident_id


def _require_admin(uow: UnitOfWork, action: str) -> None:
    if not uow.actor.has_role("admin", "system"):
        raise PermissionDenied(f"{action} needs the admin role", action=action)


def handle_register_plan(command: RegisterPlan, uow: UnitOfWork) -> str:
    """Register a plan version: created / updated / unchanged."""
    try:
        plan = plan_from_document(command.document)
    except (KeyError, ValueError, TypeError) as error:
        raise ValidationFailed(f"the plan document is incomplete: {error}") from None
    stream = f"plan-{plan.code}"
    with uow:
        _require_admin(uow, "registering a plan")
        unknown = unknown_departments(uow, plan.departments())
        if unknown:
            raise ValidationFailed(
                f"plan {plan.code} names unknown departments: {', '.join(unknown)}",
                field="departments",
            )
        recorded = uow.context.store.read_stream(uow.conn, stream)
        last = recorded[-1].event if recorded else None
        if isinstance(last, PlanRegistered) and last.document == command.document:
            return "unchanged"
        previous = last.version if isinstance(last, PlanRegistered) else 0
        version = max(plan.version, previous + 1)
        event = PlanRegistered(
            plan_code=plan.code, version=version, document=command.document
        )
        uow.append(stream, [event], expected_version=len(recorded))
        uow.commit()
    return "updated" if recorded else "created"


def handle_set_chain(command: SetEscalationChain, uow: UnitOfWork) -> str:
    """Set a department's escalation chain ("*" is the default chain)."""
    chain = chain_from_data(
        command.department, command.steps, command.repeat, command.repeat_after
    )
    stream = f"chain-{command.department}"
    with uow:
        _require_admin(uow, "setting an escalation chain")
        if command.department != "*" and unknown_departments(uow, {command.department}):
            raise ValidationFailed(
                f"department {command.department} does not exist", field="department"
            )
        steps = tuple(
            {"after_minutes": step.after_minutes, "notify": step.notify}
            for step in chain.steps
        )
        current = conn_first(
            uow, select(chains).where(chains.c.department == command.department)
        )
        if (
            current is not None
            and json.loads(current.steps) == list(steps)
            and (current.repeat, current.repeat_after)
            == (chain.repeat, chain.repeat_after)
        ):
            return "unchanged"
        event = EscalationChainSet(
            department=command.department,
            steps=steps,
            repeat=chain.repeat,
            repeat_after=chain.repeat_after,
        )
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "updated" if current is not None else "created"


def handle_change_status(command: ChangeIncidentStatus, uow: UnitOfWork) -> str:
    """Verify, recover, resume or close an incident; return the new status."""
    with uow:
        incident = load_incident(uow, command.incident_id)
        events = change_status(
            incident,
            command.to_status,
            reason=command.reason,
            actor=uow.actor,
            type_code=command.type_code,
        )
        uow.append(f"incident-{incident.id}", events, expected_version=incident.version)
        uow.commit()
    return command.to_status


def handle_record_facts(command: RecordIncidentFacts, uow: UnitOfWork) -> str:
    """Record incident facts: changed / unchanged."""
    with uow:
        incident = load_incident(uow, command.incident_id)
        events = record_facts(incident, command.facts, actor=uow.actor)
        if not events:
            return "unchanged"
        uow.append(f"incident-{incident.id}", events, expected_version=incident.version)
        uow.commit()
    return "changed"


def handle_activate_plan(command: ActivatePlan, uow: UnitOfWork) -> str:
    """Activate a plan at a level: activated / changed / unchanged."""
    level = act.parse_level(command.level)
    with uow:
        incident = load_incident(uow, command.incident_id)
        plan = load_plan(uow, command.plan_code)
        result = act.activate(
            incident, plan, level, actor=uow.actor, reason=command.reason,
            clock=clocked(uow), existing=existing_parts(uow, incident.id),
            new_id=lambda: str(uuid.uuid4()),
        )  # fmt: skip
        if not result.incident_events:
            return "unchanged"
        apply_activation(uow, incident, result)
        uow.commit()
    return "changed" if incident.plan_code else "activated"


def handle_change_level(command: ChangeResponseLevel, uow: UnitOfWork) -> str:
    """A commander changes the level with a reason: changed / unchanged."""
    level = act.parse_level(command.level)
    with uow:
        incident = load_incident(uow, command.incident_id)
        if incident.plan_code is None:
            raise Conflict("the incident is not responding under a plan", detail={})
        plan = load_plan(uow, incident.plan_code)
        result = act.change_level(
            incident, plan, level, actor=uow.actor, reason=command.reason,
            clock=clocked(uow), existing=existing_parts(uow, incident.id),
            new_id=lambda: str(uuid.uuid4()),
        )  # fmt: skip
        if not result.incident_events:
            return "unchanged"
        apply_activation(uow, incident, result)
        uow.commit()
    return "changed"


def handle_send_sitrep(command: SendSituationReport, uow: UnitOfWork) -> str:
    """Sign off and send a situation report; return its id."""
    report_id = str(uuid.uuid4())
    with uow:
        incident = load_incident(uow, command.incident_id)
        department = uow.actor.department
        if department is None or not uow.actor.has_role(
            "commander", "duty_officer", "head", "admin"
        ):
            raise PermissionDenied(
                "sending a report needs a department's duty officer, head or commander",
                action="send report",
            )
        content = {
            str(key): str(value).strip() for key, value in command.content.items()
        }
        if not content.get("what"):
            raise ValidationFailed("a report says what happened", field="what")
        events: list[Event] = []
        next_due: str | None = None
        recipient = command.recipient
        if command.obligation is not None:
            row = conn_first(
                uow,
                select(reports).where(
                    reports.c.incident_id == incident.id,
                    reports.c.obligation == command.obligation,
                ),
            )
            if row is None:
                raise ValidationFailed(
                    f"the incident has no reporting obligation {command.obligation}",
                    field="obligation",
                )
            recipient = recipient or row.recipient
            # A closed incident's final report restarts no clock (its timers went).
            if row.follow_up_minutes and incident.status is not IncidentStatus.CLOSED:
                next_due = clocked(uow).after(row.follow_up_minutes)
        events.append(
            SituationReportSent(
                incident_id=incident.id, report_id=report_id,
                obligation=command.obligation, department=department,
                recipient=recipient, content=content, next_due_at=next_due,
            )
        )  # fmt: skip
        uow.append(f"incident-{incident.id}", events, expected_version=incident.version)
        uow.commit()
    return report_id


COMMAND_HANDLERS: dict[type[Command], Handler] = {
    OpenIncident: handle_open_incident,
    RegisterPlan: handle_register_plan,
    SetEscalationChain: handle_set_chain,
    ChangeIncidentStatus: handle_change_status,
    RecordIncidentFacts: handle_record_facts,
    ActivatePlan: handle_activate_plan,
    ChangeResponseLevel: handle_change_level,
    SendSituationReport: handle_send_sitrep,
    **DECISION_HANDLERS,
    **TASK_HANDLERS,
    **TIMER_HANDLERS,
}

__all__ = ["COMMAND_HANDLERS"]
