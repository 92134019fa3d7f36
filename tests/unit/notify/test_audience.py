"""Who gets what: response events mapped to notices (pure, with a fake directory)."""

from __future__ import annotations

from dataclasses import dataclass, field

from muster.notify.domain.audience import Cause, Notice, notices_for
from muster.notify.domain.model import Channel
from muster.response.domain.events import (
    DecisionProposed,
    DepartmentMarkedUnresponsive,
    EscalationStepReached,
    IncidentOpened,
    ReportOverdue,
    SituationReportSent,
    TaskAssigned,
)

CAUSE = Cause(event_id="ev-1", type="response.X", is_exercise=False)


@dataclass
class FakeDirectory:
    """Roles per department, e-mail holders and webhook departments."""

    roles: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    emails: set[str] = field(default_factory=set)
    hooks: set[str] = field(default_factory=set)

    def role_holders(self, department: str, role: str) -> list[str]:
        return self.roles.get((department, role), [])

    def users_with_role(self, role: str) -> list[str]:
        return sorted({u for (_, r), us in self.roles.items() if r == role for u in us})

    def has_email(self, user_id: str) -> bool:
        return user_id in self.emails

    def has_webhook(self, department: str) -> bool:
        return department in self.hooks


DIRECTORY = FakeDirectory(
    roles={
        ("TRANSPORT", "duty_officer"): ["t.duty"],
        ("TRANSPORT", "head"): ["t.head"],
        ("WATER", "head"): ["w.head"],
        ("EMB", "commander"): ["boss"],
    },
    emails={"t.duty"},
    hooks={"TRANSPORT"},
)


def _targets(notices: list[Notice]) -> set[tuple[str, Channel]]:
    return {(notice.recipient, notice.channel) for notice in notices}


def _task() -> TaskAssigned:
    return TaskAssigned(
        task_id="t1", incident_id="i1", template_key="close_road",
        title_zh="封路", title_en="Close road", lead_department="TRANSPORT",
        supporting_departments=(), due_at="2026-07-01T09:00:00Z",
        ack_due_at="2026-07-01T08:15:00Z", depends_on=(), checklist=(),
        from_plan=True,
    )  # fmt: skip


class TestNoticesFor:
    def test_task_assigned_goes_to_duty_officers_of_the_lead(self) -> None:
        """Given a task for TRANSPORT, when mapped, then its duty officer gets in-app
        and e-mail (has an address) and TRANSPORT's webhook gets it; not the head."""
        notices = notices_for(_task(), CAUSE, DIRECTORY)

        assert _targets(notices) == {
            ("t.duty", Channel.IN_APP),
            ("t.duty", Channel.EMAIL),
            ("TRANSPORT", Channel.WEBHOOK),
        }
        assert notices[0].subject_zh == "新任务：封路"
        assert notices[0].subject_en == "New task: Close road"
        assert notices[0].link == "/incidents/i1"

    def test_escalation_goes_to_its_recipients(self) -> None:
        """Given an escalation step with resolved recipients, when mapped, then
        exactly those users are notified in-app."""
        event = EscalationStepReached(
            task_id="t1", incident_id="i1", department="TRANSPORT", round=1, step=2,
            notify_role="head", notify_department="EMB", recipients=("x", "y"),
            next_step_at=None,
        )  # fmt: skip

        notices = notices_for(event, CAUSE, DIRECTORY)

        assert _targets(notices) == {("x", Channel.IN_APP), ("y", Channel.IN_APP)}

    def test_report_overdue_goes_to_its_recipients(self) -> None:
        """Given an overdue report, when mapped, then its recipients are told and
        the reporting department's webhook too."""
        event = ReportOverdue(
            incident_id="i1", obligation="initial", department="TRANSPORT",
            due_at="2026-07-01T08:30:00Z", recipients=("t.head",),
        )  # fmt: skip

        notices = notices_for(event, CAUSE, DIRECTORY)

        assert _targets(notices) == {
            ("t.head", Channel.IN_APP),
            ("TRANSPORT", Channel.WEBHOOK),
        }
        assert "迟报" in notices[0].subject_zh

    def test_decision_goes_to_heads_and_duty_officers(self) -> None:
        """Given a decision for WATER and TRANSPORT, when mapped, then their heads
        and duty officers are notified, each once."""
        event = DecisionProposed(
            decision_id="d1", incident_id="i1", decision_key=None, title="Raise",
            proposal="Raise to L2", evidence=(), departments=("WATER", "TRANSPORT"),
            rule="all", veto=(), deadline_at="2026-07-01T09:00:00Z", raises_to="L2",
        )  # fmt: skip

        notices = notices_for(event, CAUSE, DIRECTORY)

        in_app = {n.recipient for n in notices if n.channel is Channel.IN_APP}
        assert in_app == {"w.head", "t.head", "t.duty"}

    def test_unresponsive_goes_to_commanders(self) -> None:
        """Given a department marked unresponsive, when mapped, then commanders are
        told."""
        event = DepartmentMarkedUnresponsive(
            incident_id="i1", department="MET", task_id="t9"
        )

        notices = notices_for(event, CAUSE, DIRECTORY)

        assert _targets(notices) == {("boss", Channel.IN_APP)}

    def test_a_report_to_a_department_goes_to_its_duty_officer_and_head(
        self,
    ) -> None:
        """Given a report sent to TRANSPORT, its duty officer and head are told (and
        its webhook)."""
        event = SituationReportSent(
            incident_id="i1", report_id="r1", obligation="initial",
            department="WATER", recipient="TRANSPORT",
            content={"what": "积水", "measures": "泵站开启"}, next_due_at=None,
        )  # fmt: skip

        notices = notices_for(event, CAUSE, DIRECTORY)

        assert _targets(notices) == {
            ("t.duty", Channel.IN_APP), ("t.duty", Channel.EMAIL),
            ("t.head", Channel.IN_APP), ("TRANSPORT", Channel.WEBHOOK),
        }  # fmt: skip
        assert "积水" in notices[0].body_zh

    def test_a_report_to_an_outside_body_goes_to_the_commanders(self) -> None:
        """Given a report to "City government" (no department), commanders see it."""
        event = SituationReportSent(
            incident_id="i1", report_id="r1", obligation=None, department="WATER",
            recipient="City government", content={"what": "x"}, next_due_at=None,
        )  # fmt: skip

        assert _targets(notices_for(event, CAUSE, DIRECTORY)) == {
            ("boss", Channel.IN_APP)
        }

    def test_other_events_notify_nobody(self) -> None:
        """Given an event outside the mapping, when mapped, then no notice."""
        event = IncidentOpened(
            incident_id="i1", title="t", category="c", latitude=0.0, longitude=0.0,
            description="", reporting_department="EMB",
        )  # fmt: skip

        assert notices_for(event, CAUSE, DIRECTORY) == []

    def test_exercise_and_ids_are_stable(self) -> None:
        """Given a drill event mapped twice, when compared, then the ids are equal
        and both texts carry the exercise prefix."""
        drill = Cause(event_id="ev-1", type="response.TaskAssigned", is_exercise=True)

        first = notices_for(_task(), drill, DIRECTORY)
        second = notices_for(_task(), drill, DIRECTORY)

        assert [n.notification_id for n in first] == [n.notification_id for n in second]
        assert first[0].subject_en.startswith("[EXERCISE] ")
        assert first[0].body_zh.startswith("【演练】")
