"""``muster improvement …``: list improvement items, and start, complete or cancel one.

Mounted by the root CLI (``app.add_typer(improvement_app, name="improvement")``).
Changes act as Muster itself (the operator at the server's shell), or as a named user
with ``--user``, through the same handler and rules as the web.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from muster.core.cli import cli_context, print_json, stdout
from muster.core.errors import NotFound, ValidationFailed
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries as identity
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
UserOption = Annotated[
    str | None,
    typer.Option("--user", help="Username to act as (default: Muster itself)."),
]
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


def _change(
    ctx: typer.Context,
    item_id: str,
    action: ImprovementAction,
    *,
    note: str,
    user: str | None,
    as_json: bool,
) -> None:
    with cli_context(ctx).open_deployment() as deployment:
        actor = acting_actor(deployment.engine, user)
        status = deployment.bus.handle(
            ChangeImprovementItem(item_id=item_id, action=action, note=note), actor
        )
    if as_json:
        print_json({"id": item_id, "action": action, "status": status})
    else:
        typer.echo(f"{item_id}: {status}")


def acting_actor(engine: Engine, username: str | None) -> Actor:
    """Return the named user as an actor, or Muster itself when none is named."""
    if username is None:
        return SYSTEM_ACTOR
    with engine.connect() as conn:
        view = identity.get_user_by_username(conn, username)
    if view is None:
        raise NotFound(f"no user {username}", username=username)
    return view.as_actor()


@improvement_app.command("start")
def start(
    ctx: typer.Context,
    item_id: ItemArgument,
    note: NoteOption = "",
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Start work on an open item."""
    _change(ctx, item_id, "start", note=note, user=user, as_json=as_json)


@improvement_app.command("complete")
def complete(
    ctx: typer.Context,
    item_id: ItemArgument,
    note: NoteOption = "",
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Complete an item, saying what was done."""
    _change(ctx, item_id, "complete", note=note, user=user, as_json=as_json)


@improvement_app.command("cancel")
def cancel(
    ctx: typer.Context,
    item_id: ItemArgument,
    note: NoteOption = "",
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Cancel an item, saying why."""
    _change(ctx, item_id, "cancel", note=note, user=user, as_json=as_json)


__all__ = ["improvement_app"]
