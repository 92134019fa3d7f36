"""Escalation chains (response.domain.escalation): positions, waits, firing, and
chains read from configuration."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from muster.core.clock import isoformat_utc
from muster.core.errors import ValidationFailed
from muster.response.domain.escalation import (
    Chain,
    Step,
    chain_from_data,
    default_chain,
    fire,
    first_step_at,
    next_position,
    wait_before,
)
from muster.response.domain.events import (
    DepartmentMarkedUnresponsive,
    EscalationStepReached,
)
from muster.response.domain.tasks import Task, TaskStatus

CHAIN = Chain(
    department="TRANSPORT",
    steps=(Step(0, "duty_officer"), Step(10, "head"), Step(5, "commander")),
    repeat=2,
    repeat_after=30,
)
SCHEDULED = datetime(2026, 7, 1, 8, 15, tzinfo=UTC)
TASK = Task(
    id="t-1", incident_id="i-1", lead_department="TRANSPORT",
    status=TaskStatus.ASSIGNED, due_at="2026-07-01T09:00:00.000000Z",
    ack_due_at="2026-07-01T08:15:00.000000Z", depends_on=(), checklist=(),
    checked=frozenset(), overdue=False, version=1,
)  # fmt: skip


def _resolve(department: str, role: str) -> tuple[str, tuple[str, ...]]:
    if role == "commander":  # TRANSPORT has no commander: EMB's answers
        return "EMB", ("e.cmd",)
    return department, (f"{department.lower()}.{role}",)


def _fire(task: Task, fired: tuple[int, int]) -> list[Any]:
    return fire(
        task, CHAIN, fired=fired, scheduled_at=SCHEDULED, resolve=_resolve,
        isoformat=isoformat_utc,
    )  # fmt: skip


class TestPositions:
    @pytest.mark.parametrize(
        ("fired", "following"),
        [
            ((0, 0), (1, 1)),
            ((1, 1), (1, 2)),
            ((1, 2), (1, 3)),
            ((1, 3), (2, 1)),
            ((2, 3), None),
        ],
    )
    def test_next_position_walks_steps_then_rounds(
        self, fired: tuple[int, int], following: tuple[int, int] | None
    ) -> None:
        """Steps run in order; after the last step the next round starts, until the
        last step of the last round."""
        result = next_position(CHAIN, *fired)

        assert result == following

    @pytest.mark.parametrize(
        ("position", "minutes"),
        [((1, 1), 0), ((1, 2), 10), ((1, 3), 5), ((2, 1), 30), ((2, 2), 10)],
    )
    def test_wait_before_uses_repeat_after_between_rounds(
        self, position: tuple[int, int], minutes: int
    ) -> None:
        """Each step waits its own minutes, except the first step of a repeated
        round, which waits repeat_after."""
        result = wait_before(CHAIN, *position)

        assert result == minutes

    def test_the_first_step_counts_from_the_acknowledgement_deadline(self) -> None:
        """A first step with a wait fires that long after the deadline."""
        chain = replace(CHAIN, steps=(Step(3, "duty_officer"),))

        result = first_step_at(chain, SCHEDULED)

        assert result == SCHEDULED + timedelta(minutes=3)

    def test_the_default_chain_goes_duty_officer_head_commander(self) -> None:
        """Without a configured chain: duty officer at once, head, then commander."""
        chain = default_chain("MET")

        roles = [(step.after_minutes, step.notify) for step in chain.steps]

        assert roles == [(0, "duty_officer"), (10, "head"), (10, "commander")]
        assert chain.repeat == 1


class TestFire:
    def test_the_first_step_notifies_and_schedules_the_next(self) -> None:
        """From no step fired, step 1 of round 1 notifies the duty officer; the next
        step is due its wait after this one's scheduled time."""
        task = TASK

        events = _fire(task, (0, 0))

        assert events == [
            EscalationStepReached(
                task_id="t-1", incident_id="i-1", department="TRANSPORT", round=1,
                step=1, notify_role="duty_officer", notify_department="TRANSPORT",
                recipients=("transport.duty_officer",),
                next_step_at="2026-07-01T08:25:00.000000Z",
            )
        ]  # fmt: skip

    def test_a_role_nobody_holds_is_resolved_upwards(self) -> None:
        """The step names the department actually notified."""
        task = TASK

        events = _fire(task, (1, 2))

        assert isinstance(events[0], EscalationStepReached)
        assert (events[0].notify_department, events[0].recipients) == (
            "EMB", ("e.cmd",),
        )  # fmt: skip
        assert events[0].next_step_at == "2026-07-01T08:45:00.000000Z"

    def test_the_schedule_follows_the_scheduled_time_not_now(self) -> None:
        """A step that fires late (after a restart) still schedules the next one
        from when it was due, so the chain keeps its original timetable."""
        late = SCHEDULED - timedelta(hours=2)

        events = fire(
            TASK, CHAIN, fired=(0, 0), scheduled_at=late, resolve=_resolve,
            isoformat=isoformat_utc,
        )  # fmt: skip

        assert events[0].next_step_at == "2026-07-01T06:25:00.000000Z"

    def test_the_last_step_of_the_last_round_marks_the_department(self) -> None:
        """When the chain runs out, the department is marked unresponsive and no
        further step is scheduled."""
        task = TASK

        events = _fire(task, (2, 2))

        assert [type(event) for event in events] == [
            EscalationStepReached, DepartmentMarkedUnresponsive,
        ]  # fmt: skip
        assert events[0].next_step_at is None
        assert (events[0].round, events[0].step) == (2, 3)
        assert events[1] == DepartmentMarkedUnresponsive(
            incident_id="i-1", department="TRANSPORT", task_id="t-1"
        )

    def test_the_last_step_of_an_earlier_round_does_not_mark(self) -> None:
        """The end of round 1 of 2 starts round 2 after repeat_after."""
        task = TASK

        events = _fire(task, (1, 2))

        assert [type(event) for event in events] == [EscalationStepReached]

    @pytest.mark.parametrize(
        "status",
        [status for status in TaskStatus if status is not TaskStatus.ASSIGNED],
    )
    def test_nothing_fires_once_acknowledged_or_otherwise_moved_on(
        self, status: TaskStatus
    ) -> None:
        """Only an unacknowledged (assigned) task escalates."""
        task = replace(TASK, status=status)

        events = _fire(task, (1, 1))

        assert events == []

    def test_nothing_fires_past_the_end_of_the_chain(self) -> None:
        """A position beyond the chain (it was shortened) fires nothing."""
        task = TASK

        events = _fire(task, (2, 3))

        assert events == []


