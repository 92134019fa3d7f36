"""``muster improvement …``: list improvement items, and start, complete or cancel one.

Mounted by the root CLI (``app.add_typer(improvement_app, name="improvement")``).
Changes act as Muster itself (the operator at the server's shell), or as a named user
with ``--user``, through the same handler and rules as the web.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from muster.core.cli import cli_context, print_json, stdout
from muster.core.errors import ValidationFailed
from muster.identity import queries as identity
from muster.identity.cli import ActAs
from muster.review import queries
from muster.review.domain.commands import ChangeImprovementItem, ImprovementAction

improvement_app = typer.Typer(
    name="improvement",
    help="Improvement plan items (整改事项) after an incident: list and track them.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
NoteOption = Annotated[
    str, typer.Option("--note", help="What was done or why (needed to close).")
]
UserOption = ActAs
ItemArgument = Annotated[str, typer.Argument(help="Improvement item id.")]


@improvement_app.command("list")
def list_items(
    ctx: typer.Context,
    incident: Annotated[str | None, typer.Option(help="Only this incident.")] = None,
    department: Annotated[
        str | None, typer.Option(help="Only items this department owns.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="open, in_progress, done, cancelled, active (open or in progress) "
            "or overdue."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List improvement items by due time; overdue ones are marked."""
    if status and status not in queries.STATUS_FILTERS:
        raise ValidationFailed(
            f"--status is one of {', '.join(queries.STATUS_FILTERS)}", field="status"
        )
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        items = queries.list_improvements(
            conn,
            now=deployment.clock.now(),
            incident_id=incident,
            department=department,
            status=status,
        )
    if as_json:
        print_json([item.to_json() for item in items])
        return
    table = Table("id", "incident", "owner", "due", "status", "title")
    for item in items:
        state = f"{item.status} OVERDUE" if item.overdue else item.status
        table.add_row(
            item.id, item.incident_id[:8], item.owner_department,
            item.due_at[:16].replace("T", " "), state, item.title_en,
        )  # fmt: skip
    stdout.print(table)


CHANGES: tuple[tuple[ImprovementAction, str], ...] = (
    ("start", "Start work on an open item."),
    ("complete", "Complete an item, saying what was done."),
    ("cancel", "Cancel an item, saying why."),
)
"""The commands that move an item on: ``muster improvement <action>`` and its help."""


def _register_change(action: ImprovementAction, help_text: str) -> None:
    """Register the command that applies one action to an item."""

    def change(
        ctx: typer.Context,
        item_id: ItemArgument,
        note: NoteOption = "",
        user: UserOption = None,
        as_json: JsonFlag = False,
    ) -> None:
        with cli_context(ctx).open_deployment() as deployment:
            with deployment.engine.connect() as conn:
                actor = identity.acting_actor(conn, user)
            status = deployment.bus.handle(
                ChangeImprovementItem(item_id=item_id, action=action, note=note), actor
            )
        if as_json:
            print_json({"id": item_id, "action": action, "status": status})
        else:
            typer.echo(f"{item_id}: {status}")

    improvement_app.command(action, help=help_text)(change)


for _action, _help in CHANGES:
    _register_change(_action, _help)


__all__ = ["improvement_app"]
