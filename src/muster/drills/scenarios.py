"""Exercise scenarios read from YAML (a pack's ``scenarios/*.yaml``) and checked.

A file is checked against ``muster/pack/schemas/scenario.schema.json``, then by the
rules of ``muster.drills.scenario_checks`` and, when the pack it is played on is
given, ``muster.drills.scenario_pack_checks``. Every problem is reported at once, at
its ``file:line``, in the pack's usual error (``PackInvalid``). Imported by
``muster.drills.cli`` and the drill runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muster.core.errors import PackInvalid, PackProblem
from muster.drills.domain.scenario import (
    PAYLOAD_KEYS,
    ExpectedAction,
    Inject,
    Scenario,
    ScriptedAction,
)
from muster.drills.scenario_checks import structure_problems
from muster.drills.scenario_pack_checks import pack_problems
from muster.pack.documents import Document, read_document
from muster.pack.model import Pack
from muster.pack.validation import read_pack

SCENARIOS_DIR = "scenarios"
SCENARIO_SUFFIX = ".yaml"
SCHEMA = "scenario.schema.json"
MAX_SCENARIOS = 200


@dataclass(frozen=True, slots=True)
class ScenarioCheck:
    """The outcome of checking one scenario file: its problems, or the scenario."""

    problems: list[PackProblem]
    scenario: Scenario | None


def check_scenario(
    path: Path, *, pack: Pack | None = None, name: str | None = None
) -> ScenarioCheck:
    """Read and check one scenario file; return its problems instead of raising.

    ``name`` is how problems name the file (default: ``path`` as given); with
    ``pack`` the scenario is also checked against that pack.
    """
    label = name or str(path)
    problems: list[PackProblem] = []
    if not Path(path).is_file() and Path(path).exists():
        return ScenarioCheck([PackProblem(label, None, "expected a file")], None)
    document = _read(Path(path), label, problems)
    if document is None:
        if not problems:
            problems.append(PackProblem(label, None, "scenario file not found"))
        return ScenarioCheck(problems, None)
    problems += structure_problems(document)
    if pack is not None:
        problems += pack_problems(document, pack)
    if problems:
        return ScenarioCheck(_in_line_order(problems), None)
    return ScenarioCheck([], scenario_of(document.data))


def load_scenario(path: Path, *, pack: Pack | None = None) -> Scenario:
    """Read and check one scenario file; raise ``PackInvalid`` with every problem."""
    checked = check_scenario(path, pack=pack)
    if checked.scenario is None:
        raise PackInvalid(checked.problems)
    return checked.scenario


def scenario_files(pack_dir: Path) -> list[Path]:
    """Return the pack's scenario files (``scenarios/*.yaml``) in name order."""
    folder = Path(pack_dir) / SCENARIOS_DIR
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.name.endswith(SCENARIO_SUFFIX)
    )


def check_scenarios(
    pack_dir: Path, *, pack: Pack | None = None
) -> tuple[list[Scenario], list[PackProblem]]:
    """Check every scenario of the pack at ``pack_dir`` against that pack.

    Returns the scenarios and every problem (files named relative to the pack),
    including scenario codes used by two files. Reads the pack unless given.
    """
    root = Path(pack_dir)
    pack = pack if pack is not None else read_pack(root)
    files = scenario_files(root)
    if len(files) > MAX_SCENARIOS:
        message = f"more than {MAX_SCENARIOS} scenario files"
        return [], [PackProblem(SCENARIOS_DIR, None, message)]
    scenarios: list[Scenario] = []
    problems: list[PackProblem] = []
    first: dict[str, str] = {}
    for file in files:
        name = f"{SCENARIOS_DIR}/{file.name}"
        checked = check_scenario(file, pack=pack, name=name)
        problems += checked.problems
        scenario = checked.scenario
        if scenario is None:
            continue
        if scenario.code in first:
            message = (
                f"code: scenario {scenario.code} is also in {first[scenario.code]}"
            )
            problems.append(PackProblem(name, None, message))
            continue
        first[scenario.code] = name
        scenarios.append(scenario)
    return scenarios, problems


def load_scenarios(pack_dir: Path, *, pack: Pack | None = None) -> list[Scenario]:
    """Read and check every scenario of a pack; raise ``PackInvalid`` if any fails."""
    scenarios, problems = check_scenarios(pack_dir, pack=pack)
    if problems:
        raise PackInvalid(problems)
    return scenarios


def scenario_of(data: dict[str, Any]) -> Scenario:
    """Build the scenario from a checked file's data."""
    return Scenario(
        code=str(data["code"]),
        title_zh=str(data["title_zh"]),
        title_en=str(data["title_en"]),
        duration_minutes=float(data["duration_minutes"]),
        injects=tuple(_inject(item) for item in data["injects"]),
        expected=tuple(_expected(item) for item in data["expected"]),
        participants=tuple(_scripted(item) for item in data.get("participants", [])),
        description=str(data.get("description", "")),
        objectives=tuple(str(text) for text in data.get("objectives", [])),
    )


def _inject(item: dict[str, Any]) -> Inject:
    required, optional = PAYLOAD_KEYS[item["kind"]]
    payload = {key: item[key] for key in (*required, *optional) if key in item}
    description = str(item.get("description", ""))
    if item["kind"] == "incident" and description:
        payload["description"] = description
    return Inject(
        id=str(item["id"]),
        at_minutes=float(item["at"]),
        kind=str(item["kind"]),
        payload=payload,
        department=item.get("from"),
        description=description,
    )


def _scripted(item: dict[str, Any]) -> ScriptedAction:
    return ScriptedAction(
        at_minutes=float(item["at"]),
        department=str(item["department"]),
        action=str(item["action"]),
        match=dict(item.get("match", {})),
        user=item.get("user"),
    )


def _expected(item: dict[str, Any]) -> ExpectedAction:
    after = item.get("after")
    return ExpectedAction(
        id=str(item["id"]),
        department=str(item["department"]),
        action=str(item["action"]),
        within_minutes=float(item["within"]),
        match=dict(item.get("match", {})),
        after=None if after is None else str(after),
        capability=str(item.get("capability", "")),
    )


def _read(path: Path, label: str, problems: list[PackProblem]) -> Document | None:
    """Load and schema-check the file, naming it ``label`` in problems."""
    found: list[PackProblem] = []
    document = read_document(path.parent, path.name, schema=SCHEMA, problems=found)
    problems.extend(
        PackProblem(label, problem.line, problem.message) for problem in found
    )
    if document is None:
        return None
    return Document(label, document.data, document.root)


def _in_line_order(problems: list[PackProblem]) -> list[PackProblem]:
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda problem: (problem.line or 0, problem.message))


__all__ = [
    "SCENARIOS_DIR",
    "ScenarioCheck",
    "check_scenario",
    "check_scenarios",
    "load_scenario",
    "load_scenarios",
    "scenario_files",
    "scenario_of",
]
