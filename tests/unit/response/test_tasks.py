"""Tasks to departments (response.domain.tasks): transitions, who may act, reasons,
dependencies, deviations, checklists and the overdue mark."""

from __future__ import annotations

from dataclasses import replace

import pytest

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor, Event
from muster.response.domain.errors import Conflict
from muster.response.domain.events import (
    ChecklistItemChecked,
    TaskAcknowledged,
    TaskAssigned,
    TaskBlocked,
    TaskCompleted,
    TaskDeclined,
    TaskOverdue,
    TaskReassigned,
    TaskSkipped,
    TaskStarted,
)
from muster.response.domain.tasks import (
    Task,
    TaskStatus,
    act,
    check_item,
    evolve,
    fold,
    overdue,
    reassign,
    skip,
)


def _actor(name: str, department: str, *roles: str) -> Actor:
    return Actor(kind="user", id=name, department=department, roles=frozenset(roles))


DUTY = _actor("t.duty", "TRANSPORT", "duty_officer")
HEAD = _actor("t.head", "TRANSPORT", "head")
OWN_COMMANDER = _actor("t.cmd", "TRANSPORT", "commander")
OBSERVER = _actor("t.obs", "TRANSPORT", "observer")
OTHER_DUTY = _actor("w.duty", "WATER", "duty_officer")
COMMANDER = _actor("e.cmd", "EMB", "commander")
ADMIN = _actor("root", "IT", "admin")

ASSIGNED = TaskAssigned(
    task_id="t-1",
    incident_id="i-1",
    template_key="close_road",
    title_zh="封路",
    title_en="Close road",
    lead_department="TRANSPORT",
    supporting_departments=("PSB",),
    due_at="2026-07-01T09:00:00.000000Z",
    ack_due_at="2026-07-01T08:15:00.000000Z",
    depends_on=(),
    checklist=("Barriers placed", "Detour signed"),
    from_plan=True,
)
BEFORE_DUE = "2026-07-01T08:30:00.000000Z"
AFTER_DUE = "2026-07-01T09:30:00.000000Z"


def _task(status: TaskStatus = TaskStatus.ASSIGNED, **changes: object) -> Task:
    task = fold([ASSIGNED])
    assert task is not None
    return replace(task, status=status, **changes)  # type: ignore[arg-type]


ALLOWED: dict[str, set[TaskStatus]] = {
    "acknowledge": {TaskStatus.ASSIGNED},
    "start": {TaskStatus.ACKNOWLEDGED, TaskStatus.BLOCKED},
    "complete": {TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS},
    "decline": {TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED},
    "block": {TaskStatus.ACKNOWLEDGED, TaskStatus.IN_PROGRESS},
}
RESULT: dict[str, tuple[type[Event], TaskStatus]] = {
    "acknowledge": (TaskAcknowledged, TaskStatus.ACKNOWLEDGED),
    "start": (TaskStarted, TaskStatus.IN_PROGRESS),
    "complete": (TaskCompleted, TaskStatus.DONE),
    "decline": (TaskDeclined, TaskStatus.DECLINED),
    "block": (TaskBlocked, TaskStatus.BLOCKED),
}
TRANSITIONS = [
    (action, status, status in allowed)
    for action, allowed in ALLOWED.items()
    for status in TaskStatus
]


