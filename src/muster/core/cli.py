"""Operator commands on the event log: ``muster audit …``, ``muster projections …``.

Core imports no part, so the root CLI (``muster.cli``) hands every sub-app a
``CliContext``: how to open the deployment and which projection sets exist. Also holds
the one mapping from the error tree to exit codes (R12). Imported by ``muster.cli`` and
the parts' ``cli.py`` modules (R14).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import Engine

from muster.core.bus import MessageBus
from muster.core.clock import Clock, isoformat_utc, parse_utc
from muster.core.db import WRITE_OPTION
from muster.core.errors import (
    AuthenticationFailed,
    ChainBroken,
    ConcurrencyConflict,
    ConfigurationError,
    DomainError,
    MusterError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from muster.core.eventlog.audit import export_log, verify_log
from muster.core.eventlog.chain import VerificationReport, key_id
from muster.core.eventlog.projections import ProjectionSet
from muster.core.eventlog.replay import rebuild
from muster.core.eventlog.signing import SigningKey, load_public_key
from muster.core.eventlog.store import SqlEventStore
from muster.core.uow import write_checkpoint

EXIT_UNEXPECTED = 1
EXIT_CODES: tuple[tuple[type[MusterError], int], ...] = (
    (DomainError, 3),
    (NotFound, 4),
    (AuthenticationFailed, 5),
    (PermissionDenied, 5),
    (ConcurrencyConflict, 6),
    (ConfigurationError, 7),
    (ChainBroken, 10),
)
"""Exit code of each branch of the error tree; subclasses take their branch's code."""

stdout = Console(highlight=False, markup=False)
stderr = Console(stderr=True, highlight=False, markup=False)


def exit_code_for(error: MusterError) -> int:
    """Return the exit code for an error of the tree (1 for the bare base class)."""
    for error_class, code in EXIT_CODES:
        if isinstance(error, error_class):
            return code
    return EXIT_UNEXPECTED


class Deployment(Protocol):
    """What the CLI needs from a deployment (``muster.bootstrap.Muster`` fits)."""

    @property
    def engine(self) -> Engine:
        """Return the database engine."""
        ...

    @property
    def store(self) -> SqlEventStore:
        """Return the event store."""
        ...

    @property
    def bus(self) -> MessageBus:
        """Return the message bus."""
        ...

    @property
    def clock(self) -> Clock:
        """Return the clock."""
        ...

    @property
    def signing_key(self) -> SigningKey | None:
        """Return the checkpoint-signing key, if this deployment has one."""
        ...


@dataclass(frozen=True, slots=True)
class CliContext:
    """What the root CLI gives every sub-app (as the Typer context object)."""

    open_deployment: Callable[[], AbstractContextManager[Deployment]]
    projections: Sequence[ProjectionSet]


def cli_context(ctx: typer.Context) -> CliContext:
    """Return the CliContext set by the root CLI."""
    found = ctx.find_object(CliContext)
    if found is None:
        raise RuntimeError("this command must run under the `muster` root command")
    return found


def print_json(data: Any) -> None:
    """Print one JSON document on stdout (never wrapped or styled)."""
    typer.echo(json.dumps(data, ensure_ascii=False))


def parse_moment_option(text: str, option: str) -> datetime:
    """Parse an ISO time given to an option (``--at``) or a query parameter (``at``).

    A time without a zone is refused (it would be ambiguous): ``ValidationFailed``
    names the option, and its ``field`` is the option without dashes.
    """
    try:
        return parse_utc(text)
    except ValueError as error:
        raise ValidationFailed(
            f"{option} needs an ISO time with a zone, e.g. 2026-07-01T08:00Z ({error})",
            field=option.lstrip("-"),
        ) from error


def read_new_password(*, from_stdin: bool) -> str:
    """Read a new password: first line of stdin, or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def require_signing_key(deployment: Deployment) -> SigningKey:
    """Return the deployment's signing key or explain how to create it."""
    if deployment.signing_key is None:
        raise ConfigurationError("no checkpoint-signing key; run `muster init`")
    return deployment.signing_key


audit_app = typer.Typer(
    name="audit", help="Verify, export and sign the event log.", no_args_is_help=True
)
projections_app = typer.Typer(
    name="projections", help="Rebuild read models from the log.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: JsonFlag = False,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            help="Also trust this public key (PEM), e.g. a retired one. Repeatable.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Processes for large logs (50,000+ events).", min=1)
    ] = 1,
) -> None:
    """Recompute the hash chain and check every checkpoint signature.

    Exits 0 when the log is intact and 10 when it is not, naming the first bad seq.
    """
    with cli_context(ctx).open_deployment() as deployment:
        keys = _trusted_keys(deployment, public_key or [])
        with stderr.status("Verifying the event log…"):
            report = verify_log(deployment.engine, public_keys=keys, workers=workers)
    if as_json:
        print_json(report.to_json())
    else:
        _print_report(report)
    if not report.ok and report.first_bad_seq is not None:
        raise ChainBroken(report.first_bad_seq, report.reason)


