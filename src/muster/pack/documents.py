"""One pack file, read and checked against its JSON Schema, with lines for problems.

Shared by ``muster.pack.validation`` (the fixed files) and ``muster.pack.plans`` (the
plan files and escalation.yaml). Pure Python, no database.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from yaml.nodes import Node

from muster.core.errors import PackProblem
from muster.pack.yaml_lines import YamlRefusedError, line_of, line_of_key, load_yaml

# Packs are small hand-written files; anything bigger is a mistake or an attack.
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Document:
    """One pack file that parsed and matched its schema."""

    name: str
    data: dict[str, Any]
    root: Node | None

    def problem(self, path: list[str | int], message: str) -> PackProblem:
        """Return a problem about the node at ``path``, prefixed with that path."""
        return PackProblem(
            self.name, line_of(self.root, path), f"{dotted(path)}: {message}"
        )

    def line(self, path: list[str | int]) -> int | None:
        """Return the line of the node at ``path`` (or of its nearest ancestor)."""
        return line_of(self.root, path)

    def items(self, key: str) -> list[dict[str, Any]]:
        """Return the list of mappings stored under ``key``."""
        return list(self.data.get(key, []))


def read_document(
    root: Path,
    name: str,
    *,
    schema: str,
    problems: list[PackProblem],
    required: bool = False,
) -> Document | None:
    """Load and schema-check the file ``root/name``, adding its problems.

    Returns None when the file is missing (a problem only if ``required``) or
    unusable; ``schema`` names a file of ``muster/pack/schemas``.
    """
    file = root / name
    if not file.exists():
        if required:
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
    found = schema_problems(loaded.data, name=name, schema=schema, root=loaded.root)
    problems.extend(found)
    if found or not isinstance(loaded.data, dict):
        return None
    return Document(name, loaded.data, loaded.root)


@functools.cache
def _validator(schema: str) -> Draft202012Validator:
    """Return the validator built from a packaged schema file."""
    text = (files("muster.pack") / "schemas" / schema).read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


def schema_problems(
    data: object, *, name: str, schema: str, root: Node | None
) -> list[PackProblem]:
    """Check ``data`` against ``schema`` and locate every error in file ``name``."""
    problems: list[PackProblem] = []
    for error in _validator(schema).iter_errors(data):
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
            PackProblem(name, line, f"{dotted([*path, key])}: required field missing")
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
                f"{dotted([*path, str(key)])}: unknown field (allowed: {hint})",
            )
            for key in instance
            if key not in allowed
        ]
    message = f"{dotted(path)}: {error.message}"
    if (
        error.validator == "type"
        and _is_number(instance)
        and "string" in str(error.validator_value)
    ):
        message += f" (YAML reads unquoted digits as a number: write '{instance}')"
    return [PackProblem(name, line_of(root, path), message)]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def dotted(path: list[str | int]) -> str:
    """Render a data path as ``departments[3].type``."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text or "(top level)"


__all__ = ["MAX_FILE_BYTES", "Document", "dotted", "read_document", "schema_problems"]
