"""Operator commands of the sharing part: ``muster access …``. Mounted by the root CLI.

``access check`` reads a dataset as a named user would (through the decision point,
masked and logged like any read) and says what was released and why; ``access log``
prints who read what. Both offer ``--json`` for scripts.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from muster.core.cli import cli_context, exit_code_for, print_json
from muster.core.errors import NotFound, PermissionDenied
from muster.identity import queries as identity
from muster.sharing import queries
from muster.sharing.domain.commands import ReadShared
from muster.sharing.reads import SharedRead

access_app = typer.Typer(
    name="access",
    help="Shared data: check what a user may read, and read the access log.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
CHECK_LIMIT = 1000


@access_app.command("check")
def check(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Username to read as.")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset code.")],
    incident: Annotated[
        str | None, typer.Option("--incident", help="Incident id the read is for.")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Stated purpose, e.g. evacuation.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Read a dataset as a user would: decision, policies, masks and the reason.

    Exit 0 when records or counts are released, 5 when refused, 4 for an unknown
    user or dataset. The read is logged like any other (channel ``cli``).
    """
    with cli_context(ctx).open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            view = identity.get_user_by_username(conn, user)
        if view is None:
            raise NotFound(f"no user {user}", username=user)
        command = ReadShared(
            dataset=dataset,
            purpose=purpose or None,
            incident_id=incident or None,
            limit=CHECK_LIMIT,
            channel="cli",
        )
        read: SharedRead = deployment.bus.handle(command, view.as_actor())
    if as_json:
        print_json(_summary(read))
    else:
        _print_check(read)
    if read.decision == "deny":
        raise typer.Exit(exit_code_for(PermissionDenied(read.reason)))


def _summary(read: SharedRead) -> dict[str, Any]:
    return {
        "decision": read.decision,
        "policies": list(read.policies),
        "masks": dict(read.masks),
        "reason": read.reason,
        "records": len(read.records),
        "aggregates": [
            {"value": value, "count": count} for value, count in read.aggregates
        ],
        "tlp": f"TLP:{read.tlp}",
    }


def _print_check(read: SharedRead) -> None:
    masks = ", ".join(f"{name}={mask}" for name, mask in sorted(read.masks.items()))
    typer.echo(f"decision: {read.decision}  (TLP:{read.tlp})")
    typer.echo(f"policies: {', '.join(read.policies) or '-'}")
    typer.echo(f"masks:    {masks or '-'}")
    typer.echo(f"reason:   {read.reason}")
    typer.echo(f"records:  {len(read.records)}")
    if read.aggregates:
        typer.echo(f"counts by {read.aggregate_by}:")
        for value, count in read.aggregates:
            typer.echo(f"  {value}: {count}")


@access_app.command("log")
def log(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    department: Annotated[
        str | None, typer.Option(help="Only reads by this department.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Print the access log, newest first: who read what, why, what was released."""
    where = queries.LogFilter(dataset=dataset, department=department)
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        rows = queries.access_entries(conn, where, limit=limit)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        purpose = row["purpose"] or "-"
        typer.echo(
            f"{row['at']}  {row['decision']:<9} {row['dataset']:<28} "
            f"{row['department'] or '-':<10} {row['user_id']:<14} "
            f"purpose={purpose} records={row['records']} "
            f"counted={row['aggregated']} via {row['channel']}  {row['reason']}"
        )


__all__ = ["access_app"]
