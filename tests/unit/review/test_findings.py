"""After-action findings and proposals over hand-made log records and samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from muster.review.domain import findings as f
from muster.review.domain import metrics as m
from muster.review.domain.improvement_areas import areas_for_improvement
from muster.review.domain.incident_scope import incident_scope, scoped_samples

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
PERIOD = m.Period(T0, T0 + timedelta(minutes=180))


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _iso(minutes: int) -> str:
    return _at(minutes).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _rec(seq: int, minute: int, type_: str, **data: Any) -> m.LogRecord:
    department = data.pop("actor", None)
    return m.LogRecord(seq, type_, _at(minute), department, data)


def _assigned(
    seq: int, task: str, department: str, *, ack: int = 15, due: int = 60
) -> m.LogRecord:
    return _rec(
        seq, 0, "response.TaskAssigned", task_id=task, incident_id="I1",
        lead_department=department, ack_due_at=_iso(ack), due_at=_iso(due),
    )  # fmt: skip


def _areas(records: list[m.LogRecord]) -> list[f.Finding]:
    samples = m.all_samples(records, PERIOD)
    return areas_for_improvement(records, samples, PERIOD, "I1")


def _kinds(found: list[f.Finding]) -> list[tuple[str, str]]:
    return [(finding.kind, finding.department) for finding in found]


class TestLateWork:
    def test_given_a_late_and_a_missing_acknowledgement_when_reviewed_then_each_department_has_a_finding_with_its_worst_lateness(  # noqa: E501
        self,
    ) -> None:
        """WATER acknowledged 10 min after its deadline; MET never did: late until
        the period's end (180 − 20 = 160 min)."""
        records = [
            _assigned(1, "t1", "WATER", ack=10),
            _assigned(2, "t2", "MET", ack=20, due=300),
            _rec(3, 20, "response.TaskAcknowledged", task_id="t1", incident_id="I1"),
        ]

        found = _areas(records)

        late = {x.department: x for x in found if x.kind == f.LATE_ACKNOWLEDGEMENT}
        assert (late["WATER"].count, late["WATER"].total) == (1, 1)
        assert late["WATER"].minutes == 10.0
        assert late["WATER"].seqs == (1, 3)
        assert late["MET"].minutes == 160.0
        assert late["MET"].subjects == ("t2",)

    def test_given_an_overdue_task_and_an_overdue_report_when_reviewed_then_both_are_found_with_their_events(  # noqa: E501
        self,
    ) -> None:
        """A task done 25 min after its due time (with its TaskOverdue) and a report
        never sent (due +30, period ends +180) are two findings of WATER."""
        records = [
            _assigned(1, "t1", "WATER", due=30),
            _rec(2, 5, "response.TaskAcknowledged", task_id="t1", incident_id="I1"),
            _rec(3, 0, "response.ReportDueSet", incident_id="I1",
                 obligation="initial", department="WATER", due_at=_iso(30)),
            _rec(4, 40, "response.TaskOverdue", task_id="t1", incident_id="I1",
                 department="WATER"),
            _rec(5, 41, "response.ReportOverdue", incident_id="I1",
                 obligation="initial", department="WATER"),
            _rec(6, 55, "response.TaskCompleted", task_id="t1", incident_id="I1"),
        ]  # fmt: skip

        found = {x.kind: x for x in _areas(records)}

        assert found[f.OVERDUE_TASK].seqs == (1, 4, 6)
        assert found[f.OVERDUE_TASK].minutes == 25.0
        assert found[f.OVERDUE_REPORT].seqs == (3, 5)
        assert found[f.OVERDUE_REPORT].minutes == 150.0
        assert f.LATE_ACKNOWLEDGEMENT not in found

    def test_given_a_delivery_after_the_interval_when_reviewed_then_stale_data_names_the_excess(  # noqa: E501
        self,
    ) -> None:
        """Deliveries at +0 and +90 of a 60-minute dataset: 30 minutes over."""
        records = [
            _rec(1, -60, "catalog.DatasetRegistered", code="GAUGES",
                 owner_department="WATER", update_interval_minutes=60),
            _rec(2, 0, "ingest.BatchIngested", dataset_code="GAUGES", accepted=5),
            _rec(3, 90, "ingest.BatchIngested", dataset_code="GAUGES", accepted=5),
        ]  # fmt: skip

        (stale,) = _areas(records)

        assert (stale.kind, stale.department, stale.subjects) == (
            f.STALE_DATA, "WATER", ("GAUGES",),
        )  # fmt: skip
        assert (stale.minutes, stale.seqs) == (30.0, (2, 3))


