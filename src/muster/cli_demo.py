"""``muster demo``: a ready-to-try Muster for newcomers, on SQLite in one folder.

Creates the database, signing key and a persistent session secret in the data folder,
loads the bundled Lanjiang example pack and its demo records (``data/<DATASET>.json``
and the asset layers of cascades.yaml, ``layers/*.geojson``), prints the demo
sign-ins, then serves — by default a drill sandbox in which the pack's rainstorm
exercise (RAINSTORM_CHAIN) plays itself at ×30, so the map, tasks and timeline move
within the first minute (ADR 0013); ``--no-drill`` serves the demo deployment itself.
Mounted by the root CLI (``muster.cli``), which also uses ``run_web_server``.
"""

from __future__ import annotations

import importlib
import os
import secrets
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated, Protocol

import typer
from pydantic import SecretStr
from rich import box
from rich.table import Table

from muster.bootstrap import bootstrap
from muster.core.cli import stdout
from muster.core.errors import ConfigurationError, PackInvalid, PackProblem
from muster.core.eventlog.signing import create_signing_key
from muster.core.messages import SYSTEM_ACTOR
from muster.core.migrate import upgrade
from muster.drills.run_cli import serve_drill
from muster.drills.scenarios import load_scenarios
from muster.ingest.domain.commands import IngestFile
from muster.ingest.files import IngestOutcome
from muster.pack import Pack, read_pack
from muster.pack.loader import Deployment, LoadSummary, load_pack
from muster.settings import Settings

DEMO_SCENARIO = "RAINSTORM_CHAIN"
DEMO_SPEED = 30.0
SECRET_FILE_NAME = "secret.key"  # noqa: S105 (a file name, not a secret)
DATA_DIR = "data"
DATA_FORMATS = {".json": "json", ".csv": "csv", ".geojson": "geojson"}
"""Demo record files of a pack: ``data/<DATASET_CODE><suffix>``, read as this format."""


class _Serve(Protocol):
    """The signature of ``muster.web.server.serve``."""

    def __call__(
        self, settings: Settings, *, host: str, port: int, workers: int
    ) -> None: ...


def demo(
    port: Annotated[int, typer.Option(help="Port to serve on.", min=1)] = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="Folder for the demo database and keys.")
    ] = Path("muster-data"),
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after loading (for scripts).")
    ] = False,
    drill: Annotated[
        bool,
        typer.Option(
            "--drill/--no-drill",
            help="Play the rainstorm exercise in a drill sandbox while serving "
            "(everything marked EXERCISE); --no-drill serves the demo itself.",
        ),
    ] = True,
    speed: Annotated[
        float,
        typer.Option(help="Scenario minutes per real minute of the demo drill.", min=1),
    ] = DEMO_SPEED,
) -> None:
    """Start a demo deployment of the fictional city of Lanjiang (dev mode, SQLite)."""
    settings = demo_settings(data_dir)
    pack, summary, data_lines = prepare_demo(settings)
    if summary.is_unchanged:
        typer.echo(f"The demo pack is already loaded in {data_dir}.")
    else:
        typer.echo(
            f"Loaded the demo pack into {data_dir}: "
            f"{summary.departments.created} departments, "
            f"{summary.users.created} users, {summary.datasets.created} datasets, "
            f"{summary.plans.created} plans, "
            f"{summary.agreements.created} sharing agreements."
        )
    for line in data_lines:
        typer.echo(line)
    print_sign_ins(pack)
    address = f"http://127.0.0.1:{port}"
    typer.echo(f"Open {address} and sign in with any account above.")
    typer.echo(
        "Try it: sign in as commander, open an incident of type 11A00 (flood), "
        "activate the plan FLOOD_URBAN, then sign in as transport.duty in another "
        "browser and open the Inbox."
    )
    typer.echo(
        "Data sharing: as fire.duty, PSB_VULNERABLE_RESIDENTS gives counts per "
        "community; during a flood incident (11A) at level II near 28.21, 112.91 it "
        "gives the residents within 10 km (agreement PSB_VR_EVACUATION)."
    )
    typer.echo(
        "Cascades (灾害链): open an incident of type 11B00 near 28.21, 112.91, record "
        "the facts rain_24h_mm=180 and radius_km=20, then run "
        f"`MUSTER_MODE=dev MUSTER_DATA_DIR={data_dir} muster assess INCIDENT_ID`."
    )
    if no_serve:
        return
    if not drill:
        run_web_server(settings, host="127.0.0.1", port=port, workers=1)
        return
    play_demo_drill(settings, port=port, speed=speed)


def play_demo_drill(settings: Settings, *, port: int, speed: float) -> None:
    """Serve a drill sandbox of the demo in which the rainstorm exercise plays itself
    (scripted participants) at ``speed``; keep serving after it ends, until Ctrl-C."""
    with as_file(files("muster") / "examples" / "lanjiang") as pack_dir:
        scenario = next(
            s for s in load_scenarios(Path(pack_dir)) if s.code == DEMO_SCENARIO
        )
    minutes = scenario.duration_minutes / speed
    typer.echo(
        f"Playing the exercise {scenario.title_en} ({DEMO_SCENARIO}) at ×{speed:g}: "
        f"{minutes:.0f} real minutes; a rain trigger opens the incident after "
        f"≈ {600 / speed:.0f} s. Everything in it is marked EXERCISE and stays in its "
        "drill sandbox (`muster drill list`). Watch the Situation map and the "
        "incident's timeline; `muster demo --no-drill` serves without it."
    )
    live = bootstrap(settings)
    try:
        serve_drill(
            live, scenario, speed=speed, host="127.0.0.1", port=port,
            scripted=True, keep_serving=True,
        )  # fmt: skip
    finally:
        live.engine.dispose()


