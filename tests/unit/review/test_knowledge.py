"""What a department knew, folded from hand-made log records (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.errors import PermissionDenied
from muster.review.domain import knowledge as k
from muster.review.domain import knowledge_items as items
from muster.review.domain.metrics import LogRecord

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _rec(seq: int, minute: int, type_: str, **data: Any) -> LogRecord:
    return LogRecord(seq, type_, _at(minute), None, data)


def _world() -> list[LogRecord]:
    return [
        _rec(1, -60, k.DEPARTMENT_REGISTERED, code="TRANSPORT", name_zh="交通局",
             name_en="Transport Bureau"),
        _rec(2, -60, k.USER_REGISTERED, user_id="u-t", department_code="TRANSPORT"),
        _rec(3, -60, k.USER_REGISTERED, user_id="u-w", department_code="WATER"),
    ]  # fmt: skip


def _assigned(seq: int, minute: int, task: str, lead: str, **extra: Any) -> LogRecord:
    return _rec(
        seq, minute, k.TASK_ASSIGNED, task_id=task, incident_id="I1",
        title_zh="封路", title_en="Close road", lead_department=lead,
        supporting_departments=extra.pop("supporting", []), due_at="D", ack_due_at="A",
        **extra,
    )  # fmt: skip


def _fold(records: list[LogRecord], minute: int, **kwargs: Any) -> items.Knowledge:
    return k.fold_knowledge(
        [*_world(), *records], department="TRANSPORT", at=_at(minute), **kwargs
    )


class TestTasks:
    def test_given_a_task_acknowledged_then_completed_when_folded_between_then_it_stands_acknowledged(  # noqa: E501
        self,
    ) -> None:
        """A task assigned to the department shows the status it had at the moment,
        and the seqs of the events that told it so far."""
        records = [
            _assigned(10, 0, "t1", "TRANSPORT"),
            _rec(11, 7, "response.TaskAcknowledged", task_id="t1", incident_id="I1"),
            _rec(12, 45, "response.TaskCompleted", task_id="t1", incident_id="I1"),
        ]

        at_20 = _fold(records, 20)
        at_50 = _fold(records, 50)

        (task,) = at_20.tasks
        assert (task.status, task.role, task.seq, task.seqs) == (
            "acknowledged", "lead", 10, (10, 11),
        )  # fmt: skip
        assert at_50.tasks[0].status == "done"
        assert at_50.tasks[0].seqs == (10, 11, 12)

    def test_given_a_task_of_another_department_when_folded_then_it_is_not_known(
        self,
    ) -> None:
        """Tasks led by and not supported by the department are not its knowledge."""
        records = [_assigned(10, 0, "t2", "WATER")]

        knowledge = _fold(records, 60)

        assert knowledge.tasks == ()
        assert knowledge.is_empty

    def test_given_a_task_moved_away_when_folded_then_it_reads_reassigned_and_stops(
        self,
    ) -> None:
        """After a task is moved to another department, its later progress is no
        longer the department's knowledge; the department it moved to learns of it."""
        records = [
            _assigned(10, 0, "t1", "TRANSPORT"),
            _rec(11, 5, k.TASK_REASSIGNED, task_id="t1", incident_id="I1",
                 from_department="TRANSPORT", to_department="WATER", ack_due_at="B"),
            _rec(12, 9, "response.TaskAcknowledged", task_id="t1", incident_id="I1"),
        ]  # fmt: skip

        transport = _fold(records, 60)
        water = k.fold_knowledge(records, department="WATER", at=_at(60))

        assert [(t.status, t.seqs) for t in transport.tasks] == [
            ("reassigned", (10, 11))
        ]
        assert [(t.status, t.role, t.seqs) for t in water.tasks] == [
            ("acknowledged", "lead", (11, 12))
        ]

    def test_given_a_supporting_department_when_overdue_then_it_sees_overdue(
        self,
    ) -> None:
        """A supporting department knows the task and the lead's progress on it."""
        records = [
            _assigned(10, 0, "t1", "WATER", supporting=["TRANSPORT"]),
            _rec(11, 60, k.TASK_OVERDUE, task_id="t1", incident_id="I1"),
        ]

        (task,) = _fold(records, 61).tasks

        assert (task.role, task.status, task.overdue) == (
            "supporting",
            "assigned",
            True,
        )