class TestRefusedData:
    def _request(self, *, seq: int = 1, minute: int = 5) -> m.LogRecord:
        return _rec(
            seq, minute, "sharing.AccessRequested", request_id="r1",
            dataset="GAUGES", provider="WATER", consumer="TRANSPORT",
        )  # fmt: skip

    def _overdue(self, seq: int, minute: int) -> m.LogRecord:
        return _rec(
            seq, minute, "response.TaskOverdue", task_id="t1", incident_id="I1",
            department="TRANSPORT",
        )  # fmt: skip

    def test_given_a_refused_request_then_an_overdue_task_of_the_asker_when_reviewed_then_refused_data_names_both_departments(  # noqa: E501
        self,
    ) -> None:
        """TRANSPORT asked WATER, was refused, then its task went overdue: the
        finding is TRANSPORT's, owned by WATER (the provider) in the plan."""
        records = [
            _assigned(1, "t1", "TRANSPORT", due=60),
            self._request(seq=2),
            _rec(3, 10, "sharing.AccessRequestDecided", request_id="r1",
                 approved=False),
            self._overdue(4, 70),
        ]  # fmt: skip

        (refused,) = [x for x in _areas(records) if x.kind == f.REFUSED_DATA]

        assert (refused.department, refused.others) == ("TRANSPORT", ("WATER",))
        assert refused.subjects == ("GAUGES",)
        assert refused.seqs == (2, 3, 4)
        assert f.owner_of(refused) == "WATER"

    def test_given_a_request_still_unanswered_or_a_denied_read_when_a_task_goes_overdue_then_each_counts(  # noqa: E501
        self,
    ) -> None:
        """An unanswered request and a denied read before the overdue both count."""
        records = [
            self._request(),
            _rec(2, 20, "sharing.AccessDecided", department="TRANSPORT",
                 provider="WATER", dataset="ROADS", decision="deny",
                 incident_id="I1"),
            self._overdue(3, 70),
        ]  # fmt: skip

        (refused,) = [x for x in _areas(records) if x.kind == f.REFUSED_DATA]

        assert refused.count == 2
        assert refused.subjects == ("GAUGES", "ROADS")

    def test_given_an_approval_before_the_overdue_or_a_request_before_the_incident_when_reviewed_then_nothing_is_found(  # noqa: E501
        self,
    ) -> None:
        """Data approved in time did not delay the task; an old request is not the
        incident's."""
        approved = [
            self._request(),
            _rec(2, 10, "sharing.AccessRequestDecided", request_id="r1",
                 approved=True),
            self._overdue(3, 70),
        ]  # fmt: skip
        before = [self._request(minute=-30), self._overdue(3, 70)]

        assert not [x for x in _areas(approved) if x.kind == f.REFUSED_DATA]
        assert not [x for x in _areas(before) if x.kind == f.REFUSED_DATA]


def test_given_escalation_steps_when_reviewed_then_one_finding_per_department_names_whom_it_reached() -> (  # noqa: E501
    None
):
    """Two steps on MET's task, the first notifying EMB: one escalation finding."""
    records = [
        _rec(1, 30, "response.EscalationStepReached", incident_id="I1",
             department="MET", task_id="t3", notify_department="EMB"),
        _rec(2, 40, "response.EscalationStepReached", incident_id="I1",
             department="MET", task_id="t3", notify_department="MET"),
        _rec(3, 40, "response.EscalationStepReached", incident_id="I2",
             department="MET", task_id="t9", notify_department="EMB"),
    ]  # fmt: skip

    (escalation,) = areas_for_improvement(records, [], PERIOD, "I1")

    assert (escalation.kind, escalation.department) == (f.ESCALATION, "MET")
    assert (escalation.count, escalation.total) == (2, 1)
    assert (escalation.seqs, escalation.others) == ((1, 2), ("EMB",))


