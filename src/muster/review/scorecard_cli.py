"""``muster scorecard``: departments' collaboration scorecards (协同绩效) over a period.

Mounted by the root CLI (``app.command("scorecard")(scorecard)``). Reads the log
through ``muster.review.metrics_queries`` and prints each department's process and
outcome figures, its weighted score, the events behind each figure (``--json``) and
the log range and chain hash the figures were computed from.

Weights: those in force (set by ``muster load`` from the pack's ``scorecard.yaml``,
the defaults if none was loaded), or ``scorecard.yaml`` of a pack folder given with
``--pack``. With ``--log`` the figures are recomputed from an exported log
(``muster audit export``) instead of the database: the file's chain is verified first,
and the weights are the last ones that log records. Also used by ``muster bulletin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from muster.core.cli import (
    CliContext,
    cli_context,
    parse_moment_option,
    print_json,
    stdout,
)
from muster.core.clock import isoformat_utc
from muster.core.errors import ValidationFailed
from muster.review.domain.scorecard import (
    DepartmentScore,
    Figure,
    Scorecard,
    ScorecardWeights,
    weights_from_document,
)
from muster.review.domain.settings import weights_as_dict
from muster.review.exported_log import open_exported_log
from muster.review.metrics_queries import Log, ScorecardReport, scorecards
from muster.review.settings_queries import logged_weights, stored_weights

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PackOption = Annotated[
    Path | None, typer.Option("--pack", help="Pack folder with scorecard.yaml.")
]
LogOption = Annotated[
    Path | None,
    typer.Option(
        "--log",
        help="Recompute from an exported log (folder or events.jsonl of "
        "`muster audit export`), verified first, instead of the database.",
    ),
]


def period_options(
    start: str, end: str, *, options: tuple[str, str] = ("--from", "--to")
) -> tuple[datetime, datetime]:
    """Parse a period given as two options (ISO times), or refuse an inverted one."""
    period_start = parse_moment_option(start, options[0])
    period_end = parse_moment_option(end, options[1])
    if period_end < period_start:
        raise ValidationFailed(f"{options[1]} is before {options[0]}", field="to")
    return period_start, period_end


def pack_weights(pack: Path) -> ScorecardWeights:
    """Return the weights of a pack folder's scorecard.yaml (defaults without one)."""
    if not (pack / "scorecard.yaml").is_file():
        return ScorecardWeights()
    document = yaml.safe_load((pack / "scorecard.yaml").read_text(encoding="utf-8"))
    section = document.get("scorecard") if isinstance(document, dict) else None
    return weights_from_document(section if isinstance(section, dict) else None)


@contextmanager
def opened_log(
    ctx: typer.Context, *, log_file: Path | None, pack: Path | None
) -> Iterator[tuple[Log, ScorecardWeights]]:
    """Open the log to measure and the weights to score with.

    An exported file is verified before anything is read (``ChainBroken`` if not);
    otherwise the deployment's database is opened. ``--pack`` weights win; else the
    weights the log records (file) or those in force (database).
    """
    chosen = pack_weights(pack) if pack is not None else None
    if log_file is not None:
        exported = open_exported_log(log_file)
        if chosen is None:
            chosen = logged_weights(envelope for envelope, _ in exported.entries())
        yield exported, chosen
        return
    context: CliContext = cli_context(ctx)
    with context.open_deployment() as deployment, deployment.engine.connect() as conn:
        yield conn, chosen if chosen is not None else stored_weights(conn)


def number(value: Fraction | float | None) -> float | None:
    """Return a figure's value for JSON (rounded to 4 places; None stays None)."""
    return None if value is None else round(float(value), 4)


def figure_json(figure: Figure) -> dict[str, Any]:
    """Return a figure as JSON: value, count, the events behind it, exact rate."""
    data: dict[str, Any] = {
        "value": number(figure.value),
        "count": figure.count,
        "events": list(figure.seqs),
    }
    if isinstance(figure.value, Fraction):
        data["exact"] = f"{figure.value.numerator}/{figure.value.denominator}"
    if figure.p90 is not None:
        data["p90"] = number(figure.p90)
    return data


