"""``muster resources import-edxl|export-edxl``: EDXL-RM 1.0 messages in and out.

Registered on ``muster.resources.cli.resources_app`` when the root CLI imports this
module. An import maps the whole message first (``edxl_rm_import``) and refuses it
with the reason and the option that would help, or sends every command in one
transaction (as Muster itself or ``--user``): all of it is written, or none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from muster.core.cli import cli_context, print_json
from muster.core.errors import ValidationFailed
from muster.identity import queries as identity
from muster.identity.cli import ActAs
from muster.resources.cli import JsonFlag, resources_app
from muster.resources.edxl_rm import export_record
from muster.resources.edxl_rm_import import ImportOptions, plan_import, run_import


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """Read repeated ``THEIRS=OURS`` options (the last ``=`` splits)."""
    found = {}
    for value in values or []:
        theirs, equals, ours = value.rpartition("=")
        if not equals or not theirs.strip() or not ours.strip():
            raise ValidationFailed(
                f"{option} takes NAME=CODE, not {value!r}", field=option.strip("-")
            )
        found[theirs.strip()] = ours.strip()
    return found


@resources_app.command("import-edxl")
def import_edxl(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="EDXL-RM 1.0 message (XML).")],
    incident: Annotated[
        str | None,
        typer.Option("--incident", help="File requests under this incident."),
    ] = None,
    department: Annotated[
        str | None,
        typer.Option(
            "--department",
            help="Requesting department (RequestResource) or declining one "
            "(CommitResource) when the message names none of ours.",
        ),
    ] = None,
    type_map: Annotated[
        list[str] | None,
        typer.Option(
            "--type-map",
            metavar="NAME=CODE",
            help="Their type name → our type code, e.g. 'Track Dozer=EXCAVATOR'.",
        ),
    ] = None,
    resource_map: Annotated[
        list[str] | None,
        typer.Option(
            "--resource-map",
            metavar="ID=RESOURCE_ID",
            help="Their ResourceID → our resource id.",
        ),
    ] = None,
    user: ActAs = None,
    as_json: JsonFlag = False,
) -> None:
    """Import an EDXL-RM RequestResource or CommitResource (资源请求导入)."""
    try:
        data = file.read_bytes()
    except OSError as problem:
        raise ValidationFailed(f"cannot read {file}: {problem}", field="file") from None
    options = ImportOptions(
        incident_id=incident,
        department=department,
        type_map=_pairs(type_map, "--type-map"),
        resource_map=_pairs(resource_map, "--resource-map"),
    )
    with cli_context(ctx).open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            actor = identity.acting_actor(conn, user)
            plan = plan_import(data, conn=conn, options=options)
        outcome = run_import(deployment.bus, actor, plan)
    if as_json:
        print_json(
            {"message_id": plan.message_id, "type": plan.message_type, "items": outcome}
        )
        return
    for item in outcome:
        typer.echo(
            f"{item['element_id']}: {item['action']} {item['id']} ({item['result']})"
        )
        for note in item["notes"]:
            typer.echo(f"  note: {note}")


@resources_app.command("export-edxl")
def export_edxl(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(help="Request or commitment id.")],
    answers: Annotated[
        bool,
        typer.Option(
            "--answers",
            help="For a request: its commitments and declines (CommitResource).",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write a request (RequestResource) or commitment (CommitResource) as EDXL-RM."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        data = export_record(
            conn, record_id, sent=deployment.clock.now(), answers=answers
        )
    if out is None:
        typer.echo(data, nl=False)  # bytes: written as they are
        return
    try:
        out.write_bytes(data)
    except OSError as problem:
        raise ValidationFailed(f"cannot write {out}: {problem}", field="out") from None
    typer.echo(f"wrote {out}")


__all__ = ["export_edxl", "import_edxl"]