def _trusted_keys(
    deployment: Deployment, extra: Sequence[Path]
) -> dict[str, Ed25519PublicKey]:
    """Return the public keys to check checkpoints with, by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    if deployment.signing_key is not None:
        keys[deployment.signing_key.key_id] = deployment.signing_key.public_key
    for path in extra:
        try:
            public = load_public_key(path.read_bytes())
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"cannot read public key {path}: {error}"
            ) from error
        keys[key_id(public)] = public
    return keys


def _print_report(report: VerificationReport) -> None:
    """Print a verification report for people."""
    if report.ok:
        typer.echo(
            f"ok: {report.events} events and {report.checkpoints} checkpoints verified "
            f"(head seq {report.head_seq}, hash {report.head_hash.hex()[:16]}…)"
        )
        return
    typer.echo(f"BROKEN at seq {report.first_bad_seq}: {report.reason}")
    for problem in report.problems[1:]:
        typer.echo(f"  also: {problem}")


@audit_app.command("export")
def export(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the export into.")],
    as_json: JsonFlag = False,
) -> None:
    """Write the log, checkpoints, public key and VERIFYING.md for third parties."""
    with cli_context(ctx).open_deployment() as deployment:
        key = require_signing_key(deployment)
        events, checkpoints = export_log(
            deployment.engine, out_dir, public_key_pem=key.public_pem()
        )
    if as_json:
        print_json(
            {"out_dir": str(out_dir), "events": events, "checkpoints": checkpoints}
        )
        return
    typer.echo(f"Exported {events} events and {checkpoints} checkpoints to {out_dir}")
    typer.echo(f"Anyone can check it without Muster: see {out_dir / 'VERIFYING.md'}")


@audit_app.command("checkpoint")
def checkpoint(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Sign a checkpoint at the head of the log now (after verifying the log)."""
    with cli_context(ctx).open_deployment() as deployment:
        key = require_signing_key(deployment)
        report = verify_log(deployment.engine, public_keys={key.key_id: key.public_key})
        if not report.ok and report.first_bad_seq is not None:
            raise ChainBroken(report.first_bad_seq, report.reason)
        seq = _sign_head(deployment, key)
    if as_json:
        print_json({"seq": seq, "key_id": key.key_id})
    elif seq == 0:
        typer.echo("The log is empty; there is nothing to sign.")
    else:
        typer.echo(f"Signed a checkpoint at seq {seq} with key {key.key_id}")


def _sign_head(deployment: Deployment, key: SigningKey) -> int:
    """Store a signed checkpoint of the head; return its seq (0: empty log)."""
    store = deployment.store
    engine = deployment.engine
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        conn.begin()
        seq, hash_ = store.head(conn)
        if seq > 0:
            created_at = isoformat_utc(deployment.clock.now())
            write_checkpoint(
                conn, store, key, seq=seq, hash_=hash_, created_at=created_at
            )
        conn.commit()
    return seq


@audit_app.command("public-key")
def public_key(ctx: typer.Context) -> None:
    """Print the public key (PEM) that verifies this deployment's checkpoints."""
    with cli_context(ctx).open_deployment() as deployment:
        key = require_signing_key(deployment)
    typer.echo(key.public_pem().decode("ascii"), nl=False)


@projections_app.command("rebuild")
def rebuild_projections(
    ctx: typer.Context,
    parts: Annotated[
        list[str] | None,
        typer.Argument(
            help="Projection sets to rebuild (default: all).", show_default=False
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Replay events recorded up to this ISO time (with zone)."),
    ] = None,
    until_seq: Annotated[
        int | None, typer.Option(help="Replay events up to this seq.", min=0)
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Empty read-model tables and replay the log into them."""
    context = cli_context(ctx)
    chosen = _choose_projections(context.projections, parts or [])
    moment = parse_moment_option(until, "--until") if until is not None else None
    with context.open_deployment() as deployment:
        replayed = _rebuild_with_progress(
            deployment, chosen, until_seq=until_seq, until=moment
        )
    names = [projection.name for projection in chosen]
    if as_json:
        print_json({"projections": names, "events": replayed})
    else:
        typer.echo(f"Rebuilt {', '.join(names)} from {replayed} events")


def _choose_projections(
    available: Sequence[ProjectionSet], names: Sequence[str]
) -> list[ProjectionSet]:
    """Return the named projection sets in registry order (all when none named)."""
    known = {projection.name for projection in available}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValidationFailed(
            f"unknown projection set(s) {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(known))}",
            field="parts",
        )
    return [p for p in available if not names or p.name in names]


def _rebuild_with_progress(
    deployment: Deployment,
    chosen: Sequence[ProjectionSet],
    *,
    until_seq: int | None,
    until: datetime | None,
) -> int:
    """Run the replay behind a progress bar on stderr; return events replayed."""
    with deployment.engine.connect() as conn:
        head = deployment.store.head(conn)[0]
    total = min(head, until_seq) if until_seq is not None else head
    columns = (TextColumn("Replaying"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task("replay", total=total)
        return rebuild(
            deployment.engine,
            chosen,
            until_seq=until_seq,
            until=until,
            progress=lambda seq: bar.update(task, completed=seq),
        )


__all__ = [
    "EXIT_CODES",
    "CliContext",
    "Deployment",
    "audit_app",
    "cli_context",
    "exit_code_for",
    "parse_moment_option",
    "print_json",
    "projections_app",
    "read_new_password",
    "require_signing_key",
    "stderr",
    "stdout",
]
