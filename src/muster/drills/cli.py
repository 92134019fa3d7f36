"""Operator commands of the drills part: ``muster drill …``.

``drill check`` reads a scenario file (and, with ``--pack``, the pack it is played
on) with no database and reports every problem at its ``file:line``; ``drill run``,
``list`` and ``show`` (``muster.drills.run_cli``) play scenarios in a sandbox and
read the drills the live log records. Mounted by the root CLI as ``drill``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from muster.core.cli import exit_code_for, print_json
from muster.core.errors import PackInvalid, PackProblem
from muster.drills import run_cli
from muster.drills.scenarios import check_scenario
from muster.pack import check_pack

drill_app = typer.Typer(
    name="drill",
    help="Exercises (演练): scenarios, unattended runs and their evaluation.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@drill_app.command("check")
def check(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    pack_dir: Annotated[
        Path | None,
        typer.Option("--pack", help="Pack folder to check the scenario against."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a scenario without a database; exit 3 on problems.

    Prints each problem as ``file:line: message``. With ``--pack`` the departments,
    users, datasets and plan keys it names are checked against that pack too.
    """
    problems: list[PackProblem] = []
    pack = None
    if pack_dir is not None:
        checked_pack = check_pack(pack_dir)
        problems += [
            PackProblem(str(Path(pack_dir) / p.file), p.line, p.message)
            for p in checked_pack.problems
        ]
        pack = checked_pack.pack
    checked = check_scenario(scenario, pack=pack)
    problems += checked.problems
    found = checked.scenario if not problems else None
    if as_json:
        print_json(
            {
                "ok": not problems,
                "problems": [
                    {"file": p.file, "line": p.line, "message": p.message}
                    for p in problems
                ],
                "scenario": None if found is None else found.code,
                "injects": 0 if found is None else len(found.injects),
                "expected": 0 if found is None else len(found.expected),
            }
        )
    elif problems:
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(f"{len(problems)} problem(s) in {scenario}", err=True)
    elif found is not None:
        against = f" against {pack_dir}" if pack_dir is not None else ""
        typer.echo(
            f"{scenario}: {found.code} ({found.title_zh} / {found.title_en}), "
            f"{len(found.injects)} inject(s), {len(found.participants)} scripted "
            f"action(s), {len(found.expected)} expected action(s) pass every "
            f"check{against}"
        )
    if problems:
        raise typer.Exit(exit_code_for(PackInvalid(problems)))


# run, list and show (the sandbox runner) live in run_cli.py.
drill_app.command("run")(run_cli.run)
drill_app.command("list")(run_cli.list_drills)
drill_app.command("show")(run_cli.show)

__all__ = ["drill_app"]
