"""The training courses and records (``training.yaml``) of a pack, read and checked.

Read like the other pack files (JSON Schema ``schemas/training.schema.json``, problems
at their lines), except that unquoted days (``completed_on: 2025-03-14``, which YAML
reads as dates) are taken as their ``YYYY-MM-DD`` text first. Beyond the schema:
unique course codes, the training part's course rules, real days, an expiry after
completion and no record listed twice (``training_problems``, pure). What needs the
database is checked when loading (``record_problems``): each record's user (in
users.yaml or existing) and course (in this file or loaded), and no completion in
the future. Used by ``muster.pack.validation`` and ``muster.pack.loader``, which
sends ``RegisterCourse`` and ``RecordTraining``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from muster.core.errors import PackProblem, ValidationFailed
from muster.pack.documents import MAX_FILE_BYTES, Document, schema_problems
from muster.pack.model import CourseSpec, Pack, TrainingRecordSpec
from muster.pack.yaml_lines import YamlRefusedError, line_of, load_yaml
from muster.training.domain.model import check_course, parse_day

TRAINING = "training.yaml"
_SCHEMA = "training.schema.json"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def read_training(root: Path, *, problems: list[PackProblem]) -> Document | None:
    """Load and schema-check ``root/training.yaml`` (optional), adding its problems."""
    file = root / TRAINING
    if not file.exists():
        return None
    if not file.is_file() or file.stat().st_size > MAX_FILE_BYTES:
        message = "expected a file of at most 2 MB"
        problems.append(PackProblem(TRAINING, None, message))
        return None
    try:
        loaded = load_yaml(file.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        message = f"file is not UTF-8: {error.reason}"
        problems.append(PackProblem(TRAINING, None, message))
        return None
    except YamlRefusedError as refused:
        problems.extend(
            PackProblem(TRAINING, i.line, i.message) for i in refused.issues
        )
        return None
    except ValueError:  # PyYAML builds unquoted days and fails on 2025-02-30
        problems.extend(_impossible_days(file.read_text(encoding="utf-8-sig")))
        return None
    if loaded.data is None:
        problems.append(PackProblem(TRAINING, None, "file is empty"))
        return None
    data = _days_as_text(loaded.data)
    found = schema_problems(data, name=TRAINING, schema=_SCHEMA, root=loaded.root)
    problems.extend(found)
    if found or not isinstance(data, dict):
        return None
    return Document(TRAINING, data, loaded.root)


def _impossible_days(text: str) -> list[PackProblem]:
    """Report the unquoted days YAML took as dates but that do not exist."""
    found: list[PackProblem] = []
    pending = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while pending:
        node = pending.pop()
        if isinstance(node, ScalarNode) and node.tag == _TIMESTAMP:
            try:
                datetime.fromisoformat(node.value)
            except ValueError:
                line = int(node.start_mark.line) + 1
                found.append(PackProblem(TRAINING, line, f"no such day {node.value}"))
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, MappingNode):
            pending.extend(value for _key, value in node.value)
    return found or [PackProblem(TRAINING, None, "a value is out of range")]


def _days_as_text(value: Any) -> Any:
    """Turn the dates YAML read from unquoted days back into ISO text."""
    if isinstance(value, dict):
        return {key: _days_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_days_as_text(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def training_problems(document: Document) -> list[PackProblem]:
    """Check a schema-valid training.yaml; return its problems at their lines."""
    problems: list[PackProblem] = []
    seen: dict[str, int | None] = {}
    for index, entry in enumerate(document.items("courses")):
        path: list[str | int] = ["courses", index]
        code = entry["code"]
        if code in seen:
            message = f"duplicate code '{code}' (first on line {seen[code]})"
            problems.append(document.problem([*path, "code"], message))
        seen.setdefault(code, document.line([*path, "code"]))
        try:
            check_course(
                code=code,
                title_zh=entry["title_zh"],
                title_en=entry["title_en"],
                role=entry["role"],
                tier=entry["tier"],
                validity_months=entry.get("validity_months"),
            )
        except ValidationFailed as refused:
            field = str(refused.params.get("field") or "code")
            problems.append(document.problem([*path, field], refused.message))
    return problems + _record_problems(document)


def _record_problems(document: Document) -> list[PackProblem]:
    problems: list[PackProblem] = []
    seen: dict[tuple[str, str, str], int | None] = {}
    for index, entry in enumerate(document.items("records")):
        path: list[str | int] = ["records", index]
        try:
            done = parse_day(entry["completed_on"], field="completed_on")
            expires = entry.get("expires_on")
            if expires is not None and parse_day(expires, field="expires_on") <= done:
                message = "expires_on must be after completed_on"
                problems.append(document.problem([*path, "expires_on"], message))
        except ValidationFailed as refused:
            field = str(refused.params.get("field"))
            problems.append(document.problem([*path, field], refused.message))
        key = (entry["username"], entry["course"], entry["completed_on"])
        if key in seen:
            message = f"this record is listed twice (first on line {seen[key]})"
            problems.append(document.problem(path, message))
        seen.setdefault(key, document.line(path))
    return problems


def courses_of(document: Document) -> tuple[CourseSpec, ...]:
    """Return the courses of a checked training.yaml."""
    return tuple(CourseSpec(**entry) for entry in document.items("courses"))


def records_of(document: Document) -> tuple[TrainingRecordSpec, ...]:
    """Return the records of a checked training.yaml, in file order."""
    return tuple(TrainingRecordSpec(**entry) for entry in document.items("records"))


def record_problems(
    pack: Pack,
    *,
    users: Collection[str],
    courses: Collection[str],
    today: date,
) -> list[PackProblem]:
    """Find records whose user or course is unknown, or completed after ``today``.

    ``users`` and ``courses`` are those that exist already; the pack's own users and
    courses are added here.
    """
    if not pack.training:
        return []
    known_users = {*users, *(user.username for user in pack.users)}
    known_courses = {*courses, *(course.code for course in pack.courses)}
    root = _root(pack.root)
    problems: list[PackProblem] = []
    for index, record in enumerate(pack.training):
        at: list[str | int] = ["records", index]
        if record.username not in known_users:
            message = f"unknown user '{record.username}' (not in users.yaml nor loaded)"
            problems.append(_at(root, [*at, "username"], message))
        if record.course not in known_courses:
            message = f"unknown course '{record.course}' (not in courses nor loaded)"
            problems.append(_at(root, [*at, "course"], message))
        if date.fromisoformat(record.completed_on) > today:
            message = f"completed_on {record.completed_on} is in the future"
            problems.append(_at(root, [*at, "completed_on"], message))
    return problems


def _root(folder: Path) -> Any:
    try:
        return load_yaml((folder / TRAINING).read_text(encoding="utf-8-sig")).root
    except (OSError, YamlRefusedError):
        return None


def _at(root: Any, path: list[str | int], message: str) -> PackProblem:
    where = "records[{}].{}".format(*path[1:])
    return PackProblem(TRAINING, line_of(root, path), f"{where}: {message}")


__all__ = [
    "TRAINING",
    "courses_of",
    "read_training",
    "record_problems",
    "records_of",
    "training_problems",
]