class TestChainFromData:
    def test_builds_a_checked_chain(self) -> None:
        """Valid steps become a chain with its repeat settings."""
        steps = [{"after_minutes": 0, "notify": "duty_officer"},
                 {"after_minutes": 15, "notify": "head"}]  # fmt: skip

        chain = chain_from_data("WATER", steps, 3, 20)

        assert chain == Chain(
            "WATER", (Step(0, "duty_officer"), Step(15, "head")), 3, 20
        )

    @pytest.mark.parametrize(
        ("steps", "repeat", "repeat_after", "field"),
        [
            ([], 1, 10, "steps"),
            ([{"after_minutes": 1, "notify": "head"}] * 11, 1, 10, "steps"),
            ([{"after_minutes": 1, "notify": "head"}], 0, 10, "repeat"),
            ([{"after_minutes": 1, "notify": "head"}], 11, 10, "repeat"),
            ([{"after_minutes": 1, "notify": "mayor"}], 1, 10, "steps"),
            ([{"after_minutes": 1}], 1, 10, "steps"),
            ([{"after_minutes": -1, "notify": "head"}], 1, 10, "steps"),
            ([{"after_minutes": 1.5, "notify": "head"}], 1, 10, "steps"),
            ([{"after_minutes": "5", "notify": "head"}], 1, 10, "steps"),
            ([{"after_minutes": True, "notify": "head"}], 1, 10, "steps"),
        ],
    )
    def test_malformed_chains_are_refused(
        self, steps: list[dict[str, Any]], repeat: int, repeat_after: int, field: str
    ) -> None:
        """1-10 steps, each notifying a known role after whole non-negative minutes,
        run 1-10 times."""
        given = steps

        with pytest.raises(ValidationFailed) as refused:
            chain_from_data("WATER", given, repeat, repeat_after)

        assert refused.value.params["field"] == field

    def test_repeat_after_must_be_at_least_a_minute(self) -> None:
        """Rounds cannot follow each other instantly."""
        steps = [{"after_minutes": 0, "notify": "head"}]

        with pytest.raises(ValidationFailed):
            chain_from_data("WATER", steps, 2, 0)