def figures_json(score: DepartmentScore) -> dict[str, Any]:
    """Return a department's process and outcome figures as JSON, by metric."""
    return {
        "process": {f.metric: figure_json(f) for f in score.process},
        "outcome": {f.metric: figure_json(f) for f in score.outcome},
    }


def period_json(report: ScorecardReport) -> dict[str, Any]:
    """Return a report's period and the log range and chain hash it was read from."""
    log_range = report.log_range
    return {
        "from": isoformat_utc(report.period.start),
        "to": isoformat_utc(report.period.end),
        "log_range": None
        if log_range is None
        else {"first_seq": log_range.first_seq, "last_seq": log_range.last_seq},
        "chain_head_hash": None if log_range is None else log_range.head_hash,
    }


def report_json(report: ScorecardReport) -> dict[str, Any]:
    """Return the scorecard report as a JSON-ready document."""
    return {
        **period_json(report),
        "weights": weights_as_dict(report.weights),
        "scorecards": [_card_json(card) for card in report.scorecards],
    }


def _card_json(card: Scorecard) -> dict[str, Any]:
    return {
        "kind": "exercise" if card.is_exercise else "live",
        "incident_id": card.incident_id,
        "departments": [
            {"department": d.department, "score": number(d.score), **figures_json(d)}
            for d in card.departments
        ],
    }


def _cell(figure: Figure) -> str:
    if figure.value is None:
        return "–"
    if figure.p90 is not None:
        return f"{float(figure.value):g} / {figure.p90:g}"
    if isinstance(figure.value, Fraction):
        return f"{float(figure.value):.0%} ({figure.value.numerator}/{figure.count})"
    return f"{figure.value:g}"


def _print_card(card: Scorecard) -> None:
    title = "Drill 演练" if card.is_exercise else "Live 实战"
    if not card.departments:
        stdout.print(f"{title}: nothing measured in this period")
        return
    metrics = [
        f.metric for f in card.departments[0].process + card.departments[0].outcome
    ]
    table = Table("department", "score", *metrics, title=title)
    for department in card.departments:
        score = "–" if department.score is None else f"{float(department.score):.1f}"
        cells = [_cell(f) for f in (*department.process, *department.outcome)]
        table.add_row(department.department, score, *cells)
    stdout.print(table)


def scorecard(
    ctx: typer.Context,
    start: Annotated[
        str, typer.Option("--from", help="Start of the period (ISO time with zone).")
    ],
    end: Annotated[
        str, typer.Option("--to", help="End of the period (ISO time with zone).")
    ],
    incident: Annotated[
        str | None, typer.Option("--incident", help="Only this incident's figures.")
    ] = None,
    pack: PackOption = None,
    log_file: LogOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Print departments' scorecards (协同绩效) for a period; drills kept apart.

    Latencies show p50 / p90 minutes (nearest rank); rates show the share on time.
    """
    period_start, period_end = period_options(start, end)
    with opened_log(ctx, log_file=log_file, pack=pack) as (log, weights):
        report = scorecards(
            log,
            start=period_start,
            end=period_end,
            incident_id=incident,
            weights=weights,
        )
    if as_json:
        print_json(report_json(report))
        return
    for card in report.scorecards:
        _print_card(card)
    if report.log_range is None:
        stdout.print("No events in this period.")
    else:
        stdout.print(
            f"Computed from seqs {report.log_range.first_seq}–"
            f"{report.log_range.last_seq}, chain hash {report.log_range.head_hash}"
        )


__all__ = [
    "figure_json",
    "figures_json",
    "number",
    "opened_log",
    "pack_weights",
    "period_json",
    "period_options",
    "report_json",
    "scorecard",
]
