"""``muster report aar INCIDENT --out FILE.pdf|FILE.html``: the after-action report.

Mounted by the root CLI (``app.add_typer(report_app, name="report")``). Gathers the
incident's AAR/IP (复盘评估) from the log through ``muster.review.aar`` with the
scorecard weights in force, renders it with ``muster.review.aar_render`` in Chinese
(default) or English, and writes HTML or PDF by the file's suffix. ``write_aar`` is
the same without Typer, for scripts and tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from muster.core.bus import MessageBus
from muster.core.cli import cli_context, stdout
from muster.core.clock import isoformat_utc
from muster.core.errors import ValidationFailed
from muster.core.eventlog.store import SqlEventStore
from muster.core.messages import Actor
from muster.identity import queries as identity
from muster.review.aar import AfterActionReview, gather
from muster.review.aar_render import render_html, render_pdf
from muster.review.aar_text import LANGUAGES
from muster.review.domain.commands import AdoptImprovementItems, ImprovementItemDraft
from muster.review.domain.scorecard import ScorecardWeights
from muster.review.improvement_cli import UserOption
from muster.review.settings_queries import stored_weights

FORMATS = (".html", ".pdf")

report_app = typer.Typer(
    help="Reports computed from the log: the after-action report (复盘评估).",
    no_args_is_help=True,
)


def check_output(out: Path, language: str) -> None:
    """Refuse an output file that is not .pdf or .html, or an unknown language."""
    if out.suffix.lower() not in FORMATS:
        raise ValidationFailed(
            f"--out must end in .pdf or .html, not {out.suffix or '(no suffix)'} "
            f"({out.name})",
            field="out",
        )
    if language not in LANGUAGES:
        raise ValidationFailed(
            f"--lang must be one of {', '.join(LANGUAGES)}, not {language}",
            field="lang",
        )
    if not out.parent.is_dir():
        raise ValidationFailed(
            f"no folder {out.parent} to write {out.name}", field="out"
        )


def command_line(incident_id: str, out: Path, language: str) -> str:
    """Return the command that regenerates a report (shown in its appendix)."""
    return f"muster report aar {incident_id} --out {out.name} --lang {language}"


def write_aar(
    conn: Connection,
    incident_id: str,
    out: Path,
    *,
    language: str = "zh-CN",
    now: datetime,
    store: SqlEventStore | None = None,
    weights: ScorecardWeights | None = None,
) -> AfterActionReview:
    """Write an incident's AAR to ``out`` (.pdf or .html) and return what it shows."""
    check_output(out, language)
    review = gather(
        conn,
        incident_id,
        now=now,
        store=store,
        weights=weights if weights is not None else stored_weights(conn),
    )
    command = command_line(incident_id, out, language)
    if out.suffix.lower() == ".pdf":
        out.write_bytes(render_pdf(review, language=language, command=command))
    else:
        html = render_html(review, language=language, command=command)
        out.write_text(html, encoding="utf-8")
    return review


@report_app.command("aar")
def aar(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="The incident's id.")],
    out: Annotated[
        Path, typer.Option("--out", help="File to write: FILE.pdf or FILE.html.")
    ],
    language: Annotated[
        str, typer.Option("--lang", help="Language: zh-CN (default) or en.")
    ] = "zh-CN",
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Also adopt the proposed improvement plan as tracked items "
            "(muster improvement list).",
        ),
    ] = False,
    user: UserOption = None,
) -> None:
    """Write the after-action report and improvement plan (AAR/IP) of an incident.

    Computed from the log over the incident's period (opened to closed, or to now),
    it states the log range and chain head hash it used.
    """
    check_output(out, language)
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        review = write_aar(
            conn,
            incident,
            out,
            language=language,
            now=deployment.clock.now(),
            store=deployment.store,
        )
        adopted = (
            adopt_plan(
                deployment.bus,
                review,
                _actor(deployment.engine, user),
                now=deployment.clock.now(),
            )
            if adopt
            else []
        )
    log_range = review.log_range
    computed = (
        "no events in the period"
        if log_range is None
        else f"seqs {log_range.first_seq}–{log_range.last_seq}, "
        f"chain hash {log_range.head_hash}"
    )
    stdout.print(f"Wrote {out}: after-action report of {incident} ({computed})")
    if adopt:
        stdout.print(
            f"Adopted {len(adopted)} improvement item(s): {', '.join(adopted) or '-'}"
            f" (muster improvement list --incident {incident})"
        )


def _actor(engine: Engine, username: str | None) -> Actor:
    with engine.connect() as conn:
        return identity.acting_actor(conn, username)


def adopt_plan(
    bus: MessageBus, review: AfterActionReview, actor: Actor, *, now: datetime
) -> list[str]:
    """Adopt the report's proposed improvement plan as tracked items; return ids."""
    drafts = tuple(
        ImprovementItemDraft(
            finding=proposal.finding,
            owner_department=proposal.owner_department,
            title_zh=proposal.title_zh,
            title_en=proposal.title_en,
            due_at=isoformat_utc(now + timedelta(days=proposal.due_days)),
            source_seqs=proposal.source_seqs,
        )
        for proposal in review.proposals
    )
    if not drafts:
        return []
    ids = bus.handle(
        AdoptImprovementItems(incident_id=review.incident.id, items=drafts), actor
    )
    return [str(item) for item in ids] if isinstance(ids, list | tuple) else []


__all__ = [
    "FORMATS",
    "aar",
    "adopt_plan",
    "check_output",
    "command_line",
    "report_app",
    "write_aar",
]
