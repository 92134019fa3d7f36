"""``muster scorecard``: departments' collaboration scorecards (协同绩效) over a period.

Mounted by the root CLI (``app.command("scorecard")(scorecard)``). Reads the log
through ``muster.review.metrics_queries`` and prints each department's process and
outcome figures, its weighted score, the events behind each figure (``--json``) and
the log range and chain hash the figures were computed from.

Weights: the defaults of ``ScorecardWeights``, or ``scorecard.yaml`` of a pack folder
given with ``--pack`` (its ``scorecard:`` document; ``muster load`` does not read it).
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from muster.core.cli import cli_context, print_json, stdout
from muster.core.clock import isoformat_utc, parse_utc
from muster.core.errors import ValidationFailed
from muster.review.domain.scorecard import (
    Figure,
    Scorecard,
    ScorecardWeights,
    weights_from_document,
)
from muster.review.metrics_queries import ScorecardReport, scorecards

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _moment(text: str, option: str) -> datetime:
    try:
        return parse_utc(text)
    except ValueError as error:
        raise ValidationFailed(
            f"{option} needs an ISO time with a zone, e.g. 2026-07-01T08:00Z ({error})",
            field=option,
        ) from error


def _weights(pack: Path | None) -> ScorecardWeights:
    if pack is None or not (pack / "scorecard.yaml").is_file():
        return ScorecardWeights()
    document = yaml.safe_load((pack / "scorecard.yaml").read_text(encoding="utf-8"))
    section = document.get("scorecard") if isinstance(document, dict) else None
    return weights_from_document(section if isinstance(section, dict) else None)


def _number(value: Fraction | float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _figure_json(figure: Figure) -> dict[str, Any]:
    data: dict[str, Any] = {
        "value": _number(figure.value),
        "count": figure.count,
        "events": list(figure.seqs),
    }
    if isinstance(figure.value, Fraction):
        data["exact"] = f"{figure.value.numerator}/{figure.value.denominator}"
    if figure.p90 is not None:
        data["p90"] = _number(figure.p90)
    return data


def report_json(report: ScorecardReport) -> dict[str, Any]:
    """Return the scorecard report as a JSON-ready document."""
    log_range = report.log_range
    return {
        "from": isoformat_utc(report.period.start),
        "to": isoformat_utc(report.period.end),
        "log_range": None
        if log_range is None
        else {"first_seq": log_range.first_seq, "last_seq": log_range.last_seq},
        "chain_head_hash": None if log_range is None else log_range.head_hash,
        "weights": {
            name: getattr(report.weights, name)
            for name in report.weights.__dataclass_fields__
        },
        "scorecards": [_card_json(card) for card in report.scorecards],
    }


def _card_json(card: Scorecard) -> dict[str, Any]:
    return {
        "kind": "exercise" if card.is_exercise else "live",
        "incident_id": card.incident_id,
        "departments": [
            {
                "department": d.department,
                "score": _number(d.score),
                "process": {f.metric: _figure_json(f) for f in d.process},
                "outcome": {f.metric: _figure_json(f) for f in d.outcome},
            }
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
    pack: Annotated[
        Path | None, typer.Option("--pack", help="Pack folder with scorecard.yaml.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print departments' scorecards (协同绩效) for a period; drills kept apart.

    Latencies show p50 / p90 minutes (nearest rank); rates show the share on time.
    """
    period_start, period_end = _moment(start, "--from"), _moment(end, "--to")
    if period_end < period_start:
        raise ValidationFailed("--to is before --from", field="to")
    weights = _weights(pack)
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        report = scorecards(
            conn,
            start=period_start,
            end=period_end,
            incident_id=incident,
            weights=weights,
            store=deployment.store,
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


__all__ = ["report_json", "scorecard"]
