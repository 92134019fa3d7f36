"""``muster drill run|list|show``: play a scenario in a sandbox, list and show drills.

``run`` plays unattended (scripted participants, simulated clock, returns when done),
attended in the terminal (scripted participants in scaled real time), or served
(``--serve``: the sandbox's own web app, people act in the UI while injects arrive in
scaled real time). ``list`` and ``show`` read the drills the live log records.
Registered on ``drill_app`` by ``muster.drills.cli``.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated, Any

import typer

from muster.bootstrap import Muster
from muster.core.cli import cli_context, print_json, stdout
from muster.core.errors import ConfigurationError, NotFound
from muster.drills import queries
from muster.drills.clock import ScaledClock
from muster.drills.domain.errors import UnknownDrill
from muster.drills.domain.scenario import Scenario
from muster.drills.outcome import DrillReport, StepOutcome
from muster.drills.runner import (
    Progress,
    play_scaled,
    run_unattended,
    start_drill,
)
from muster.drills.scenarios import load_scenario, load_scenarios
from muster.pack import read_pack

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def run(
    ctx: typer.Context,
    scenario: Annotated[
        str,
        typer.Argument(help="A scenario .yaml file, or a scenario code of the pack."),
    ],
    pack_dir: Annotated[
        Path | None,
        typer.Option(
            "--pack",
            help="Pack whose scenarios/ holds the code (default: "
            "the bundled example pack).",
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Scenario minutes per real minute.", min=0.01)
    ] = 60.0,
    unattended: Annotated[
        bool, typer.Option("--unattended", help="Scripted participants, no waiting.")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the sandbox's web app for people.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address for --serve.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for --serve.", min=1)] = 8100,
    scripted: Annotated[
        bool,
        typer.Option(
            "--scripted",
            help="With --serve: the scenario's scripted participants act too.",
        ),
    ] = False,
    live_channels: Annotated[
        bool,
        typer.Option(
            "--live-channels",
            help="Really send the drill's e-mails and "
            "webhooks (marked EXERCISE); default: hold them.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run a drill in a sandbox copy of the live deployment; print its evaluation."""
    if unattended and serve:
        raise typer.BadParameter("--unattended and --serve exclude each other")
    chosen = _scenario(scenario, pack_dir)
    progress = None if as_json else _print_step
    with cli_context(ctx).open_deployment() as deployment:
        live = _muster(deployment)
        if unattended:
            report = run_unattended(live, chosen, progress=progress)
        else:
            report = _run_scaled(
                live, chosen, speed=speed, serve=serve, host=host, port=port,
                hold_messages=not live_channels, progress=progress,
                scripted=scripted,
            )  # fmt: skip
    if as_json:
        print_json(report.to_json())
    else:
        _print_report(report)


