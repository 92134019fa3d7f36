"""The root ``muster`` command: mounts each part's CLI, holds the top-level verbs (R14).

Also the CLI's error edge (R12): every error is turned into one line on stderr and an
exit code here, never in handlers. The console script ``muster`` calls ``main``.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.core import TyperGroup

import muster
from muster.alerting.cli import warnings_app
from muster.bootstrap import PROJECTIONS, Muster, bootstrap
from muster.cli_demo import demo, run_web_server
from muster.cli_setup import init
from muster.core.cli import (
    EXIT_UNEXPECTED,
    CliContext,
    audit_app,
    exit_code_for,
    print_json,
    projections_app,
)
from muster.core.db import make_engine
from muster.core.errors import ConfigurationError, MusterError, PackInvalid
from muster.core.migrate import is_current
from muster.drills.cli import drill_app
from muster.identity.cli import apikey_app, users_app
from muster.ingest.cli import ingest_app, quality, quarantine_app
from muster.notify.cli import notify_app
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.resources import (
    edxl_cli,  # noqa: F401  (registers its commands)
    request_cli,  # noqa: F401  (registers its commands)
)
from muster.resources.cli import resources_app
from muster.response.cli import plan_app
from muster.review.bulletin_cli import bulletin
from muster.review.improvement_cli import improvement_app
from muster.review.knowledge_cli import knew
from muster.review.replay_cli import replay
from muster.review.report_cli import report_app
from muster.review.scorecard_cli import scorecard
from muster.settings import Settings, get_settings
from muster.sharing.cli import access_app
from muster.situation.cli import assess
from muster.training.cli import readiness, training_app


class _MusterGroup(TyperGroup):
    """The root group: runs a command and translates any error at this one edge."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; map errors to a one-line message and an exit code."""
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort, EOFError):
            raise  # usage errors, --help, explicit exits: Typer prints and exits
        except MusterError as error:
            _report(error.message, detail=_details(error))
            raise typer.Exit(exit_code_for(error)) from None
        except ValidationError as invalid:
            unusable = ConfigurationError(settings_problem(invalid))
            _report(unusable.message)
            raise typer.Exit(exit_code_for(unusable)) from None
        except Exception as error:
            if ctx.params.get("debug"):
                traceback.print_exc()
            else:
                _report(
                    f"unexpected {type(error).__name__}: {error} (rerun with --debug)"
                )
            raise typer.Exit(EXIT_UNEXPECTED) from None


def _report(message: str, *, detail: list[str] | None = None) -> None:
    """Print an error line (and its details) on stderr."""
    typer.echo(f"error: {message}", err=True)
    for line in detail or []:
        typer.echo(f"  {line}", err=True)


def _details(error: MusterError) -> list[str]:
    """Return the extra lines an error carries (each problem of a pack)."""
    if isinstance(error, PackInvalid):
        return [str(problem) for problem in error.problems]
    return []


def settings_problem(error: ValidationError) -> str:
    """Describe invalid settings by the MUSTER_* variables at fault."""
    parts = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        location = item.get("loc") or ()
        if location:
            message = f"MUSTER_{str(location[0]).upper()}: {message}"
        parts.append(message)
    return "invalid settings: " + "; ".join(parts)


app = typer.Typer(
    cls=_MusterGroup,
    name="muster",
    help="Muster: cross-department emergency coordination on one tamper-evident log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(audit_app, name="audit")
app.add_typer(projections_app, name="projections")
app.add_typer(users_app, name="users")
app.add_typer(apikey_app, name="apikey")
app.add_typer(ingest_app, name="ingest")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(plan_app, name="plan")
app.add_typer(notify_app, name="notify")
app.add_typer(access_app, name="access")
app.add_typer(improvement_app, name="improvement")
app.add_typer(report_app, name="report")
app.add_typer(training_app, name="training")
app.add_typer(resources_app, name="resources")
app.add_typer(warnings_app, name="warnings")
app.add_typer(drill_app, name="drill")
app.command("quality")(quality)
app.command("init")(init)
app.command("demo")(demo)
app.command("assess")(assess)
app.command("replay")(replay)
app.command("scorecard")(scorecard)
app.command("knew")(knew)
app.command("bulletin")(bulletin)
app.command("readiness")(readiness)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")
    ] = False,
) -> None:
    """Muster's operator commands. Settings come from MUSTER_* variables or .env."""
    del debug  # read by _MusterGroup.invoke from ctx.params
    ctx.obj = CliContext(open_deployment=open_deployment, projections=PROJECTIONS)


@contextmanager
def open_deployment() -> Iterator[Muster]:
    """Bootstrap the deployment of the current settings; refuse an unmigrated one."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        require_migrated(engine)
        yield bootstrap(settings, engine=engine)
    finally:
        engine.dispose()


def require_migrated(engine: Engine) -> None:
    """Refuse to work on a database without the newest schema."""
    if not is_current(engine):
        raise ConfigurationError(
            "the database is not initialised or not migrated; run `muster init`"
        )


@app.command("load")
def load(
    pack_dir: Annotated[Path, typer.Argument(help="Folder of the deployment pack.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a deployment pack and load its departments, users and datasets."""
    try:
        pack = read_pack(pack_dir)
        with open_deployment() as deployment:
            summary = load_pack(deployment, pack)
    except PackInvalid as invalid:
        if as_json:
            problems = [
                {"file": p.file, "line": p.line, "message": p.message}
                for p in invalid.problems
            ]
            print_json({"ok": False, "problems": problems})
        raise
    if as_json:
        print_json({"ok": True, **summary.to_json()})
        return
    typer.echo(f"Loaded pack {summary.region} from {pack_dir}")
    for kind, counts in summary.kinds().items():
        typer.echo(
            f"  {kind}: {counts.created} created, {counts.updated} updated, "
            f"{counts.unchanged} unchanged"
        )


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Serve the web interface and API."""
    settings = get_settings()
    check_ready_to_serve(settings)
    run_web_server(settings, host=host, port=port, workers=workers)


def check_ready_to_serve(settings: Settings) -> None:
    """Refuse to serve an unmigrated database or without a signing key."""
    engine = make_engine(settings.effective_database_url)
    try:
        require_migrated(engine)
    finally:
        engine.dispose()
    if not settings.effective_signing_key_file.exists():
        raise ConfigurationError(
            f"no checkpoint-signing key at {settings.effective_signing_key_file}; "
            "run `muster init`"
        )


@app.command("version")
def version() -> None:
    """Print Muster's version."""
    typer.echo(f"muster {muster.__version__}")


def main() -> None:
    """Run the ``muster`` command (the console script)."""
    app()


__all__ = ["app", "main", "open_deployment", "settings_problem"]

if __name__ == "__main__":
    main()