class TestSharedData:
    def test_given_reads_by_two_departments_when_folded_then_only_its_own_reads(
        self,
    ) -> None:
        """Access decisions for the department's users and keys are listed with the
        dataset, decision, masks, counts and purpose; other departments' are not."""
        records = [
            _rec(10, 5, k.ACCESS_DECIDED, user_id="u-t", department="TRANSPORT",
                 dataset="GAUGES", provider="WATER", decision="allow",
                 purpose="traffic", incident_id="I1", masks={"name": "name"},
                 records=4, aggregated=0, channel="api", reason="ok", policies=[]),
            _rec(11, 6, k.ACCESS_DECIDED, user_id="u-w", department="WATER",
                 dataset="GAUGES", provider="WATER", decision="allow", purpose=None,
                 incident_id=None, masks={}, records=9, aggregated=0, channel="api",
                 reason="", policies=[]),
        ]  # fmt: skip

        (read,) = _fold(records, 10).data_access

        assert (read.seq, read.dataset, read.decision, read.records) == (
            10, "GAUGES", "allow", 4,
        )  # fmt: skip
        assert read.masks == (("name", "name"),)
        assert read.purpose == "traffic"

    def test_given_a_request_answered_later_when_folded_before_then_waiting(
        self,
    ) -> None:
        """An access request reads as waiting until the provider's answer is logged."""
        records = [
            _rec(10, 10, k.ACCESS_REQUESTED, request_id="r1", dataset="GAUGES",
                 provider="WATER", consumer="TRANSPORT", fields=["station"],
                 purposes=["traffic"], justification="why"),
            _rec(11, 50, k.ACCESS_REQUEST_DECIDED, request_id="r1", approved=True,
                 reason="Agreed", agreement_code="A1"),
        ]  # fmt: skip

        before, after = _fold(records, 20), _fold(records, 50)

        assert [r.state for r in before.access_requests] == ["requested"]
        assert [(r.state, r.seqs) for r in after.access_requests] == [
            ("approved", (10, 11))
        ]
        assert _fold(records, 50, incident_id="I1").access_requests == ()