def list_drills(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the drills the live log records, oldest first."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        drills = queries.list_drills(conn)
    if as_json:
        print_json([_drill_json(drill) for drill in drills])
        return
    if not drills:
        typer.echo("No drills yet. Run one with `muster drill run SCENARIO`.")
    for drill in drills:
        totals = _totals(drill)
        typer.echo(
            f"{drill.drill_id}  {drill.started.scenario_code}  {drill.started.mode}  "
            f"{drill.started_at[:16]}  {drill.status}  {totals}"
        )


def show(
    ctx: typer.Context,
    drill_id: Annotated[str, typer.Argument(help="The drill's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a drill: its scenario, sandbox, evaluation and how to verify its log."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        drill = queries.get_drill(conn, drill_id)
    if drill is None:
        raise UnknownDrill(f"no drill {drill_id} in the live log", drill=drill_id)
    if as_json:
        print_json(_drill_json(drill))
        return
    started = drill.started
    typer.echo(f"Drill {drill.drill_id}: {started.title_zh} / {started.title_en}")
    typer.echo(f"  scenario {started.scenario_code}, {started.mode}, {drill.status}")
    typer.echo(f"  started {drill.started_at} (scenario time {started.sim_start})")
    typer.echo(f"  sandbox {started.sandbox_path}")
    typer.echo(f"  continues the live log at seq {started.live_head_seq}")
    done = drill.completed
    if done is None:
        return
    typer.echo(
        f"  ended {done.finished_at}; sandbox head seq {done.sandbox_last_seq}, "
        f"hash {done.sandbox_head_hash[:16]}…"
    )
    typer.echo(f"  participants: {', '.join(done.departments) or 'none'}")
    for row in done.summary:
        typer.echo(
            f"  {row.get('department')}: {row.get('met')} met, {row.get('late')} late,"
            f" {row.get('missed')} missed of {row.get('expected')}"
        )
    for result in done.results:
        typer.echo(f"    {_result_line(result)}")
    sandbox = Path(started.sandbox_path)
    key = sandbox.with_name(f"{drill.drill_id}.key.pem")
    typer.echo(
        f"  verify: MUSTER_DATABASE_URL=sqlite:///{sandbox} "
        f"MUSTER_SIGNING_KEY_FILE={key} muster audit verify"
    )


def _run_scaled(
    live: Muster,
    scenario: Scenario,
    *,
    speed: float,
    serve: bool,
    host: str,
    port: int,
    hold_messages: bool,
    progress: Progress | None,
    scripted: bool = False,
) -> DrillReport:
    if serve:
        return serve_drill(
            live, scenario, speed=speed, host=host, port=port, scripted=scripted,
            hold_messages=hold_messages, progress=progress,
        )  # fmt: skip
    clock = ScaledClock(live.clock.now(), speed=speed)
    clock.pause()  # scenario time starts when the first inject can be played
    drill = start_drill(
        live, scenario, mode="attended", clock=clock, speed=speed,
        hold_messages=hold_messages, progress=progress,
    )  # fmt: skip
    try:
        try:
            finished = play_scaled(
                drill, clock, scripted=True, ticking=True, stop=threading.Event()
            )
        except KeyboardInterrupt:
            finished = False
        return drill.finish(ended_early=not finished)
    finally:
        drill.close()


def serve_drill(
    live: Muster,
    scenario: Scenario,
    *,
    speed: float,
    host: str,
    port: int,
    scripted: bool = False,
    keep_serving: bool = False,
    hold_messages: bool = True,
    progress: Progress | None = None,
    announce: bool = True,
) -> DrillReport:
    """Serve a drill's sandbox web app while its injects (and, if ``scripted``, its
    scripted participants) play in scaled real time.

    The server stops when the scenario ends, unless ``keep_serving`` (the demo: the
    drill is evaluated and recorded at its end, and people can look around until
    Ctrl-C). Returns the drill's report; Ctrl-C before the end ends it early.
    """
    clock = ScaledClock(live.clock.now(), speed=speed)
    clock.pause()  # scenario time starts once people can sign in
    drill = start_drill(
        live, scenario, mode="served", clock=clock, speed=speed,
        hold_messages=hold_messages, progress=progress,
    )  # fmt: skip
    try:
        import uvicorn  # only serving needs the web stack

        from muster.web.app import create_app
    except ModuleNotFoundError as error:
        drill.close()
        raise ConfigurationError("this build of Muster has no web server") from error
    app = create_app(drill.deployment.settings, muster=drill.deployment)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning")
    )
    stop = threading.Event()
    reports: list[DrillReport] = []

    def play() -> None:
        try:
            while not server.started:
                if stop.wait(0.05):
                    return
            finished = play_scaled(
                drill, clock, scripted=scripted, ticking=False, stop=stop
            )
            if finished:
                reports.append(drill.finish(ended_early=False))
                if announce:
                    stdout.print(
                        f"Drill {drill.drill_id} finished and was evaluated "
                        f"(`muster drill show {drill.drill_id}`)."
                    )
        finally:
            if not keep_serving:
                server.should_exit = True

    if announce:
        stdout.print(
            f"Drill {drill.drill_id}: sign in at http://{host}:{port}/ (scenario "
            f"time ×{clock.speed}); Ctrl-C ends it."
        )
    player = threading.Thread(target=play, name="drill-injects", daemon=True)
    player.start()
    try:
        try:
            server.run()
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it shut down on
        finally:
            stop.set()
            player.join()
        return reports[0] if reports else drill.finish(ended_early=True)
    finally:
        drill.close()


def _scenario(reference: str, pack_dir: Path | None) -> Scenario:
    path = Path(reference)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        pack = read_pack(pack_dir) if pack_dir is not None else None
        return load_scenario(path, pack=pack)
    if pack_dir is not None:
        found = load_scenarios(pack_dir)
    else:
        with as_file(files("muster") / "examples" / "lanjiang") as bundled:
            found = load_scenarios(Path(bundled))
    for scenario in found:
        if scenario.code == reference:
            return scenario
    codes = ", ".join(s.code for s in found) or "none"
    raise NotFound(f"no scenario {reference} in the pack (it has: {codes})")


def _muster(deployment: object) -> Muster:
    if not isinstance(deployment, Muster):
        raise ConfigurationError("drills need a full Muster deployment")
    return deployment


def _print_step(outcome: StepOutcome) -> None:
    mark = "·" if outcome.kind == "event" else ("✓" if outcome.ok else "✗")
    stdout.print(
        f"{outcome.at_minutes:7.1f} min  {mark} {outcome.kind:<6} "
        f"{outcome.department or '-':<10} {outcome.label}"
        + (f" — {outcome.detail}" if outcome.detail else ""),
        soft_wrap=True,
    )


def _print_report(report: DrillReport) -> None:
    ended = "ended early" if report.ended_early else "completed"
    lines = [
        f"\nDrill {report.drill_id} ({report.scenario_code}) {ended}.",
        f"Sandbox {report.sandbox_path}: seq {report.live_head_seq + 1}–"
        f"{report.sandbox_last_seq}, head {report.sandbox_head_hash[:16]}…",
    ]
    if report.held_messages:
        lines.append(f"{report.held_messages} e-mail/webhook message(s) held.")
    lines += [
        f"  {row.get('department')}: {row.get('met')} met, {row.get('late')} late, "
        f"{row.get('missed')} missed of {row.get('expected')}"
        for row in report.summary
    ]
    lines += [f"    {_result_line(result)}" for result in report.results]
    for line in lines:
        stdout.print(line, soft_wrap=True)


def _result_line(result: dict[str, Any]) -> str:
    minutes = result.get("minutes")
    after = f" after {result['after']}" if result.get("after") else ""
    took = f" in {float(minutes):.0f} min{after}" if minutes is not None else ""
    note = f" ({result['note']})" if result.get("note") else ""
    return (
        f"{result.get('status', '?'):<7} {result.get('id', '')}: "
        f"{result.get('department', '')} {result.get('action', '')}{took}{note}"
    )


def _totals(drill: queries.DrillView) -> str:
    if drill.completed is None:
        return ""
    counts = {"met": 0, "late": 0, "missed": 0}
    for row in drill.completed.summary:
        for key in counts:
            counts[key] += int(row.get(key) or 0)
    return f"{counts['met']} met, {counts['late']} late, {counts['missed']} missed"


def _drill_json(drill: queries.DrillView) -> dict[str, Any]:
    return {
        "drill_id": drill.drill_id,
        "status": drill.status,
        "started_at": drill.started_at,
        "started": asdict(drill.started),
        "completed_at": drill.completed_at,
        "completed": asdict(drill.completed) if drill.completed else None,
    }


__all__ = ["list_drills", "run", "show"]
