"""Plans (``plans/*.yaml``) and escalation chains (``escalation.yaml``) of a pack.

Each plan file and escalation.yaml is checked against its schema; then the rules that
span files: named departments and granted datasets exist, and the plan rules of
``muster.response.domain.plan_check``. Used by ``muster.pack.validation``.
"""

from __future__ import annotations

import functools
from collections.abc import Set
from pathlib import Path
from typing import Any

from muster.core.errors import PackProblem
from muster.pack.documents import Document, read_document
from muster.pack.model import DEFAULT_CHAIN, EscalationSpec, EscalationStepSpec
from muster.pack.yaml_lines import line_of, line_of_key
from muster.response.domain.plan_check import check_plans

PLANS_DIR = "plans"
PLAN_SUFFIX = ".yaml"
ESCALATION = "escalation.yaml"
MAX_PLANS = 500


def read_plans(root: Path, *, problems: list[PackProblem]) -> list[Document]:
    """Read and schema-check every ``plans/*.yaml``, in file-name order."""
    if (root / "plans.yaml").exists():
        message = "not read: put each plan in its own file, plans/<CODE>.yaml"
        problems.append(PackProblem("plans.yaml", None, message))
    folder = root / PLANS_DIR
    if not folder.exists():
        return []
    if not folder.is_dir():
        message = "expected a folder of plan files (plans/<CODE>.yaml)"
        problems.append(PackProblem(PLANS_DIR, None, message))
        return []
    names = sorted(path.name for path in folder.iterdir() if path.is_file())
    for name in names:
        if name.endswith(".yml"):
            message = f"not read: plan files end in {PLAN_SUFFIX}"
            problems.append(PackProblem(f"{PLANS_DIR}/{name}", None, message))
    names = [name for name in names if name.endswith(PLAN_SUFFIX)]
    if len(names) > MAX_PLANS:
        message = f"more than {MAX_PLANS} plan files"
        problems.append(PackProblem(PLANS_DIR, None, message))
        return []
    documents = [
        read_document(
            root, f"{PLANS_DIR}/{name}", schema="plans.schema.json", problems=problems
        )
        for name in names
    ]
    return [document for document in documents if document is not None]


def count_plan_files(root: Path) -> int:
    """Return how many plan files the pack at ``root`` has (read or not)."""
    folder = root / PLANS_DIR
    if not folder.is_dir():
        return 0
    return sum(
        1
        for path in folder.iterdir()
        if path.is_file() and path.name.endswith(PLAN_SUFFIX)
    )


def read_escalation(root: Path, *, problems: list[PackProblem]) -> Document | None:
    """Read and schema-check escalation.yaml (optional)."""
    return read_document(
        root, ESCALATION, schema="escalation.schema.json", problems=problems
    )


def plan_problems(
    plans: list[Document],
    *,
    departments: Set[str] | None,
    datasets: Set[str] | None,
) -> list[PackProblem]:
    """Check the plans' rules and the departments and datasets they name.

    None for ``departments`` or ``datasets`` skips that check (their file failed).
    """
    sources = [
        (plan.name, plan.data, functools.partial(line_of, plan.root)) for plan in plans
    ]
    problems = check_plans(sources, departments)
    if datasets is not None:
        problems.extend(_grant_problems(plans, datasets))
    return problems


def _grant_problems(plans: list[Document], datasets: Set[str]) -> list[PackProblem]:
    """Report grants of datasets that datasets.yaml does not define."""
    problems: list[PackProblem] = []
    for plan in plans:
        for index, level in enumerate(plan.items("levels")):
            for position, code in enumerate(level.get("grants", [])):
                if code not in datasets:
                    path: list[str | int] = ["levels", index, "grants", position]
                    message = f"unknown dataset '{code}' (not in datasets.yaml)"
                    problems.append(plan.problem(path, message))
    return problems


def escalation_problems(
    escalation: Document, departments: Set[str] | None
) -> list[PackProblem]:
    """Report chains set for departments that departments.yaml does not define."""
    if departments is None:
        return []
    chains: dict[str, Any] = escalation.data.get("departments", {})
    return [
        PackProblem(
            escalation.name,
            line_of_key(escalation.root, ["departments"], key=code),
            f"departments.{code}: unknown department '{code}'",
        )
        for code in chains
        if code not in departments
    ]


def escalation_specs(escalation: Document | None) -> tuple[EscalationSpec, ...]:
    """Return the default chain (department "*") first, then department chains."""
    if escalation is None:
        return ()
    chains: list[tuple[str, dict[str, Any]]] = []
    if "default" in escalation.data:
        chains.append((DEFAULT_CHAIN, escalation.data["default"]))
    chains.extend(escalation.data.get("departments", {}).items())
    return tuple(
        EscalationSpec(
            department=department,
            steps=tuple(EscalationStepSpec(**step) for step in chain["steps"]),
            repeat=chain.get("repeat", 1),
            repeat_after=chain.get("repeat_after", 10),
        )
        for department, chain in chains
    )


__all__ = [
    "ESCALATION",
    "PLANS_DIR",
    "count_plan_files",
    "escalation_problems",
    "escalation_specs",
    "plan_problems",
    "read_escalation",
    "read_plans",
]
