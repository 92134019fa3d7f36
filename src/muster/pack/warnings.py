"""The public-warning templates (``warnings.yaml``) of a pack, checked past the schema.

The JSON Schema (``schemas/warnings.schema.json``) fixes the shape; here the
departments named as issuers or in concurrence rules must exist in the pack, every
template must read (``muster.alerting.domain.templates.parse_templates``), and
subscribers must have distinct ids. Problems are reported at their lines. Used by
``muster.pack.validation``; the loader sends the document on, with the region's
districts (names and GB/T 2260 codes), as ``SetWarningTemplates``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from muster.alerting.domain.templates import parse_templates
from muster.core.errors import PackProblem, ValidationFailed
from muster.pack.documents import Document
from muster.pack.model import District

WARNINGS = "warnings.yaml"


def warnings_problems(
    document: Document, *, departments: Collection[str]
) -> list[PackProblem]:
    """Check a schema-valid warnings.yaml; return its problems at their lines."""
    problems: list[PackProblem] = []
    data = document.data
    for index, code in enumerate(data.get("issuers", [])):
        if code not in departments:
            problems.append(
                document.problem(["issuers", index], f"unknown department {code}")
            )
    for index, rule in enumerate(data.get("concurrence", [])):
        for k, code in enumerate(rule["departments"]):
            if code not in departments:
                path: list[str | int] = ["concurrence", index, "departments", k]
                problems.append(document.problem(path, f"unknown department {code}"))
    seen: set[str] = set()
    for index, subscriber in enumerate(data.get("subscribers", [])):
        if subscriber["id"] in seen:
            problems.append(
                document.problem(
                    ["subscribers", index, "id"],
                    f"subscriber id {subscriber['id']} is used twice",
                )
            )
        seen.add(subscriber["id"])
    try:
        parse_templates(data)
    except ValidationFailed as refused:
        problems.append(document.problem(["hazards"], refused.message))
    return problems


def templates_document(
    document: Document, districts: Collection[District]
) -> dict[str, Any]:
    """Return the document the loader stores: warnings.yaml plus the districts."""
    return {
        **document.data,
        "districts": [
            {
                "code": d.code,
                "name_zh": d.name_zh,
                "name_en": d.name_en,
                **({"admin_code": d.admin_code} if d.admin_code else {}),
            }
            for d in districts
        ],
    }


__all__ = ["WARNINGS", "templates_document", "warnings_problems"]