class TestToldAbout:
    def test_given_notifications_when_folded_then_users_and_webhook_are_the_department(
        self,
    ) -> None:
        """Notifications to the department's users or its webhook are known, with
        their state at the moment; a CAP-caused one counts as a warning."""

        def queued(seq: int, nid: str, recipient: str, cause: str) -> LogRecord:
            return _rec(
                seq, 5, k.NOTIFICATION_QUEUED, notification_id=nid,
                recipient=recipient, channel="in_app", subject_zh="主题",
                subject_en="Subject", link="/", incident_id="I1",
                cause_event_id="e", cause_type=cause, is_exercise=False,
            )  # fmt: skip

        records = [
            queued(10, "n1", "u-t", "response.TaskAssigned"),
            queued(11, "n2", "TRANSPORT", "ingest.CapAlertReceived"),
            queued(12, "n3", "u-w", "response.TaskAssigned"),
            _rec(13, 6, k.DELIVERY_ATTEMPTED, notification_id="n1", ok=True),
            _rec(14, 30, k.NOTIFICATION_READ, notification_id="n1", user_id="u-t"),
        ]

        early, late = _fold(records, 10), _fold(records, 30)

        assert [(n.notification_id, n.state) for n in early.notifications] == [
            ("n1", "delivered"), ("n2", "queued"),
        ]  # fmt: skip
        assert [n.state for n in late.notifications] == ["read", "queued"]
        assert [n.notification_id for n in late.warnings] == ["n2"]

    def test_given_reports_and_decisions_when_folded_then_addressed_ones_are_known(
        self,
    ) -> None:
        """Situation reports addressed to the department (by code or name) and the
        decisions it was invited to, with its position and the outcome, are known."""
        records = [
            _rec(10, 28, k.REPORT_SENT, incident_id="I1", report_id="p1",
                 obligation=None, department="WATER", recipient="交通局",
                 content={"what": "积水"}, next_due_at=None),
            _rec(11, 28, k.REPORT_SENT, incident_id="I1", report_id="p2",
                 obligation="initial", department="WATER", recipient="City",
                 content={}, next_due_at=None),
            _rec(12, 30, k.DECISION_PROPOSED, decision_id="d1", incident_id="I1",
                 title="Raise", departments=["TRANSPORT", "WATER"],
                 deadline_at="X"),
            _rec(13, 35, k.DECISION_SIGNED, decision_id="d1", incident_id="I1",
                 department="TRANSPORT", position="concur", comment=""),
            _rec(14, 40, k.DECISION_CLOSED, decision_id="d1", incident_id="I1",
                 outcome="approved"),
        ]  # fmt: skip

        at_36 = _fold(records, 36)

        assert [(r.report_id, r.content) for r in at_36.reports] == [
            ("p1", (("what", "积水"),))
        ]
        (decision,) = at_36.decisions
        assert (decision.position, decision.outcome, decision.seqs) == (
            "concur", None, (12, 13),
        )  # fmt: skip
        assert _fold(records, 40).decisions[0].outcome == "approved"

    def test_given_two_incidents_when_folded_for_one_then_only_its_items(self) -> None:
        """With an incident, items of other incidents are left out."""
        records = [
            _assigned(10, 0, "t1", "TRANSPORT"),
            _rec(11, 0, k.TASK_ASSIGNED, task_id="t9", incident_id="I9",
                 title_zh="", title_en="", lead_department="TRANSPORT",
                 supporting_departments=[], due_at="", ack_due_at=""),
        ]  # fmt: skip

        knowledge = _fold(records, 5, incident_id="I1")

        assert [t.task_id for t in knowledge.tasks] == ["t1"]


