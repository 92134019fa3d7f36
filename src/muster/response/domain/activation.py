"""Activating a plan for an incident and changing its response level.

Pure (stdlib only). Activation is idempotent: the same plan at the same level records
nothing. Levels are cumulative (ADR 0008): reaching a level assigns the tasks and
starts the reporting clocks of every level up to it that were not reached before. A
plan's decision points gate levels: a level that a decision point raises to can be
entered only through an approved joint decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from muster.core.errors import ValidationFailed
from muster.core.messages import Actor, Event
from muster.response.domain.errors import Conflict, DecisionRequired
from muster.response.domain.events import (
    ReportDueSet,
    ResponseActivated,
    ResponseLevelChanged,
    TaskAssigned,
)
from muster.response.domain.model import Incident, IncidentStatus
from muster.response.domain.plans import Plan, ResponseLevel
from muster.response.domain.tasks import require_commander


@dataclass(frozen=True, slots=True)
class Clocked:
    """The moment of a decision and how it is written in events."""

    now: datetime
    isoformat: Callable[[datetime], str]

    def after(self, minutes: int) -> str:
        """Return the ISO time ``minutes`` from now."""
        return self.isoformat(self.now + timedelta(minutes=minutes))


@dataclass(frozen=True, slots=True)
class Existing:
    """What the response already has: task ids by template key, report keys."""

    tasks_by_key: Mapping[str, str] = field(default_factory=dict)
    report_keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Activation:
    """Events for the incident stream and the new tasks (one stream each)."""

    incident_events: list[Event]
    tasks: list[TaskAssigned]


def parse_level(text: str) -> ResponseLevel:
    """Read a response level (L1-L4, or I-IV)."""
    roman = {"I": "L1", "II": "L2", "III": "L3", "IV": "L4"}
    try:
        return ResponseLevel(roman.get(text.strip().upper(), text.strip().upper()))
    except ValueError:
        raise ValidationFailed(
            "level must be one of L1, L2, L3, L4 (I-IV)", field="level"
        ) from None


def gated_between(
    plan: Plan, low: ResponseLevel | None, high: ResponseLevel
) -> list[ResponseLevel]:
    """Levels in (low, high] that only an approved joint decision may enter."""
    lowest = plan.levels_up_to(high)[0].level if plan.levels_up_to(high) else None
    gates = {
        point.raises_to
        for item in plan.levels
        for point in item.decisions
        if point.raises_to is not None
    }
    floor = low.rank if low is not None else 0
    return sorted(
        (
            gate
            for gate in gates
            if floor < gate.rank <= high.rank and (low is not None or gate != lowest)
        ),
        key=lambda gate: gate.rank,
    )


def activate(
    incident: Incident,
    plan: Plan,
    level: ResponseLevel,
    *,
    actor: Actor,
    reason: str,
    clock: Clocked,
    existing: Existing,
    new_id: Callable[[], str],
) -> Activation:
    """Activate ``plan`` at ``level`` (or change level under the same plan)."""
    require_commander(actor, "activating a plan")
    if incident.status is IncidentStatus.CLOSED:
        raise Conflict("the incident is closed", detail={"incident_id": incident.id})
    if incident.plan_code is not None and incident.plan_code != plan.code:
        raise Conflict(
            f"the incident already responds under plan {incident.plan_code}; "
            "Muster runs one plan per incident",
            detail={"incident_id": incident.id, "plan": incident.plan_code},
        )
    if incident.plan_code == plan.code:
        return change_level(
            incident, plan, level, actor=actor, reason=reason, clock=clock,
            existing=existing, new_id=new_id,
        )  # fmt: skip
    if not plan.covers(incident.type_code):
        raise ValidationFailed(
            f"plan {plan.code} covers {', '.join(plan.categories)}; the incident is "
            f"{incident.type_code} (set its type when verifying it)",
            field="plan_code",
        )
    if not plan.levels_up_to(level):
        raise ValidationFailed(
            f"plan {plan.code} defines no level up to {level.value}", field="level"
        )
    gated = gated_between(plan, None, level)
    if gated:
        raise DecisionRequired(
            f"entering {gated[0].value} under plan {plan.code} needs an approved "
            "joint decision; activate at a lower level and propose it",
            level=gated[0].value,
        )
    supporting, roles = _parties(plan, level)
    lead = plan.lead_at(level) or ""
    opened = ResponseActivated(
        incident_id=incident.id,
        plan_code=plan.code,
        plan_version=plan.version,
        level=level.value,
        lead_department=lead,
        supporting_departments=supporting,
        command_roles=roles,
        reason=reason.strip(),
    )
    tasks, reports = _reached(incident, plan, None, level, clock, existing, new_id)
    return Activation([opened, *reports], tasks)


def change_level(
    incident: Incident,
    plan: Plan,
    level: ResponseLevel,
    *,
    actor: Actor,
    reason: str,
    clock: Clocked,
    existing: Existing,
    new_id: Callable[[], str],
    decision_id: str | None = None,
    decided_level: ResponseLevel | None = None,
) -> Activation:
    """Raise or lower the level; raising assigns what the new levels add."""
    if decision_id is None:
        require_commander(actor, "changing the response level")
    current = incident.level
    if current is None or incident.status is not IncidentStatus.RESPONDING:
        raise Conflict(
            "the incident is not responding under a plan",
            detail={"incident_id": incident.id},
        )
    if level == current:
        return Activation([], [])
    if decision_id is None and not reason.strip():
        raise ValidationFailed("a level change needs a reason", field="reason")
    if not plan.levels_up_to(level):
        raise ValidationFailed(
            f"plan {plan.code} defines no level up to {level.value}", field="level"
        )
    if level.rank > current.rank:
        gated = [
            gate
            for gate in gated_between(plan, current, level)
            if not (decision_id is not None and gate == decided_level)
        ]
        if gated:
            raise DecisionRequired(
                f"raising to {gated[0].value} under plan {plan.code} needs an "
                "approved joint decision",
                level=gated[0].value,
            )
    supporting, _ = _parties(plan, level)
    changed = ResponseLevelChanged(
        incident_id=incident.id,
        from_level=current.value,
        to_level=level.value,
        lead_department=plan.lead_at(level) or "",
        supporting_departments=supporting,
        reason=reason.strip(),
        decision_id=decision_id,
    )
    if level.rank < current.rank:
        return Activation([changed], [])
    tasks, reports = _reached(incident, plan, current, level, clock, existing, new_id)
    return Activation([changed, *reports], tasks)


def _parties(
    plan: Plan, level: ResponseLevel
) -> tuple[tuple[str, ...], dict[str, str]]:
    lead = plan.lead_at(level)
    supporting: list[str] = []
    roles: dict[str, str] = {}
    for item in plan.levels_up_to(level):
        roles.update(item.command_roles)
        for support in item.supporting:
            if support.department != lead and support.department not in supporting:
                supporting.append(support.department)
    return tuple(supporting), roles


def _reached(
    incident: Incident,
    plan: Plan,
    before: ResponseLevel | None,
    level: ResponseLevel,
    clock: Clocked,
    existing: Existing,
    new_id: Callable[[], str],
) -> tuple[list[TaskAssigned], list[Event]]:
    floor = before.rank if before is not None else 0
    new_levels = [item for item in plan.levels_up_to(level) if item.level.rank > floor]
    ids = dict(existing.tasks_by_key)
    templates = [
        task
        for item in new_levels
        for task in item.tasks
        if task.key not in existing.tasks_by_key
    ]
    for template in templates:
        ids[template.key] = new_id()
    tasks: list[TaskAssigned] = []
    for template in templates:
        unknown = [key for key in template.depends_on if key not in ids]
        if unknown:
            raise ValidationFailed(
                f"task {template.key} depends on {', '.join(unknown)}, which the plan "
                f"does not assign up to {level.value}",
                field="depends_on",
            )
        tasks.append(
            TaskAssigned(
                task_id=ids[template.key],
                incident_id=incident.id,
                template_key=template.key,
                title_zh=template.title_zh,
                title_en=template.title_en,
                lead_department=template.lead_department,
                supporting_departments=template.supporting_departments,
                due_at=clock.after(template.due_minutes),
                ack_due_at=clock.after(template.ack_minutes),
                depends_on=tuple(ids[key] for key in template.depends_on),
                checklist=template.checklist,
                from_plan=True,
            )
        )
    lead = plan.lead_at(level) or ""
    reports: list[Event] = [
        ReportDueSet(
            incident_id=incident.id,
            obligation=report.key,
            name_zh=report.name_zh,
            name_en=report.name_en,
            department=lead,
            recipient=report.recipient,
            due_at=clock.after(report.initial_minutes),
            follow_up_minutes=report.follow_up_minutes,
        )
        for item in new_levels
        for report in item.reports
        if report.key not in existing.report_keys
    ]
    return tasks, reports


__all__ = [
    "Activation",
    "Clocked",
    "Existing",
    "activate",
    "change_level",
    "gated_between",
    "parse_level",
]