def demo_settings(data_dir: Path) -> Settings:
    """Return dev-mode settings on SQLite in data_dir (other MUSTER_* values apply)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        mode="dev",
        data_dir=data_dir,
        database_url="",
        signing_key_file=None,
        secret_key=SecretStr(_demo_secret(data_dir / SECRET_FILE_NAME)),
    )


def _demo_secret(path: Path) -> str:
    """Return the demo's session secret, created once so sessions survive restarts."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret


def prepare_demo(settings: Settings) -> tuple[Pack, LoadSummary, list[str]]:
    """Migrate, create the signing key if missing, and load the bundled pack and its
    demo records; return the pack, the load summary and one line per data file."""
    key_file = settings.effective_signing_key_file
    if not key_file.exists():
        create_signing_key(key_file)
    deployment = bootstrap(settings)
    try:
        upgrade(deployment.engine)
        with as_file(files("muster") / "examples" / "lanjiang") as pack_dir:
            pack = read_pack(Path(pack_dir))
            summary = load_pack(deployment, pack)
            data_lines = load_demo_data(deployment, pack)
    finally:
        deployment.engine.dispose()
    return pack, summary, data_lines


def load_demo_data(deployment: Deployment, pack: Pack) -> list[str]:
    """Ingest each ``data/<DATASET_CODE>.json|csv|geojson`` file of a loaded pack,
    then the example file of each layer of its cascades.yaml as the layer's dataset.

    Every data file is checked first: one named after no dataset of the pack raises
    ``PackInvalid`` before anything is sent (layer files and their datasets were
    checked with the pack). Files go to ingest as Muster itself (source "demo");
    ingest recognises a file it already holds by its digest, so a second run stores
    nothing again. Returns one line per file saying what happened.
    """
    return [*_load_data_files(deployment, pack), *_load_layer_files(deployment, pack)]


def _load_data_files(deployment: Deployment, pack: Pack) -> list[str]:
    """Ingest the ``data/`` files (see ``load_demo_data``)."""
    folder = pack.root / DATA_DIR
    if not folder.is_dir():
        return []
    files = sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() in DATA_FORMATS
    )
    codes = {dataset.code for dataset in pack.datasets}
    problems = [
        PackProblem(
            f"{DATA_DIR}/{path.name}",
            None,
            f"no dataset {path.stem} in datasets.yaml; name a data file after the "
            "code of its dataset, e.g. data/EMB_SHELTERS.geojson",
        )
        for path in files
        if path.stem not in codes
    ]
    if problems:
        raise PackInvalid(problems)
    lines = []
    for path in files:
        command = IngestFile(
            dataset_code=path.stem,
            source="demo",
            data=path.read_bytes(),
            format=DATA_FORMATS[path.suffix.lower()],
        )
        outcome: IngestOutcome = deployment.bus.handle(command, SYSTEM_ACTOR)
        lines.append(f"Demo data {DATA_DIR}/{path.name}: {_ingested(outcome)}")
    return lines


def _load_layer_files(deployment: Deployment, pack: Pack) -> list[str]:
    """Ingest the example file of each cascades.yaml layer as its dataset's records
    (GeoJSON features keep their fields and geometry)."""
    layers = pack.cascades.get("layers", []) if pack.cascades is not None else []
    lines = []
    for layer in layers:
        name, dataset = layer.get("file"), layer["dataset"]
        if not name:
            continue
        command = IngestFile(
            dataset_code=dataset,
            source="demo",
            data=(pack.root / name).read_bytes(),
            format="geojson",
        )
        outcome: IngestOutcome = deployment.bus.handle(command, SYSTEM_ACTOR)
        lines.append(f"Demo layer {name} ({dataset}): {_ingested(outcome)}")
    return lines


def _ingested(outcome: IngestOutcome) -> str:
    """Say what ingest did with a demo file."""
    if outcome.status == "duplicate":
        return "already loaded"
    if outcome.status == "accepted":
        return f"{outcome.accepted} records loaded, {outcome.quarantined} quarantined"
    return f"refused ({outcome.error or outcome.status})"


def print_sign_ins(pack: Pack) -> None:
    """Print a table of the demo accounts: username, department, roles, password."""
    table = Table(title="Demo sign-ins", box=box.SIMPLE_HEAD, show_lines=True)
    table.add_column("Username", no_wrap=True)
    table.add_column("Department", overflow="fold")
    table.add_column("Roles", no_wrap=True)
    table.add_column("Password", no_wrap=True)
    for user in pack.users:
        department = pack.department(user.department)
        names = (
            f"{department.name_zh}\n{department.name_en}"
            if department is not None
            else user.department
        )
        table.add_row(
            user.username,
            names,
            ", ".join(role.value for role in user.roles),
            user.password or "(set by an administrator)",
        )
    stdout.print(table)


def run_web_server(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Start the web server (imported late, so the CLI works while web is absent)."""
    try:
        module = importlib.import_module("muster.web.server")
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("muster.web"):
            raise
        raise ConfigurationError("this build of Muster has no web server") from error
    serve: _Serve = module.serve
    serve(settings, host=host, port=port, workers=workers)


__all__ = [
    "demo",
    "demo_settings",
    "load_demo_data",
    "prepare_demo",
    "print_sign_ins",
    "run_web_server",
]
