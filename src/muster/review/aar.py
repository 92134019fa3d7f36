"""The after-action review (AAR/IP, 复盘评估) of one incident, gathered from the log.

Imported by ``muster.review.aar_render`` and ``muster.review.report_cli`` (and by the
command that adopts proposals: call ``proposals_for``). Everything is read from the
log over the incident's period [opened, closed or now] through
``muster.review.metrics_queries.read_records`` and the metric definitions, plus the
incident, plans and department names from the read models and the pinned events
(``review_pins``). The result states the log range and chain hash it was computed
from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from muster.core.clock import parse_utc
from muster.core.eventlog.store import SqlEventStore
from muster.identity import queries as identity_queries
from muster.response import queries as response_queries
from muster.review import aar_tasks
from muster.review.aar_drill import ExerciseEvaluation, exercise_of
from muster.review.aar_tasks import TaskRow
from muster.review.domain import metrics as m
from muster.review.domain.errors import UnknownReviewIncident
from muster.review.domain.findings import Finding, ImprovementProposal, propose
from muster.review.domain.findings import strengths as find_strengths
from muster.review.domain.improvement_areas import areas_for_improvement
from muster.review.domain.incident_scope import incident_scope, scoped_samples
from muster.review.domain.scorecard import (
    DepartmentScore,
    ScorecardWeights,
    build_scorecards,
)
from muster.review.metrics_queries import LogRange, read_records
from muster.review.queries import incident_pins

KEY_EVENTS = (
    "response.IncidentOpened",
    "response.IncidentStatusChanged",
    "response.ResponseActivated",
    "response.ResponseLevelChanged",
    "response.DecisionProposed",
    "response.DecisionClosed",
    "response.SituationReportSent",
    "response.ReportOverdue",
    "response.TaskOverdue",
    "response.EscalationStepReached",
    "response.DepartmentMarkedUnresponsive",
)
"""The event types an AAR timeline shows (besides events pinned on the incident)."""

_DELIVERIES = ("ingest.BatchIngested", "ingest.ObservationsIngested")
_DATASET_EVENTS = ("catalog.DatasetRegistered", "catalog.DatasetUpdated")


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One key event of the incident, or one pinned on it (with the pin's note)."""

    seq: int
    at: datetime
    type: str
    department: str | None
    data: Mapping[str, object]
    pin_note: str | None = None


@dataclass(frozen=True, slots=True)
class Activation:
    """A plan activated, or the response level changed, on the incident."""

    plan_code: str
    level: str
    at: datetime
    seq: int


@dataclass(frozen=True, slots=True)
class DatasetAge:
    """A dataset the incident used: its SLA and every delivery up to the period end."""

    code: str
    name_zh: str
    name_en: str
    owner: str
    interval_minutes: int
    deliveries: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class Counts:
    """How many tasks, decisions, reports sent and escalation steps."""

    tasks: int
    decisions: int
    reports: int
    escalations: int


@dataclass(frozen=True, slots=True)
class AfterActionReview:
    """Everything an AAR shows, computed from one log range."""

    incident: response_queries.IncidentView
    period: m.Period
    closed_at: datetime | None
    highest_level: str | None
    lead_department: str | None
    supporting_departments: tuple[str, ...]
    activations: tuple[Activation, ...]
    counts: Counts
    timeline: tuple[TimelineItem, ...]
    tasks: tuple[TaskRow, ...]
    departments: tuple[DepartmentScore, ...]
    strengths: tuple[Finding, ...]
    areas: tuple[Finding, ...]
    proposals: tuple[ImprovementProposal, ...]
    datasets: tuple[DatasetAge, ...]
    log_range: LogRange | None
    generated_at: datetime
    weights: ScorecardWeights
    department_names: Mapping[str, tuple[str, str]]
    plan_names: Mapping[str, tuple[str, str]]
    obligations: Mapping[str, tuple[str, str]]
    is_exercise: bool = False
    exercise: ExerciseEvaluation | None = None


