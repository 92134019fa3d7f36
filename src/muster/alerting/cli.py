"""``muster warnings …``: compose, approve, link, publish, discard, list and show
public warnings (CAP 1.2 alerts).

Mounted by the root CLI: ``app.add_typer(warnings_app, name="warnings")``. Each
command acts as ``--user`` (``identity.acting_actor``; default Muster itself) through
the same handlers and rules as the pages and the API: the two-person rule holds here
too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from muster.alerting import queries
from muster.alerting.domain.commands import (
    ApproveAlert,
    ComposeAlert,
    DiscardAlert,
    LinkConcurrence,
    PublishAlert,
)
from muster.core.cli import cli_context, print_json, stdout
from muster.core.errors import NotFound
from muster.identity.cli import ActAs, run_as

warnings_app = typer.Typer(
    name="warnings",
    help="Public warnings (预警信息发布) as CAP 1.2 alerts: compose, approve, publish.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
User = ActAs


@warnings_app.command("compose")
def compose(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    hazard: Annotated[str, typer.Argument(help="Hazard code of warnings.yaml.")],
    colour: Annotated[str, typer.Argument(help="red, orange, yellow or blue.")],
    msg_type: Annotated[
        str, typer.Option("--msg-type", help="Alert, Update or Cancel.")
    ] = "Alert",
    follows: Annotated[
        str | None, typer.Option(help="The published alert an Update/Cancel follows.")
    ] = None,
    radius_km: Annotated[
        float | None, typer.Option(help="Circle around the incident (default 5).")
    ] = None,
    district: Annotated[
        list[str] | None, typer.Option("--district", help="District code (repeat).")
    ] = None,
    headline_zh: Annotated[str, typer.Option(help="Replace the headline.")] = "",
    headline_en: Annotated[str, typer.Option(help="Replace the headline.")] = "",
    instruction_zh: Annotated[str, typer.Option(help="Replace the advice.")] = "",
    instruction_en: Annotated[str, typer.Option(help="Replace the advice.")] = "",
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """Draft an alert from the template of a hazard and colour."""
    command = ComposeAlert(
        incident_id=incident,
        hazard=hazard,
        colour=colour,
        msg_type=msg_type,
        follows=follows,
        radius_km=radius_km,
        districts=tuple(district or ()),
        headline=_texts(headline_zh, headline_en),
        instruction=_texts(instruction_zh, instruction_en),
    )
    alert_id = run_as(ctx, command, user)
    if as_json:
        print_json({"id": alert_id})
        return
    typer.echo(alert_id)


def _texts(zh: str, en: str) -> dict[str, str]:
    return {k: v for k, v in (("zh-CN", zh), ("en", en)) if v.strip()}


@warnings_app.command("approve")
def approve(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id.")],
    comment: Annotated[str, typer.Option(help="Comment.")] = "",
    user: User = None,
) -> None:
    """Approve a draft (a second person: never its author)."""
    typer.echo(run_as(ctx, ApproveAlert(alert_id=alert_id, comment=comment), user))


@warnings_app.command("link")
def link(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id.")],
    decision_id: Annotated[str, typer.Argument(help="Joint decision id.")],
    user: User = None,
) -> None:
    """Tie an alert to the joint decision that gives the required concurrence."""
    command = LinkConcurrence(alert_id=alert_id, decision_id=decision_id)
    typer.echo(run_as(ctx, command, user))


@warnings_app.command("publish")
def publish(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id.")],
    user: User = None,
) -> None:
    """Publish an approved alert; print its CAP identifier."""
    typer.echo(run_as(ctx, PublishAlert(alert_id=alert_id), user))


@warnings_app.command("discard")
def discard(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    user: User = None,
) -> None:
    """Drop an alert that was never published."""
    typer.echo(run_as(ctx, DiscardAlert(alert_id=alert_id, reason=reason), user))


@warnings_app.command("list")
def list_alerts(
    ctx: typer.Context,
    incident: Annotated[str | None, typer.Option(help="Only this incident.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List alerts, newest first: state, colour, type, headline, population."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        views = queries.list_alerts(conn, incident_id=incident)
    if as_json:
        print_json([view.to_json() for view in views])
        return
    table = Table("id", "state", "colour", "type", "status", "headline", "people")
    for view in views:
        item = view.record
        table.add_row(
            item.id,
            item.state.value,
            item.colour.value,
            item.content.msg_type,
            item.content.status,
            item.content.infos[-1].headline,
            "-" if view.population is None else f"{view.population:,}",
        )
    stdout.print(table)


@warnings_app.command("show")
def show(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id.")],
    xml: Annotated[
        Path | None, typer.Option("--xml", help="Write the published CAP XML here.")
    ] = None,
) -> None:
    """Show an alert as JSON; ``--xml FILE`` writes its published CAP document."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        view = queries.get_alert(conn, alert_id)
    if view is None:
        raise NotFound(f"no alert {alert_id}", alert_id=alert_id)
    if xml is not None:
        if view.xml is None:
            raise NotFound(f"alert {alert_id} is not published yet", alert_id=alert_id)
        xml.write_text(view.xml, encoding="utf-8")
    print_json(view.to_json())


__all__ = ["warnings_app"]
