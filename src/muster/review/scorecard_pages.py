"""Scorecard pages (协同绩效): ``GET /review/scorecards?from=&to=&incident=`` and the
drill-down ``GET /review/scorecards/events?...&department=&metric=&kind=``.

The table shows each department's figures (``muster.review.metrics_queries``, with the
weights in force), live and drills apart; every figure links to the events behind it,
listed from the log by seq with the live feed's one-line summaries. Both pages state
the log range and chain head hash they were computed from. Any signed-in person may
look. Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from muster.core.clock import isoformat_utc, parse_utc
from muster.core.errors import NotFound, ValidationFailed
from muster.identity import queries as identity_queries
from muster.review.bulletin import cell
from muster.review.domain import metrics as m
from muster.review.domain.scorecard import OUTCOMES, PROCESS, Figure
from muster.review.domain.settings import weights_as_dict
from muster.review.metrics_queries import ScorecardReport, scorecards
from muster.review.settings_queries import stored_weights
from muster.web.i18n import N_
from muster.web.summaries import Summarizer
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 30
METRIC_LABELS: dict[str, str] = {
    m.ACK_LATENCY: N_("Acknowledgement p50 / p90 (min)"),
    m.ACK_ON_TIME: N_("Acknowledged on time"),
    m.TASK_ON_TIME: N_("Tasks on time"),
    m.REPORT_ON_TIME: N_("Reports on time"),
    m.FRESHNESS_ON_TIME: N_("Data delivered on time"),
    m.SHARING_ANSWERED: N_("Access requests answered"),
    m.SHARING_ANSWER_LATENCY: N_("Answer time p50 / p90 (min)"),
    m.DECISION_PARTICIPATION: N_("Joint decisions joined"),
    m.TASKS_COMPLETED: N_("Tasks completed"),
    m.DATA_SHARED: N_("Records shared"),
    m.RESOURCES_PROVIDED: N_("Resource units provided"),
}
KINDS = ("live", "exercise")
Text = Annotated[str, Query(max_length=64)]
From = Annotated[str, Query(alias="from", max_length=64)]
To = Annotated[str, Query(alias="to", max_length=64)]


def _moment(text: str, name: str) -> datetime:
    """Parse a time from the form: ISO with a zone, or without one meaning UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise ValidationFailed(
            f"{name} needs a time such as 2026-07-01T08:00 (UTC)", field=name
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return parse_utc(moment.isoformat())


def _period(page: Page, start: str, end: str) -> tuple[datetime, datetime]:
    until = _moment(end, "to") if end else page.muster.clock.now()
    since = _moment(start, "from") if start else until - timedelta(days=DEFAULT_DAYS)
    if until < since:
        raise ValidationFailed("the end of the period is before its start", field="to")
    return since, until


def _report(page: Page, *, start: datetime, end: datetime, incident: str) -> Any:
    """Return the scorecard report and the department names of the page."""
    muster = page.muster
    with muster.engine.connect() as conn:
        report = scorecards(
            conn,
            start=start,
            end=end,
            incident_id=incident or None,
            weights=stored_weights(conn),
            store=muster.store,
        )
        names = {
            item.code: item.name(page.language)
            for item in identity_queries.list_departments(conn)
        }
    return report, names


def _log_range(report: ScorecardReport) -> dict[str, Any] | None:
    log_range = report.log_range
    if log_range is None:
        return None
    return {
        "first_seq": log_range.first_seq,
        "last_seq": log_range.last_seq,
        "head_hash": log_range.head_hash,
    }


def _figure(figure: Figure, link: dict[str, str]) -> dict[str, Any]:
    return {
        "text": cell(figure),
        "count": len(figure.seqs),
        "url": "/review/scorecards/events?"
        + urlencode({**link, "metric": figure.metric}),
    }


@router.get("/review/scorecards")
def scorecards_page(
    page: SignedInPage, start: From = "", end: To = "", incident: Text = ""
) -> Response:
    """Show the departments' scorecards over a period, each figure a link."""
    since, until = _period(page, start, end)
    report, names = _report(page, start=since, end=until, incident=incident)
    period = {"from": isoformat_utc(since), "to": isoformat_utc(until)}
    if incident:
        period["incident"] = incident
    cards = []
    for card in report.scorecards:
        kind = KINDS[card.is_exercise]
        rows = []
        for department in card.departments:
            link = {**period, "department": department.department, "kind": kind}
            rows.append(
                {
                    "code": department.department,
                    "name": names.get(department.department, department.department),
                    "score": None
                    if department.score is None
                    else f"{float(department.score):.1f}",
                    "figures": [
                        _figure(f, link)
                        for f in (*department.process, *department.outcome)
                    ],
                }
            )
        cards.append({"kind": kind, "rows": rows})
    return page.render(
        "review_scorecards.html",
        cards=cards,
        columns=[
            page.translate(METRIC_LABELS[metric]) for metric in (*PROCESS, *OUTCOMES)
        ],
        since=since.strftime("%Y-%m-%dT%H:%M"),
        until=until.strftime("%Y-%m-%dT%H:%M"),
        incident=incident,
        log_range=_log_range(report),
        weights=[
            (page.translate(METRIC_LABELS[name]), weight)
            for name, weight in weights_as_dict(report.weights).items()
        ],
    )


@router.get("/review/scorecards/events")
def figure_events_page(
    page: SignedInPage,
    department: Text,
    metric: Text,
    start: From = "",
    end: To = "",
    incident: Text = "",
    kind: Text = "live",
) -> Response:
    """List the events behind one figure of a department's scorecard."""
    if metric not in METRIC_LABELS or kind not in KINDS:
        raise NotFound(f"no figure {metric} ({kind})", metric=metric)
    since, until = _period(page, start, end)
    report, names = _report(page, start=since, end=until, incident=incident)
    card = next((c for c in report.scorecards if KINDS[c.is_exercise] == kind), None)
    scores = {d.department: d for d in card.departments} if card else {}
    if department not in scores:
        raise NotFound(
            f"nothing measured for {department} in this period", department=department
        )
    figure = scores[department].figure(metric)
    events = _events(page, figure.seqs, names)
    back = {"from": isoformat_utc(since), "to": isoformat_utc(until)}
    if incident:
        back["incident"] = incident
    return page.render(
        "review_scorecard_events.html",
        department=names.get(department, department),
        label=page.translate(METRIC_LABELS[metric]),
        value=cell(figure),
        is_exercise=kind == "exercise",
        events=events,
        since=since.strftime("%Y-%m-%d %H:%M"),
        until=until.strftime("%Y-%m-%d %H:%M"),
        log_range=_log_range(report),
        back_url="/review/scorecards?" + urlencode(back),
    )


def _events(
    page: Page, seqs: tuple[int, ...], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Read the events by seq and summarise them in the page's language."""
    muster = page.muster
    summarizer = Summarizer(muster)
    found = []
    with muster.engine.connect() as conn:
        for seq in seqs:
            for recorded in muster.store.read_all(conn, after=seq - 1, limit=1):
                envelope = recorded.envelope
                item = summarizer.envelope_item(conn, envelope)
                department = envelope.actor_department or ""
                found.append(
                    {
                        "seq": envelope.seq,
                        "at": envelope.occurred_at,
                        "type": envelope.type,
                        "department": names.get(department, department),
                        "summary": item.summaries[page.language],
                    }
                )
    return found


__all__ = ["METRIC_LABELS", "router"]
