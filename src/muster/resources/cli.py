"""``muster resources …``: list resources and the typing catalog, change a status.

Mounted by the root CLI: ``app.add_typer(resources_app, name="resources")``. A status
change acts as Muster itself (the operator at the server's shell) or as a named user
with ``--user``, through the same handler and rules as the board and the API.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Column, Table

from muster.core.cli import cli_context, print_json, stdout
from muster.identity import queries as identity
from muster.identity.cli import ActAs
from muster.resources import queries
from muster.resources.domain.commands import ChangeResourceStatus
from muster.resources.domain.model import TRANSITIONS, parse_status

resources_app = typer.Typer(
    name="resources",
    help="Departments' resources (应急资源): list them, change their status.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_MOVES = "; ".join(
    f"{status.value} -> {', '.join(sorted(item.value for item in following))}"
    for status, following in TRANSITIONS.items()
)


@resources_app.command("list")
def list_resources(
    ctx: typer.Context,
    department: Annotated[
        str | None, typer.Option("--department", help="Only this department (code).")
    ] = None,
    type_code: Annotated[
        str | None, typer.Option("--type", help="Only this type, e.g. PUMP_DRAINAGE.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only this status, e.g. available."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List resources by department: type, quantity, capability, place, status."""
    if status is not None:
        parse_status(status)
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        found = queries.list_resources(
            conn, department=department, type_code=type_code, status=status
        )
        types = {item.code: item for item in queries.list_types(conn)}
    if as_json:
        print_json([view.to_json(types.get(view.resource.type_code)) for view in found])
        return
    # Ids are what people type next (`muster resources status ID …`): never cut.
    widest = max((len(view.resource.id) for view in found), default=2)
    table = Table("department", Column("id", no_wrap=True, min_width=widest),
                  "type", "tier", "quantity", "capability", "status", "ready",
                  "name")  # fmt: skip
    for view in found:
        item = view.resource
        of_type = types.get(item.type_code)
        unit = of_type.unit if of_type else ""
        measure = of_type.measure if of_type else ""
        table.add_row(
            item.department, item.id, item.type_code, item.tier or "-",
            f"{item.quantity} {unit}",
            f"{item.capability:g} {measure}" if item.capability is not None else "-",
            item.status.value, f"{item.ready_minutes} min", item.name,
        )  # fmt: skip
    stdout.print(table)


@resources_app.command("types")
def list_types(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the resource typing catalog: kind, unit, capability measure, tiers."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        found = queries.list_types(conn)
    if as_json:
        print_json([queries.type_json(item) for item in found])
        return
    table = Table("code", "kind", "unit", "measure", "tiers", "name")
    for item in found:
        table.add_row(
            item.code, item.kind.value, item.unit, item.measure or "-",
            ",".join(item.tiers) or "-", item.name_en,
        )  # fmt: skip
    stdout.print(table)


@resources_app.command("status", help=f"Change a resource's status ({_MOVES}).")
def change_status(
    ctx: typer.Context,
    resource_id: Annotated[
        str, typer.Argument(help="Resource id, e.g. WATER-PUMP-500.")
    ],
    status: Annotated[str, typer.Argument(help="The new status, e.g. assigned.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (needed for out_of_service).")
    ] = "",
    incident: Annotated[
        str | None,
        typer.Option("--incident", help="The incident it works for (engaged only)."),
    ] = None,
    user: ActAs = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a resource's status."""
    command = ChangeResourceStatus(
        resource_id=resource_id, status=status, reason=reason, incident_id=incident
    )
    with cli_context(ctx).open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            actor = identity.acting_actor(conn, user)
        outcome = deployment.bus.handle(command, actor)
    if as_json:
        print_json({"id": resource_id, "status": status, "result": outcome})
        return
    typer.echo(f"{resource_id}: {outcome}")


__all__ = ["resources_app"]