def _incident_records(
    records: Sequence[m.LogRecord], incident_id: str
) -> list[m.LogRecord]:
    return [r for r in records if r.data.get("incident_id") == incident_id]


def _closed_at(records: Sequence[m.LogRecord]) -> datetime | None:
    closings = [
        r.occurred_at
        for r in records
        if r.type == "response.IncidentStatusChanged"
        and r.data.get("to_status") == "closed"
    ]
    return closings[-1] if closings else None


def _log_range(
    conn: Connection,
    store: SqlEventStore,
    records: Sequence[m.LogRecord],
    period: m.Period,
) -> LogRange | None:
    within = [r.seq for r in records if period.contains(r.occurred_at)]
    if not within:
        return None
    (last,) = store.read_all(conn, after=within[-1] - 1, limit=1)
    return LogRange(within[0], within[-1], last.hash.hex())


def _level_rank(level: str) -> tuple[int, str]:
    digits = "".join(ch for ch in level if ch.isdigit())
    return (int(digits) if digits else 99, level)


def _activations(incident_records: Sequence[m.LogRecord]) -> list[Activation]:
    found: list[Activation] = []
    plan = ""
    for record in incident_records:
        if record.type == "response.ResponseActivated":
            plan = str(record.data.get("plan_code") or "")
            level = str(record.data.get("level") or "")
        elif record.type == "response.ResponseLevelChanged":
            level = str(record.data.get("to_level") or "")
        else:
            continue
        found.append(Activation(plan, level, record.occurred_at, record.seq))
    return found


def _timeline(
    records: Sequence[m.LogRecord], incident_id: str, pinned: Mapping[int, str]
) -> list[TimelineItem]:
    return [
        TimelineItem(
            seq=r.seq, at=r.occurred_at, type=r.type, department=r.department,
            data=r.data, pin_note=pinned.get(r.seq),
        )
        for r in records
        if r.seq in pinned
        or (r.type in KEY_EVENTS and r.data.get("incident_id") == incident_id)
    ]  # fmt: skip


def _pins(conn: Connection, incident_id: str) -> dict[int, str]:
    return {seq: pin.note for seq, pin in incident_pins(conn, incident_id).items()}


def _obligations(own: Sequence[m.LogRecord]) -> dict[str, tuple[str, str]]:
    return {
        str(r.data.get("obligation")): (
            str(r.data.get("name_zh") or ""),
            str(r.data.get("name_en") or ""),
        )
        for r in own
        if r.type == "response.ReportDueSet"
    }


