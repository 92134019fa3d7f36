"""Activating a plan and changing the level (response.domain.activation)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from muster.core.clock import isoformat_utc
from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor
from muster.response.domain.activation import (
    Activation,
    Clocked,
    Existing,
    activate,
    change_level,
    parse_level,
)
from muster.response.domain.errors import Conflict, DecisionRequired
from muster.response.domain.events import (
    ReportDueSet,
    ResponseActivated,
    ResponseLevelChanged,
)
from muster.response.domain.model import Incident, IncidentStatus
from muster.response.domain.plans import ResponseLevel, plan_from_document

COMMANDER = Actor(
    kind="user", id="cmd", department="EMB", roles=frozenset({"commander"})
)
DUTY = Actor(
    kind="user", id="duty", department="EMB", roles=frozenset({"duty_officer"})
)
CLOCK = Clocked(now=datetime(2026, 7, 1, 8, 0, tzinfo=UTC), isoformat=isoformat_utc)


def _task(key: str, lead: str, due: int, **extra: Any) -> dict[str, Any]:
    return {"key": key, "title_zh": key, "title_en": key, "lead_department": lead,
            "due_minutes": due, "ack_minutes": 10, **extra}  # fmt: skip


PLAN = plan_from_document(
    {
        "code": "FLOOD", "name_zh": "内涝", "name_en": "Flood", "categories": ["11A00"],
        "levels": [
            {"level": "L4", "lead_department": "WATER",
             "supporting": [{"department": "TRANSPORT"}],
             "command_roles": {"commander": "EMB"},
             "tasks": [_task("patrol", "WATER", 60),
                       _task("close_road", "TRANSPORT", 90)],
             "reports": [{"key": "initial", "name_zh": "初报", "name_en": "Initial",
                          "recipient": "GOV", "initial_minutes": 30,
                          "follow_up_minutes": 120}],
             "decisions": [{"key": "raise", "title_zh": "升级", "title_en": "Raise",
                            "departments": ["EMB", "WATER"], "raises_to": "L2"}]},
            {"level": "L3", "lead_department": "WATER",
             "supporting": [{"department": "MET"}, {"department": "WATER"}],
             "command_roles": {"deputy": "WATER"},
             "tasks": [_task("forecast", "MET", 120, depends_on=["patrol"])]},
            {"level": "L2", "lead_department": "EMB",
             "supporting": [{"department": "WATER"}],
             "tasks": [_task("evacuate", "EMB", 90, depends_on=["close_road"])],
             "reports": [{"key": "hourly", "name_zh": "时报", "name_en": "Hourly",
                          "recipient": "GOV", "initial_minutes": 60}]},
        ],
    }
)  # fmt: skip
FLOOD = Incident(
    id="i-1", category="NATURAL_DISASTER", type_code="11A03",
    status=IncidentStatus.VERIFIED, version=2,
)  # fmt: skip


def _ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"t-{next(counter)}"


def _activate(
    incident: Incident = FLOOD,
    level: ResponseLevel = ResponseLevel.L4,
    *,
    actor: Actor = COMMANDER,
    reason: str = "",
    existing: Existing | None = None,
    plan: Any = PLAN,
) -> Activation:
    return activate(
        incident, plan, level, actor=actor, reason=reason, clock=CLOCK,
        existing=existing or Existing(), new_id=_ids(),
    )  # fmt: skip


def _responding(level: ResponseLevel) -> Incident:
    return Incident(
        id="i-1", category="NATURAL_DISASTER", type_code="11A03",
        status=IncidentStatus.RESPONDING, plan_code="FLOOD", plan_version=1,
        level=level, version=5,
    )  # fmt: skip


class TestActivate:
    def test_activation_opens_the_response_with_tasks_and_report_clocks(self) -> None:
        """Activating at IV records the response (lead, supporting, roles), one task
        per template with deadlines from now, and the report clocks."""
        incident = FLOOD

        result = _activate(incident)

        assert result.incident_events == [
            ResponseActivated(
                incident_id="i-1", plan_code="FLOOD", plan_version=1, level="L4",
                lead_department="WATER", supporting_departments=("TRANSPORT",),
                command_roles={"commander": "EMB"}, reason="",
            ),
            ReportDueSet(
                incident_id="i-1", obligation="initial", name_zh="初报",
                name_en="Initial", department="WATER", recipient="GOV",
                due_at="2026-07-01T08:30:00.000000Z", follow_up_minutes=120,
            ),
        ]  # fmt: skip
        assert [
            (t.task_id, t.template_key, t.lead_department, t.due_at, t.ack_due_at)
            for t in result.tasks
        ] == [
            ("t-1", "patrol", "WATER", "2026-07-01T09:00:00.000000Z",
             "2026-07-01T08:10:00.000000Z"),
            ("t-2", "close_road", "TRANSPORT", "2026-07-01T09:30:00.000000Z",
             "2026-07-01T08:10:00.000000Z"),
        ]  # fmt: skip
        assert all(
            task.from_plan and task.incident_id == "i-1" for task in result.tasks
        )

    def test_activation_at_a_higher_level_is_cumulative(self) -> None:
        """Activating at III assigns IV's and III's tasks; a dependency points at the
        id of the task it depends on; the lead is excluded from supporting."""
        incident = FLOOD

        result = _activate(incident, ResponseLevel.L3)

        opened = result.incident_events[0]
        assert isinstance(opened, ResponseActivated)
        assert opened.supporting_departments == ("TRANSPORT", "MET")
        assert opened.command_roles == {"commander": "EMB", "deputy": "WATER"}
        keys = {task.template_key: task for task in result.tasks}
        assert list(keys) == ["patrol", "close_road", "forecast"]
        assert keys["forecast"].depends_on == (keys["patrol"].task_id,)

    def test_only_a_commander_activates(self) -> None:
        """A duty officer cannot activate a plan."""
        incident = FLOOD

        with pytest.raises(PermissionDenied):
            _activate(incident, actor=DUTY)

    def test_a_closed_incident_is_refused(self) -> None:
        """Nothing is activated on a closed incident."""
        incident = Incident(
            id="i-1", category="NATURAL_DISASTER", type_code="11A03",
            status=IncidentStatus.CLOSED,
        )  # fmt: skip

        with pytest.raises(Conflict):
            _activate(incident)

    def test_another_active_plan_is_refused(self) -> None:
        """One plan per incident."""
        incident = Incident(
            id="i-1", category="NATURAL_DISASTER", type_code="11A03",
            status=IncidentStatus.RESPONDING, plan_code="STORM", plan_version=1,
            level=ResponseLevel.L4,
        )  # fmt: skip

        with pytest.raises(Conflict) as refused:
            _activate(incident)

        assert refused.value.params["plan"] == "STORM"

    def test_the_plan_must_cover_the_incident_type(self) -> None:
        """A flood plan does not cover a traffic accident (12A01)."""
        incident = Incident(
            id="i-1", category="ACCIDENT_DISASTER", type_code="12A01",
            status=IncidentStatus.VERIFIED,
        )  # fmt: skip

        with pytest.raises(ValidationFailed) as refused:
            _activate(incident)

        assert refused.value.params["field"] == "plan_code"

    def test_a_level_below_the_plan_is_refused(self) -> None:
        """A plan that starts at III cannot be activated at IV."""
        plan = plan_from_document(
            {"code": "P", "name_zh": "p", "name_en": "p", "categories": ["11000"],
             "levels": [{"level": "L3", "lead_department": "EMB"}]}
        )  # fmt: skip

        with pytest.raises(ValidationFailed) as refused:
            _activate(FLOOD, ResponseLevel.L4, plan=plan)

        assert refused.value.params["field"] == "level"

    @pytest.mark.parametrize("level", [ResponseLevel.L2, ResponseLevel.L1])
    def test_a_gated_level_needs_a_joint_decision(self, level: ResponseLevel) -> None:
        """II is entered only through an approved decision: activating at II or
        above is refused, naming the gated level."""
        incident = FLOOD

        with pytest.raises(DecisionRequired) as refused:
            _activate(incident, level)

        assert refused.value.params["level"] == "L2"

    def test_the_lowest_level_is_never_gated(self) -> None:
        """A decision point raising to the plan's lowest level does not gate it."""
        plan = plan_from_document(
            {"code": "P", "name_zh": "p", "name_en": "p", "categories": ["11000"],
             "levels": [{"level": "L3", "lead_department": "EMB",
                         "decisions": [{"key": "d", "title_zh": "d", "title_en": "d",
                                        "departments": ["EMB"], "raises_to": "L3"}]}]}
        )  # fmt: skip

        result = _activate(FLOOD, ResponseLevel.L3, plan=plan)

        assert len(result.incident_events) == 1

    def test_activating_again_at_the_same_level_records_nothing(self) -> None:
        """Idempotent: same plan, same level, no events and no tasks."""
        incident = _responding(ResponseLevel.L4)

        result = _activate(incident)

        assert result == Activation([], [])

    def test_dependencies_on_tasks_not_assigned_are_refused(self) -> None:
        """A template depending on a task the plan does not assign up to the level
        is a plan error, reported on depends_on."""
        plan = plan_from_document(
            {"code": "P", "name_zh": "p", "name_en": "p", "categories": ["11000"],
             "levels": [{"level": "L4", "lead_department": "EMB",
                         "tasks": [_task("b", "EMB", 10, depends_on=["a"])]}]}
        )  # fmt: skip

        with pytest.raises(ValidationFailed) as refused:
            _activate(FLOOD, plan=plan)

        assert refused.value.params["field"] == "depends_on"


