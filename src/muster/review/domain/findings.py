"""Findings of an after-action review (复盘评估) and its improvement plan (pure).

Imported by ``muster.review.aar`` (which reads the log and the read models) and by
the command that adopts proposals as tracked items. A finding is read off the record,
never typed in: metric samples (``muster.review.domain.metrics``, already scoped to
one incident by ``muster.review.domain.incident_scope``) and the incident's logged
events. Each finding names its department(s), its figures and the seqs behind it.

Strengths (经验做法): every acknowledgement, task, report or delivery of a department
on time; requests for data answered, and fast (median ≤ ``FAST_ANSWER_MINUTES``); a
joint decision concluded before its deadline.
Areas for improvement (存在问题): late acknowledgements, overdue tasks, overdue
reports, stale data, data refused (or left unanswered) before a task of the asking
department went overdue, escalations. Each area gets one proposal (``propose``): an
owner department, a bilingual title and a default due time per kind (``DUE_DAYS``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from muster.review.domain import metrics as m
from muster.review.domain.records import in_minutes, logged_time

LATE_ACKNOWLEDGEMENT = "late_acknowledgement"
OVERDUE_TASK = "overdue_task"
OVERDUE_REPORT = "overdue_report"
STALE_DATA = "stale_data"
REFUSED_DATA = "refused_data"
ESCALATION = "escalation"
AREAS = (
    LATE_ACKNOWLEDGEMENT,
    OVERDUE_TASK,
    OVERDUE_REPORT,
    STALE_DATA,
    REFUSED_DATA,
    ESCALATION,
)

ACKS_ON_TIME = "acks_on_time"
TASKS_ON_TIME = "tasks_on_time"
REPORTS_ON_TIME = "reports_on_time"
DATA_FRESH = "data_fresh"
FAST_SHARING = "fast_sharing"
DECISION_ON_TIME = "decision_on_time"
STRENGTHS = (
    ACKS_ON_TIME,
    TASKS_ON_TIME,
    REPORTS_ON_TIME,
    DATA_FRESH,
    FAST_SHARING,
    DECISION_ON_TIME,
)

FAST_ANSWER_MINUTES = 60
DUE_DAYS = {
    LATE_ACKNOWLEDGEMENT: 30,
    OVERDUE_TASK: 60,
    OVERDUE_REPORT: 30,
    STALE_DATA: 30,
    REFUSED_DATA: 60,
    ESCALATION: 30,
}
"""Days from the report to an improvement's due date, per finding kind."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A strength or an area for improvement of one department, with its evidence.

    ``count`` items out of ``total`` measured make the finding; ``minutes`` is the
    worst lateness (areas) or the typical time (strengths), when it applies;
    ``others`` names the other departments concerned (a provider, co-signers).
    """

    kind: str
    department: str
    count: int
    total: int
    subjects: tuple[str, ...]
    seqs: tuple[int, ...]
    minutes: float | None = None
    others: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImprovementProposal:
    """One proposed item of the improvement plan (HSEEP IP, 整改措施)."""

    finding: str
    owner_department: str
    title_zh: str
    title_en: str
    due_days: int
    source_seqs: tuple[int, ...]


# --- helpers shared with improvement_areas -------------------------------------------


def by_department(samples: Iterable[m.Sample]) -> dict[str, list[m.Sample]]:
    """Group samples by department, departments in order."""
    grouped: dict[str, list[m.Sample]] = defaultdict(list)
    for sample in samples:
        grouped[sample.department].append(sample)
    return dict(sorted(grouped.items()))


def samples_of(samples: Sequence[m.Sample], metric: str) -> list[m.Sample]:
    """Return the samples of one metric."""
    return [s for s in samples if s.metric == metric]


def subjects_of(samples: Iterable[m.Sample]) -> tuple[str, ...]:
    """Return the distinct subjects of samples, in order."""
    return tuple(dict.fromkeys(s.subject for s in samples))


def sampled_finding(
    kind: str,
    department: str,
    counted: Sequence[m.Sample],
    *,
    total: int,
    minutes: float | None,
) -> Finding:
    """Return a finding made of samples: ``counted`` of ``total``, with their
    subjects and the seqs behind them."""
    return Finding(
        kind=kind, department=department, count=len(counted), total=total,
        subjects=subjects_of(counted), seqs=m.seqs_of(counted), minutes=minutes,
    )  # fmt: skip


# --- strengths ------------------------------------------------------------------------

_ON_TIME_METRICS = (
    (m.ACK_ON_TIME, ACKS_ON_TIME),
    (m.TASK_ON_TIME, TASKS_ON_TIME),
    (m.REPORT_ON_TIME, REPORTS_ON_TIME),
    (m.FRESHNESS_ON_TIME, DATA_FRESH),
)


def _median(samples: Sequence[m.Sample], metric: str, department: str) -> float | None:
    values = [
        s.value for s in samples_of(samples, metric) if s.department == department
    ]
    return m.percentile(values, 50)


def _all_on_time(samples: Sequence[m.Sample]) -> list[Finding]:
    found: list[Finding] = []
    for metric, kind in _ON_TIME_METRICS:
        for department, own in by_department(samples_of(samples, metric)).items():
            if not all(s.value for s in own):
                continue
            minutes = None
            if metric == m.ACK_ON_TIME:
                minutes = _median(samples, m.ACK_LATENCY, department)
            found.append(
                sampled_finding(kind, department, own, total=len(own), minutes=minutes)
            )
    return found


def _fast_sharing(samples: Sequence[m.Sample]) -> list[Finding]:
    found: list[Finding] = []
    for department, own in by_department(
        samples_of(samples, m.SHARING_ANSWERED)
    ).items():
        median = _median(samples, m.SHARING_ANSWER_LATENCY, department)
        if not all(s.value for s in own) or median is None:
            continue
        if median <= FAST_ANSWER_MINUTES:
            found.append(
                sampled_finding(
                    FAST_SHARING, department, own, total=len(own), minutes=median
                )
            )
    return found


def _decisions_on_time(
    records: Sequence[m.LogRecord], incident_id: str
) -> list[Finding]:
    """Joint decisions (会商) concluded before their deadline."""
    proposals: dict[str, m.LogRecord] = {}
    signatures: dict[str, list[int]] = defaultdict(list)
    found: list[Finding] = []
    for record in records:
        decision_id = record.text("decision_id")
        if record.data.get("incident_id") != incident_id:
            continue
        if record.type == "response.DecisionProposed":
            proposals[decision_id] = record
        elif record.type == "response.DecisionSigned":
            signatures[decision_id].append(record.seq)
        elif record.type == "response.DecisionClosed" and decision_id in proposals:
            proposal = proposals[decision_id]
            deadline = logged_time(proposal.data["deadline_at"])
            if record.occurred_at >= deadline:
                continue
            invited = proposal.texts("departments")
            found.append(
                Finding(
                    kind=DECISION_ON_TIME,
                    department=proposal.department or (invited or ("",))[0],
                    count=1, total=1, subjects=(decision_id,),
                    seqs=(proposal.seq, *signatures[decision_id], record.seq),
                    minutes=in_minutes(deadline - record.occurred_at), others=invited,
                )
            )  # fmt: skip
    return found


def strengths(
    records: Sequence[m.LogRecord], samples: Sequence[m.Sample], incident_id: str
) -> list[Finding]:
    """Return the strengths found in an incident's record, by kind."""
    found = [
        *_all_on_time(samples),
        *_fast_sharing(samples),
        *_decisions_on_time(records, incident_id),
    ]
    return sorted(found, key=lambda f: (STRENGTHS.index(f.kind), f.department))


