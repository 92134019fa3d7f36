"""Operator commands of the ingest part: ``muster ingest``, ``quarantine``, ``quality``.

Mounted by the root CLI, which supplies the deployment through ``CliContext``.
Commands act as Muster itself (the operator at the server's shell).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from muster.core.cli import cli_context, print_json, stdout
from muster.core.messages import SYSTEM_ACTOR
from muster.ingest import queries
from muster.ingest.alerts import AlertOutcome
from muster.ingest.domain.commands import (
    DiscardRecord,
    EvaluateQuality,
    IngestCap,
    IngestFile,
)
from muster.ingest.files import IngestOutcome
from muster.ingest.quality import Measure

ingest_app = typer.Typer(
    name="ingest",
    help="Bring data in: CAP alerts, files of records.",
    no_args_is_help=True,
)
quarantine_app = typer.Typer(
    name="quarantine",
    help="Records and documents that failed checks.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
MAX_FILE_BYTES = 50_000_000


@ingest_app.command("cap")
def ingest_cap(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="CAP 1.2 (or EDXL-DE) files.")],
    dataset: Annotated[
        str | None, typer.Option(help="Catalog dataset the alerts belong to.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check and store CAP alerts; one result per file; exit 1 if any was rejected."""
    rejected = 0
    with cli_context(ctx).open_deployment() as deployment:
        for path in files:
            data = _read(path)
            outcome: AlertOutcome = deployment.bus.handle(
                IngestCap(source=f"file:{path.name}", data=data, dataset_code=dataset),
                SYSTEM_ACTOR,
            )
            rejected += outcome.status == "rejected"
            result = {"file": str(path), **outcome.to_json()}
            if as_json:
                print_json(result)
            else:
                _print_alert(path, outcome)
    if rejected:
        raise typer.Exit(1)


def _print_alert(path: Path, outcome: AlertOutcome) -> None:
    if outcome.status == "rejected":
        typer.echo(f"{path}: rejected — {outcome.error}", err=True)
        return
    typer.echo(
        f"{path}: {outcome.status} {outcome.identifier} ({outcome.msg_type}; "
        f"{outcome.infos} info, {outcome.areas} areas; signature {outcome.signature})"
    )


@ingest_app.command("file")
def ingest_file(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV, GeoJSON or JSON file.")],
    dataset: Annotated[str, typer.Option(help="Catalog dataset code.")],
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="csv, geojson, json or observations."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate a file's records; store the good ones, quarantine the rest."""
    data = _read(path)
    with cli_context(ctx).open_deployment() as deployment:
        outcome: IngestOutcome = deployment.bus.handle(
            IngestFile(
                dataset_code=dataset,
                source=f"file:{path.name}",
                data=data,
                format=file_format,
            ),
            SYSTEM_ACTOR,
        )
    result = {
        "file": str(path),
        "status": outcome.status,
        "dataset": outcome.dataset_code,
        "batch_id": outcome.batch_id,
        "accepted": outcome.accepted,
        "quarantined": outcome.quarantined,
        "error": outcome.error,
    }
    if as_json:
        print_json(result)
    elif outcome.status == "rejected":
        typer.echo(f"{path}: rejected — {outcome.error}", err=True)
    else:
        typer.echo(
            f"{path}: {outcome.status}; {outcome.accepted} stored, "
            f"{outcome.quarantined} quarantined (batch {outcome.batch_id})"
        )
    if outcome.status == "rejected":
        raise typer.Exit(1)


def _read(path: Path) -> bytes:
    if not path.is_file():
        typer.echo(f"error: {path} is not a readable file", err=True)
        raise typer.Exit(2)
    if path.stat().st_size > MAX_FILE_BYTES:
        typer.echo(f"error: {path} is larger than {MAX_FILE_BYTES} bytes", err=True)
        raise typer.Exit(2)
    return path.read_bytes()


@quarantine_app.command("list")
def list_quarantine(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    status: Annotated[
        str, typer.Option(help="open, accepted, discarded or all.")
    ] = "open",
    as_json: JsonFlag = False,
) -> None:
    """List quarantined records and documents with their reasons."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        items = queries.list_quarantine(
            conn, dataset_code=dataset, status=None if status == "all" else status
        )
    if as_json:
        for item in items:
            print_json(
                {
                    "id": item.id,
                    "dataset": item.dataset_code,
                    "source": item.source,
                    "locator": item.locator,
                    "line": item.line,
                    "status": item.status,
                    "reasons": item.reasons,
                    "created_at": item.created_at,
                }
            )
        return
    table = Table("id", "dataset", "where", "reasons", "status")
    for item in items:
        where = (
            item.locator if item.line is None else f"{item.locator} (line {item.line})"
        )
        reasons = "; ".join(str(reason.get("message")) for reason in item.reasons)
        table.add_row(
            item.id[:8], item.dataset_code or "-", where, reasons, item.status
        )
    stdout.print(table)


@quarantine_app.command("discard")
def discard(
    ctx: typer.Context,
    item_id: Annotated[str, typer.Argument(help="Quarantine item id.")],
    reason: Annotated[str, typer.Option(help="Why it is discarded (logged).")],
) -> None:
    """Discard a quarantined item with a reason."""
    with cli_context(ctx).open_deployment() as deployment:
        deployment.bus.handle(
            DiscardRecord(quarantine_id=item_id, reason=reason), SYSTEM_ACTOR
        )
    typer.echo(f"Discarded {item_id}")


def quality(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Measure every dataset's data quality now; log changes; print the table."""
    with cli_context(ctx).open_deployment() as deployment:
        measures: list[Measure] = deployment.bus.handle(EvaluateQuality(), SYSTEM_ACTOR)
    if as_json:
        for measure in measures:
            print_json(
                {
                    "dataset": measure.dataset_code,
                    "measure": measure.measure,
                    "status": measure.status,
                    "value": measure.value,
                    "detail": measure.detail,
                }
            )
        return
    table = Table("dataset", "measure", "status", "value", "detail")
    for measure in measures:
        value = "" if measure.value is None else f"{measure.value:g}"
        table.add_row(
            measure.dataset_code, measure.measure, measure.status, value, measure.detail
        )
    stdout.print(table)


__all__ = ["ingest_app", "quality", "quarantine_app"]
