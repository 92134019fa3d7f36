"""``muster resources request|requests|commit|decline|track|allocate|decide``.

Requests, commitments and allocation from the server's shell. Registered on
``muster.resources.cli.resources_app`` when the root CLI imports this module. Each
command acts as Muster itself or as ``--user`` (``identity.acting_actor``), through
the same handlers and rules as the board and the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from muster.core.cli import cli_context, print_json, stdout
from muster.core.errors import ValidationFailed
from muster.identity import queries as identity
from muster.identity.cli import ActAs, run_as
from muster.resources import allocation_service, request_queries
from muster.resources.cli import JsonFlag, resources_app
from muster.resources.domain.commands import (
    CancelRequest,
    ChangeCommitmentStatus,
    CommitResource,
    DeclineRequest,
    RecordAllocationProposal,
    RequestResource,
)

User = ActAs


@resources_app.command("request")
def request(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    type_code: Annotated[
        str, typer.Argument(help="Resource type, e.g. PUMP_DRAINAGE.")
    ],
    quantity: Annotated[int, typer.Argument(help="Units wanted.")],
    department: Annotated[
        str, typer.Option("--department", help="Requesting department (code).")
    ],
    lat: Annotated[
        float | None, typer.Option(help="Where (default: incident).")
    ] = None,
    lon: Annotated[
        float | None, typer.Option(help="Where (default: incident).")
    ] = None,
    place: Annotated[str, typer.Option("--place", help="Place name.")] = "",
    min_capability: Annotated[
        float | None, typer.Option(help="Per unit, in the type's measure.")
    ] = None,
    max_tier: Annotated[str | None, typer.Option(help="I, II or III.")] = None,
    needed_by: Annotated[
        str | None, typer.Option(help="ISO-8601 time with offset.")
    ] = None,
    priority: Annotated[
        int | None, typer.Option(help="1-5 (default: from the response level).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Ask only this department.")
    ] = None,
    note: Annotated[str, typer.Option(help="Anything the holders should know.")] = "",
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """Request units of a resource type for an incident (资源申请)."""
    command = RequestResource(
        incident_id=incident,
        requested_by=department,
        type_code=type_code,
        quantity=quantity,
        latitude=lat,
        longitude=lon,
        location_name=place,
        min_capability=min_capability,
        max_tier=max_tier,
        needed_by=needed_by,
        priority=priority,
        to_department=to,
        note=note,
    )
    request_id = run_as(ctx, command, user)
    if as_json:
        print_json({"id": request_id})
        return
    typer.echo(request_id)


@resources_app.command("requests")
def list_requests(
    ctx: typer.Context,
    incident: Annotated[str | None, typer.Option(help="Only this incident.")] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only requests still open.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List requests, most urgent first, with their commitments."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        views = request_queries.list_requests(
            conn,
            incident_id=incident,
            statuses=request_queries.OPEN_STATUSES if open_only else None,
        )
        made = {
            v.request.id: request_queries.list_commitments(
                conn, request_id=v.request.id
            )
            for v in views
        }
    if as_json:
        print_json(
            [
                {
                    **v.to_json(),
                    "commitments": [c.to_json() for c in made[v.request.id]],
                }
                for v in views
            ]
        )
        return
    table = Table("id", "incident", "by", "type", "qty", "committed", "prio", "status")
    for v in views:
        item = v.request
        table.add_row(
            item.id,
            item.incident_id,
            item.requested_by,
            item.type_code,
            str(item.quantity),
            str(v.committed_units),
            str(item.priority),
            v.status.value,
        )
    stdout.print(table)


@resources_app.command("cancel")
def cancel(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    user: User = None,
) -> None:
    """Withdraw a request."""
    typer.echo(run_as(ctx, CancelRequest(request_id=request_id, reason=reason), user))


@resources_app.command("commit")
def commit(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    resource_id: Annotated[str, typer.Argument(help="Your resource's id.")],
    units: Annotated[int, typer.Option("--units", help="Units to send.")] = 1,
    eta: Annotated[str | None, typer.Option(help="Arrival, ISO-8601.")] = None,
    note: Annotated[str, typer.Option(help="Note for the requester.")] = "",
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """Commit units of a resource to a request (资源承诺)."""
    command = CommitResource(
        request_id=request_id, resource_id=resource_id, units=units, eta=eta, note=note
    )
    commitment_id = run_as(ctx, command, user)
    if as_json:
        print_json({"id": commitment_id})
        return
    typer.echo(commitment_id)


@resources_app.command("decline")
def decline(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    department: Annotated[str, typer.Option("--department", help="Declining dept.")],
    reason: Annotated[str, typer.Option("--reason", help="Why not.")],
    user: User = None,
) -> None:
    """Decline a request, with the reason."""
    command = DeclineRequest(
        request_id=request_id, department=department, reason=reason
    )
    typer.echo(run_as(ctx, command, user))


@resources_app.command("track")
def track(
    ctx: typer.Context,
    commitment_id: Annotated[str, typer.Argument(help="Commitment id.")],
    status: Annotated[str, typer.Argument(help="en_route, on_scene or released.")],
    note: Annotated[str, typer.Option(help="Note.")] = "",
    user: User = None,
) -> None:
    """Move committed units on: en route, on scene, released."""
    command = ChangeCommitmentStatus(
        commitment_id=commitment_id, status=status, note=note
    )
    typer.echo(run_as(ctx, command, user))


@resources_app.command("allocate")
def allocate(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    record: Annotated[
        bool,
        typer.Option(
            "--record/--dry-run",
            help="Record the proposal for a commander's decision (default) or not.",
        ),
    ] = True,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Solver seconds before fallback.")
    ] = 10.0,
    language: Annotated[str, typer.Option("--lang", help="en or zh-CN.")] = "en",
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose an allocation of available resources to the incident's open requests."""
    with cli_context(ctx).open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            actor = identity.acting_actor(conn, user)
            document = allocation_service.propose_for(
                conn,
                incident,
                deployment.clock.now(),
                language=language,
                time_limit_seconds=time_limit,
            )
        if record:
            command = RecordAllocationProposal(incident_id=incident, proposal=document)
            document = {
                "proposal_id": deployment.bus.handle(command, actor),
                **document,
            }
    if as_json:
        print_json(document)
        return
    _print_proposal(document)


