"""Operator commands of the notify part: ``muster notify …``. Mounted by the root CLI.

``notify deliver`` runs the delivery tick once (for cron, or a deployment without the
web server); ``notify list`` shows delivery state; ``notify webhook`` sets a
department's webhook, reading the HMAC secret from stdin or a hidden prompt.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated

import typer

from muster.core.cli import cli_context, print_json
from muster.core.messages import SYSTEM_ACTOR
from muster.notify import queries
from muster.notify.domain.commands import SetWebhook
from muster.notify.tasks import deliver_once

notify_app = typer.Typer(
    name="notify", help="Notifications: in-app, e-mail, webhooks.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@notify_app.command("deliver")
def deliver(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Queue notifications for new response events and send what is due, once."""
    with cli_context(ctx).open_deployment() as deployment:
        reports = deliver_once(deployment.bus)
    total = {
        key: sum(getattr(report, key) for report in reports)
        for key in ("queued", "delivered", "failed", "gave_up")
    }
    if as_json:
        print_json({**total, "caught_up": reports[-1].caught_up})
        return
    typer.echo(
        f"queued {total['queued']}, delivered {total['delivered']}, "
        f"failed {total['failed']} (will retry), gave up {total['gave_up']}"
    )


@notify_app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="pending, delivered or failed.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List e-mail, webhook and in-app notifications, newest first."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        views = queries.list_notifications(conn, status=status)
    if as_json:
        print_json([asdict(view) for view in views])
        return
    for view in views:
        typer.echo(
            f"{view.queued_at}  {view.status:<9} {view.channel:<7} "
            f"{view.recipient}  {view.subject_en}  {view.last_error}"
        )


@notify_app.command("webhook")
def webhook(
    ctx: typer.Context,
    department: Annotated[str, typer.Argument(help="Department code.")],
    url: Annotated[str, typer.Argument(help="http(s) URL to POST to.")],
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the HMAC secret from stdin.")
    ] = False,
) -> None:
    """Set a department's webhook; the HMAC secret never enters the log."""
    if secret_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = typer.prompt("HMAC secret", hide_input=True)
    with cli_context(ctx).open_deployment() as deployment:
        deployment.bus.handle(
            SetWebhook(department=department, url=url, secret=secret), SYSTEM_ACTOR
        )
    typer.echo(f"webhook of {department} set")


__all__ = ["notify_app"]