class TestAct:
    @pytest.mark.parametrize(("action", "status", "allowed"), TRANSITIONS)
    def test_every_transition_is_allowed_or_refused(
        self, action: str, status: TaskStatus, allowed: bool
    ) -> None:
        """Each action is allowed only from its documented states; an allowed action
        records one event that moves the task to its next state."""
        task = _task(status)

        if not allowed:
            with pytest.raises(Conflict):
                act(task, action, note="because", actor=DUTY, now=BEFORE_DUE)
            return
        events = act(task, action, note="because", actor=DUTY, now=BEFORE_DUE)

        event_class, next_status = RESULT[action]
        assert [type(event) for event in events] == [event_class]
        after = evolve(task, events[0])
        assert after is not None
        assert after.status is next_status
        assert after.version == task.version + 1

    def test_acknowledgement_names_the_department_and_the_stripped_note(self) -> None:
        """The event carries the task's department and the note without padding."""
        task = _task()

        events = act(task, "acknowledge", note="  on it  ", actor=DUTY, now=BEFORE_DUE)

        assert events == [
            TaskAcknowledged(
                task_id="t-1", incident_id="i-1", department="TRANSPORT", note="on it"
            )
        ]

    @pytest.mark.parametrize(("now", "late"), [(BEFORE_DUE, False), (AFTER_DUE, True)])
    def test_completion_records_whether_it_was_late(self, now: str, late: bool) -> None:
        """Completing after the due time is marked late."""
        task = _task(TaskStatus.IN_PROGRESS)

        events = act(task, "complete", note="", actor=DUTY, now=now)

        assert isinstance(events[0], TaskCompleted)
        assert events[0].late is late

    @pytest.mark.parametrize("actor", [DUTY, HEAD, OWN_COMMANDER, ADMIN])
    def test_the_lead_departments_officers_and_admins_may_act(
        self, actor: Actor
    ) -> None:
        """The duty officer, head or commander of the lead department, or an
        administrator, may act on a task."""
        task = _task()

        events = act(task, "acknowledge", note="", actor=actor, now=BEFORE_DUE)

        assert len(events) == 1

    @pytest.mark.parametrize("actor", [OBSERVER, OTHER_DUTY, COMMANDER])
    def test_anyone_else_is_refused(self, actor: Actor) -> None:
        """An observer of the department, or an officer of another department (even
        a commander), may not act on the task."""
        task = _task()

        with pytest.raises(PermissionDenied):
            act(task, "acknowledge", note="", actor=actor, now=BEFORE_DUE)

    def test_permission_is_checked_before_state(self) -> None:
        """An outsider learns nothing about the task's state: the refusal is about
        permission."""
        task = _task(TaskStatus.DONE)

        with pytest.raises(PermissionDenied):
            act(task, "acknowledge", note="", actor=OTHER_DUTY, now=BEFORE_DUE)

    def test_an_unknown_action_is_refused(self) -> None:
        """Only the five actions exist."""
        task = _task()

        with pytest.raises(ValidationFailed) as refused:
            act(task, "finish", note="", actor=DUTY, now=BEFORE_DUE)

        assert refused.value.params["field"] == "action"

    @pytest.mark.parametrize("action", ["decline", "block"])
    @pytest.mark.parametrize("note", ["", "   "])
    def test_decline_and_block_need_a_reason(self, action: str, note: str) -> None:
        """Declining or blocking without a reason is refused."""
        task = _task(TaskStatus.ACKNOWLEDGED)

        with pytest.raises(ValidationFailed) as refused:
            act(task, action, note=note, actor=DUTY, now=BEFORE_DUE)

        assert refused.value.params["field"] == "note"

    def test_the_reason_is_recorded(self) -> None:
        """A decline carries its reason."""
        task = _task()

        events = act(task, "decline", note=" no crew ", actor=DUTY, now=BEFORE_DUE)

        assert events == [
            TaskDeclined(
                task_id="t-1", incident_id="i-1", department="TRANSPORT",
                reason="no crew",
            )
        ]  # fmt: skip

    def test_a_note_longer_than_2000_characters_is_refused(self) -> None:
        """Notes are bounded."""
        task = _task()

        with pytest.raises(ValidationFailed) as refused:
            act(task, "acknowledge", note="x" * 2001, actor=DUTY, now=BEFORE_DUE)

        assert refused.value.params["field"] == "note"

    def test_open_dependencies_block_the_start(self) -> None:
        """A task cannot start while the tasks it depends on are not done."""
        task = _task(TaskStatus.ACKNOWLEDGED, depends_on=("t-0",))

        with pytest.raises(Conflict) as refused:
            act(
                task, "start", note="", actor=DUTY, now=BEFORE_DUE,
                open_dependencies=("t-0",),
            )  # fmt: skip

        assert refused.value.params["waiting_for"] == ["t-0"]

    def test_done_dependencies_let_it_start(self) -> None:
        """With its dependencies done, the task starts."""
        task = _task(TaskStatus.ACKNOWLEDGED, depends_on=("t-0",))

        events = act(task, "start", note="", actor=DUTY, now=BEFORE_DUE)

        assert [type(event) for event in events] == [TaskStarted]

    def test_starting_again_unblocks(self) -> None:
        """A blocked task resumes by starting again."""
        task = fold(
            [
                ASSIGNED,
                *act(_task(), "acknowledge", note="", actor=DUTY, now=BEFORE_DUE),
            ]
        )
        assert task is not None
        blocked = evolve(
            task,
            act(task, "block", note="flooded", actor=DUTY, now=BEFORE_DUE)[0],
        )
        assert blocked is not None

        events = act(blocked, "start", note="", actor=DUTY, now=BEFORE_DUE)

        after = evolve(blocked, events[0])
        assert after is not None
        assert after.status is TaskStatus.IN_PROGRESS


class TestReassign:
    def test_a_commander_moves_the_task_and_restarts_acknowledgement(self) -> None:
        """Reassigning records the move with a new acknowledgement deadline; the task
        is assigned again, to the new department."""
        task = _task(TaskStatus.DECLINED)

        events = reassign(
            task, "PSB", reason=" crew free ", actor=COMMANDER,
            ack_due_at="2026-07-01T08:45:00.000000Z",
        )  # fmt: skip

        assert events == [
            TaskReassigned(
                task_id="t-1", incident_id="i-1", from_department="TRANSPORT",
                to_department="PSB", reason="crew free",
                ack_due_at="2026-07-01T08:45:00.000000Z",
            )
        ]  # fmt: skip
        after = evolve(task, events[0])
        assert after is not None
        assert (after.status, after.lead_department, after.ack_due_at) == (
            TaskStatus.ASSIGNED, "PSB", "2026-07-01T08:45:00.000000Z",
        )  # fmt: skip

    def test_only_a_commander_reassigns(self) -> None:
        """A duty officer of the department cannot hand its task elsewhere."""
        task = _task()

        with pytest.raises(PermissionDenied):
            reassign(task, "PSB", reason="busy", actor=HEAD, ack_due_at=BEFORE_DUE)

    @pytest.mark.parametrize("status", [TaskStatus.DONE, TaskStatus.SKIPPED])
    def test_a_closed_task_is_not_reassigned(self, status: TaskStatus) -> None:
        """Done and skipped tasks stay where they are."""
        task = _task(status)

        with pytest.raises(Conflict):
            reassign(task, "PSB", reason="x", actor=COMMANDER, ack_due_at=BEFORE_DUE)

    @pytest.mark.parametrize(
        ("department", "reason", "field"),
        [("TRANSPORT", "x", "to_department"), ("PSB", "  ", "reason")],
    )
    def test_the_same_department_or_no_reason_is_refused(
        self, department: str, reason: str, field: str
    ) -> None:
        """A reassignment moves the task somewhere else, for a stated reason."""
        task = _task()

        with pytest.raises(ValidationFailed) as refused:
            reassign(
                task, department, reason=reason, actor=COMMANDER,
                ack_due_at=BEFORE_DUE,
            )  # fmt: skip

        assert refused.value.params["field"] == field