class TestInvitationsAndEscalations:
    def test_given_assessments_and_escalations_when_folded_then_its_view_and_steps_are_known(  # noqa: E501
        self,
    ) -> None:
        """An assessment the department was asked into shows its own view and the
        conclusion; escalation steps naming it (or its people) are listed."""
        records = [
            _rec(10, 5, k.ASSESSMENT_OPENED, assessment_id="a1", incident_id="I1",
                 topic="Dam risk", departments=["TRANSPORT", "WATER"]),
            _rec(11, 6, k.VIEW_SUBMITTED, assessment_id="a1", department="WATER",
                 level="high"),
            _rec(12, 7, k.VIEW_SUBMITTED, assessment_id="a1", department="TRANSPORT",
                 level="medium"),
            _rec(13, 9, k.ASSESSMENT_CONCLUDED, assessment_id="a1",
                 conclusion="Evacuate", level="high"),
            _rec(14, 9, k.VIEW_SUBMITTED, assessment_id="a9", department="TRANSPORT",
                 level="low"),
            _rec(15, 20, k.ESCALATION_STEP, task_id="t1", incident_id="I1",
                 department="TRANSPORT", round=1, step=2, notify_role="head",
                 notify_department="EMB", recipients=["u-t"], next_step_at=None),
            _rec(16, 21, k.ESCALATION_STEP, task_id="t2", incident_id="I1",
                 department="WATER", round=1, step=1, notify_role="duty_officer",
                 notify_department="WATER", recipients=["u-w"], next_step_at=None),
        ]  # fmt: skip

        knowledge = _fold(records, 30)

        (assessment,) = knowledge.assessments
        assert (assessment.view_level, assessment.conclusion, assessment.seqs) == (
            "medium", "Evacuate", (10, 12, 13),
        )  # fmt: skip
        assert [(e.seq, e.step, e.notify_role) for e in knowledge.escalations] == [
            (15, 2, "head")
        ]

    def test_given_failed_deliveries_and_odd_payloads_when_folded_then_states_hold(
        self,
    ) -> None:
        """A failed delivery reads as failed, a delivery report after reading leaves it
        read, and payload fields of an unexpected shape read as empty."""
        records = [
            _rec(9, 0, k.DEPARTMENT_UPDATED, code="TRANSPORT", name_zh="交通运输局",
                 name_en=""),
            _rec(10, 5, k.NOTIFICATION_QUEUED, notification_id="n1", recipient="u-t",
                 channel="email", incident_id=None, cause_type="x"),
            _rec(11, 6, k.NOTIFICATION_QUEUED, notification_id="n2",
                 recipient="交通运输局", channel="webhook", incident_id=None,
                 cause_type="x"),
            _rec(12, 7, k.DELIVERY_ATTEMPTED, notification_id="n1", ok=False),
            _rec(13, 8, k.NOTIFICATION_READ, notification_id="n2", user_id="u-t"),
            _rec(14, 9, k.DELIVERY_ATTEMPTED, notification_id="n2", ok=True),
            _rec(15, 9, k.DELIVERY_ATTEMPTED, notification_id="n-other", ok=True),
            _rec(16, 10, k.ACCESS_DECIDED, user_id="u-t", department="TRANSPORT",
                 dataset="D", provider="P", decision="deny", incident_id=None,
                 masks="none", records="many", aggregated=None),
            _rec(17, 11, k.ACCESS_REQUESTED, request_id="r1", dataset="D",
                 provider="P", consumer="TRANSPORT", fields="station", purposes=None),
            _rec(18, 12, k.ACCESS_REQUEST_DECIDED, request_id="r-other",
                 approved=False),
        ]  # fmt: skip

        knowledge = _fold(records, 30)

        assert [(n.notification_id, n.state) for n in knowledge.notifications] == [
            ("n1", "failed"), ("n2", "read"),
        ]  # fmt: skip
        (read,) = knowledge.data_access
        assert (read.masks, read.records, read.aggregated, read.purpose) == (
            (), 0, 0, None,
        )  # fmt: skip
        (request,) = knowledge.access_requests
        assert (request.fields, request.purposes, request.state) == (
            (),
            (),
            "requested",
        )


class TestWhoMaySee:
    def test_given_other_department_when_asking_then_refused(self) -> None:
        """Only the department itself, commanders and admins may see its knowledge."""
        assert items.may_see_knowledge(
            actor_department="TRANSPORT", actor_roles=(), department="TRANSPORT"
        )
        assert items.may_see_knowledge(
            actor_department="EMB", actor_roles=("commander",), department="WATER"
        )
        with pytest.raises(PermissionDenied):
            items.require_may_see(
                actor_department="WATER",
                actor_roles=("duty_officer",),
                department="TRANSPORT",
            )


@settings(deadline=None, max_examples=60)
@given(
    statuses=st.lists(
        st.sampled_from(sorted(k.TASK_STATUS_BY_EVENT)), min_size=0, max_size=8
    ),
    cut=st.integers(min_value=0, max_value=10),
)
def test_given_any_task_history_when_folded_at_a_moment_then_only_earlier_events_count(
    statuses: list[str], cut: int
) -> None:
    """Folding at minute ``cut`` equals folding only the records up to it: nothing
    after the moment leaks into what the department knew."""
    records = [_assigned(10, 0, "t1", "TRANSPORT")] + [
        _rec(11 + i, i + 1, kind, task_id="t1", incident_id="I1")
        for i, kind in enumerate(statuses)
    ]
    earlier = [record for record in records if record.occurred_at <= _at(cut)]

    assert _fold(records, cut) == _fold(earlier, cut)
