"""Render the after-action report (AAR/IP, 复盘评估) as self-contained HTML, or PDF.

Imported by ``muster.review.report_cli``. Fills ``web/templates/review_aar.html``
(inline CSS, the CJK font first, charts as inline SVG) with the figures of
``muster.review.aar.AfterActionReview`` in Chinese or English (words from
``muster.review.aar_text``; a drill's exercise section from ``aar_drill``). The
template is read with Jinja directly, so the review part needs nothing of the web
app; the PDF goes through ``muster.core.pdf``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import jinja2
from markupsafe import Markup

from muster.core.pdf import html_to_pdf
from muster.review import aar_charts, aar_drill
from muster.review import aar_text as text
from muster.review.aar import AfterActionReview, TimelineItem
from muster.review.aar_tasks import TaskRow
from muster.review.domain import metrics as m
from muster.review.domain.findings import DUE_DAYS, Finding
from muster.review.domain.scorecard import DepartmentScore, Figure
from muster.review.domain.settings import weights_as_dict

TEMPLATE = "review_aar.html"
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
_MINUTE = timedelta(minutes=1)
_RATES = (
    m.ACK_ON_TIME, m.TASK_ON_TIME, m.REPORT_ON_TIME, m.FRESHNESS_ON_TIME,
    m.SHARING_ANSWERED, m.DECISION_PARTICIPATION,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Words:
    """One language's view of the review: labels, names and formats."""

    review: AfterActionReview
    language: str

    @property
    def index(self) -> int:
        return text.index_of(self.language)

    def __call__(self, key: str, **values: object) -> str:
        words = text.LABELS[key][self.index]
        return words.format(**values) if values else words

    def pick(self, table: Mapping[str, tuple[str, str]], key: str) -> str:
        return table[key][self.index] if key in table else key

    def department(self, code: str | None) -> str:
        return self.pick(self.review.department_names, code) if code else "—"

    def departments(self, codes: Sequence[str]) -> str:
        return ("、", ", ")[self.index].join(map(self.department, codes))

    def offset(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return f"+{round((moment - self.review.period.start) / _MINUTE)}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


# --- overview -------------------------------------------------------------------------


def _duration(words: _Words) -> str:
    period = words.review.period
    minutes = round((period.end - period.start) / _MINUTE)
    return words("hours_minutes", h=minutes // 60, m=minutes % 60)


def _overview(words: _Words) -> list[tuple[str, str]]:
    review, incident = words.review, words.review.incident
    category = words.pick(text.CATEGORIES, incident.category)
    plans = [
        f"{words.pick(review.plan_names, a.plan_code)} ({a.plan_code}) {a.level} · "
        f"{_when(a.at)}"
        for a in review.activations
    ]
    counts = review.counts
    return [
        (words("incident"), incident.title),
        (words("type"), f"{incident.type_code or '—'} · {category}"),
        (words("opened"), f"{_when(review.period.start)} UTC"),
        (
            words("closed"),
            f"{_when(review.closed_at)} UTC"
            if review.closed_at
            else words("still_open"),
        ),
        (words("duration"), _duration(words)),
        (words("highest_level"), review.highest_level or "—"),
        (words("lead"), words.department(review.lead_department)),
        (words("supporting"), words.departments(review.supporting_departments) or "—"),
        (words("plans"), "; ".join(plans) or "—"),
        (
            words("counts"),
            words(
                "counts_text", tasks=counts.tasks, decisions=counts.decisions,
                reports=counts.reports, escalations=counts.escalations,
            ),
        ),
    ]  # fmt: skip


# --- timeline -------------------------------------------------------------------------


def _task_title(words: _Words, task_id: str) -> str:
    task = next((t for t in words.review.tasks if t.task_id == task_id), None)
    return task.title(words.language) if task else str(task_id)


def _obligation(words: _Words, key: str) -> str:
    return words.pick(words.review.obligations, key)


def _details(words: _Words, item: TimelineItem) -> str:
    data = item.data

    def get(key: str) -> str:
        return str(data.get(key) or "")

    def department(key: str) -> str:
        return words.department(get(key))

    match item.type:
        case "response.IncidentOpened":
            found = f"{get('title')} ({get('type_code') or '—'})"
        case "response.IncidentStatusChanged":
            statuses = text.INCIDENT_STATUSES
            found = (
                f"{words.pick(statuses, get('from_status'))} → "
                f"{words.pick(statuses, get('to_status'))} {get('reason')}"
            )
        case "response.ResponseActivated":
            plan = words.pick(words.review.plan_names, get("plan_code"))
            found = f"{plan} {get('level')} · {department('lead_department')}"
        case "response.ResponseLevelChanged":
            found = f"{get('from_level')} → {get('to_level')} {get('reason')}"
        case "response.DecisionProposed":
            found = get("title")
        case "response.DecisionClosed":
            found = get("outcome")
        case "response.SituationReportSent" | "response.ReportOverdue":
            found = (
                f"{_obligation(words, get('obligation'))} · {department('department')}"
            )
            if get("recipient"):
                found += f" → {get('recipient')}"
        case "response.TaskOverdue" | "response.DepartmentMarkedUnresponsive":
            found = f"{_task_title(words, get('task_id'))} · {department('department')}"
        case "response.EscalationStepReached":
            found = (
                f"{_task_title(words, get('task_id'))} · {department('department')} → "
                f"{words.pick(text.ROLES, get('notify_role'))} @ "
                f"{department('notify_department')}"
            )
        case _:
            found = item.type
    if item.pin_note is not None:
        found = f"{words('pinned')} {item.pin_note} · {found}"
    return found.strip()


def _timeline(words: _Words) -> list[dict[str, str]]:
    return [
        {
            "time": _when(item.at), "offset": words.offset(item.at),
            "event": words.pick(text.EVENTS, item.type),
            "details": _details(words, item), "seq": str(item.seq),
            "pinned": "pinned" if item.pin_note is not None else "",
        }
        for item in words.review.timeline
    ]  # fmt: skip


# --- objectives -----------------------------------------------------------------------


def _flag(words: _Words, value: bool | None) -> str:
    if value is None:
        return words("pending")
    return words("on_time") if value else words("late")


def _group_name(words: _Words, group: str) -> str:
    if not group:
        return words("ad_hoc")
    plan, _sep, level = group.partition(" · ")
    return f"{words.pick(words.review.plan_names, plan)} ({plan}) · {level}"


def _task_row(words: _Words, task: TaskRow) -> dict[str, str]:
    return {
        "title": task.title(words.language),
        "department": words.department(task.department),
        "status": words.pick(text.STATUSES, task.status),
        "assigned": words.offset(task.assigned_at),
        "acknowledged": words.offset(task.acknowledged_at),
        "done": words.offset(task.done_at),
        "due": words.offset(task.due_at),
        "ack": _flag(words, task.ack_on_time),
        "completion": _flag(words, task.on_time),
        "late": "late" if task.on_time is False or task.ack_on_time is False else "",
    }  # fmt: skip


def _objectives(words: _Words) -> list[dict[str, object]]:
    groups: dict[str, list[dict[str, str]]] = {}
    for task in words.review.tasks:
        groups.setdefault(task.group, []).append(_task_row(words, task))
    return [{"name": _group_name(words, g), "rows": rows} for g, rows in groups.items()]


# --- departments ----------------------------------------------------------------------


def _rate(figure: Figure) -> tuple[str, str]:
    """Return a rate as a percentage and the counts behind it."""
    if not isinstance(figure.value, Fraction):
        return "—", ""
    return f"{float(figure.value):.0%}", f"{figure.value.numerator}/{figure.count}"


def _department_row(words: _Words, score: DepartmentScore) -> dict[str, object]:
    latency = score.figure(m.ACK_LATENCY)
    value = None if latency.value is None else float(latency.value)
    return {
        "name": words.department(score.department), "code": score.department,
        "latency": f"{_number(value)} / {_number(latency.p90)}",
        "rates": [_rate(score.figure(metric)) for metric in _RATES],
        "completed": _number(float(score.figure(m.TASKS_COMPLETED).value or 0)),
        "shared": _number(float(score.figure(m.DATA_SHARED).value or 0)),
        "provided": _number(float(score.figure(m.RESOURCES_PROVIDED).value or 0)),
        "score": "—" if score.score is None else f"{float(score.score):.1f}",
    }  # fmt: skip


# --- findings and the plan ------------------------------------------------------------


_TASK_FINDINGS = ("late_acknowledgement", "overdue_task", "escalation", "tasks_on_time")
_DATA_FINDINGS = ("stale_data", "data_fresh", "refused_data")


def _report_name(words: _Words, subject: str) -> str:
    """Name a due report: its obligation and deadline (``incident:key@due``)."""
    key, _sep, due = subject.partition("@")
    due_at = datetime.fromisoformat(due) if due else None
    name = _obligation(words, key.rpartition(":")[2])
    return f"{name} ({words('due_by')} {_when(due_at)})"


def _dataset_name(words: _Words, code: str) -> str:
    dataset = next((d for d in words.review.datasets if d.code == code), None)
    if dataset is None:
        return code
    return f"{dataset.name_zh if words.index == 0 else dataset.name_en} ({code})"


def _decision_title(words: _Words, decision_id: str) -> str:
    titles = (
        str(item.data.get("title"))
        for item in words.review.timeline
        if item.type == "response.DecisionProposed"
        and item.data.get("decision_id") == decision_id
    )
    return next(titles, decision_id)


def _subjects(words: _Words, finding: Finding) -> str:
    """Name a finding's subjects: task titles, reports, datasets or decisions."""
    name: Callable[[_Words, str], str]
    if finding.kind in _TASK_FINDINGS:
        name = _task_title
    elif finding.kind == "overdue_report":
        name = _report_name
    elif finding.kind in _DATA_FINDINGS:
        name = _dataset_name
    elif finding.kind == "decision_on_time":
        name = _decision_title
    else:
        return ""
    return "; ".join(name(words, subject) for subject in finding.subjects)


def _finding(words: _Words, finding: Finding) -> dict[str, str]:
    template = text.FINDINGS[finding.kind][words.index]
    sentence = template.format(
        d=words.department(finding.department), count=finding.count,
        total=finding.total, minutes=_number(finding.minutes),
        s=_subjects(words, finding), o=words.departments(finding.others) or "—",
    )  # fmt: skip
    return {"text": sentence, "seqs": ", ".join(map(str, finding.seqs))}


def _plan(words: _Words) -> list[dict[str, str]]:
    review = words.review
    return [
        {
            "number": str(number),
            "title": p.title_zh if words.index == 0 else p.title_en,
            "owner": words.department(p.owner_department),
            "due": f"{review.generated_at + timedelta(days=p.due_days):%Y-%m-%d}",
            "finding": words.pick(text.FINDING_KINDS, p.finding),
            "seqs": ", ".join(map(str, p.source_seqs)),
        }
        for number, p in enumerate(review.proposals, start=1)
    ]  # fmt: skip


# --- the document ---------------------------------------------------------------------


def _charts(words: _Words) -> dict[str, Markup]:
    review = words.review
    language = words.language if aar_charts.cjk_font() else "en"
    labels = {key: value[text.index_of(language)] for key, value in text.LABELS.items()}
    return {
        "gantt": _svg(
            aar_charts.gantt_chart(review.tasks, review.period, language, labels)
        ),
        "ack": _svg(aar_charts.ack_latency_chart(review.departments, labels)),
        "freshness": _svg(
            aar_charts.freshness_chart(review.datasets, review.period, language, labels)
        ),
    }


def _svg(document: str) -> Markup:
    # matplotlib's SVG writer escapes every text it writes (labels are drawn as
    # paths, their strings only in escaped comments), so the chart can be inlined.
    return Markup(document)  # noqa: S704 - escaped by matplotlib, see above


def render_html(review: AfterActionReview, *, language: str, command: str) -> str:
    """Return the AAR as one self-contained HTML document in a language.

    ``command`` is the command line that regenerates it (shown in the appendix).
    """
    words = _Words(review, language)
    weights = ", ".join(f"{k}={v}" for k, v in weights_as_dict(review.weights).items())
    days = ", ".join(
        f"{words.pick(text.FINDING_KINDS, kind)} {words('days', n=n)}"
        for kind, n in DUE_DAYS.items()
    )
    context = {
        "lang": language, "t": words, "incident": review.incident,
        "sections": {key: names[words.index] for key, names in text.SECTIONS},
        "overview": _overview(words), "timeline": _timeline(words),
        "objectives": _objectives(words),
        "departments": [_department_row(words, d) for d in review.departments],
        "rate_headings": [words(metric) for metric in _RATES],
        "score_note": words("score_note", weights=weights),
        "strengths": [_finding(words, f) for f in review.strengths],
        "areas": [_finding(words, f) for f in review.areas],
        "plan": _plan(words), "plan_note": words("plan_note", days=days),
        "charts": _charts(words), "log_range": review.log_range,
        "period": f"{_when(review.period.start)} – {_when(review.period.end)} UTC",
        "generated": f"{_when(review.generated_at)} UTC", "command": command,
        "is_exercise": review.is_exercise,
        "exercise_heading": text.EXERCISE_SECTION[words.index],
        "exercise": aar_drill.exercise_context(
            review.exercise, words.index, words.department
        ),
    }  # fmt: skip
    return _environment().get_template(TEMPLATE).render(**context)


def render_pdf(review: AfterActionReview, *, language: str, command: str) -> bytes:
    """Return the AAR as a PDF (WeasyPrint) in a language."""
    return html_to_pdf(render_html(review, language=language, command=command))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


__all__ = ["TEMPLATE", "render_html", "render_pdf"]