class TestSkip:
    def test_a_commander_skips_with_a_reason(self) -> None:
        """Skipping records the deviation and closes the task."""
        task = _task(TaskStatus.IN_PROGRESS)

        events = skip(task, reason=" road already closed ", actor=COMMANDER)

        assert events == [
            TaskSkipped(task_id="t-1", incident_id="i-1", reason="road already closed")
        ]
        after = evolve(task, events[0])
        assert after is not None
        assert after.status is TaskStatus.SKIPPED

    def test_only_a_commander_skips(self) -> None:
        """The department cannot skip its own task."""
        task = _task()

        with pytest.raises(PermissionDenied):
            skip(task, reason="x", actor=DUTY)

    @pytest.mark.parametrize("status", [TaskStatus.DONE, TaskStatus.SKIPPED])
    def test_a_closed_task_is_not_skipped(self, status: TaskStatus) -> None:
        """Nothing to skip once done or skipped."""
        task = _task(status)

        with pytest.raises(Conflict):
            skip(task, reason="x", actor=COMMANDER)

    def test_a_reason_is_required(self) -> None:
        """A deviation without a reason is refused."""
        task = _task()

        with pytest.raises(ValidationFailed) as refused:
            skip(task, reason=" ", actor=COMMANDER)

        assert refused.value.params["field"] == "reason"


class TestCheckItem:
    def test_ticking_and_unticking_are_recorded(self) -> None:
        """A tick adds the item to the checked set; an untick removes it."""
        task = _task(TaskStatus.IN_PROGRESS)

        ticked = check_item(task, 1, True, actor=DUTY)
        after = evolve(task, ticked[0])
        assert after is not None
        unticked = check_item(after, 1, False, actor=DUTY)

        assert ticked == [
            ChecklistItemChecked(
                task_id="t-1", incident_id="i-1", index=1, checked=True
            )
        ]
        assert after.checked == frozenset({1})
        final = evolve(after, unticked[0])
        assert final is not None
        assert final.checked == frozenset()

    def test_no_change_records_nothing(self) -> None:
        """Ticking a ticked item (or unticking an unticked one) is a no-op."""
        task = _task(checked=frozenset({0}))

        events = check_item(task, 0, True, actor=DUTY) + check_item(
            task, 1, False, actor=DUTY
        )

        assert events == []

    @pytest.mark.parametrize("index", [-1, 2])
    def test_an_item_outside_the_checklist_is_refused(self, index: int) -> None:
        """The index must name an item of the checklist."""
        task = _task()

        with pytest.raises(ValidationFailed) as refused:
            check_item(task, index, True, actor=DUTY)

        assert refused.value.params["field"] == "index"

    def test_only_the_lead_department_ticks(self) -> None:
        """Another department cannot tick the checklist."""
        task = _task()

        with pytest.raises(PermissionDenied):
            check_item(task, 0, True, actor=OTHER_DUTY)


class TestOverdue:
    def test_an_open_task_past_due_is_marked_once(self) -> None:
        """The first overdue mark is recorded; a second decision records nothing."""
        task = _task(TaskStatus.IN_PROGRESS)

        events = overdue(task)
        after = evolve(task, events[0])
        assert after is not None

        assert events == [
            TaskOverdue(
                task_id="t-1", incident_id="i-1", department="TRANSPORT",
                due_at=ASSIGNED.due_at,
            )
        ]  # fmt: skip
        assert after.overdue is True
        assert overdue(after) == []

    @pytest.mark.parametrize("status", [TaskStatus.DONE, TaskStatus.SKIPPED])
    def test_a_closed_task_is_never_overdue(self, status: TaskStatus) -> None:
        """Done and skipped tasks are not marked."""
        task = _task(status)

        events = overdue(task)

        assert events == []


class TestFold:
    def test_events_before_assignment_are_ignored(self) -> None:
        """A stream that does not start with an assignment folds to nothing."""
        stray = TaskSkipped(task_id="t-1", incident_id="i-1", reason="x")

        task = fold([stray])

        assert task is None