def _number(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _datasets(records: Sequence[m.LogRecord], codes: Sequence[str]) -> list[DatasetAge]:
    metadata: dict[str, Mapping[str, object]] = {}
    deliveries: dict[str, list[datetime]] = {code: [] for code in codes}
    for record in records:
        code = str(record.data.get("code") or record.data.get("dataset_code") or "")
        if code not in deliveries:
            continue
        if record.type in _DATASET_EVENTS:
            metadata[code] = record.data
        elif record.type in _DELIVERIES and (
            _number(record.data.get("accepted")) + _number(record.data.get("count"))
        ):
            deliveries[code].append(record.occurred_at)
    return [
        DatasetAge(
            code=code,
            name_zh=str(metadata[code].get("name_zh") or code),
            name_en=str(metadata[code].get("name_en") or code),
            owner=str(metadata[code].get("owner_department") or ""),
            interval_minutes=_number(metadata[code].get("update_interval_minutes")),
            deliveries=tuple(deliveries[code]),
        )
        for code in codes
        if code in metadata
    ]


def _names(conn: Connection) -> tuple[dict[str, tuple[str, str]], ...]:
    departments = {
        d.code: (d.name_zh, d.name_en) for d in identity_queries.list_departments(conn)
    }
    plans = {p.code: (p.name_zh, p.name_en) for p in response_queries.list_plans(conn)}
    return departments, plans


def gather(
    conn: Connection,
    incident_id: str,
    *,
    now: datetime,
    store: SqlEventStore | None = None,
    weights: ScorecardWeights | None = None,
) -> AfterActionReview:
    """Return the AAR of an incident as the log stands (``now``: generation time)."""
    store = store or SqlEventStore()
    weights = weights or ScorecardWeights()
    incident = response_queries.get_incident(conn, incident_id)
    if incident is None:
        raise UnknownReviewIncident(f"no incident {incident_id}", incident=incident_id)
    opened = parse_utc(incident.opened_at)
    end = max(now, opened, _last_occurred(conn, store))
    everything, _range = read_records(conn, m.Period(opened, end), store=store)
    own_all = _incident_records(everything, incident_id)
    closed = _closed_at(own_all)
    period = m.Period(opened, closed or end)
    records = [r for r in everything if r.occurred_at <= period.end]
    own = _incident_records(records, incident_id)
    scope = incident_scope(records, incident_id, period)
    samples = scoped_samples(m.all_samples(records, period), scope)
    is_exercise = own[0].is_exercise if own else False  # own[0]: IncidentOpened
    cards = build_scorecards(samples, weights, incident_id=incident_id)
    card = next((c for c in cards if c.is_exercise is is_exercise), cards[0])
    areas = areas_for_improvement(records, samples, period, incident_id)
    activations = _activations(own)
    levels = sorted({a.level for a in activations}, key=_level_rank)
    department_names, plan_names = _names(conn)
    return AfterActionReview(
        incident=incident, period=period, closed_at=closed,
        highest_level=levels[0] if levels else None,
        lead_department=incident.lead_department,
        supporting_departments=incident.supporting_departments,
        activations=tuple(activations),
        counts=_counts(own),
        timeline=tuple(_timeline(records, incident_id, _pins(conn, incident_id))),
        tasks=tuple(aar_tasks.task_rows(own, samples)),
        departments=card.departments,
        strengths=tuple(find_strengths(records, samples, incident_id)),
        areas=tuple(areas), proposals=tuple(propose(areas, department_names)),
        datasets=tuple(_datasets(records, scope.datasets)),
        log_range=_log_range(conn, store, records, period),
        generated_at=now, weights=weights,
        department_names=department_names, plan_names=plan_names,
        obligations=_obligations(own), is_exercise=is_exercise,
        exercise=exercise_of(everything, own_all),
    )  # fmt: skip


def _last_occurred(conn: Connection, store: SqlEventStore) -> datetime:
    """Return when the log's last event occurred. A drill's sandbox runs on scenario
    time, which may be ahead of the wall clock: its report counts up to its end."""
    last_seq = store.head(conn)[0]
    found = store.read_all(conn, after=last_seq - 1, limit=1) if last_seq else []
    if not found:
        return datetime.min.replace(tzinfo=UTC)
    return parse_utc(found[0].envelope.occurred_at)


def _counts(own: Sequence[m.LogRecord]) -> Counts:
    def count(event_type: str) -> int:
        return sum(1 for r in own if r.type == event_type)

    return Counts(
        tasks=count("response.TaskAssigned"),
        decisions=count("response.DecisionProposed"),
        reports=count("response.SituationReportSent"),
        escalations=count("response.EscalationStepReached"),
    )


def proposals_for(
    conn: Connection,
    incident_id: str,
    *,
    now: datetime,
    store: SqlEventStore | None = None,
) -> list[ImprovementProposal]:
    """Return the improvement plan proposed for an incident (one per area)."""
    return list(gather(conn, incident_id, now=now, store=store).proposals)


__all__ = [
    "KEY_EVENTS",
    "Activation",
    "AfterActionReview",
    "Counts",
    "DatasetAge",
    "TimelineItem",
    "gather",
    "proposals_for",
]