class TestChangeLevel:
    def test_raising_adds_only_what_the_new_levels_add(self) -> None:
        """Raising IV to III through activate assigns III's tasks only, and a
        dependency on an existing task points at that task's id."""
        incident = _responding(ResponseLevel.L4)
        existing = Existing(
            tasks_by_key={"patrol": "old-1", "close_road": "old-2"},
            report_keys=frozenset({"initial"}),
        )

        result = _activate(
            incident, ResponseLevel.L3, reason="rain rising", existing=existing
        )

        assert result.incident_events == [
            ResponseLevelChanged(
                incident_id="i-1", from_level="L4", to_level="L3",
                lead_department="WATER", supporting_departments=("TRANSPORT", "MET"),
                reason="rain rising",
            )
        ]  # fmt: skip
        assert [(t.template_key, t.depends_on) for t in result.tasks] == [
            ("forecast", ("old-1",))
        ]

    def test_raising_through_a_gate_needs_the_decision(self) -> None:
        """A commander cannot raise to II directly; the approved decision can."""
        incident = _responding(ResponseLevel.L3)
        existing = Existing(
            tasks_by_key={"patrol": "a", "close_road": "b", "forecast": "c"},
            report_keys=frozenset({"initial"}),
        )

        with pytest.raises(DecisionRequired):
            change_level(
                incident, PLAN, ResponseLevel.L2, actor=COMMANDER, reason="worse",
                clock=CLOCK, existing=existing, new_id=_ids(),
            )  # fmt: skip
        result = change_level(
            incident, PLAN, ResponseLevel.L2, actor=DUTY, reason="",
            clock=CLOCK, existing=existing, new_id=_ids(), decision_id="d-1",
            decided_level=ResponseLevel.L2,
        )  # fmt: skip

        changed = result.incident_events[0]
        assert isinstance(changed, ResponseLevelChanged)
        assert (changed.to_level, changed.lead_department, changed.decision_id) == (
            "L2", "EMB", "d-1",
        )  # fmt: skip
        assert [e.obligation for e in result.incident_events[1:]] == ["hourly"]  # type: ignore[attr-defined]
        assert [(t.template_key, t.depends_on) for t in result.tasks] == [
            ("evacuate", ("b",))
        ]

    def test_lowering_adds_nothing(self) -> None:
        """Lowering records the change and assigns no task and no report clock."""
        incident = _responding(ResponseLevel.L2)

        result = change_level(
            incident, PLAN, ResponseLevel.L4, actor=COMMANDER, reason="receding",
            clock=CLOCK, existing=Existing(), new_id=_ids(),
        )  # fmt: skip

        assert [type(event) for event in result.incident_events] == [
            ResponseLevelChanged
        ]
        assert result.tasks == []

    def test_a_change_needs_a_reason(self) -> None:
        """A commander's level change states why."""
        incident = _responding(ResponseLevel.L4)

        with pytest.raises(ValidationFailed) as refused:
            change_level(
                incident, PLAN, ResponseLevel.L3, actor=COMMANDER, reason=" ",
                clock=CLOCK, existing=Existing(), new_id=_ids(),
            )  # fmt: skip

        assert refused.value.params["field"] == "reason"

    def test_only_a_commander_changes_the_level(self) -> None:
        """Without a decision, a duty officer cannot change the level."""
        incident = _responding(ResponseLevel.L4)

        with pytest.raises(PermissionDenied):
            change_level(
                incident, PLAN, ResponseLevel.L3, actor=DUTY, reason="x",
                clock=CLOCK, existing=Existing(), new_id=_ids(),
            )  # fmt: skip

    def test_an_incident_not_responding_is_refused(self) -> None:
        """An incident in recovery has no level to change."""
        incident = Incident(
            id="i-1", category="NATURAL_DISASTER", type_code="11A03",
            status=IncidentStatus.RECOVERING, plan_code="FLOOD", plan_version=1,
            level=ResponseLevel.L4,
        )  # fmt: skip

        with pytest.raises(Conflict):
            change_level(
                incident, PLAN, ResponseLevel.L3, actor=COMMANDER, reason="x",
                clock=CLOCK, existing=Existing(), new_id=_ids(),
            )  # fmt: skip


class TestParseLevel:
    @pytest.mark.parametrize(
        ("text", "level"),
        [
            ("L2", ResponseLevel.L2),
            ("ii", ResponseLevel.L2),
            (" IV ", ResponseLevel.L4),
        ],
    )
    def test_reads_l_and_roman_forms(self, text: str, level: ResponseLevel) -> None:
        """Levels are written L1-L4 or I-IV."""
        given = text

        result = parse_level(given)

        assert result is level

    def test_anything_else_is_refused(self) -> None:
        """V is no level."""
        with pytest.raises(ValidationFailed) as refused:
            parse_level("V")

        assert refused.value.params["field"] == "level"
