"""Operator command of the situation part: ``muster assess INCIDENT``, the cascading
hazards (灾害链) an incident may set off. Mounted by the root CLI.

Prints each chain from the incident's entry hazards: the consequences, the assets
exposed (with their department) and the people counted, then the departments to
involve with their tasks, every rule evaluated and every dataset read (source
department, freshness), and what was missing. ``--json`` prints
``Assessment.to_dict()`` for scripts.
"""

from __future__ import annotations

from typing import Annotated

import typer

from muster.core.cli import cli_context, print_json
from muster.situation.assess_service import assess_incident
from muster.situation.domain.cascade_results import Assessment, Step

MAX_ASSETS_SHOWN = 12


def assess(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    radius_km: Annotated[
        float | None,
        typer.Option(
            "--radius-km",
            min=0.001,
            max=500,
            help="Radius of the incident area (default: its fact radius_km, else 1).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Assess the cascading hazards an incident may set off (灾害链研判).

    Reads the pack's cascade model, the incident's type, position and facts, and
    the asset layers stored in the catalogue. Exit 4 for an unknown incident or no
    cascade model, 3 for an incident without a type code.
    """
    with cli_context(ctx).open_deployment() as deployment:
        now = deployment.clock.now()
        with deployment.engine.connect() as conn:
            assessment = assess_incident(conn, incident, now=now, radius_km=radius_km)
    if as_json:
        print_json(assessment.to_dict())
    else:
        _print(assessment)


def _print(assessment: Assessment) -> None:
    """Print an assessment for people: names in Chinese and English."""
    source = assessment.incident
    typer.echo(
        f"Incident 事件 {source.id} ({source.type_code}) at {source.lat:.4f}, "
        f"{source.lon:.4f}, radius 半径 {source.radius_km:g} km"
    )
    explanation = assessment.explanation
    typer.echo(f"  {explanation.lines_zh[0]}")
    typer.echo(f"  {explanation.lines_en[0]}")
    if not assessment.chains:
        typer.echo("No cascade follows 未研判出次生衍生灾害.")
    for chain in assessment.chains:
        typer.echo(f"\nChain 灾害链 {chain.entry} → {chain.rule}")
        for step in chain.steps:
            _print_step(step)
    if assessment.departments:
        typer.echo("\nDepartments to involve 建议参与部门:")
    for item in assessment.departments:
        state = "involved 已参与" if item.is_involved else "to add 建议增加"
        typer.echo(
            f"  {item.department:<10} {', '.join(item.roles)} ({state}); "
            f"rules {', '.join(item.rules)}"
        )
        for task in item.tasks:
            plan = f" [{task.plan}/{task.plan_task}]" if task.plan else ""
            typer.echo(f"    - {task.title_zh} / {task.title_en}{plan}")
    typer.echo("\nRules evaluated 已评估规则:")
    for use in explanation.rules:
        outcome = "fired 触发" if use.fired else f"no 未触发: {use.reason}"
        typer.echo(f"  {use.rule} ({use.source} → {use.target}): {outcome}")
    typer.echo("\nData read 数据来源:")
    for data in explanation.datasets:
        age = "" if data.age_minutes is None else f", {data.age_minutes} min old"
        updated = data.updated_at or "never 无数据"
        typer.echo(
            f"  {data.layer} = {data.dataset} ({data.department or '-'}), "
            f"updated 更新于 {updated}{age}"
        )
    if explanation.facts:
        facts = ", ".join(
            f"{name}={value}" for name, value in explanation.facts.items()
        )
        typer.echo(f"\nFacts read 事件要素: {facts}")
    for gap in explanation.gaps:
        typer.echo(f"Gap 缺失: {gap}")


def _print_step(step: Step) -> None:
    """Print one consequence with its assets."""
    people = "" if step.population is None else f", population 人口 {step.population}"
    typer.echo(
        f"  → {step.hazard} {step.hazard_zh} / {step.hazard_en} "
        f"[{step.rule}]: {len(step.assets)} asset(s){people}"
    )
    for asset in step.assets[:MAX_ASSETS_SHOWN]:
        typer.echo(
            f"      {asset.id}  {asset.name_zh} / {asset.name_en} ({asset.department})"
        )
    hidden = len(step.assets) - MAX_ASSETS_SHOWN
    if hidden > 0:
        typer.echo(f"      … {hidden} more (--json lists all)")


__all__ = ["assess"]
