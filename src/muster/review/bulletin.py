"""The periodic bulletin (协同绩效通报): this period against the previous one, as HTML.

Imported by ``muster.review.bulletin_cli``. ``build_bulletin`` asks
``muster.review.metrics_queries.scorecards`` for both periods (one definition per
metric: nothing is measured here) and compares them with
``muster.review.domain.bulletin``; ``render_html`` fills the self-contained template
``web/templates/review_bulletin.html`` (inline CSS, CJK font first, ready for
``muster.core.pdf.html_to_pdf``) in Chinese or English, headings in both. The
template is read with Jinja directly, so the review part needs nothing of the web app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import jinja2

from muster.core.eventlog.store import SqlEventStore
from muster.review.domain import metrics as m
from muster.review.domain.bulletin import DepartmentComparison, ScopeComparison, compare
from muster.review.domain.scorecard import Figure, ScorecardWeights
from muster.review.domain.settings import weights_as_dict
from muster.review.metrics_queries import Log, ScorecardReport, scorecards

TEMPLATE = "review_bulletin.html"
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
LANGUAGES = ("zh-CN", "en")

LABELS: dict[str, tuple[str, str]] = {
    "title": ("协同绩效通报", "Collaboration bulletin"),
    "periods": ("通报期间", "Periods"),
    "this_period": ("本期", "This period"),
    "previous_period": ("上期", "Previous period"),
    "log_range": ("日志范围", "Log range"),
    "head_hash": ("链头哈希", "Chain head hash"),
    "no_events": ("本期无事件", "no events in this period"),
    "incidents": ("事件数", "Incidents"),
    "live": ("实战", "Live"),
    "drill": ("演练", "Drill"),
    "weights": ("评分权重", "Weights used"),
    "highlights": ("要点", "Highlights"),
    "most_improved": ("进步最大", "Most improved"),
    "lowest": ("得分最低", "Lowest score"),
    "inactive": ("本期无活动", "No activity this period"),
    "none": ("无", "none"),
    "department": ("部门", "Department"),
    "score": ("得分", "Score"),
    "change": ("变化", "Change"),
    "rank": ("排名", "Rank"),
    "process": ("过程指标", "Process"),
    "outcomes": ("成效指标", "Outcomes"),
    "previous_hint": ("灰色为上期数值", "grey: the previous period"),
    "generated": ("生成时间", "Generated"),
    "score_rule": (
        "得分 = 100 × Σ 权重·比率 / Σ 权重（仅计有数据的比率）；演练与实战分开统计。",
        "Score = 100 × Σ weight·rate / Σ weight over the rates with data; drills are "
        "kept apart from live incidents.",
    ),
    m.ACK_LATENCY: ("签收用时 p50/p90（分）", "Ack p50/p90 (min)"),
    m.ACK_ON_TIME: ("签收及时率", "Acks on time"),
    m.TASK_ON_TIME: ("任务按时率", "Tasks on time"),
    m.REPORT_ON_TIME: ("报送及时率", "Reports on time"),
    m.FRESHNESS_ON_TIME: ("数据更新及时率", "Data fresh"),
    m.SHARING_ANSWERED: ("共享申请响应率", "Requests answered"),
    m.SHARING_ANSWER_LATENCY: ("共享响应用时（分）", "Answer time (min)"),
    m.DECISION_PARTICIPATION: ("决策参与率", "Decisions joined"),
    m.TASKS_COMPLETED: ("完成任务数", "Tasks completed"),
    m.DATA_SHARED: ("共享记录数", "Records shared"),
    m.RESOURCES_PROVIDED: ("提供资源数", "Resource units provided"),
}
PROCESS_COLUMNS = (
    m.ACK_LATENCY,
    m.ACK_ON_TIME,
    m.TASK_ON_TIME,
    m.REPORT_ON_TIME,
    m.FRESHNESS_ON_TIME,
    m.SHARING_ANSWERED,
    m.SHARING_ANSWER_LATENCY,
    m.DECISION_PARTICIPATION,
)
OUTCOME_COLUMNS = (m.TASKS_COMPLETED, m.DATA_SHARED, m.RESOURCES_PROVIDED)


@dataclass(frozen=True, slots=True)
class Bulletin:
    """Both periods' scorecard reports and their comparison, scope by scope."""

    current: ScorecardReport
    previous: ScorecardReport
    scopes: tuple[ScopeComparison, ...]

    @property
    def weights(self) -> ScorecardWeights:
        """Return the weights both periods were scored with."""
        return self.current.weights

    def name(self, department: str, language: str) -> str:
        """Return a department's name as the log records it (its code if unknown)."""
        for known in self.current.context.departments:
            if known.code == department:
                return known.name_zh if language == "zh-CN" else known.name_en
        return department


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Return the period of the same length that ends just before ``start``."""
    previous_end = start - timedelta(microseconds=1)  # periods include both ends
    return previous_end - (end - start), previous_end


def build_bulletin(
    log: Log,
    *,
    start: datetime,
    end: datetime,
    previous_start: datetime,
    previous_end: datetime,
    weights: ScorecardWeights,
    store: SqlEventStore | None = None,
) -> Bulletin:
    """Score both periods with the same weights and compare them."""
    current = scorecards(log, start=start, end=end, weights=weights, store=store)
    previous = scorecards(
        log, start=previous_start, end=previous_end, weights=weights, store=store
    )
    known = [department.code for department in current.context.departments]
    scopes = compare(current.scorecards, previous.scorecards, known=known)
    return Bulletin(current=current, previous=previous, scopes=scopes)


# --- rendering ----------------------------------------------------------------------


def _percent(value: Fraction | None) -> str:
    return "–" if value is None else f"{float(value):.1f}"


def _signed(value: Fraction | None) -> str:
    return "–" if value is None else f"{float(value):+.1f}"


def cell(figure: Figure | None) -> str:
    """Format a figure: p50/p90 minutes, a rate with its counts, or a total."""
    if figure is None or figure.value is None:
        return "–"
    if figure.p90 is not None:
        return f"{float(figure.value):g} / {figure.p90:g}"
    if isinstance(figure.value, Fraction):
        hits = figure.value * figure.count
        return f"{float(figure.value):.0%} ({hits}/{figure.count})"
    return f"{figure.value:g}"


def _figures(row: DepartmentComparison, metrics: tuple[str, ...]) -> list[Any]:
    return [
        {
            "now": cell(row.current.figure(metric) if row.current else None),
            "before": cell(row.previous.figure(metric) if row.previous else None),
        }
        for metric in metrics
    ]


def _row(bulletin: Bulletin, row: DepartmentComparison, language: str) -> Any:
    return {
        "code": row.department,
        "name": bulletin.name(row.department, language),
        "score": _percent(row.score),
        "previous_score": _percent(row.previous_score),
        "change": _signed(row.change),
        "rank": row.rank or "–",
        "previous_rank": row.previous_rank or "–",
        "process": _figures(row, PROCESS_COLUMNS),
        "outcomes": _figures(row, OUTCOME_COLUMNS),
    }


def _names(bulletin: Bulletin, codes: tuple[str, ...], language: str) -> list[str]:
    return [bulletin.name(code, language) for code in codes]


def _scope(bulletin: Bulletin, scope: ScopeComparison, language: str) -> Any:
    return {
        "is_exercise": scope.is_exercise,
        "rows": [_row(bulletin, row, language) for row in scope.departments],
        "most_improved": _names(bulletin, scope.most_improved, language),
        "lowest": _names(bulletin, scope.lowest, language),
        "inactive": _names(bulletin, scope.inactive, language),
    }


def _period(report: ScorecardReport) -> Any:
    log_range = report.log_range
    return {
        "start": report.period.start.strftime("%Y-%m-%d %H:%M:%S"),
        "end": report.period.end.strftime("%Y-%m-%d %H:%M:%S"),
        "first_seq": None if log_range is None else log_range.first_seq,
        "last_seq": None if log_range is None else log_range.last_seq,
        "head_hash": None if log_range is None else log_range.head_hash,
        "live_incidents": report.context.live_incidents,
        "drill_incidents": report.context.drill_incidents,
    }


def render_html(bulletin: Bulletin, *, language: str, generated_at: datetime) -> str:
    """Return the bulletin as one self-contained HTML document."""
    index = 0 if language == "zh-CN" else 1

    def label(key: str) -> str:
        return LABELS[key][index]

    def other(key: str) -> str:
        return LABELS[key][1 - index]

    weights = weights_as_dict(bulletin.weights)
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            language=language,
            label=label,
            other=other,
            periods=[_period(bulletin.current), _period(bulletin.previous)],
            scopes=[_scope(bulletin, scope, language) for scope in bulletin.scopes],
            process_columns=PROCESS_COLUMNS,
            outcome_columns=OUTCOME_COLUMNS,
            weights=[(label(name), weight) for name, weight in weights.items()],
            generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


__all__ = [
    "LABELS",
    "LANGUAGES",
    "Bulletin",
    "build_bulletin",
    "cell",
    "previous_period",
    "render_html",
]
