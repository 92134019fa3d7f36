"""Handler tests for every response command, through the bus on a simulated clock.

Each class is one command: given the flood world (tests/response_setup.py), when the
command is handled, then the events in its streams and the read models say what
happened, or the refusal says why and nothing is recorded. SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock, isoformat_utc
from muster.core.errors import (
    ConcurrencyConflict,
    MusterError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.response import queries
from muster.response.domain.commands import (
    ActivatePlan,
    ActOnTask,
    AddTask,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    CheckChecklistItem,
    OpenIncident,
    ProposeDecision,
    ReassignTask,
    RecordIncidentFacts,
    RegisterPlan,
    RunTimers,
    SendSituationReport,
    SetEscalationChain,
    SignDecision,
    SkipTask,
)
from muster.response.domain.errors import Conflict, UnknownPlan
from muster.response.read_models import timers
from muster.settings import Settings
from tests import factories
from tests.response_setup import FLOOD_PLAN, World, build_world, flood_incident

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


# --- helpers ------------------------------------------------------------------------


def _tick(muster: Muster, limit: int = 500) -> int:
    return int(muster.bus.handle(RunTimers(limit=limit), SYSTEM_ACTOR))


def _types(muster: Muster, stream: str) -> list[str]:
    with muster.engine.connect() as conn:
        return [item.envelope.type for item in muster.store.read_stream(conn, stream)]


def _stream(muster: Muster, stream: str) -> list[Any]:
    with muster.engine.connect() as conn:
        return [item.event for item in muster.store.read_stream(conn, stream)]


def _head(muster: Muster) -> int:
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def _task(muster: Muster, incident_id: str, key: str) -> queries.TaskView:
    with muster.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident_id)
    return next(task for task in tasks if task.template_key == key)


def _get_task(muster: Muster, task_id: str) -> queries.TaskView:
    with muster.engine.connect() as conn:
        task = queries.get_task(conn, task_id)
    assert task is not None
    return task


def _incident(muster: Muster, incident_id: str) -> queries.IncidentView:
    with muster.engine.connect() as conn:
        incident = queries.get_incident(conn, incident_id)
    assert incident is not None
    return incident


def _timeline_types(muster: Muster, incident_id: str) -> list[str]:
    with muster.engine.connect() as conn:
        return [item.type for item in queries.incident_timeline(conn, incident_id)]


def _escalations(muster: Muster, incident_id: str) -> list[dict[str, Any]]:
    with muster.engine.connect() as conn:
        entries = queries.incident_timeline(conn, incident_id)
    return [e.data for e in entries if e.type == "response.EscalationStepReached"]


def _timers(muster: Muster, incident_id: str) -> dict[str, str]:
    with muster.engine.connect() as conn:
        rows = conn.execute(
            select(timers.c.id, timers.c.due_at).where(
                timers.c.incident_id == incident_id
            )
        )
        return {row.id: row.due_at for row in rows}


def _act(
    muster: Muster, task_id: str, action: str, actor: Actor, note: str = ""
) -> str:
    return str(
        muster.bus.handle(ActOnTask(task_id=task_id, action=action, note=note), actor)
    )


def _raise_to_l2(muster: Muster, world: World, incident_id: str) -> str:
    decision_id = str(
        muster.bus.handle(
            ProposeDecision(
                incident_id=incident_id,
                title="Raise to level II",
                departments=("EMB", "WATER", "TRANSPORT"),
                raises_to="L2",
                deadline_minutes=30,
            ),
            world.commander,
        )
    )
    for actor in (world.commander, world.water_duty, world.transport_duty):
        muster.bus.handle(
            SignDecision(decision_id=decision_id, position="concur"), actor
        )
    return decision_id


def _at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()[:19]


def _iso(minutes: int) -> str:
    return isoformat_utc(START + timedelta(minutes=minutes))


class TestOpenIncident:
    def test_opens_a_reported_incident(self, sim: Muster, world: World) -> None:
        """Given a commander, when an incident is opened, its stream starts with
        IncidentOpened and the read model shows it reported."""
        incident_id = flood_incident(sim, world, activate=False)

        assert _types(sim, f"incident-{incident_id}") == ["response.IncidentOpened"]
        incident = _incident(sim, incident_id)
        assert (incident.status, incident.type_code) == ("reported", "11A00")
        assert incident.reporting_department == "EMB"

    def test_refuses_a_type_code_outside_the_category(
        self, sim: Muster, world: World
    ) -> None:
        """Given a natural-disaster incident, when its type is an accident code, it
        is refused and nothing is recorded."""
        before = _head(sim)

        with pytest.raises(ValidationFailed, match="not in the category"):
            sim.bus.handle(
                OpenIncident(
                    title="x", category="NATURAL_DISASTER", latitude=28.2,
                    longitude=112.9, type_code="12A00",
                ),
                world.commander,
            )  # fmt: skip

        assert _head(sim) == before


class TestRegisterPlan:
    def test_created_unchanged_then_updated_with_a_bumped_version(
        self, sim: Muster, world: World
    ) -> None:
        """Given the registered flood plan, the same document is unchanged and a
        changed one records version 2."""
        changed = copy.deepcopy(FLOOD_PLAN)
        changed["name_en"] = "Urban flood plan (2026)"

        same = sim.bus.handle(RegisterPlan(document=FLOOD_PLAN), SYSTEM_ACTOR)
        updated = sim.bus.handle(RegisterPlan(document=changed), SYSTEM_ACTOR)

        assert (same, updated) == ("unchanged", "updated")
        recorded = _stream(sim, "plan-FLOOD_URBAN")
        assert [event.version for event in recorded] == [1, 2]
        with sim.engine.connect() as conn:
            (plan,) = queries.list_plans(conn)
        assert (plan.version, plan.name_en) == (2, "Urban flood plan (2026)")

    def test_a_new_plan_is_created(self, sim: Muster, world: World) -> None:
        """Given no plan of that code, registering records PlanRegistered v1."""
        document = copy.deepcopy(FLOOD_PLAN)
        document["code"] = "FLOOD_RURAL"

        outcome = sim.bus.handle(RegisterPlan(document=document), SYSTEM_ACTOR)

        assert outcome == "created"
        assert _types(sim, "plan-FLOOD_RURAL") == ["response.PlanRegistered"]

    def test_unknown_department_is_refused_and_nothing_recorded(
        self, sim: Muster, world: World
    ) -> None:
        """A plan naming a department that does not exist is refused."""
        document = copy.deepcopy(FLOOD_PLAN)
        document["code"] = "FLOOD_BAD"
        document["levels"][0]["tasks"][0]["lead_department"] = "NAVY"

        with pytest.raises(ValidationFailed, match="unknown departments: NAVY"):
            sim.bus.handle(RegisterPlan(document=document), SYSTEM_ACTOR)

        assert _types(sim, "plan-FLOOD_BAD") == []

    def test_a_non_admin_may_not_register(self, sim: Muster, world: World) -> None:
        """A commander is not an administrator: registering a plan is refused."""
        changed = copy.deepcopy(FLOOD_PLAN)
        changed["name_en"] = "Changed"

        with pytest.raises(PermissionDenied, match="admin"):
            sim.bus.handle(RegisterPlan(document=changed), world.commander)

        assert len(_stream(sim, "plan-FLOOD_URBAN")) == 1


class TestSetEscalationChain:
    def test_the_default_chain_applies_to_a_department_without_its_own(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given a "*" chain that first waits 5 minutes, MET (no chain of its own)
        escalates 5 minutes after its deadline, TRANSPORT at its deadline."""
        outcome = sim.bus.handle(
            SetEscalationChain(
                department="*",
                steps=(
                    {"after_minutes": 5, "notify": "head"},
                    {"after_minutes": 7, "notify": "commander"},
                ),
            ),
            SYSTEM_ACTOR,
        )
        incident_id = flood_incident(sim, world)

        for minutes in (15, 20, 25, 32):  # MET's deadline is +20, TRANSPORT's +15
            clock.advance(timedelta(minutes=minutes) - (clock.now() - START))
            _tick(sim)

        assert outcome == "created"
        steps = [
            (e["department"], e["notify_role"], e["next_step_at"])
            for e in _escalations(sim, incident_id)
            if e["department"] in ("TRANSPORT", "MET")
        ]
        # Steps due in the same tick fire in timer-id order: compare per department.
        assert [step for step in steps if step[0] == "TRANSPORT"] == [
            ("TRANSPORT", "duty_officer", _iso(25)),
            ("TRANSPORT", "head", _iso(35)),
        ]
        assert [step for step in steps if step[0] == "MET"] == [
            ("MET", "head", _iso(32)),
            ("MET", "commander", None),
        ]

    def test_invalid_role_is_refused(self, sim: Muster, world: World) -> None:
        """A step that notifies an unknown role is refused; nothing recorded."""
        with pytest.raises(ValidationFailed, match="notify must be one of"):
            sim.bus.handle(
                SetEscalationChain(
                    department="WATER",
                    steps=({"after_minutes": 0, "notify": "mayor"},),
                ),
                SYSTEM_ACTOR,
            )

        assert _types(sim, "chain-WATER") == []

    def test_unknown_department_is_refused(self, sim: Muster, world: World) -> None:
        """A chain for a department that does not exist is refused."""
        with pytest.raises(ValidationFailed, match="NAVY does not exist"):
            sim.bus.handle(
                SetEscalationChain(
                    department="NAVY",
                    steps=({"after_minutes": 0, "notify": "head"},),
                ),
                SYSTEM_ACTOR,
            )

    def test_the_same_chain_is_unchanged(self, sim: Muster, world: World) -> None:
        """Setting TRANSPORT's chain again as it is records nothing."""
        steps = (
            {"after_minutes": 0, "notify": "duty_officer"},
            {"after_minutes": 10, "notify": "head"},
            {"after_minutes": 10, "notify": "commander"},
        )

        outcome = sim.bus.handle(
            SetEscalationChain(department="TRANSPORT", steps=steps), SYSTEM_ACTOR
        )

        assert outcome == "unchanged"
        assert _types(sim, "chain-TRANSPORT") == ["response.EscalationChainSet"]

    def test_a_non_admin_may_not_set_a_chain(self, sim: Muster, world: World) -> None:
        """A commander may not change escalation chains."""
        with pytest.raises(PermissionDenied, match="admin"):
            sim.bus.handle(
                SetEscalationChain(
                    department="WATER",
                    steps=({"after_minutes": 0, "notify": "head"},),
                ),
                world.commander,
            )


