"""Areas for improvement (存在问题) of an after-action review, from the record (pure).

Imported by ``muster.review.aar``. Kinds and the ``Finding`` shape live in
``muster.review.domain.findings``: late acknowledgements, overdue tasks and reports and
stale data come from metric samples (one finding per department and kind, with its
worst lateness in minutes); data refused or left unanswered before a task of the
asking department went overdue, and escalations, come from the incident's events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from muster.review.domain import metrics as m
from muster.review.domain.findings import (
    AREAS,
    ESCALATION,
    LATE_ACKNOWLEDGEMENT,
    OVERDUE_REPORT,
    OVERDUE_TASK,
    REFUSED_DATA,
    STALE_DATA,
    Finding,
    by_department,
    sampled_finding,
    samples_of,
)
from muster.review.domain.records import in_minutes, logged_time

_DATASET_EVENTS = ("catalog.DatasetRegistered", "catalog.DatasetUpdated")
_ESCALATION_EVENTS = (
    "response.EscalationStepReached",
    "response.DepartmentMarkedUnresponsive",
)


def _late_minutes(due: datetime, done: datetime | None, end: datetime) -> float:
    return max(in_minutes((done or end) - due), 0.0)


class _Record:
    """Look-ups into the records behind samples (by seq)."""

    def __init__(self, records: Sequence[m.LogRecord], period: m.Period) -> None:
        self.by_seq = {record.seq: record for record in records}
        self.end = period.end

    def closing(self, sample: m.Sample, event_type: str) -> datetime | None:
        """Return when the event of a type closing the sample happened, if it did."""
        for seq in sample.seqs[1:]:
            record = self.by_seq.get(seq)
            if record is not None and record.type == event_type:
                return record.occurred_at
        return None

    def lateness(self, sample: m.Sample) -> float:
        """Return the minutes a late sample was (or still is, at the end) late."""
        opener = self.by_seq[sample.seqs[0]]
        if sample.metric == m.ACK_ON_TIME:
            done = self.closing(sample, "response.TaskAcknowledged")
            return _late_minutes(logged_time(opener.data["ack_due_at"]), done, self.end)
        if sample.metric == m.TASK_ON_TIME:
            done = self.closing(sample, "response.TaskCompleted")
            return _late_minutes(logged_time(opener.data["due_at"]), done, self.end)
        if sample.metric == m.REPORT_ON_TIME:
            sent = self.closing(sample, "response.SituationReportSent")
            due = logged_time(sample.subject.rsplit("@", 1)[1])
            return _late_minutes(due, sent, self.end)
        return 0.0

    def freshness_excess(self, sample: m.Sample) -> float:
        """Return the minutes a delivery came after its dataset's SLA interval."""
        previous, delivery = (self.by_seq[seq] for seq in sample.seqs)
        interval = 0
        for record in self.by_seq.values():
            if (
                record.seq < delivery.seq
                and record.type in _DATASET_EVENTS
                and record.data.get("code") == sample.subject
            ):
                interval = record.number("update_interval_minutes")
        gap = in_minutes(delivery.occurred_at - previous.occurred_at)
        return max(gap - interval, 0.0)


# --- areas for improvement ------------------------------------------------------------

_LATE_METRICS = (
    (m.ACK_ON_TIME, LATE_ACKNOWLEDGEMENT),
    (m.TASK_ON_TIME, OVERDUE_TASK),
    (m.REPORT_ON_TIME, OVERDUE_REPORT),
    (m.FRESHNESS_ON_TIME, STALE_DATA),
)


def _late_findings(samples: Sequence[m.Sample], look: _Record) -> list[Finding]:
    findings: list[Finding] = []
    for metric, kind in _LATE_METRICS:
        for department, own in by_department(samples_of(samples, metric)).items():
            late = [s for s in own if not s.value]
            if not late:
                continue
            if metric == m.FRESHNESS_ON_TIME:
                worst = max(look.freshness_excess(s) for s in late)
            else:
                worst = max(look.lateness(s) for s in late)
            findings.append(
                sampled_finding(kind, department, late, total=len(own), minutes=worst)
            )
    return findings


