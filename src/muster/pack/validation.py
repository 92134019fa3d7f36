"""Read a deployment pack from disk and check it: YAML, JSON Schema, cross-file rules.

Pure Python, no database. Every problem found is reported at once through
``muster.core.errors.PackInvalid``. Imported through ``muster.pack``.
"""

from __future__ import annotations

import functools
import json
import zoneinfo
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from yaml.nodes import Node

from muster.core.errors import PackInvalid, PackProblem
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
from muster.pack.yaml_lines import YamlRefusedError, line_of, line_of_key, load_yaml

REGION = "region.yaml"
DEPARTMENTS = "departments.yaml"
USERS = "users.yaml"
DATASETS = "datasets.yaml"
REQUIRED_FILES = (REGION, DEPARTMENTS)
OPTIONAL_FILES = (USERS, DATASETS)
PACK_FILES = (*REQUIRED_FILES, *OPTIONAL_FILES)
# Packs are small hand-written files; anything bigger is a mistake or an attack.
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Document:
    """One pack file that parsed and matched its schema."""

    name: str
    data: dict[str, Any]
    root: Node | None

    def problem(self, path: list[str | int], message: str) -> PackProblem:
        """Return a problem about the node at ``path``, prefixed with that path."""
        return PackProblem(
            self.name, line_of(self.root, path), f"{_dotted(path)}: {message}"
        )

    def items(self, key: str) -> list[dict[str, Any]]:
        """Return the list of mappings stored under ``key``."""
        return list(self.data.get(key, []))


def read_pack(path: Path) -> Pack:
    """Read and check the pack at ``path``; raise ``PackInvalid`` with every problem."""
    root = Path(path)
    if not root.is_dir():
        problem = PackProblem(".", None, f"pack directory not found: {root}")
        raise PackInvalid([problem])
    problems: list[PackProblem] = []
    documents: dict[str, _Document] = {}
    for name in PACK_FILES:
        document = _read_document(root, name, problems=problems)
        if document is not None:
            documents[name] = document
    problems.extend(_cross_file_problems(documents))
    if problems:
        order = {name: index for index, name in enumerate(PACK_FILES)}
        problems.sort(key=lambda p: (order.get(p.file, 0), p.line or 0))
        raise PackInvalid(problems)
    return _build_pack(root, documents)


def _read_document(
    root: Path, name: str, *, problems: list[PackProblem]
) -> _Document | None:
    """Load and schema-check one file, adding its problems; None if unusable."""
    file = root / name
    if not file.exists():
        if name in REQUIRED_FILES:
            problems.append(PackProblem(name, None, "required file is missing"))
        return None
    if not file.is_file():
        problems.append(PackProblem(name, None, "expected a file, found a directory"))
        return None
    if file.stat().st_size > MAX_FILE_BYTES:
        problems.append(PackProblem(name, None, "file is larger than 2 MB"))
        return None
    try:
        text = file.read_bytes().decode("utf-8-sig")
        loaded = load_yaml(text)
    except UnicodeDecodeError as error:
        problems.append(PackProblem(name, None, f"file is not UTF-8: {error.reason}"))
        return None
    except YamlRefusedError as refused:
        problems.extend(PackProblem(name, i.line, i.message) for i in refused.issues)
        return None
    if loaded.data is None:
        problems.append(PackProblem(name, None, "file is empty"))
        return None
    schema_problems = _schema_problems(loaded.data, name=name, root=loaded.root)
    problems.extend(schema_problems)
    if schema_problems or not isinstance(loaded.data, dict):
        return None
    return _Document(name, loaded.data, loaded.root)


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    """Return the validator for a pack file, built from its packaged schema."""
    schema_name = name.removesuffix(".yaml") + ".schema.json"
    schema = files("muster.pack") / "schemas" / schema_name
    return Draft202012Validator(json.loads(schema.read_text(encoding="utf-8")))


def _schema_problems(
    data: object, *, name: str, root: Node | None
) -> list[PackProblem]:
    """Check ``data`` against the file's schema and locate every error."""
    problems: list[PackProblem] = []
    for error in _validator(name).iter_errors(data):
        problems.extend(_locate(error, name=name, root=root))
    # Several errors can describe the same field; report each once, in line order.
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.line or 0, p.message))


def _locate(
    error: ValidationError, *, name: str, root: Node | None
) -> list[PackProblem]:
    """Turn one schema error into problems that name the field and its line."""
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        line = line_of(root, path)
        required = error.validator_value
        return [
            PackProblem(name, line, f"{_dotted([*path, key])}: required field missing")
            for key in (required if isinstance(required, list) else [])
            if key not in instance
        ]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = schema.get("properties", {})
        hint = ", ".join(allowed)
        return [
            PackProblem(
                name,
                line_of_key(root, path, key=str(key)),
                f"{_dotted([*path, str(key)])}: unknown field (allowed: {hint})",
            )
            for key in instance
            if key not in allowed
        ]
    message = f"{_dotted(path)}: {error.message}"
    return [PackProblem(name, line_of(root, path), message)]


def _dotted(path: list[str | int]) -> str:
    """Render a data path as ``departments[3].type``."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text or "(top level)"


def _cross_file_problems(documents: dict[str, _Document]) -> list[PackProblem]:
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


def _region_problems(region: _Document) -> list[PackProblem]:
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


def _department_problems(departments: _Document) -> list[PackProblem]:
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
    departments: _Document, parents: dict[str, str | None]
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


def _user_problems(users: _Document, known: set[str] | None) -> list[PackProblem]:
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


def _dataset_problems(datasets: _Document, known: set[str] | None) -> list[PackProblem]:
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
    datasets: _Document, at: list[str | int], fields: list[dict[str, Any]]
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


def _duplicates(document: _Document, *, key: str, field: str) -> list[PackProblem]:
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


def _build_pack(root: Path, documents: dict[str, _Document]) -> Pack:
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