def _sample(metric: str, department: str, value: float, *seqs: int) -> m.Sample:
    return m.Sample(metric, department, f"s{seqs[0]}", value, seqs, incident_id="I1")


class TestStrengths:
    def test_given_hand_made_samples_when_strengths_are_found_then_only_spotless_departments_and_fast_answers_count(  # noqa: E501
        self,
    ) -> None:
        """TRANSPORT's acks all on time (median 7); WATER's not; WATER answered its
        request in 40 min (fast), MET in 90 (answered, but not fast)."""
        samples = [
            _sample(m.ACK_ON_TIME, "TRANSPORT", 1.0, 1, 2),
            _sample(m.ACK_LATENCY, "TRANSPORT", 7.0, 1, 2),
            _sample(m.ACK_ON_TIME, "WATER", 1.0, 3, 4),
            _sample(m.ACK_ON_TIME, "WATER", 0.0, 5),
            _sample(m.SHARING_ANSWERED, "WATER", 1.0, 6, 7),
            _sample(m.SHARING_ANSWER_LATENCY, "WATER", 40.0, 6, 7),
            _sample(m.SHARING_ANSWERED, "MET", 1.0, 8, 9),
            _sample(m.SHARING_ANSWER_LATENCY, "MET", 90.0, 8, 9),
        ]

        found = f.strengths([], samples, "I1")

        assert _kinds(found) == [
            (f.ACKS_ON_TIME, "TRANSPORT"),
            (f.FAST_SHARING, "WATER"),
        ]
        assert (found[0].minutes, found[0].seqs) == (7.0, (1, 2))
        assert found[1].minutes == 40.0

    def test_given_a_decision_closed_before_its_deadline_when_strengths_are_found_then_it_counts_with_its_signatures(  # noqa: E501
        self,
    ) -> None:
        """Closed at +20 against a +30 deadline: 10 minutes early; one closed at its
        deadline does not count."""
        records = [
            _rec(1, 0, "response.DecisionProposed", decision_id="d1",
                 incident_id="I1", deadline_at=_iso(30), actor="EMB",
                 departments=["EMB", "WATER"]),
            _rec(2, 10, "response.DecisionSigned", decision_id="d1", incident_id="I1"),
            _rec(3, 20, "response.DecisionClosed", decision_id="d1", incident_id="I1"),
            _rec(4, 0, "response.DecisionProposed", decision_id="d2",
                 incident_id="I1", deadline_at=_iso(30), departments=["MET"]),
            _rec(5, 30, "response.DecisionClosed", decision_id="d2", incident_id="I1"),
        ]  # fmt: skip

        (decision,) = f.strengths(records, [], "I1")

        assert (decision.kind, decision.department) == (f.DECISION_ON_TIME, "EMB")
        assert (decision.minutes, decision.seqs) == (10.0, (1, 2, 3))
        assert decision.others == ("EMB", "WATER")

    def test_given_reports_and_deliveries_on_time_when_strengths_are_found_then_both_count(  # noqa: E501
        self,
    ) -> None:
        """A report sent by its deadline and deliveries within the interval; an
        unanswered request is no strength."""
        records = [
            _rec(1, -60, "catalog.DatasetRegistered", code="GAUGES",
                 owner_department="WATER", update_interval_minutes=60),
            _rec(2, 0, "ingest.BatchIngested", dataset_code="GAUGES", accepted=5),
            _rec(3, 0, "response.ReportDueSet", incident_id="I1",
                 obligation="initial", department="WATER", due_at=_iso(30)),
            _rec(4, 5, "sharing.AccessRequested", request_id="r1", dataset="GAUGES",
                 provider="MET", consumer="WATER"),
            _rec(5, 25, "response.SituationReportSent", incident_id="I1",
                 obligation="initial", next_due_at=None),
            _rec(6, 50, "ingest.BatchIngested", dataset_code="GAUGES", accepted=5),
        ]  # fmt: skip

        found = f.strengths(records, m.all_samples(records, PERIOD), "I1")

        assert [(x.kind, x.department, x.seqs) for x in found] == [
            (f.REPORTS_ON_TIME, "WATER", (3, 5)),
            (f.DATA_FRESH, "WATER", (2, 6)),
        ]


