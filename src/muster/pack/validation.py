"""Read a deployment pack from disk and check it: YAML, JSON Schema, cross-file rules.

Covers the fixed files here (sharing.yaml: schema, unique codes, known datasets; the
sharing rules run when loading) and, through ``muster.pack.plans``, escalation.yaml
and plans/*.yaml with the plan rules. Pure Python, no database. Every problem found is
reported at once (``PackInvalid`` from ``read_pack``, a list from ``check_pack``).
Imported through ``muster.pack``.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muster.core.errors import PackInvalid, PackProblem
from muster.pack.cascades import (
    CASCADES,
    CatalogueEntry,
    cascade_problems,
    catalogue_of,
)
from muster.pack.documents import Document, read_document
from muster.pack.model import (
    DatasetSpec,
    DepartmentSpec,
    DepartmentType,
    District,
    FieldSpec,
    Pack,
    RegionSpec,
    Role,
    UserSpec,
)
from muster.pack.plans import (
    ESCALATION,
    PLANS_DIR,
    count_plan_files,
    escalation_problems,
    escalation_specs,
    plan_problems,
    read_escalation,
    read_plans,
)
from muster.pack.resources import (
    RESOURCES,
    resources_of,
    resources_problems,
    types_of,
)
from muster.pack.scorecard import SCORECARD, scorecard_problems, weights_of
from muster.pack.training import (
    TRAINING,
    courses_of,
    read_training,
    records_of,
    training_problems,
)
from muster.pack.warnings import WARNINGS, templates_document, warnings_problems
from muster.pack.yaml_lines import line_of
from muster.situation.domain.errors import TriggerRulesInvalid
from muster.situation.domain.trigger_rules import parse_trigger_rules

REGION = "region.yaml"
DEPARTMENTS = "departments.yaml"
USERS = "users.yaml"
DATASETS = "datasets.yaml"
SHARING = "sharing.yaml"
TRIGGERS = "triggers.yaml"
REQUIRED_FILES = (REGION, DEPARTMENTS)
OPTIONAL_FILES = (
    USERS, DATASETS, SHARING, TRIGGERS, CASCADES, SCORECARD, RESOURCES, WARNINGS,
)  # fmt: skip
PACK_FILES = (*REQUIRED_FILES, *OPTIONAL_FILES)


@dataclass(frozen=True, slots=True)
class PackCheck:
    """The outcome of checking a pack: its problems, or the pack if there are none."""

    problems: list[PackProblem]
    pack: Pack | None
    plan_files: int


def read_pack(path: Path) -> Pack:
    """Read and check the pack at ``path``; raise ``PackInvalid`` with every problem."""
    checked = check_pack(path)
    if checked.pack is None:
        raise PackInvalid(checked.problems)
    return checked.pack


def check_pack(path: Path) -> PackCheck:
    """Read and check the pack at ``path``; return every problem instead of raising.

    Covers the fixed files, escalation.yaml and plans/*.yaml, including the plan rules
    of ``muster plan check``.
    """
    root = Path(path)
    if not root.is_dir():
        problem = PackProblem(".", None, f"pack directory not found: {root}")
        return PackCheck([problem], None, 0)
    problems: list[PackProblem] = []
    documents: dict[str, Document] = {}
    for name in PACK_FILES:
        document = read_document(
            root,
            name,
            schema=name.removesuffix(".yaml") + ".schema.json",
            problems=problems,
            required=name in REQUIRED_FILES,
        )
        if document is not None:
            documents[name] = document
    training = read_training(root, problems=problems)
    escalation = read_escalation(root, problems=problems)
    plans = read_plans(root, problems=problems)
    problems.extend(_cross_file_problems(documents))
    if SHARING in documents:
        datasets = _codes(root, documents, name=DATASETS, key="datasets")
        problems.extend(_sharing_problems(documents[SHARING], datasets))
    if TRIGGERS in documents:
        datasets = _codes(root, documents, name=DATASETS, key="datasets")
        problems.extend(_trigger_problems(documents[TRIGGERS], datasets))
    if CASCADES in documents:
        problems.extend(_cascades_problems(root, documents))
    if SCORECARD in documents:
        problems.extend(scorecard_problems(documents[SCORECARD]))
    if training is not None:
        problems.extend(training_problems(training))
    if WARNINGS in documents:
        departments = _codes(root, documents, name=DEPARTMENTS, key="departments")
        if departments is not None:
            problems.extend(
                warnings_problems(documents[WARNINGS], departments=departments)
            )
    if RESOURCES in documents:
        departments = _codes(root, documents, name=DEPARTMENTS, key="departments")
        problems.extend(
            resources_problems(documents[RESOURCES], departments=departments)
        )
    problems.extend(
        _plan_and_chain_problems(root, documents, escalation=escalation, plans=plans)
    )
    if problems:
        return PackCheck(
            sorted(problems, key=_file_order), None, count_plan_files(root)
        )
    pack = dataclasses.replace(
        _build_pack(root, documents),
        plans=tuple(plan.data for plan in plans),
        escalation=escalation_specs(escalation),
        courses=courses_of(training) if training is not None else (),
        training=records_of(training) if training is not None else (),
    )
    if RESOURCES in documents:
        pack = dataclasses.replace(
            pack,
            resource_types=types_of(documents[RESOURCES]),
            resources=resources_of(documents[RESOURCES]),
        )
    if WARNINGS in documents:
        pack = dataclasses.replace(
            pack,
            warnings=templates_document(documents[WARNINGS], pack.region.districts),
        )
    return PackCheck([], pack, len(plans))


def _file_order(problem: PackProblem) -> tuple[int, str, int]:
    """Sort problems by file (fixed files, escalation, plans), then line."""
    fixed = (*PACK_FILES, TRAINING, ESCALATION)
    if problem.file in fixed:
        rank = fixed.index(problem.file)
    else:
        rank = len(fixed) + (0 if problem.file.startswith(PLANS_DIR) else 1)
    return rank, problem.file, problem.line or 0


def _plan_and_chain_problems(
    root: Path,
    documents: dict[str, Document],
    *,
    escalation: Document | None,
    plans: list[Document],
) -> list[PackProblem]:
    """Check escalation chains and plans against the departments and datasets."""
    departments = _codes(root, documents, name=DEPARTMENTS, key="departments")
    datasets = _codes(root, documents, name=DATASETS, key="datasets")
    problems = plan_problems(plans, departments=departments, datasets=datasets)
    if escalation is not None:
        problems.extend(escalation_problems(escalation, departments))
    return problems


def _codes(
    root: Path, documents: dict[str, Document], *, name: str, key: str
) -> set[str] | None:
    """Return the codes a file defines: empty if absent, None if it is unusable."""
    if name in documents:
        return {entry["code"] for entry in documents[name].items(key)}
    return None if (root / name).exists() or name in REQUIRED_FILES else set()


def _cross_file_problems(documents: dict[str, Document]) -> list[PackProblem]:
    """Check rules that span entries or files; skips files that failed earlier."""
    problems: list[PackProblem] = []
    region = documents.get(REGION)
    departments = documents.get(DEPARTMENTS)
    users = documents.get(USERS)
    datasets = documents.get(DATASETS)
    if region is not None:
        problems.extend(_region_problems(region))
    known = None
    if departments is not None:
        problems.extend(_department_problems(departments))
        known = {d["code"] for d in departments.items("departments")}
    if users is not None:
        problems.extend(_user_problems(users, known))
    if datasets is not None:
        problems.extend(_dataset_problems(datasets, known))
    return problems


def _sharing_problems(sharing: Document, known: set[str] | None) -> list[PackProblem]:
    """Find repeated agreement codes and agreements on datasets the pack lacks.

    ``known`` is None when datasets.yaml is unusable (its problems are reported).
    """
    problems = _duplicates(sharing, key="agreements", field="code")
    for index, entry in enumerate(sharing.items("agreements")):
        if known is not None and entry["dataset"] not in known:
            path: list[str | int] = ["agreements", index, "dataset"]
            message = f"unknown dataset '{entry['dataset']}' (not in {DATASETS})"
            problems.append(sharing.problem(path, message))
    return problems


def _trigger_problems(triggers: Document, known: set[str] | None) -> list[PackProblem]:
    """Find trigger rules on datasets the pack lacks, and the rules' own problems
    (unknown groups or rules, clear levels above fire levels), at their lines."""
    problems = _duplicates(triggers, key="rules", field="code")
    for index, entry in enumerate(triggers.items("rules")):
        dataset = entry.get("dataset")
        if known is not None and dataset is not None and dataset not in known:
            path: list[str | int] = ["rules", index, "dataset"]
            message = f"unknown dataset '{dataset}' (not in {DATASETS})"
            problems.append(triggers.problem(path, message))
    try:
        parse_trigger_rules(triggers.data)
    except TriggerRulesInvalid as invalid:
        for where, message in invalid.problems:
            steps = re.findall(r"[A-Za-z_]+|\d+", where)
            path = [int(step) if step.isdigit() else step for step in steps]
            problems.append(triggers.problem(path, message))
    return problems


def _cascades_problems(root: Path, documents: dict[str, Document]) -> list[PackProblem]:
    """Check cascades.yaml against the departments and the catalogue's datasets."""
    departments = _codes(root, documents, name=DEPARTMENTS, key="departments")
    catalogue: dict[str, CatalogueEntry] | None = (
        catalogue_of(documents[DATASETS]) if DATASETS in documents else {}
    )
    if DATASETS not in documents and (root / DATASETS).exists():
        catalogue = None  # unusable: its own problems are reported
    return cascade_problems(
        root, documents[CASCADES], departments=departments, catalogue=catalogue
    )


def _region_problems(region: Document) -> list[PackProblem]:
    """Find repeated district codes and an unknown time zone."""
    problems = _duplicates(region, key="districts", field="code")
    timezone = region.data.get("timezone")
    if timezone is not None and not _is_known_timezone(timezone):
        problems.append(region.problem(["timezone"], f"unknown time zone '{timezone}'"))
    return problems


def _is_known_timezone(name: str) -> bool:
    """Tell whether ``name`` is an IANA zone; accept all without a tz database."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return not zoneinfo.available_timezones()
    return True


def _department_problems(departments: Document) -> list[PackProblem]:
    """Find repeated codes, unknown parents and parent cycles."""
    problems = _duplicates(departments, key="departments", field="code")
    entries = departments.items("departments")
    parents: dict[str, str | None] = {}
    for entry in entries:
        parents.setdefault(entry["code"], entry.get("parent"))
    for index, entry in enumerate(entries):
        parent = entry.get("parent")
        if parent is not None and parent not in parents:
            path: list[str | int] = ["departments", index, "parent"]
            message = f"unknown department '{parent}'"
            problems.append(departments.problem(path, message))
    return problems + _cycle_problems(departments, parents)


def _cycle_problems(
    departments: Document, parents: dict[str, str | None]
) -> list[PackProblem]:
    """Report each parent cycle once, at its member listed first in the file."""
    indexes: dict[str, int] = {}
    for index, entry in enumerate(departments.items("departments")):
        indexes.setdefault(entry["code"], index)
    problems: list[PackProblem] = []
    seen: set[str] = set()
    for start in parents:
        chain: list[str] = []
        current: str | None = start
        while current in parents and current not in chain and current not in seen:
            chain.append(current)
            current = parents[current]
        seen.update(chain)
        if current not in chain:
            continue
        cycle = chain[chain.index(current) :]
        first = min(cycle, key=indexes.__getitem__)
        turn = cycle.index(first)
        loop = " -> ".join([*cycle[turn:], *cycle[:turn], first])
        path: list[str | int] = ["departments", indexes[first], "parent"]
        problems.append(departments.problem(path, f"parent cycle {loop}"))
    return problems


def _user_problems(users: Document, known: set[str] | None) -> list[PackProblem]:
    """Find repeated usernames and, if departments are known, unknown departments."""
    problems = _duplicates(users, key="users", field="username")
    for index, entry in enumerate(users.items("users")):
        if known is not None and entry["department"] not in known:
            path: list[str | int] = ["users", index, "department"]
            message = f"unknown department '{entry['department']}'"
            problems.append(users.problem(path, message))
    return problems


_SHARING_NEEDS = (
    (
        "CONDITIONAL",
        "sharing_conditions",
        "CONDITIONAL sharing needs sharing_conditions",
    ),
    ("NOT_SHARED", "legal_basis", "NOT_SHARED needs a legal_basis (law or policy)"),
)


def _dataset_problems(datasets: Document, known: set[str] | None) -> list[PackProblem]:
    """Find repeated codes, unknown owners, and entries breaking catalog rules."""
    problems = _duplicates(datasets, key="datasets", field="code")
    for index, entry in enumerate(datasets.items("datasets")):
        at: list[str | int] = ["datasets", index]
        owner = entry["owner_department"]
        if known is not None and owner not in known:
            message = f"unknown department '{owner}'"
            problems.append(datasets.problem([*at, "owner_department"], message))
        for sharing, key, message in _SHARING_NEEDS:
            if entry["sharing_class"] == sharing and not entry.get(key, "").strip():
                problems.append(datasets.problem([*at, key], message))
        problems.extend(_field_problems(datasets, at, entry["fields"]))
        sensitive = any(
            f.get("sensitivity") == "sensitive_personal" for f in entry["fields"]
        )
        if sensitive and entry["data_grade"] == "GENERAL":
            message = (
                "a dataset with sensitive_personal fields cannot be GENERAL "
                "(就高从严: take the higher grade); use IMPORTANT or CORE"
            )
            problems.append(datasets.problem([*at, "data_grade"], message))
    return problems


def _field_problems(
    datasets: Document, at: list[str | int], fields: list[dict[str, Any]]
) -> list[PackProblem]:
    """Find repeated field names and enum fields without choices."""
    problems: list[PackProblem] = []
    first_line: dict[str, int | None] = {}
    for index, field in enumerate(fields):
        path: list[str | int] = [*at, "fields", index]
        name = field["name"]
        if name in first_line:
            message = (
                f"duplicate field name '{name}' (first on line {first_line[name]})"
            )
            problems.append(datasets.problem([*path, "name"], message))
        else:
            first_line[name] = line_of(datasets.root, [*path, "name"])
        if field["type"] == "enum" and not field.get("choices"):
            problems.append(datasets.problem(path, "an enum field needs choices"))
    return problems


def _duplicates(document: Document, *, key: str, field: str) -> list[PackProblem]:
    """Report entries under ``key`` whose ``field`` repeats an earlier entry."""
    problems: list[PackProblem] = []
    first_line: dict[str, int | None] = {}
    for index, entry in enumerate(document.items(key)):
        value = entry[field]
        path: list[str | int] = [key, index, field]
        if value in first_line:
            message = f"duplicate {field} '{value}' (first on line {first_line[value]})"
            problems.append(document.problem(path, message))
        else:
            first_line[value] = line_of(document.root, path)
    return problems


def _build_pack(root: Path, documents: dict[str, Document]) -> Pack:
    """Turn checked documents into the frozen model.

    The schemas allow exactly the dataclass field names, so entries unpack directly;
    missing optional keys take the dataclass defaults.
    """
    region = dict(documents[REGION].data)
    center = region.pop("center")
    districts = tuple(District(**d) for d in region.pop("districts"))
    departments = tuple(
        DepartmentSpec(**{**d, "type": DepartmentType(d["type"])})
        for d in documents[DEPARTMENTS].items("departments")
    )
    users = tuple(
        UserSpec(**{**u, "roles": tuple(Role(role) for role in u["roles"])})
        for u in (documents[USERS].items("users") if USERS in documents else [])
    )
    datasets = tuple(
        _dataset_spec(entry)
        for entry in (
            documents[DATASETS].items("datasets") if DATASETS in documents else []
        )
    )
    return Pack(
        root=root,
        region=RegionSpec(
            **region,
            center_lat=float(center["lat"]),
            center_lon=float(center["lon"]),
            districts=districts,
        ),
        departments=departments,
        users=users,
        datasets=datasets,
        triggers=documents[TRIGGERS].data if TRIGGERS in documents else None,
        cascades=documents[CASCADES].data if CASCADES in documents else None,
        scorecard=weights_of(documents[SCORECARD]) if SCORECARD in documents else None,
        agreements=tuple(
            documents[SHARING].items("agreements") if SHARING in documents else []
        ),
    )


def _dataset_spec(entry: dict[str, Any]) -> DatasetSpec:
    """Turn one checked datasets.yaml entry into its spec (lists become tuples)."""
    fields = tuple(
        FieldSpec(**{**field, "choices": tuple(field.get("choices", ()))})
        for field in entry["fields"]
    )
    return DatasetSpec(
        **{
            **entry,
            "fields": fields,
            "csv_mapping": tuple(entry.get("csv_mapping", {}).items()),
            "keywords": tuple(entry.get("keywords", ())),
        }
    )