# --- the improvement plan -------------------------------------------------------------

_TITLES = {
    LATE_ACKNOWLEDGEMENT: (
        "{d}：健全值班值守和任务签收机制（{n}项签收超时）",
        "{d}: strengthen the duty watch and task acknowledgement ({n} late)",
    ),
    OVERDUE_TASK: (
        "{d}：复盘{n}项超时任务，修订处置时限和力量配置",
        "{d}: review {n} overdue task(s); revise time limits and resources",
    ),
    OVERDUE_REPORT: (
        "{d}：落实信息报送责任，杜绝迟报漏报（{n}次）",
        "{d}: enforce situation-report duty; no late or missed reports ({n})",
    ),
    STALE_DATA: (
        "{d}：保障{s}按时更新",
        "{d}: keep {s} updated within the agreed interval",
    ),
    REFUSED_DATA: (
        "{o}与{d}：签订{s}应急数据共享协议",
        "{o} and {d}: agree standing emergency sharing of {s}",
    ),
    ESCALATION: (
        "{d}：确保值班人员在岗响应，减少逐级催办（{n}次）",
        "{d}: keep duty officers reachable so tasks need no escalation ({n})",
    ),
}


def owner_of(finding: Finding) -> str:
    """Return the department that owns the fix: the provider of refused data."""
    if finding.kind == REFUSED_DATA and finding.others:
        return finding.others[0]
    return finding.department


def proposal_for(
    finding: Finding, names: Mapping[str, tuple[str, str]] | None = None
) -> ImprovementProposal:
    """Return the improvement proposed for one area for improvement.

    ``names`` maps department codes to (Chinese, English) names for the titles;
    a department without a name is shown by its code.
    """
    zh, en = _TITLES[finding.kind]
    names = names or {}

    def title(template: str, index: int) -> str:
        def name(code: str) -> str:
            return names[code][index] if code in names else code

        return template.format(
            d=name(finding.department),
            n=finding.count,
            s=", ".join(finding.subjects),
            o=", ".join(name(code) for code in finding.others),
        )

    return ImprovementProposal(
        finding=finding.kind,
        owner_department=owner_of(finding),
        title_zh=title(zh, 0),
        title_en=title(en, 1),
        due_days=DUE_DAYS[finding.kind],
        source_seqs=finding.seqs,
    )


def propose(
    areas: Iterable[Finding], names: Mapping[str, tuple[str, str]] | None = None
) -> list[ImprovementProposal]:
    """Return one proposal per area for improvement, in the areas' order."""
    return [proposal_for(f, names) for f in areas if f.kind in _TITLES]


__all__ = [
    "AREAS",
    "DUE_DAYS",
    "FAST_ANSWER_MINUTES",
    "STRENGTHS",
    "Finding",
    "ImprovementProposal",
    "by_department",
    "owner_of",
    "proposal_for",
    "propose",
    "sampled_finding",
    "samples_of",
    "strengths",
    "subjects_of",
]