class TestProposals:
    def test_given_areas_for_improvement_when_proposed_then_one_item_each_with_owner_title_due_days_and_sources(  # noqa: E501
        self,
    ) -> None:
        """Each area gives one proposal; refused data is owned by the provider;
        titles use the departments' names in both languages."""
        areas = [
            f.Finding(f.LATE_ACKNOWLEDGEMENT, "WATER", 2, 3, ("t1", "t2"), (1, 4)),
            f.Finding(f.REFUSED_DATA, "TRANSPORT", 1, 1, ("GAUGES",), (5, 6, 9),
                      others=("WATER",)),
        ]  # fmt: skip
        names = {"WATER": ("水务局", "Water bureau")}

        first, second = f.propose(areas, names)

        assert first == f.ImprovementProposal(
            finding=f.LATE_ACKNOWLEDGEMENT,
            owner_department="WATER",
            title_zh="水务局：健全值班值守和任务签收机制（2项签收超时）",
            title_en="Water bureau: strengthen the duty watch and task "
            "acknowledgement (2 late)",
            due_days=30,
            source_seqs=(1, 4),
        )
        assert (second.owner_department, second.due_days) == ("WATER", 60)
        assert second.title_en.startswith("Water bureau and TRANSPORT: agree")
        assert second.source_seqs == (5, 6, 9)

    def test_given_strengths_only_when_proposed_then_nothing_is_proposed(
        self,
    ) -> None:
        """Strengths need no improvement item."""
        strength = f.Finding(f.ACKS_ON_TIME, "TRANSPORT", 1, 1, ("t1",), (1, 2))

        assert f.propose([strength]) == []


def test_given_samples_without_incident_when_scoped_then_only_the_incidents_datasets_and_requests_are_tagged() -> (  # noqa: E501
    None
):
    """GAUGES was read for I1 and requested by its department: its freshness and
    the request count for I1; ROADS and another incident's task do not."""
    records = [
        _assigned(1, "t1", "TRANSPORT"),
        _rec(2, 5, "sharing.AccessRequested", request_id="r1", dataset="GAUGES",
             provider="WATER", consumer="TRANSPORT"),
        _rec(3, 9, "sharing.AccessDecided", dataset="GAUGES", incident_id="I1"),
    ]  # fmt: skip
    samples = [
        m.Sample(m.FRESHNESS_ON_TIME, "WATER", "GAUGES", 1.0, (7, 8)),
        m.Sample(m.FRESHNESS_ON_TIME, "WATER", "ROADS", 0.0, (5, 6)),
        m.Sample(m.SHARING_ANSWERED, "WATER", "r1", 1.0, (2, 4)),
        m.Sample(m.TASK_ON_TIME, "MET", "t9", 0.0, (9,), incident_id="I2"),
        m.Sample(m.TASK_ON_TIME, "TRANSPORT", "t1", 1.0, (1,), incident_id="I1"),
    ]

    scope = incident_scope(records, "I1", PERIOD)
    kept = scoped_samples(samples, scope)

    assert scope.departments == ("TRANSPORT",)
    assert (scope.datasets, scope.requests) == (("GAUGES",), ("r1",))
    assert [(s.metric, s.subject, s.incident_id) for s in kept] == [
        (m.FRESHNESS_ON_TIME, "GAUGES", "I1"),
        (m.SHARING_ANSWERED, "r1", "I1"),
        (m.TASK_ON_TIME, "t1", "I1"),
    ]
