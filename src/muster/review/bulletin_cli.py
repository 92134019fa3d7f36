"""``muster bulletin``: the periodic collaboration bulletin (通报) as HTML or PDF.

Mounted by the root CLI (``app.command("bulletin")(bulletin)``). Scores this period
and the previous one (by default the same length right before) through
``muster.review.bulletin``, writes the document (``.html``, or ``.pdf`` through
``muster.core.pdf.html_to_pdf``) and, with ``--json``, prints the same comparison for
scripts. Weights and ``--log`` (recompute from a verified exported log) work as in
``muster scorecard``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from muster.core.cli import print_json, stdout
from muster.core.clock import SystemClock
from muster.core.errors import ValidationFailed
from muster.core.pdf import html_to_pdf
from muster.review.bulletin import (
    LANGUAGES,
    Bulletin,
    build_bulletin,
    previous_period,
    render_html,
)
from muster.review.domain.bulletin import DepartmentComparison, ScopeComparison
from muster.review.domain.settings import weights_as_dict
from muster.review.metrics_queries import ScorecardReport
from muster.review.scorecard_cli import (
    JsonFlag,
    LogOption,
    PackOption,
    figures_json,
    number,
    opened_log,
    period_json,
    period_options,
)

FORMATS = (".html", ".pdf")


def _period_json(report: ScorecardReport) -> dict[str, Any]:
    return {
        **period_json(report),
        "incidents": {
            "live": report.context.live_incidents,
            "drill": report.context.drill_incidents,
        },
    }


def _row_json(row: DepartmentComparison) -> dict[str, Any]:
    return {
        "department": row.department,
        "rank": row.rank,
        "previous_rank": row.previous_rank,
        "score": number(row.score),
        "previous_score": number(row.previous_score),
        "change": number(row.change),
        "this_period": None if row.current is None else figures_json(row.current),
        "previous_period": None if row.previous is None else figures_json(row.previous),
    }


def _scope_json(scope: ScopeComparison) -> dict[str, Any]:
    return {
        "kind": "exercise" if scope.is_exercise else "live",
        "most_improved": list(scope.most_improved),
        "lowest": list(scope.lowest),
        "inactive": list(scope.inactive),
        "departments": [_row_json(row) for row in scope.departments],
    }


def bulletin_json(bulletin: Bulletin) -> dict[str, Any]:
    """Return the bulletin as a JSON-ready document."""
    return {
        "this_period": _period_json(bulletin.current),
        "previous_period": _period_json(bulletin.previous),
        "weights": weights_as_dict(bulletin.weights),
        "scopes": [_scope_json(scope) for scope in bulletin.scopes],
    }


def _periods(
    start: str, end: str, previous_start: str | None, previous_end: str | None
) -> tuple[datetime, datetime, datetime, datetime]:
    period_start, period_end = period_options(start, end)
    if (previous_start is None) != (previous_end is None):
        raise ValidationFailed(
            "give both --previous-from and --previous-to, or neither",
            field="previous-from",
        )
    if previous_start is None or previous_end is None:
        return period_start, period_end, *previous_period(period_start, period_end)
    before_start, before_end = period_options(
        previous_start, previous_end, options=("--previous-from", "--previous-to")
    )
    return period_start, period_end, before_start, before_end


def bulletin(
    ctx: typer.Context,
    start: Annotated[
        str, typer.Option("--from", help="Start of this period (ISO time with zone).")
    ],
    end: Annotated[
        str, typer.Option("--to", help="End of this period (ISO time with zone).")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write: .html or .pdf.")],
    previous_start: Annotated[
        str | None,
        typer.Option(
            "--previous-from",
            help="Start of the period to compare with (default: the same length "
            "right before --from).",
        ),
    ] = None,
    previous_end: Annotated[
        str | None,
        typer.Option("--previous-to", help="End of the period to compare with."),
    ] = None,
    language: Annotated[
        str, typer.Option("--lang", help="Language: zh-CN or en.")
    ] = "zh-CN",
    pack: PackOption = None,
    log_file: LogOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the bulletin (通报) comparing departments over two periods.

    Each department's score, change and rank, its process figures and outcomes, live
    and drills apart, the highlights, and each period's log range and chain hash.
    """
    if out.suffix.lower() not in FORMATS:
        raise ValidationFailed("--out must end in .html or .pdf", field="out")
    if language not in LANGUAGES:
        raise ValidationFailed("--lang must be zh-CN or en", field="lang")
    period_start, period_end, before_start, before_end = _periods(
        start, end, previous_start, previous_end
    )
    with opened_log(ctx, log_file=log_file, pack=pack) as (log, weights):
        built = build_bulletin(
            log,
            start=period_start,
            end=period_end,
            previous_start=before_start,
            previous_end=before_end,
            weights=weights,
        )
    html = render_html(built, language=language, generated_at=SystemClock().now())
    if out.suffix.lower() == ".pdf":
        out.write_bytes(html_to_pdf(html))
    else:
        out.write_text(html, encoding="utf-8")
    if as_json:
        print_json({"out": str(out), "language": language, **bulletin_json(built)})
        return
    stdout.print(f"Wrote the bulletin to {out}")


__all__ = ["bulletin", "bulletin_json"]
