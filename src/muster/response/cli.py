"""Operator commands of the response part: ``muster plan …``.

``plan check`` reads a deployment pack from disk, with no database, and reports every
problem of its plans (``muster.response.domain.plan_check``), its escalation chains
and the rest of the pack, as ``muster load`` would. Mounted by the root CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from muster.core.cli import exit_code_for, print_json
from muster.core.errors import PackInvalid
from muster.pack import check_pack

plan_app = typer.Typer(
    name="plan", help="Contingency plans (预案) as code.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@plan_app.command("check")
def check(
    pack_dir: Annotated[Path, typer.Argument(help="Folder of the deployment pack.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a pack's plans and escalation chains without loading; exit 3 on problems.

    Prints each problem as ``file:line: message`` (files relative to the pack).
    """
    checked = check_pack(pack_dir)
    problems = checked.problems
    if as_json:
        print_json(
            {
                "ok": not problems,
                "problems": [
                    {"file": p.file, "line": p.line, "message": p.message}
                    for p in problems
                ],
                "plans": checked.plan_files,
            }
        )
    elif problems:
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(f"{len(problems)} problem(s) in {pack_dir}", err=True)
    else:
        chains = len(checked.pack.escalation) if checked.pack is not None else 0
        typer.echo(
            f"{pack_dir}: {checked.plan_files} plan(s) and {chains} escalation "
            "chain(s) pass every check"
        )
    if problems:
        raise typer.Exit(exit_code_for(PackInvalid(problems)))


__all__ = ["plan_app"]
