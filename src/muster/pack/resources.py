"""The resource typing catalog and resources (``resources.yaml``) of a pack, checked.

The JSON Schema (``schemas/resources.schema.json``, read by ``muster.pack.validation``
like the other fixed files) comes first. Beyond it, ``resources_problems`` (pure)
finds repeated type codes and resource ids, departments the pack lacks, and applies
the resources part's rules (``muster.resources.domain.model``: a capability for a
type with a measure, a tier for a tiered type, a reason for a resource out of
service) to every resource whose type is in the file. What needs the database is
checked when loading (``load_problems``): a type not in the file must exist already,
and the resource must fit it. Problems are reported at their lines. Used by
``muster.pack.validation`` and ``muster.pack.loader``, which sends
``RegisterResourceType`` and ``RegisterResource``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from muster.core.errors import PackProblem, ValidationFailed
from muster.pack.documents import Document
from muster.pack.model import Pack, ResourceSpec, ResourceTypeSpec
from muster.pack.yaml_lines import YamlRefusedError, line_of, load_yaml
from muster.resources.domain.commands import RegisterResource, RegisterResourceType
from muster.resources.domain.model import ResourceType, check_resource, check_type

RESOURCES = "resources.yaml"
_FIELDS = {"location_name": "location", "resource_id": "id"}  # rule field -> YAML


def resources_problems(
    document: Document, *, departments: set[str] | None
) -> list[PackProblem]:
    """Check a schema-valid resources.yaml; return its problems at their lines.

    ``departments`` are the pack's department codes (None: departments.yaml is
    unusable, its own problems are reported).
    """
    problems: list[PackProblem] = []
    types: dict[str, ResourceType] = {}
    seen: dict[str, int | None] = {}
    for index, entry in enumerate(document.items("types")):
        path: list[str | int] = ["types", index]
        code = entry["code"]
        if code in seen:
            message = f"duplicate code '{code}' (first on line {seen[code]})"
            problems.append(document.problem([*path, "code"], message))
        seen.setdefault(code, document.line([*path, "code"]))
        try:
            types.setdefault(code, check_type(**_type_fields(entry)))
        except ValidationFailed as refused:
            field = str(refused.params.get("field") or "code")
            problems.append(document.problem([*path, field], refused.message))
    return problems + _resource_problems(document, types, departments)


def _resource_problems(
    document: Document,
    types: Mapping[str, ResourceType],
    departments: set[str] | None,
) -> list[PackProblem]:
    problems: list[PackProblem] = []
    seen: dict[str, int | None] = {}
    for index, entry in enumerate(document.items("resources")):
        path: list[str | int] = ["resources", index]
        resource_id = entry["id"]
        if resource_id in seen:
            message = (
                f"duplicate id '{resource_id}' (first on line {seen[resource_id]})"
            )
            problems.append(document.problem([*path, "id"], message))
        seen.setdefault(resource_id, document.line([*path, "id"]))
        department = entry["department"]
        if departments is not None and department not in departments:
            message = f"unknown department '{department}'"
            problems.append(document.problem([*path, "department"], message))
        of_type = types.get(entry["type"])
        if of_type is None:
            continue  # a type loaded earlier: checked by load_problems
        try:
            _check(spec_of(entry), of_type)
        except ValidationFailed as refused:
            field = _field(refused)
            problems.append(document.problem([*path, field], refused.message))
    return problems


def _check(spec: ResourceSpec, of_type: ResourceType) -> None:
    check_resource(
        resource_id=spec.id,
        department=spec.department,
        of_type=of_type,
        name=spec.name,
        quantity=spec.quantity,
        latitude=spec.lat,
        longitude=spec.lon,
        capability=spec.capability,
        tier=spec.tier,
        location_name=spec.location_name,
        ready_minutes=spec.ready_minutes,
        notes=spec.notes,
        status=spec.status,
        status_reason=spec.status_reason,
    )


def _field(refused: ValidationFailed) -> str:
    field = str(refused.params.get("field") or "id")
    return _FIELDS.get(field, field)


def _type_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {**entry, "tiers": tuple(entry.get("tiers", ()))}


def spec_of(entry: Mapping[str, Any]) -> ResourceSpec:
    """Return the spec of one schema-valid resources.yaml resource entry."""
    fields = {key: value for key, value in entry.items() if key != "location"}
    location = entry["location"]
    return ResourceSpec(
        **fields,
        lat=float(location["lat"]),
        lon=float(location["lon"]),
        location_name=str(location.get("name", "")),
    )


def types_of(document: Document) -> tuple[ResourceTypeSpec, ...]:
    """Return the catalog of a checked resources.yaml."""
    return tuple(
        ResourceTypeSpec(**_type_fields(entry)) for entry in document.items("types")
    )


def resources_of(document: Document) -> tuple[ResourceSpec, ...]:
    """Return the resources of a checked resources.yaml, in file order."""
    return tuple(spec_of(entry) for entry in document.items("resources"))


def load_problems(
    pack: Pack, *, loaded: Mapping[str, ResourceType]
) -> list[PackProblem]:
    """Find resources whose type is neither in the file nor ``loaded``, or that do
    not fit a loaded type (those of the file's types were checked by
    ``resources_problems``)."""
    own = {spec.code for spec in pack.resource_types}
    if not pack.resources:
        return []
    root = _root(pack)
    problems: list[PackProblem] = []
    for index, spec in enumerate(pack.resources):
        if spec.type in own:
            continue
        at: list[str | int] = ["resources", index]
        of_type = loaded.get(spec.type)
        if of_type is None:
            message = f"unknown type '{spec.type}' (not in types nor loaded)"
            problems.append(_at(root, [*at, "type"], message))
            continue
        try:
            _check(spec, of_type)
        except ValidationFailed as refused:
            problems.append(_at(root, [*at, _field(refused)], refused.message))
    return problems


def _root(pack: Pack) -> Any:
    try:
        return load_yaml((pack.root / RESOURCES).read_text(encoding="utf-8-sig")).root
    except (OSError, YamlRefusedError):
        return None


def _at(root: Any, path: list[str | int], message: str) -> PackProblem:
    where = "resources[{}].{}".format(*path[1:])
    return PackProblem(RESOURCES, line_of(root, path), f"{where}: {message}")


def type_command(spec: ResourceTypeSpec) -> RegisterResourceType:
    """Return the command that registers a catalog entry of the pack."""
    return RegisterResourceType(
        code=spec.code,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        kind=spec.kind,
        unit=spec.unit,
        measure=spec.measure,
        tiers=spec.tiers,
    )


def resource_command(spec: ResourceSpec) -> RegisterResource:
    """Return the command that registers a resource of the pack."""
    return RegisterResource(
        resource_id=spec.id,
        department=spec.department,
        type_code=spec.type,
        name=spec.name,
        quantity=spec.quantity,
        latitude=spec.lat,
        longitude=spec.lon,
        capability=spec.capability,
        tier=spec.tier,
        location_name=spec.location_name,
        ready_minutes=spec.ready_minutes,
        notes=spec.notes,
        status=spec.status,
        status_reason=spec.status_reason,
    )


__all__ = [
    "RESOURCES",
    "load_problems",
    "resource_command",
    "resources_of",
    "resources_problems",
    "spec_of",
    "type_command",
    "types_of",
]
