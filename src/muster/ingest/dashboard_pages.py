"""Ingest dashboards: data quality per department and city-wide, and CAP alerts.

Its router is included by ``ingest.pages``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.catalog import queries as catalog
from muster.identity import queries as identity_queries
from muster.ingest import labels, queries
from muster.ingest.domain.commands import EvaluateQuality
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class DepartmentGroup:
    """The datasets of one department on the quality dashboard."""

    code: str
    name: str
    datasets: list[catalog.DatasetView]


@router.get("/quality")
def quality_dashboard(page: SignedInPage, notice: str = "") -> Response:
    """Show every dataset's quality: the viewer's department first, then the city."""
    department = page.user.actor.department if page.user is not None else None
    with page.muster.engine.connect() as conn:
        datasets = catalog.list_datasets(conn)
        measured = queries.quality_by_dataset(conn)
        names = {
            view.code: view.name(page.language)
            for view in identity_queries.list_departments(conn)
        }
    return page.render(
        "ingest_quality.html",
        groups=_groups(datasets, names, first=department),
        measured=measured,
        measures=labels.MEASURES,
        summary=_summary(datasets, measured),
        tones=labels.STATUS_TONES,
        labels=labels.translated(page.language),
        notice=_notice(page, notice),
    )


@router.post("/quality/measure")
async def quality_measure(page: SignedInPage) -> Response:
    """Measure every dataset's quality now, then show the dashboard again."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    await run_in_threadpool(page.muster.bus.handle, EvaluateQuality(), page.user.actor)
    return RedirectResponse("/quality?notice=measured", status_code=303)


def _groups(
    datasets: list[catalog.DatasetView], names: dict[str, str], *, first: str | None
) -> list[DepartmentGroup]:
    owners = sorted(
        {view.owner_department for view in datasets},
        key=lambda code: (code != first, names.get(code, code)),
    )
    return [
        DepartmentGroup(
            code=code,
            name=names.get(code, code),
            datasets=[view for view in datasets if view.owner_department == code],
        )
        for code in owners
    ]


def _summary(
    datasets: list[catalog.DatasetView],
    measured: dict[str, dict[str, queries.QualityView]],
) -> dict[str, list[tuple[str, int]]]:
    """Count, per measure, the datasets in each status (unmeasured: no_data)."""
    order = [*labels.STATUS_LABELS]
    summary: dict[str, list[tuple[str, int]]] = {}
    for measure in labels.MEASURES:
        counts: dict[str, int] = {}
        for view in datasets:
            if measure == "consistency" and view.format != "observations":
                continue  # only stations measuring the same thing are compared
            found = measured.get(view.code, {}).get(measure)
            status = found.status if found is not None else "no_data"
            counts[status] = counts.get(status, 0) + 1
        summary[measure] = sorted(
            counts.items(),
            key=lambda pair: order.index(pair[0]) if pair[0] in order else 99,
        )
    return summary


@router.get("/alerts")
def alerts_page(page: SignedInPage) -> Response:
    """List the CAP alerts received, newest first, with their signature status."""
    with page.muster.engine.connect() as conn:
        rows = queries.list_cap_alerts(conn, limit=200)
    return page.render(
        "ingest_alerts.html",
        alerts=[_alert(row) for row in rows],
        labels=labels.translated(page.language),
    )


def _alert(row: dict[str, Any]) -> dict[str, Any]:
    summary = json.loads(row["summary"])
    infos = summary.get("infos", [])
    areas = [area["description"] for info in infos for area in info.get("areas", [])]
    return {
        **row,
        "headlines": [
            (
                info.get("language") or "",
                info.get("headline") or info.get("event") or "",
            )
            for info in infos
        ],
        "area_names": list(dict.fromkeys(areas))[:6],
    }


def _notice(page: Page, key: str) -> str:
    return page.translate(labels.NOTICES[key]) if key in labels.NOTICES else ""


__all__ = ["DepartmentGroup", "router"]
