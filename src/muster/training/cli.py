"""``muster training …`` (record, list, courses) and ``muster readiness``.

Mounted by the root CLI: ``app.add_typer(training_app, name="training")`` and
``app.command("readiness")(readiness)``. Recording acts as Muster itself (the operator
at the server's shell) or as a named user with ``--user``, through the same handler
and rules as the pack loader and the API. Readiness is computed as of the
deployment's clock, in its time zone.
"""

from __future__ import annotations

from datetime import UTC, date, tzinfo
from typing import Annotated

import typer
from rich.table import Table

from muster.core.cli import Deployment, cli_context, print_json, stdout
from muster.identity import queries as identity
from muster.identity.cli import ActAs
from muster.training import queries
from muster.training.domain.commands import RecordTraining
from muster.training.domain.readiness import Reason, RoleCoverage
from muster.training.readiness_queries import (
    CityReadiness,
    city_readiness,
    department_readiness,
    readiness_json,
)

training_app = typer.Typer(
    name="training",
    help="Training records (培训记录): record completed courses and list them.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DepartmentOption = Annotated[
    str | None, typer.Option("--department", help="Only this department (code).")
]
REASONS = {
    "no_people": "nobody holds a trained role",
    "role_under_half": "under half of the {role}s trained",
    "role_not_all_trained": "not every {role} trained",
    "no_advanced": "no {role} at the advanced tier",
    "no_drill": "no drill joined",
    "last_drill_missed": "last drill missed actions",
    "last_drill_mostly_missed": "last drill missed more than it met",
}


@training_app.command("record")
def record(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Who completed the course.")],
    course: Annotated[str, typer.Argument(help="Course code, e.g. DUTY-BASIC.")],
    on: Annotated[str, typer.Option("--on", help="Day completed, YYYY-MM-DD.")],
    provider: Annotated[
        str, typer.Option("--provider", help="Who gave the course.")
    ] = "",
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires", help="Day it stops counting (default: the course's validity)."
        ),
    ] = None,
    user: ActAs = None,
    as_json: JsonFlag = False,
) -> None:
    """Record that a person completed a course (again: unchanged)."""
    command = RecordTraining(
        username=username,
        course=course,
        completed_on=on,
        provider=provider,
        expires_on=expires,
    )
    with cli_context(ctx).open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            actor = identity.acting_actor(conn, user)
        outcome = deployment.bus.handle(command, actor)
    if as_json:
        print_json(
            {"username": username, "course": course, "completed_on": on,
             "result": outcome}
        )  # fmt: skip
        return
    typer.echo(f"{username} {course} {on}: {outcome}")


@training_app.command("list")
def list_records(
    ctx: typer.Context, department: DepartmentOption = None, as_json: JsonFlag = False
) -> None:
    """List training records by department and person; expired ones are marked."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        found = queries.list_records(
            conn, today=_today(deployment), department=department
        )
    if as_json:
        print_json([item.to_json() for item in found])
        return
    table = Table("department", "user", "course", "role", "tier", "completed",
                  "expires", "provider", "status")  # fmt: skip
    for item in found:
        table.add_row(
            item.department, item.username, item.course, item.role, item.tier,
            item.completed_on, item.expires_on or "-", item.provider,
            "current" if item.is_current else "EXPIRED",
        )  # fmt: skip
    stdout.print(table)


@training_app.command("courses")
def list_courses(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the course catalogue: role, tier and validity of each course."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        found = queries.list_courses(conn)
    if as_json:
        print_json(
            [
                {"code": c.code, "title_zh": c.title_zh, "title_en": c.title_en,
                 "role": c.role, "tier": c.tier.value,
                 "validity_months": c.validity_months}
                for c in found
            ]
        )  # fmt: skip
        return
    table = Table("code", "role", "tier", "months", "title")
    for course in found:
        months = str(course.validity_months or "-")
        table.add_row(course.code, course.role, course.tier, months, course.title_en)
    stdout.print(table)


def readiness(
    ctx: typer.Context, department: DepartmentOption = None, as_json: JsonFlag = False
) -> None:
    """Show each department's readiness: trained people per role, drills joined,
    the last drill's results and a level.

    Ready: every holder of every role with courses is trained (current), each role
    with an advanced course has an advanced holder, the department joined a drill
    and its last drill missed nothing. Not ready: nobody holds such a role, under
    half of a role's holders are trained, or the last drill missed more expected
    actions than it met. Partly ready: in between.
    """
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        today = _today(deployment)
        if department is None:
            found = city_readiness(conn, today=today)
        else:
            found = department_readiness(conn, department, today=today)
    if as_json:
        print_json(readiness_json(found))
        return
    stdout.print(_table(found, with_totals=department is None))


def _table(found: CityReadiness, *, with_totals: bool) -> Table:
    columns = [f"{role} trained" for role in found.roles]
    title = f"Readiness as of {found.as_of.isoformat()}"
    table = Table("department", *columns, "drills", "last drill m/l/x", "level",
                  "why", title=title)  # fmt: skip
    for item in found.departments:
        last = item.last_drill
        table.add_row(
            item.department,
            *[_coverage(role) for role in item.roles],
            str(item.drills_joined),
            f"{last.met}/{last.late}/{last.missed}" if last else "-",
            item.level.value,
            "; ".join(_reason(reason) for reason in item.reasons),
        )
    if with_totals:
        totals = found.totals
        levels = ", ".join(f"{name} {count}" for name, count in totals.levels.items())
        table.add_row(
            "TOTAL",
            *[_coverage(role) for role in totals.roles],
            str(totals.drills), "", "", levels,
        )  # fmt: skip
    return table


def _coverage(role: RoleCoverage) -> str:
    """Return "trained/holders", with the advanced count where a course offers it."""
    if not role.holders:
        return "-"
    text = f"{role.trained}/{role.holders}"
    return f"{text} ({role.advanced} adv)" if role.has_advanced_course else text


def _reason(reason: Reason) -> str:
    text = REASONS.get(reason.code, reason.code)
    return text.format(role=(reason.role or "").replace("_", " "))


def _today(deployment: Deployment) -> date:
    """Return today in the deployment's time zone (UTC if it names none)."""
    zone = getattr(getattr(deployment, "settings", None), "zone", UTC)
    return queries.local_today(
        deployment.clock.now(), zone if isinstance(zone, tzinfo) else UTC
    )


__all__ = ["readiness", "training_app"]
