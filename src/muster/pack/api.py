"""The published JSON Schemas of deployment packs, served read-only over HTTP.

Authors of packs (plans, escalation chains, datasets…) point their editors at these
URLs; they are the same files `muster load` and `muster plan check` validate against.
No sign-in: the schemas describe formats, not data.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

from muster.core.errors import NotFound

router = APIRouter(prefix="/api/v1/pack-schemas", tags=["deployment packs"])

SCHEMAS = (
    "region", "departments", "users", "datasets", "escalation", "plans", "sharing",
    "triggers", "cascades", "scorecard", "scenario", "training", "resources",
    "warnings",
)  # fmt: skip


@router.get("")
def list_schemas() -> dict[str, list[str]]:
    """List the pack schemas by name."""
    return {"schemas": [f"/api/v1/pack-schemas/{name}" for name in SCHEMAS]}


@router.get("/{name}")
def get_schema(name: str) -> Response:
    """Return one pack schema (JSON Schema 2020-12), e.g. ``plans``."""
    stem = name.removesuffix(".json").removesuffix(".schema")
    if stem not in SCHEMAS:
        raise NotFound(f"no pack schema {name}; see /api/v1/pack-schemas", schema=name)
    text = (files("muster.pack") / "schemas" / f"{stem}.schema.json").read_text(
        encoding="utf-8"
    )
    return Response(text, media_type="application/schema+json")


__all__ = ["SCHEMAS", "router"]