class TestChangeIncidentStatus:
    def test_reported_becomes_verified_with_a_type_code(
        self, sim: Muster, world: World
    ) -> None:
        """Given a reported incident, verifying it with a type code records both."""
        incident_id = flood_incident(sim, world, activate=False)

        outcome = sim.bus.handle(
            ChangeIncidentStatus(
                incident_id=incident_id, to_status="verified", type_code="11B00"
            ),
            world.emb_duty,
        )

        assert outcome == "verified"
        *_, last = _stream(sim, f"incident-{incident_id}")
        assert (last.from_status, last.to_status, last.type_code) == (
            "reported", "verified", "11B00",
        )  # fmt: skip
        incident = _incident(sim, incident_id)
        assert (incident.status, incident.type_code) == ("verified", "11B00")

    def test_responding_only_through_a_plan(self, sim: Muster, world: World) -> None:
        """A verified incident cannot be set to responding directly."""
        incident_id = flood_incident(sim, world, activate=False)

        with pytest.raises(Conflict, match="activating a plan"):
            sim.bus.handle(
                ChangeIncidentStatus(incident_id=incident_id, to_status="responding"),
                world.commander,
            )

        assert len(_stream(sim, f"incident-{incident_id}")) == 1

    def test_closing_needs_a_reason(self, sim: Muster, world: World) -> None:
        """Closing without a reason is refused."""
        incident_id = flood_incident(sim, world)

        with pytest.raises(ValidationFailed, match="needs a reason"):
            sim.bus.handle(
                ChangeIncidentStatus(incident_id=incident_id, to_status="closed"),
                world.commander,
            )

        assert _incident(sim, incident_id).status == "responding"

    def test_closing_cancels_every_timer_so_nothing_fires_later(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given a response with task, report and decision timers, closing removes
        them all and a tick two days later records nothing for the incident."""
        incident_id = flood_incident(sim, world)
        sim.bus.handle(
            ProposeDecision(
                incident_id=incident_id, title="Raise", departments=("EMB",),
                raises_to="L2",
            ),
            world.commander,
        )  # fmt: skip
        other = flood_incident(sim, world)
        assert len(_timers(sim, incident_id)) == 8  # 3 x (ack, due), report, decision

        sim.bus.handle(
            ChangeIncidentStatus(
                incident_id=incident_id, to_status="closed", reason="Water receded"
            ),
            world.commander,
        )
        before = _timeline_types(sim, incident_id)
        clock.advance(timedelta(days=2))
        fired = _tick(sim)

        assert _timers(sim, incident_id) == {}
        assert _timeline_types(sim, incident_id) == before
        assert fired > 0  # the other incident's timers still fire
        assert "response.TaskOverdue" in _timeline_types(sim, other)

    def test_a_closed_incident_refuses_activation(
        self, sim: Muster, world: World
    ) -> None:
        """Given a closed incident, activating a plan for it is refused."""
        incident_id = flood_incident(sim, world, activate=False)
        sim.bus.handle(
            ChangeIncidentStatus(
                incident_id=incident_id, to_status="closed", reason="False alarm"
            ),
            world.commander,
        )

        with pytest.raises(Conflict, match="closed"):
            sim.bus.handle(
                ActivatePlan(
                    incident_id=incident_id, plan_code="FLOOD_URBAN", level="L4"
                ),
                world.commander,
            )

        assert _incident(sim, incident_id).plan_code is None


class TestRecordIncidentFacts:
    def test_facts_are_merged_and_the_same_facts_are_unchanged(
        self, sim: Muster, world: World
    ) -> None:
        """Recording facts merges them into the incident; recording the same
        values again records nothing."""
        incident_id = flood_incident(sim, world, activate=False)
        command = RecordIncidentFacts(
            incident_id=incident_id, facts={"depth_cm": "45", "people_trapped": 3}
        )

        first = sim.bus.handle(command, world.emb_duty)
        second = sim.bus.handle(command, world.commander)

        assert (first, second) == ("changed", "unchanged")
        *_, recorded = _stream(sim, f"incident-{incident_id}")
        assert recorded.facts == {"depth_cm": 45, "people_trapped": 3}
        assert _incident(sim, incident_id).facts == {
            "depth_cm": 45, "people_trapped": 3,
        }  # fmt: skip

    def test_a_badly_named_fact_is_refused(self, sim: Muster, world: World) -> None:
        """A fact name must be lower-case letters, digits and underscores."""
        incident_id = flood_incident(sim, world, activate=False)

        with pytest.raises(ValidationFailed, match="fact name"):
            sim.bus.handle(
                RecordIncidentFacts(incident_id=incident_id, facts={"Depth cm": 4}),
                world.commander,
            )

        assert len(_stream(sim, f"incident-{incident_id}")) == 1

    def test_a_closed_incident_refuses_facts(self, sim: Muster, world: World) -> None:
        """Facts about a closed incident are refused."""
        incident_id = flood_incident(sim, world, activate=False)
        sim.bus.handle(
            ChangeIncidentStatus(
                incident_id=incident_id, to_status="closed", reason="False alarm"
            ),
            world.commander,
        )

        with pytest.raises(Conflict, match="closed"):
            sim.bus.handle(
                RecordIncidentFacts(incident_id=incident_id, facts={"depth_cm": 4}),
                world.commander,
            )


class TestActivatePlan:
    def test_activation_records_the_response_tasks_and_report_clock(
        self, sim: Muster, world: World
    ) -> None:
        """Activating at IV records ResponseActivated, ReportDueSet and one task
        stream per L4 task."""
        incident_id = flood_incident(sim, world)

        assert _types(sim, f"incident-{incident_id}") == [
            "response.IncidentOpened",
            "response.ResponseActivated",
            "response.ReportDueSet",
        ]
        road = _task(sim, incident_id, "close_road")
        assert _types(sim, f"task-{road.id}") == ["response.TaskAssigned"]

    def test_a_plan_not_covering_the_type_is_refused(
        self, sim: Muster, world: World
    ) -> None:
        """A traffic-accident incident cannot respond under the flood plan; the
        message names the plan's categories."""
        incident_id = str(
            sim.bus.handle(
                OpenIncident(
                    title="Pile-up",
                    category="ACCIDENT_DISASTER",
                    latitude=28.2,
                    longitude=112.9,
                    type_code="12B00",
                ),
                world.commander,
            )
        )

        with pytest.raises(ValidationFailed, match="covers 11A00, 11B00"):
            sim.bus.handle(
                ActivatePlan(
                    incident_id=incident_id, plan_code="FLOOD_URBAN", level="L4"
                ),
                world.commander,
            )

        assert len(_stream(sim, f"incident-{incident_id}")) == 1

    def test_an_unknown_plan_is_not_found(self, sim: Muster, world: World) -> None:
        """Activating a plan that was never registered is NotFound."""
        incident_id = flood_incident(sim, world, activate=False)

        with pytest.raises(UnknownPlan) as refused:
            sim.bus.handle(
                ActivatePlan(incident_id=incident_id, plan_code="QUAKE", level="L4"),
                world.commander,
            )

        assert isinstance(refused.value, NotFound)


class TestChangeResponseLevel:
    def test_lowering_records_the_change_and_assigns_nothing(
        self, sim: Muster, world: World
    ) -> None:
        """Given L2 reached by an approved decision, lowering to IV records the
        change, hands the lead back to WATER and assigns no task."""
        incident_id = flood_incident(sim, world)
        _raise_to_l2(sim, world, incident_id)
        with sim.engine.connect() as conn:
            tasks_before = len(queries.incident_tasks(conn, incident_id))

        outcome = sim.bus.handle(
            ChangeResponseLevel(
                incident_id=incident_id, level="IV", reason="Water receding"
            ),
            world.commander,
        )

        assert outcome == "changed"
        *_, last = _stream(sim, f"incident-{incident_id}")
        assert (last.from_level, last.to_level, last.decision_id) == ("L2", "L4", None)
        incident = _incident(sim, incident_id)
        assert (incident.level, incident.lead_department) == ("L4", "WATER")
        with sim.engine.connect() as conn:
            assert len(queries.incident_tasks(conn, incident_id)) == tasks_before == 4

    def test_the_same_level_is_unchanged(self, sim: Muster, world: World) -> None:
        """Changing to the level the response is at records nothing."""
        incident_id = flood_incident(sim, world)
        before = _head(sim)

        outcome = sim.bus.handle(
            ChangeResponseLevel(incident_id=incident_id, level="L4", reason="x"),
            world.commander,
        )

        assert outcome == "unchanged"
        assert _head(sim) == before

    def test_a_reason_is_required(self, sim: Muster, world: World) -> None:
        """Lowering without a reason is refused."""
        incident_id = flood_incident(sim, world)
        _raise_to_l2(sim, world, incident_id)

        with pytest.raises(ValidationFailed, match="needs a reason"):
            sim.bus.handle(
                ChangeResponseLevel(incident_id=incident_id, level="L4", reason=" "),
                world.commander,
            )

        assert _incident(sim, incident_id).level == "L2"


class TestAddTask:
    def test_a_commander_adds_a_task_with_its_timers(
        self, sim: Muster, world: World
    ) -> None:
        """An added task is a deviation (from_plan False), lands in WATER's inbox
        and gets acknowledgement and due timers."""
        incident_id = flood_incident(sim, world)

        task_id = str(
            sim.bus.handle(
                AddTask(
                    incident_id=incident_id,
                    title_zh="清淤",
                    title_en="Clear drains",
                    lead_department="WATER",
                    due_minutes=45,
                    ack_minutes=5,
                    checklist=("Grates open",),
                ),
                world.commander,
            )
        )

        (assigned,) = _stream(sim, f"task-{task_id}")
        assert (assigned.from_plan, assigned.template_key) == (False, None)
        with sim.engine.connect() as conn:
            inbox = [task.id for task in queries.department_inbox(conn, "WATER")]
        assert task_id in inbox
        assert _timers(sim, incident_id)[f"ack:{task_id}"].startswith(_at(5))
        assert _timers(sim, incident_id)[f"due:{task_id}"].startswith(_at(45))

    def test_a_duty_officer_may_not_add(self, sim: Muster, world: World) -> None:
        """Adding a task needs the commander role."""
        incident_id = flood_incident(sim, world)

        with pytest.raises(PermissionDenied, match="commander"):
            sim.bus.handle(
                AddTask(
                    incident_id=incident_id, title_zh="清淤", title_en="Clear drains",
                    lead_department="WATER", due_minutes=45,
                ),
                world.water_duty,
            )  # fmt: skip

        with sim.engine.connect() as conn:
            assert len(queries.incident_tasks(conn, incident_id)) == 3


class TestActOnTask:
    def test_start_before_dependencies_are_done_is_refused(
        self, sim: Muster, world: World
    ) -> None:
        """Given L2's evacuation depends on closing the road, it cannot start until
        the road is closed, then it can."""
        incident_id = flood_incident(sim, world)
        _raise_to_l2(sim, world, incident_id)
        evacuate = _task(sim, incident_id, "evacuate")
        road = _task(sim, incident_id, "close_road")
        _act(sim, evacuate.id, "acknowledge", world.emb_duty)

        with pytest.raises(Conflict, match="depends on") as refused:
            _act(sim, evacuate.id, "start", world.emb_duty)
        assert refused.value.params["waiting_for"] == [road.id]
        for action in ("acknowledge", "complete"):
            _act(sim, road.id, action, world.transport_duty)
        status = _act(sim, evacuate.id, "start", world.emb_duty)

        assert status == "in_progress"
        assert _types(sim, f"task-{evacuate.id}") == [
            "response.TaskAssigned",
            "response.TaskAcknowledged",
            "response.TaskStarted",
        ]

    def test_block_then_start_resumes(self, sim: Muster, world: World) -> None:
        """A blocked task starts again when its duty officer starts it."""
        road = _task(sim, flood_incident(sim, world), "close_road")
        _act(sim, road.id, "acknowledge", world.transport_duty)
        _act(sim, road.id, "start", world.transport_duty)

        blocked = _act(sim, road.id, "block", world.transport_duty, "No barriers")
        resumed = _act(sim, road.id, "start", world.transport_duty)

        assert (blocked, resumed) == ("blocked", "in_progress")
        assert _types(sim, f"task-{road.id}")[-2:] == [
            "response.TaskBlocked",
            "response.TaskStarted",
        ]
        assert _get_task(sim, road.id).status == "in_progress"

    def test_completing_after_the_due_time_is_late(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Pumps are due in 30 minutes; completing at 31 records late=True."""
        pumps = _task(sim, flood_incident(sim, world), "pumps")
        _act(sim, pumps.id, "acknowledge", world.water_duty)

        clock.advance(timedelta(minutes=31))
        _act(sim, pumps.id, "complete", world.water_duty)

        *_, completed = _stream(sim, f"task-{pumps.id}")
        assert completed.late is True
        assert _get_task(sim, pumps.id).status == "done"

    def test_completing_in_time_is_not_late(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Completing before the due time records late=False."""
        pumps = _task(sim, flood_incident(sim, world), "pumps")
        _act(sim, pumps.id, "acknowledge", world.water_duty)

        clock.advance(timedelta(minutes=29))
        _act(sim, pumps.id, "complete", world.water_duty)

        *_, completed = _stream(sim, f"task-{pumps.id}")
        assert completed.late is False

    def test_an_unknown_action_is_refused(self, sim: Muster, world: World) -> None:
        """An action outside acknowledge/start/complete/decline/block is refused."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(ValidationFailed, match="unknown action"):
            _act(sim, road.id, "finish", world.transport_duty)

        assert _types(sim, f"task-{road.id}") == ["response.TaskAssigned"]


class TestReassignTask:
    def test_moves_the_task_and_restarts_acknowledgement(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given TRANSPORT's task escalated once, reassigning it to WATER 20 minutes
        in gives a new deadline 15 minutes later and resets the chain."""
        incident_id = flood_incident(sim, world)
        road = _task(sim, incident_id, "close_road")
        clock.advance(timedelta(minutes=15))
        _tick(sim)
        assert _get_task(sim, road.id).escalation_step == 1
        clock.advance(timedelta(minutes=5))

        outcome = sim.bus.handle(
            ReassignTask(task_id=road.id, to_department="WATER", reason="No crews"),
            world.commander,
        )

        assert outcome == "WATER"
        *_, moved = _stream(sim, f"task-{road.id}")
        assert (moved.from_department, moved.to_department) == ("TRANSPORT", "WATER")
        task = _get_task(sim, road.id)
        assert (task.lead_department, task.status) == ("WATER", "assigned")
        assert task.ack_due_at.startswith(_at(35))
        assert (task.escalation_round, task.escalation_step) == (0, 0)
        assert _timers(sim, incident_id)[f"ack:{road.id}"].startswith(_at(35))
        with pytest.raises(PermissionDenied, match="WATER"):
            _act(sim, road.id, "acknowledge", world.transport_duty)
        assert _act(sim, road.id, "acknowledge", world.water_duty) == "acknowledged"

    def test_a_reason_is_required(self, sim: Muster, world: World) -> None:
        """Reassigning without a reason is refused."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(ValidationFailed, match="reason is required"):
            sim.bus.handle(
                ReassignTask(task_id=road.id, to_department="WATER", reason=""),
                world.commander,
            )

        assert _types(sim, f"task-{road.id}") == ["response.TaskAssigned"]

    def test_the_same_department_is_refused(self, sim: Muster, world: World) -> None:
        """Reassigning to the department that already has the task is refused."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(ValidationFailed, match="already with TRANSPORT"):
            sim.bus.handle(
                ReassignTask(task_id=road.id, to_department="TRANSPORT", reason="x"),
                world.commander,
            )

    def test_a_closed_incident_restarts_no_escalation(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given a closed incident, reassigning one of its tasks is refused, so no
        acknowledgement timer comes back to escalate a finished response."""
        incident_id = flood_incident(sim, world)
        road = _task(sim, incident_id, "close_road")
        sim.bus.handle(
            ChangeIncidentStatus(
                incident_id=incident_id, to_status="closed", reason="Water receded"
            ),
            world.commander,
        )

        with pytest.raises(Conflict, match="closed"):
            sim.bus.handle(
                ReassignTask(task_id=road.id, to_department="WATER", reason="x"),
                world.commander,
            )
        clock.advance(timedelta(hours=1))
        _tick(sim)

        assert _timers(sim, incident_id) == {}
        assert _escalations(sim, incident_id) == []


class TestSkipTask:
    def test_skipping_clears_the_task_timers(self, sim: Muster, world: World) -> None:
        """A skipped task leaves no timer and the tick never escalates it."""
        incident_id = flood_incident(sim, world)
        forecast = _task(sim, incident_id, "forecast")

        outcome = sim.bus.handle(
            SkipTask(task_id=forecast.id, reason="MET bulletin covers it"),
            world.commander,
        )

        assert outcome == "skipped"
        assert _types(sim, f"task-{forecast.id}")[-1] == "response.TaskSkipped"
        assert not any(forecast.id in key for key in _timers(sim, incident_id))
        assert _get_task(sim, forecast.id).status == "skipped"

    def test_cannot_skip_twice(self, sim: Muster, world: World) -> None:
        """A skipped task cannot be skipped again."""
        forecast = _task(sim, flood_incident(sim, world), "forecast")
        sim.bus.handle(SkipTask(task_id=forecast.id, reason="x"), world.commander)

        with pytest.raises(Conflict, match="already skipped"):
            sim.bus.handle(SkipTask(task_id=forecast.id, reason="y"), world.commander)

        assert len(_stream(sim, f"task-{forecast.id}")) == 2

    def test_a_duty_officer_may_not_skip(self, sim: Muster, world: World) -> None:
        """Skipping a plan task needs the commander role."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(PermissionDenied, match="commander"):
            sim.bus.handle(SkipTask(task_id=road.id, reason="x"), world.transport_duty)


class TestCheckChecklistItem:
    def test_tick_is_changed_and_tick_again_is_unchanged(
        self, sim: Muster, world: World
    ) -> None:
        """Ticking an item records it once; ticking it again records nothing."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        first = sim.bus.handle(
            CheckChecklistItem(task_id=road.id, index=1), world.transport_duty
        )
        second = sim.bus.handle(
            CheckChecklistItem(task_id=road.id, index=1), world.transport_head
        )

        assert (first, second) == ("changed", "unchanged")
        assert _types(sim, f"task-{road.id}") == [
            "response.TaskAssigned",
            "response.ChecklistItemChecked",
        ]
        assert _get_task(sim, road.id).checked == (1,)

    def test_untick_records_the_change(self, sim: Muster, world: World) -> None:
        """Unticking a ticked item records checked=False."""
        road = _task(sim, flood_incident(sim, world), "close_road")
        sim.bus.handle(
            CheckChecklistItem(task_id=road.id, index=0), world.transport_duty
        )

        sim.bus.handle(
            CheckChecklistItem(task_id=road.id, index=0, checked=False),
            world.transport_duty,
        )

        *_, last = _stream(sim, f"task-{road.id}")
        assert (last.index, last.checked) == (0, False)
        assert _get_task(sim, road.id).checked == ()

    def test_out_of_range_index_is_refused(self, sim: Muster, world: World) -> None:
        """The road task has two items: index 2 is refused."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(ValidationFailed, match="no item 2"):
            sim.bus.handle(
                CheckChecklistItem(task_id=road.id, index=2), world.transport_duty
            )

    def test_another_department_is_refused(self, sim: Muster, world: World) -> None:
        """WATER may not tick TRANSPORT's checklist."""
        road = _task(sim, flood_incident(sim, world), "close_road")

        with pytest.raises(PermissionDenied, match="TRANSPORT"):
            sim.bus.handle(
                CheckChecklistItem(task_id=road.id, index=0), world.water_duty
            )

        assert _get_task(sim, road.id).checked == ()


class TestProposeDecision:
    def _propose(self, sim: Muster, actor: Actor, **fields: Any) -> str:
        values: dict[str, Any] = {
            "title": "Close the riverside market",
            "departments": ("EMB", "WATER", "TRANSPORT"),
        }
        values.update(fields)
        return str(sim.bus.handle(ProposeDecision(**values), actor))

    def test_a_proposal_records_its_deadline_and_timer(
        self, sim: Muster, world: World
    ) -> None:
        """Proposing records DecisionProposed with a deadline and an open view."""
        incident_id = flood_incident(sim, world)

        decision_id = self._propose(
            sim, world.commander, incident_id=incident_id, deadline_minutes=20
        )

        (proposed,) = _stream(sim, f"decision-{decision_id}")
        assert proposed.deadline_at.startswith(_at(20))
        with sim.engine.connect() as conn:
            (view,) = queries.incident_decisions(conn, incident_id)
        assert (view.id, view.outcome) == (decision_id, None)
        assert _timers(sim, incident_id)[f"decision:{decision_id}"].startswith(_at(20))

    def test_unknown_department_is_refused(self, sim: Muster, world: World) -> None:
        """A department that does not exist cannot be asked to sign."""
        incident_id = flood_incident(sim, world)

        with pytest.raises(ValidationFailed, match="unknown departments: NAVY"):
            self._propose(
                sim, world.commander, incident_id=incident_id,
                departments=("EMB", "NAVY"),
            )  # fmt: skip

    def test_veto_outside_the_departments_is_refused(
        self, sim: Muster, world: World
    ) -> None:
        """A veto department must also be among the signers."""
        incident_id = flood_incident(sim, world)

        with pytest.raises(ValidationFailed, match="veto departments must also sign"):
            self._propose(
                sim, world.commander, incident_id=incident_id,
                departments=("EMB", "WATER"), rule="veto", veto=("MET",),
            )  # fmt: skip

    def test_a_duty_officer_may_not_propose(self, sim: Muster, world: World) -> None:
        """Proposing needs the commander role."""
        incident_id = flood_incident(sim, world)

        with pytest.raises(PermissionDenied, match="commander"):
            self._propose(sim, world.water_duty, incident_id=incident_id)

        with sim.engine.connect() as conn:
            assert queries.incident_decisions(conn, incident_id) == []

    def test_majority_of_three_approves_on_two_concur(
        self, sim: Muster, world: World
    ) -> None:
        """Under majority with three departments, the second concurrence approves
        and the silent department is tallied as silent."""
        incident_id = flood_incident(sim, world)
        decision_id = self._propose(
            sim, world.commander, incident_id=incident_id, rule="majority"
        )

        outcomes = [
            sim.bus.handle(
                SignDecision(decision_id=decision_id, position="concur"), actor
            )
            for actor in (world.commander, world.water_duty)
        ]

        assert outcomes == ["open", "approved"]
        *_, closed = _stream(sim, f"decision-{decision_id}")
        assert (closed.outcome, closed.concur, closed.silent) == (
            "approved", ("EMB", "WATER"), ("TRANSPORT",),
        )  # fmt: skip

    def test_veto_under_majority_rejects_on_the_veto_objection(
        self, sim: Muster, world: World
    ) -> None:
        """Under the veto rule, an objection by a veto department rejects at once."""
        incident_id = flood_incident(sim, world)
        decision_id = self._propose(
            sim, world.commander, incident_id=incident_id, rule="veto",
            veto=("WATER",),
        )  # fmt: skip

        outcome = sim.bus.handle(
            SignDecision(decision_id=decision_id, position="object", comment="No"),
            world.water_duty,
        )

        assert outcome == "rejected"


class TestSignDecision:
    def _decision(self, sim: Muster, world: World) -> str:
        incident_id = flood_incident(sim, world)
        return str(
            sim.bus.handle(
                ProposeDecision(
                    incident_id=incident_id,
                    title="Open the spillway",
                    departments=("EMB", "WATER"),
                ),
                world.commander,
            )
        )

    def test_a_signature_is_recorded_for_the_department(
        self, sim: Muster, world: World
    ) -> None:
        """WATER's duty officer signs for WATER; the decision stays open."""
        decision_id = self._decision(sim, world)

        outcome = sim.bus.handle(
            SignDecision(decision_id=decision_id, position="concur", comment="Yes"),
            world.water_duty,
        )

        assert outcome == "open"
        *_, signed = _stream(sim, f"decision-{decision_id}")
        assert (signed.department, signed.position) == ("WATER", "concur")

    def test_a_department_not_named_is_refused(self, sim: Muster, world: World) -> None:
        """TRANSPORT is not among the signers of this decision."""
        decision_id = self._decision(sim, world)

        with pytest.raises(PermissionDenied, match="EMB, WATER"):
            sim.bus.handle(
                SignDecision(decision_id=decision_id, position="concur"),
                world.transport_duty,
            )

        assert len(_stream(sim, f"decision-{decision_id}")) == 1

    def test_signing_twice_is_refused(self, sim: Muster, world: World) -> None:
        """A department signs once."""
        decision_id = self._decision(sim, world)
        sim.bus.handle(
            SignDecision(decision_id=decision_id, position="concur"), world.water_duty
        )

        with pytest.raises(Conflict, match="already signed"):
            sim.bus.handle(
                SignDecision(decision_id=decision_id, position="concur"),
                world.water_duty,
            )

        assert len(_stream(sim, f"decision-{decision_id}")) == 2


class TestSendSituationReport:
    def test_an_unknown_obligation_is_refused(self, sim: Muster, world: World) -> None:
        """A report against an obligation the incident lacks is refused."""
        incident_id = flood_incident(sim, world)

        with pytest.raises(ValidationFailed, match="no reporting obligation final"):
            sim.bus.handle(
                SendSituationReport(
                    incident_id=incident_id, obligation="final",
                    content={"what": "Flooding"},
                ),
                world.water_duty,
            )  # fmt: skip

        with sim.engine.connect() as conn:
            assert queries.sent_reports(conn, incident_id) == []

    def test_a_report_without_obligation_leaves_the_clocks(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """An ad-hoc report is recorded and stored; the initial clock still runs."""
        incident_id = flood_incident(sim, world)
        clock.advance(timedelta(minutes=5))

        sim.bus.handle(
            SendSituationReport(
                incident_id=incident_id, content={"what": "Road flooded"},
                recipient="Province",
            ),
            world.transport_head,
        )  # fmt: skip

        *_, sent = _stream(sim, f"incident-{incident_id}")
        assert (sent.obligation, sent.department, sent.next_due_at) == (
            None, "TRANSPORT", None,
        )  # fmt: skip
        with sim.engine.connect() as conn:
            (report,) = queries.report_clocks(conn, incident_id)
            (stored,) = queries.sent_reports(conn, incident_id)
        assert (report.sent_count, report.due_at) == (0, _iso(30))
        assert stored["recipient"] == "Province"
        assert _timers(sim, incident_id)[f"report:{incident_id}:initial"] == (_iso(30))

    def test_a_user_without_a_department_role_is_refused(
        self, sim: Muster, world: World
    ) -> None:
        """The system actor has no department, an observer no reporting role."""
        incident_id = flood_incident(sim, world)
        observer = factories.user(
            sim, "w.obs", department_code="WATER", roles=("observer",)
        )
        command = SendSituationReport(
            incident_id=incident_id, obligation="initial", content={"what": "x"}
        )

        for actor in (SYSTEM_ACTOR, observer):
            with pytest.raises(PermissionDenied, match="sending a report"):
                sim.bus.handle(command, actor)

        with sim.engine.connect() as conn:
            (report,) = queries.report_clocks(conn, incident_id)
        assert report.sent_count == 0

    def test_a_final_report_after_closing_restarts_no_clock(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given a closed incident, its final report is recorded but sets no
        follow-up clock, so no overdue report fires later."""
        incident_id = flood_incident(sim, world)
        sim.bus.handle(
            ChangeIncidentStatus(
                incident_id=incident_id, to_status="closed", reason="Water receded"
            ),
            world.commander,
        )

        sim.bus.handle(
            SendSituationReport(
                incident_id=incident_id, obligation="initial",
                content={"what": "Final: all roads open"},
            ),
            world.water_duty,
        )  # fmt: skip
        clock.advance(timedelta(hours=3))
        _tick(sim)

        *_, sent = _stream(sim, f"incident-{incident_id}")
        assert sent.next_due_at is None
        assert _timers(sim, incident_id) == {}
        assert "response.ReportOverdue" not in _timeline_types(sim, incident_id)


class TestRunTimers:
    def test_the_limit_is_respected(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given three tasks acknowledged and past due (three due timers), a tick
        with limit 2 fires two, the next tick the third."""
        incident_id = flood_incident(sim, world)
        for key, actor in (
            ("close_road", world.transport_duty),
            ("pumps", world.water_duty),
        ):
            _act(sim, _task(sim, incident_id, key).id, "acknowledge", actor)
        sim.bus.handle(
            SkipTask(task_id=_task(sim, incident_id, "forecast").id, reason="x"),
            world.commander,
        )
        sim.bus.handle(
            AddTask(
                incident_id=incident_id, title_zh="巡查", title_en="Patrol",
                lead_department="WATER", due_minutes=50, ack_minutes=1,
            ),
            world.commander,
        )  # fmt: skip
        clock.advance(timedelta(minutes=1))
        _act(
            sim,
            _task_titled(sim, incident_id, "Patrol"),
            "acknowledge",
            world.water_duty,
        )
        clock.advance(timedelta(minutes=29))
        sim.bus.handle(
            SendSituationReport(
                incident_id=incident_id, obligation="initial", content={"what": "x"}
            ),
            world.water_duty,
        )
        clock.advance(timedelta(minutes=40))  # 08:70: road, pumps, patrol overdue

        first = _tick(sim, limit=2)
        second = _tick(sim, limit=2)
        third = _tick(sim, limit=2)

        assert (first, second, third) == (2, 1, 0)
        assert _timeline_types(sim, incident_id).count("response.TaskOverdue") == 3

    def test_a_stale_timer_for_a_completed_task_fires_nothing(
        self, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given a leftover acknowledgement timer of a done task (as a partial
        rebuild may leave), the tick records nothing for it."""
        incident_id = flood_incident(sim, world)
        road = _task(sim, incident_id, "close_road")
        for action in ("acknowledge", "complete"):
            _act(sim, road.id, action, world.transport_duty)
        with sim.engine.begin() as conn:
            conn.execute(
                insert(timers),
                {
                    "id": f"ack:{road.id}", "kind": "ack", "subject_id": road.id,
                    "incident_id": incident_id, "due_at": _iso(5),
                    "round": 0, "step": 0,
                },
            )  # fmt: skip
        before = _types(sim, f"task-{road.id}")
        clock.advance(timedelta(minutes=6))  # before any real deadline (pumps: +10)

        fired = _tick(sim)

        assert fired == 0
        assert _types(sim, f"task-{road.id}") == before
        assert [e["task_id"] for e in _escalations(sim, incident_id)] == []

    def test_nothing_due_fires_nothing(self, sim: Muster, world: World) -> None:
        """A tick before any deadline records nothing."""
        flood_incident(sim, world)
        before = _head(sim)

        assert _tick(sim) == 0
        assert _head(sim) == before


def _task_titled(muster: Muster, incident_id: str, title_en: str) -> str:
    with muster.engine.connect() as conn:
        tasks = queries.incident_tasks(conn, incident_id)
    return next(task.id for task in tasks if task.title_en == title_en)


@pytest.mark.postgres
class TestConcurrentAcknowledgement:
    def test_two_threads_acknowledging_record_one_acknowledgement(
        self, settings: Settings, sim: Muster, world: World, clock: SimulatedClock
    ) -> None:
        """Given two duty officers acknowledging the same task at once (own buses,
        real threads), exactly one TaskAcknowledged is recorded and the other
        gets a concurrency or state conflict."""
        road = _task(sim, flood_incident(sim, world), "close_road")
        start = threading.Barrier(2)
        outcomes: list[object] = []

        def acknowledge(actor: Actor) -> None:
            own = bootstrap(settings, clock=clock)
            try:
                start.wait(timeout=30)
                outcomes.append(
                    own.bus.handle(
                        ActOnTask(task_id=road.id, action="acknowledge"), actor
                    )
                )
            except MusterError as error:
                outcomes.append(error)
            finally:
                own.engine.dispose()

        threads = [
            threading.Thread(target=acknowledge, args=(actor,))
            for actor in (world.transport_duty, world.transport_head)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert _types(sim, f"task-{road.id}").count("response.TaskAcknowledged") == 1
        (won,) = [item for item in outcomes if isinstance(item, str)]
        (refused,) = [item for item in outcomes if not isinstance(item, str)]
        assert won == "acknowledged"
        assert isinstance(refused, ConcurrencyConflict | Conflict)
        assert _get_task(sim, road.id).status == "acknowledged"


def test_every_command_has_a_test_class() -> None:
    """Every response command has a class of handler tests in this module."""
    from muster.response.domain import commands

    names = {
        name
        for name, value in vars(commands).items()
        if isinstance(value, type)
        and issubclass(value, commands.Command)
        and value is not commands.Command
    }
    classes = {
        name.removeprefix("Test") for name in globals() if name.startswith("Test")
    }

    assert names - classes == set()
