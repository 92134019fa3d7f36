"""Metrics of what departments exchange: data, sharing answers, joint decisions (pure).

Data freshness against each dataset's SLA (``freshness_samples``), sharing requests
answered and how fast, and records shared (``sharing_samples``), participation in
joint decisions (``decision_samples``). Part of ``muster.review.domain.metrics``,
which re-exports every name here and states the scope rule these functions follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from muster.review.domain.records import (
    LogRecord,
    Period,
    Sample,
    flag,
    in_minutes,
    logged_time,
)

FRESHNESS_ON_TIME = "freshness_on_time"
SHARING_ANSWERED = "sharing_answered"
SHARING_ANSWER_LATENCY = "sharing_answer_minutes"
DATA_SHARED = "records_shared"
DECISION_PARTICIPATION = "decision_participation"


# --- data freshness -------------------------------------------------------------------

_DATASET_EVENTS = ("catalog.DatasetRegistered", "catalog.DatasetUpdated")
_DELIVERY_EVENTS = ("ingest.BatchIngested", "ingest.ObservationsIngested")


def freshness_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Data freshness against the SLA: each delivery on time or late.

    A delivery is an ingested batch with at least one accepted record. It is on time
    when it came within the dataset's ``update_interval_minutes`` of the previous
    delivery (which may lie before the period); a dataset's first delivery has no
    reference and is not counted. Counted for the dataset's owner department.
    """
    owners: dict[str, tuple[str, timedelta]] = {}
    last: dict[str, LogRecord] = {}
    samples: list[Sample] = []
    for record in records:
        if record.occurred_at > period.end:
            continue
        if record.type in _DATASET_EVENTS:
            interval = timedelta(minutes=record.number("update_interval_minutes"))
            owners[record.text("code")] = (
                record.text("owner_department"),
                interval,
            )
            continue
        if record.type not in _DELIVERY_EVENTS:
            continue
        if record.number("accepted") + record.number("count") <= 0:
            continue
        code = record.text("dataset_code")
        previous = last.get(code)
        last[code] = record
        if code not in owners or previous is None:
            continue
        if not period.contains(record.occurred_at):
            continue
        owner, interval = owners[code]
        on_time = record.occurred_at - previous.occurred_at <= interval
        samples.append(
            Sample(
                metric=FRESHNESS_ON_TIME,
                department=owner,
                subject=code,
                value=flag(on_time),
                seqs=(previous.seq, record.seq),
                is_exercise=record.is_exercise,
            )
        )
    return samples


# --- sharing --------------------------------------------------------------------------


def sharing_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Sharing requests answered and how fast (provider), and records shared.

    A request made in the period counts as answered when the provider decided it
    (approved or denied) by the period's end; the answer time is in minutes. Records
    shared are the records returned by reads (``AccessDecided.records``), counted
    for the providing department.
    """
    requests: dict[str, LogRecord] = {}
    answers: dict[str, LogRecord] = {}
    samples: list[Sample] = []
    for record in records:
        if record.occurred_at > period.end:
            continue
        if record.type == "sharing.AccessRequested":
            requests[record.text("request_id")] = record
        elif record.type == "sharing.AccessRequestDecided":
            answers.setdefault(record.text("request_id"), record)
        elif record.type == "sharing.AccessDecided" and period.contains(
            record.occurred_at
        ):
            shared = record.number("records")
            if shared > 0:
                samples.append(
                    Sample(
                        metric=DATA_SHARED,
                        department=record.text("provider"),
                        subject=record.text("access_id"),
                        value=float(shared),
                        seqs=(record.seq,),
                        incident_id=record.text("incident_id") or None,
                        is_exercise=record.is_exercise,
                    )
                )
    for request_id, request in requests.items():
        if not period.contains(request.occurred_at):
            continue
        answer = answers.get(request_id)
        base = Sample(
            metric=SHARING_ANSWERED,
            department=request.text("provider"),
            subject=request_id,
            value=flag(answer is not None),
            seqs=(request.seq,) if answer is None else (request.seq, answer.seq),
            is_exercise=request.is_exercise,
        )
        samples.append(base)
        if answer is not None:
            minutes = in_minutes(answer.occurred_at - request.occurred_at)
            samples.append(
                Sample(
                    metric=SHARING_ANSWER_LATENCY,
                    department=base.department,
                    subject=request_id,
                    value=minutes,
                    seqs=base.seqs,
                    is_exercise=request.is_exercise,
                )
            )
    return samples


# --- joint decisions ------------------------------------------------------------------


def decision_samples(records: Sequence[LogRecord], period: Period) -> list[Sample]:
    """Participation in joint decisions (会商): each invited department signed or not.

    One sample per (decision proposed in the period, invited department): 1 when the
    department concurred or objected by the period's end; 0 when it had not by the
    time the decision closed or its deadline passed; still open, it waits.
    """
    proposals: dict[str, LogRecord] = {}
    signed: dict[tuple[str, str], int] = {}
    closed: set[str] = set()
    for record in records:
        if record.occurred_at > period.end:
            continue
        decision_id = record.text("decision_id")
        if record.type == "response.DecisionProposed":
            proposals[decision_id] = record
        elif record.type == "response.DecisionSigned":
            signed.setdefault((decision_id, record.text("department")), record.seq)
        elif record.type == "response.DecisionClosed":
            closed.add(decision_id)
    samples: list[Sample] = []
    for decision_id, proposal in proposals.items():
        if not period.contains(proposal.occurred_at):
            continue
        is_over = decision_id in closed or (
            logged_time(proposal.text("deadline_at")) <= period.end
        )
        for department in proposal.texts("departments"):
            seq = signed.get((decision_id, department))
            if seq is None and not is_over:
                continue
            samples.append(
                Sample(
                    metric=DECISION_PARTICIPATION,
                    department=department,
                    subject=decision_id,
                    value=flag(seq is not None),
                    seqs=(proposal.seq,) if seq is None else (proposal.seq, seq),
                    incident_id=proposal.text("incident_id") or None,
                    is_exercise=proposal.is_exercise,
                )
            )
    return samples


__all__ = [
    "DATA_SHARED",
    "DECISION_PARTICIPATION",
    "FRESHNESS_ON_TIME",
    "SHARING_ANSWERED",
    "SHARING_ANSWER_LATENCY",
    "decision_samples",
    "freshness_samples",
    "sharing_samples",
]
