"""Response flows through the bus on a simulated clock: plans, tasks, escalation,
decisions and reports, on SQLite and PostgreSQL. No sleeps: the clock is moved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.errors import ConcurrencyConflict, PermissionDenied, ValidationFailed
from muster.core.messages import SYSTEM_ACTOR
from muster.response import queries
from muster.response.domain.commands import (
    ActivatePlan,
    ActOnTask,
    ChangeResponseLevel,
    ProposeDecision,
    RecordIncidentFacts,
    RunTimers,
    SendSituationReport,
    SignDecision,
)
from muster.response.domain.errors import Conflict, DecisionRequired
from muster.settings import Settings
from tests.response_setup import World, build_world, flood_incident

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock at 08:00 UTC."""
    return SimulatedClock(START)


@pytest.fixture
def sim(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment driven by the simulated clock."""
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def world(sim: Muster) -> World:
    """Return the response world on the simulated deployment."""
    return build_world(sim)


def _tick(muster: Muster) -> int:
    return int(muster.bus.handle(RunTimers(), SYSTEM_ACTOR))


def _task(muster: Muster, incident_id: str, key: str) -> queries.TaskView:
    with muster.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident_id)
    return next(task for task in tasks if task.template_key == key)


def _timeline_types(muster: Muster, incident_id: str) -> list[str]:
    with muster.engine.connect() as conn:
        return [item.type for item in queries.incident_timeline(conn, incident_id)]


def _escalations(muster: Muster, incident_id: str) -> list[dict[str, object]]:
    with muster.engine.connect() as conn:
        entries = queries.incident_timeline(conn, incident_id)
    return [e.data for e in entries if e.type == "response.EscalationStepReached"]


class TestActivation:
    def test_activation_assigns_the_plan_tasks_with_deadlines(
        self, sim: Muster, world: World
    ) -> None:
        """Given a flood incident, when the plan is activated at IV, the level's tasks
        go to their lead departments with deadlines and the report clock starts."""
        incident_id = flood_incident(sim, world)

        with sim.engine.connect() as conn:
            incident = queries.get_incident(conn, incident_id)
            tasks = queries.incident_tasks(conn, incident_id)
            clocks = queries.report_clocks(conn, incident_id)
        assert incident is not None
        assert (incident.status, incident.level, incident.lead_department) == (
            "responding", "L4", "WATER",
        )  # fmt: skip
        assert incident.supporting_departments == ("TRANSPORT",)
        assert {t.template_key: t.lead_department for t in tasks} == {
            "close_road": "TRANSPORT", "pumps": "WATER", "forecast": "MET",
        }  # fmt: skip
        road = _task(sim, incident_id, "close_road")
        assert road.ack_due_at.startswith("2026-07-01T08:15:00")
        assert road.due_at.startswith("2026-07-01T09:00:00")
        assert [c.obligation for c in clocks] == ["initial"]
        assert clocks[0].due_at is not None
        assert clocks[0].due_at.startswith("2026-07-01T08:30:00")

    def test_activating_again_at_the_same_level_records_nothing(
        self, sim: Muster, world: World
    ) -> None:
        """Given an active plan, when activated again identically, nothing changes."""
        incident_id = flood_incident(sim, world)
        before = _timeline_types(sim, incident_id)

        outcome = sim.bus.handle(
            ActivatePlan(incident_id=incident_id, plan_code="FLOOD_URBAN", level="IV"),
            world.commander,
        )

        assert outcome == "unchanged"
        assert _timeline_types(sim, incident_id) == before

    def test_a_duty_officer_may_not_activate_a_plan(
        self, sim: Muster, world: World
    ) -> None:
        """Only a commander activates; the refusal says so."""
        incident_id = flood_incident(sim, world, activate=False)

        with pytest.raises(PermissionDenied, match="commander"):
            sim.bus.handle(
                ActivatePlan(
                    incident_id=incident_id, plan_code="FLOOD_URBAN", level="L4"
                ),
                world.transport_duty,
            )


class TestTasks:
    def test_the_duty_officer_acknowledges_starts_and_completes(
        self, sim: Muster, world: World
    ) -> None:
        """Given a task, the lead department's duty officer moves it to done."""
        incident_id = flood_incident(sim, world)
        road = _task(sim, incident_id, "close_road")

        for action in ("acknowledge", "start", "complete"):
            sim.bus.handle(
                ActOnTask(task_id=road.id, action=action), world.transport_duty
            )

        assert _task(sim, incident_id, "close_road").status == "done"

    def test_another_department_cannot_act_on_the_task(
        self, sim: Muster, world: World
    ) -> None:
        """The water bureau cannot acknowledge the transport bureau's task."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(PermissionDenied, match="TRANSPORT"):
            sim.bus.handle(
                ActOnTask(task_id=road.id, action="acknowledge"), world.water_duty
            )

    def test_two_users_acting_on_the_same_version_one_gets_a_conflict(
        self, sim: Muster, world: World
    ) -> None:
        """Given two users who saw version 1, the second gets a clear conflict."""
        road = _task(sim, flood_incident(sim, world), "close_road")
        sim.bus.handle(
            ActOnTask(task_id=road.id, action="acknowledge", expected_version=1),
            world.transport_duty,
        )

        with pytest.raises(ConcurrencyConflict, match="changed since you saw it"):
            sim.bus.handle(
                ActOnTask(task_id=road.id, action="acknowledge", expected_version=1),
                world.transport_head,
            )
        with pytest.raises(Conflict, match="it is acknowledged"):
            sim.bus.handle(
                ActOnTask(task_id=road.id, action="acknowledge"), world.transport_head
            )

    def test_decline_needs_a_reason(self, sim: Muster, world: World) -> None:
        """Declining without a reason is refused."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(Exception, match="reason is required"):
            sim.bus.handle(
                ActOnTask(task_id=road.id, action="decline"), world.transport_duty
            )


class TestEscalation:
    def test_unacknowledged_task_escalates_duty_head_commander_then_unresponsive(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given no acknowledgement, the chain notifies duty officer at +15, head at
        +25, the commander at +35, and marks the department unresponsive."""
        incident_id = flood_incident(sim, world)

        clock.advance(timedelta(minutes=14, seconds=59))
        _tick(sim)
        assert [
            e for e in _escalations(sim, incident_id) if e["department"] == "TRANSPORT"
        ] == []
        for minutes in (1, 10, 10):
            clock.advance(timedelta(minutes=minutes))
            _tick(sim)

        steps = [
            (e["department"], e["notify_role"], e["notify_department"], e["recipients"])
            for e in _escalations(sim, incident_id)
            if e["department"] == "TRANSPORT"
        ]
        assert steps == [
            ("TRANSPORT", "duty_officer", "TRANSPORT", [world.transport_duty.id]),
            ("TRANSPORT", "head", "TRANSPORT", [world.transport_head.id]),
            ("TRANSPORT", "commander", "EMB", [world.commander.id]),
        ]
        with sim.engine.connect() as conn:
            assert "TRANSPORT" in queries.unresponsive_departments(conn, incident_id)

    def test_acknowledging_just_before_a_step_stops_the_chain(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given the first step fired, an acknowledgement a second before the next
        step stops the chain."""
        incident_id = flood_incident(sim, world)
        road = _task(sim, incident_id, "close_road")
        clock.advance(timedelta(minutes=15))
        _tick(sim)
        clock.advance(timedelta(minutes=9, seconds=59))
        sim.bus.handle(
            ActOnTask(task_id=road.id, action="acknowledge"), world.transport_duty
        )

        clock.advance(timedelta(hours=2))
        _tick(sim)

        roles = [
            e["notify_role"]
            for e in _escalations(sim, incident_id)
            if e["task_id"] == road.id
        ]
        assert roles == ["duty_officer"]

    def test_restart_mid_chain_resumes_on_the_original_schedule(
        self, settings: Settings, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given the first step fired, when Muster restarts 12 minutes later, the
        next tick fires the head step (due at +25) and nothing twice."""
        incident_id = flood_incident(sim, world)
        clock.advance(timedelta(minutes=15))
        _tick(sim)
        sim.engine.dispose()

        clock.advance(timedelta(minutes=12))
        restarted = bootstrap(settings, clock=clock)
        try:
            _tick(restarted)
            _tick(restarted)
            steps = [
                (e["notify_role"], e["round"], e["step"])
                for e in _escalations(restarted, incident_id)
                if e["department"] == "TRANSPORT"
            ]
        finally:
            restarted.engine.dispose()
        assert steps == [("duty_officer", 1, 1), ("head", 1, 2)]

    def test_repeat_limit_ends_the_chain(
        self, settings: Settings, clock: SimulatedClock
    ) -> None:
        """Given a chain repeated twice, six steps fire and then nothing more."""
        app = bootstrap(settings, clock=clock)
        try:
            world = build_world(app, transport_repeat=2)
            incident_id = flood_incident(app, world)
            for _ in range(20):
                clock.advance(timedelta(minutes=5))
                _tick(app)
            steps = [
                (e["round"], e["step"])
                for e in _escalations(app, incident_id)
                if e["department"] == "TRANSPORT"
            ]
            marks = _timeline_types(app, incident_id).count(
                "response.DepartmentMarkedUnresponsive"
            )
        finally:
            app.engine.dispose()
        assert steps == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
        assert marks >= 1

    def test_department_without_a_duty_officer_escalates_to_its_parent(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given MET has nobody on duty, its first step notifies EMB's duty officer."""
        incident_id = flood_incident(sim, world)

        clock.advance(timedelta(minutes=20))
        _tick(sim)

        met = [e for e in _escalations(sim, incident_id) if e["department"] == "MET"]
        assert [(e["notify_department"], e["recipients"]) for e in met] == [
            ("EMB", [world.emb_duty.id])
        ]

    def test_overdue_task_is_recorded_once(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given pumps were acknowledged but not done by 30 minutes, it is overdue."""
        incident_id = flood_incident(sim, world)
        pumps = _task(sim, incident_id, "pumps")
        sim.bus.handle(
            ActOnTask(task_id=pumps.id, action="acknowledge"), world.water_duty
        )

        clock.advance(timedelta(minutes=31))
        _tick(sim)
        _tick(sim)

        assert _task(sim, incident_id, "pumps").overdue is True
        assert _timeline_types(sim, incident_id).count("response.TaskOverdue") == 1


class TestDecisions:
    def _propose(self, sim: Muster, world: World, incident_id: str) -> str:
        return str(
            sim.bus.handle(
                ProposeDecision(
                    incident_id=incident_id,
                    title="Raise to level II",
                    departments=("EMB", "WATER", "TRANSPORT"),
                    rule="all",
                    raises_to="L2",
                    deadline_minutes=30,
                ),
                world.commander,
            )
        )

    def test_level_ii_needs_the_joint_decision(self, sim: Muster, world: World) -> None:
        """A commander cannot raise to II directly: the plan requires concurrence."""
        incident_id = flood_incident(sim, world)

        with pytest.raises(DecisionRequired, match="joint decision"):
            sim.bus.handle(
                ChangeResponseLevel(incident_id=incident_id, level="L2", reason="x"),
                world.commander,
            )

    def test_all_concur_raises_the_level_and_assigns_level_ii_tasks(
        self, sim: Muster, world: World
    ) -> None:
        """When every named department concurs, the level becomes II."""
        incident_id = flood_incident(sim, world)
        decision_id = self._propose(sim, world, incident_id)

        outcomes = [
            sim.bus.handle(
                SignDecision(decision_id=decision_id, position="concur"), actor
            )
            for actor in (world.commander, world.water_duty, world.transport_duty)
        ]

        assert outcomes == ["open", "open", "approved"]
        with sim.engine.connect() as conn:
            incident = queries.get_incident(conn, incident_id)
        assert incident is not None
        assert (incident.level, incident.lead_department) == ("L2", "EMB")
        evacuate = _task(sim, incident_id, "evacuate")
        assert evacuate.depends_on == (_task(sim, incident_id, "close_road").id,)

    def test_an_objection_rejects_and_the_level_stays(
        self, sim: Muster, world: World
    ) -> None:
        """Under rule all, one objection rejects the proposal."""
        incident_id = flood_incident(sim, world)
        decision_id = self._propose(sim, world, incident_id)

        outcome = sim.bus.handle(
            SignDecision(
                decision_id=decision_id, position="object", comment="Water receding"
            ),
            world.water_duty,
        )

        assert outcome == "rejected"
        with sim.engine.connect() as conn:
            incident = queries.get_incident(conn, incident_id)
        assert incident is not None
        assert incident.level == "L4"
        with pytest.raises(Conflict, match="closed"):
            sim.bus.handle(
                SignDecision(decision_id=decision_id, position="concur"),
                world.transport_duty,
            )

    def test_an_unsigned_decision_expires_at_its_deadline(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given silence, the decision closes as expired when its deadline passes."""
        incident_id = flood_incident(sim, world)
        self._propose(sim, world, incident_id)

        clock.advance(timedelta(minutes=31))
        _tick(sim)

        with sim.engine.connect() as conn:
            (decision,) = queries.incident_decisions(conn, incident_id)
        assert decision.outcome == "expired"


class TestReports:
    def test_missed_initial_report_is_overdue_and_sending_restarts_the_clock(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given no report in 30 minutes, it is overdue; a report then sets the
        follow-up due two hours later."""
        incident_id = flood_incident(sim, world)
        clock.advance(timedelta(minutes=31))
        _tick(sim)

        sim.bus.handle(
            SendSituationReport(
                incident_id=incident_id,
                obligation="initial",
                content={"what": "Riverside road flooded", "measures": "Pumps on"},
            ),
            world.water_duty,
        )

        with sim.engine.connect() as conn:
            (report,) = queries.report_clocks(conn, incident_id)
        assert (report.overdue_count, report.sent_count) == (1, 1)
        assert report.due_at is not None
        assert report.due_at.startswith("2026-07-01T10:31:00")


class TestFacts:
    def test_facts_drive_the_plan_suggestion_and_are_merged(
        self, sim: Muster, world: World
    ) -> None:
        """Given an incident, when facts are recorded, they merge and a repeat of the
        same facts records nothing."""
        incident_id = flood_incident(sim, world, activate=False)

        first = sim.bus.handle(
            RecordIncidentFacts(incident_id=incident_id, facts={"rain_24h_mm": "120"}),
            world.emb_duty,
        )
        again = sim.bus.handle(
            RecordIncidentFacts(incident_id=incident_id, facts={"rain_24h_mm": 120}),
            world.emb_duty,
        )
        sim.bus.handle(
            RecordIncidentFacts(incident_id=incident_id, facts={"deaths": 0}),
            world.commander,
        )

        assert (first, again) == ("changed", "unchanged")
        with sim.engine.connect() as conn:
            incident = queries.get_incident(conn, incident_id)
        assert incident is not None
        assert incident.facts == {"rain_24h_mm": 120, "deaths": 0}

    def test_bad_fact_names_and_observers_are_refused(
        self, sim: Muster, world: World
    ) -> None:
        """A fact name must be snake_case; an observer may not record facts."""
        incident_id = flood_incident(sim, world, activate=False)

        with pytest.raises(ValidationFailed, match="lower-case"):
            sim.bus.handle(
                RecordIncidentFacts(incident_id=incident_id, facts={"Rain mm": 1}),
                world.commander,
            )
        with pytest.raises(PermissionDenied):
            sim.bus.handle(
                RecordIncidentFacts(incident_id=incident_id, facts={"deaths": 1}),
                world.transport_head,
            )