def _escalations(records: Sequence[m.LogRecord], incident_id: str) -> list[Finding]:
    steps: dict[str, list[m.LogRecord]] = defaultdict(list)
    for record in records:
        if (
            record.type in _ESCALATION_EVENTS
            and record.data.get("incident_id") == incident_id
        ):
            steps[record.text("department")].append(record)
    findings = []
    for department, own in sorted(steps.items()):
        tasks = tuple(dict.fromkeys(r.text("task_id") for r in own))
        notified = tuple(
            dict.fromkeys(
                str(r.data["notify_department"])
                for r in own
                if r.data.get("notify_department") not in (None, department)
            )
        )
        findings.append(
            Finding(
                kind=ESCALATION, department=department, count=len(own),
                total=len(tasks), subjects=tasks,
                seqs=tuple(r.seq for r in own), others=notified,
            )
        )  # fmt: skip
    return findings


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A request for data, or a read, that left a department without the data.

    ``blocked_until`` is when an approval came; None when the request was refused
    or never answered, or the read denied.
    """

    seq: int
    at: datetime
    consumer: str
    provider: str
    dataset: str
    answer_seq: int | None = None
    blocked_until: datetime | None = None


def _refusals(records: Sequence[m.LogRecord], incident_id: str) -> list[_Refusal]:
    """Return the requests for data (answered or not) and the denied reads."""
    requests: dict[str, _Refusal] = {}
    denied: list[_Refusal] = []
    for record in records:
        data = record.data
        if record.type == "sharing.AccessRequested":
            requests[str(data["request_id"])] = _Refusal(
                record.seq, record.occurred_at, str(data["consumer"]),
                str(data["provider"]), str(data["dataset"]),
            )  # fmt: skip
        elif record.type == "sharing.AccessRequestDecided":
            request_id = str(data["request_id"])
            if request_id in requests:
                approved_at = record.occurred_at if data.get("approved") else None
                requests[request_id] = replace(
                    requests[request_id],
                    answer_seq=record.seq,
                    blocked_until=approved_at,
                )
        elif (
            record.type == "sharing.AccessDecided"
            and data.get("decision") == "deny"
            and data.get("incident_id") in (None, incident_id)
        ):
            denied.append(
                _Refusal(
                    record.seq, record.occurred_at, record.text("department"),
                    record.text("provider"), record.text("dataset"),
                )
            )  # fmt: skip
    return [*requests.values(), *denied]


def _refused_data(
    records: Sequence[m.LogRecord], incident_id: str, period: m.Period
) -> list[Finding]:
    """Data refused, or still unanswered, before a task of the asker went overdue.

    Only requests and reads within the period count (the incident's own).
    """
    overdue = [
        r
        for r in records
        if r.type == "response.TaskOverdue" and r.data.get("incident_id") == incident_id
    ]
    grouped: dict[tuple[str, str], list[tuple[_Refusal, m.LogRecord]]] = defaultdict(
        list
    )
    for refusal in _refusals(records, incident_id):
        for late in overdue:
            if late.data.get("department") != refusal.consumer:
                continue
            blocked_until = refusal.blocked_until
            if period.start <= refusal.at <= late.occurred_at and (
                blocked_until is None or blocked_until > late.occurred_at
            ):
                grouped[(refusal.consumer, refusal.provider)].append((refusal, late))
    findings = []
    for (consumer, provider), pairs in sorted(grouped.items()):
        refused = {refusal.seq: refusal for refusal, _late in pairs}
        seqs = {seq for r in refused.values() for seq in (r.seq, r.answer_seq)}
        seqs |= {late.seq for _refusal, late in pairs}
        findings.append(
            Finding(
                kind=REFUSED_DATA, department=consumer, count=len(refused),
                total=len({late.seq for _refusal, late in pairs}),
                subjects=tuple(dict.fromkeys(r.dataset for r in refused.values())),
                seqs=tuple(sorted(s for s in seqs if s is not None)),
                others=(provider,),
            )
        )  # fmt: skip
    return findings


def areas_for_improvement(
    records: Sequence[m.LogRecord],
    samples: Sequence[m.Sample],
    period: m.Period,
    incident_id: str,
) -> list[Finding]:
    """Return the areas for improvement found in an incident's record, by kind."""
    look = _Record(records, period)
    found = [
        *_late_findings(samples, look),
        *_refused_data(records, incident_id, period),
        *_escalations(records, incident_id),
    ]
    return sorted(found, key=lambda f: (AREAS.index(f.kind), f.department))


__all__ = ["areas_for_improvement"]