def _print_proposal(document: dict[str, Any]) -> None:
    """Print a proposal as tables."""
    head = document.get("proposal_id", "(not recorded)")
    stdout.print(
        f"proposal {head}: {document['method']} ({document['solver_status']}), "
        f"{document['seconds']} s, weighted unmet {document['weighted_unmet']}, "
        f"travel {document['travel_unit_minutes']} unit-min, "
        f"travel by {document['travel']}"
    )
    table = Table("resource", "dept", "request", "units", "min", "why")
    for item in document["assignments"]:
        table.add_row(
            item["supply_id"],
            item["department"],
            item["request_id"],
            str(item["units"]),
            str(item["minutes"]),
            item["why"],
        )
    stdout.print(table)
    for short in document["shortfalls"]:
        stdout.print(
            f"short {short['short']} for {short['request_id']}: {short['why']}"
        )


@resources_app.command("decide")
def decide(
    ctx: typer.Context,
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (AP-…).")],
    decision: Annotated[str, typer.Argument(help="approve or reject.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (needed to reject).")
    ] = "",
    edit: Annotated[
        Path | None,
        typer.Option(
            "--assignments",
            help="JSON file: the assignments to approve instead of the proposal's "
            '([{"supply_id", "request_id", "units"}]).',
        ),
    ] = None,
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve (as proposed or edited) or reject an allocation proposal (调配决策)."""
    assignments = None
    if edit is not None:
        try:
            assignments = json.loads(edit.read_text("utf-8"))
        except (OSError, ValueError) as problem:
            raise ValidationFailed(
                f"cannot read the assignments from {edit}: {problem}", field="file"
            ) from None
    with cli_context(ctx).open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            actor = identity.acting_actor(conn, user)
        outcome = allocation_service.decide(
            deployment.bus,
            actor,
            deployment.engine,
            proposal_id,
            decision,
            reason=reason,
            assignments=assignments,
            now=deployment.clock.now(),
        )
    if as_json:
        print_json(outcome)
        return
    typer.echo(
        f"{outcome['proposal_id']}: {outcome['decision']}"
        f"{' (edited)' if outcome['edited'] else ''}; "
        f"{len(outcome['commitments'])} commitment(s), {len(outcome['tasks'])} task(s)"
    )


__all__ = ["allocate", "commit", "decide", "decline", "request", "track"]
