"""The cascading-hazard rules (``cascades.yaml``) of a pack, checked across files.

After its JSON Schema (``muster.pack.validation`` reads the file), the document goes
through ``muster.situation.domain.cascade_parse`` (graph, references between its
sections, departments and datasets of the pack), and then against the catalogue:
each layer is a GeoJSON dataset whose fields hold the layer's id (and name), and the
properties the rules read are fields of the layers' datasets. A layer's example
``file`` must lie inside the pack. Every problem is reported at its line. Used by
``muster.pack.validation``.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muster.core.errors import PackProblem
from muster.pack.documents import Document
from muster.situation.domain.cascade_model import CascadeModel
from muster.situation.domain.cascade_parse import CascadesInvalid, parse_cascades

CASCADES = "cascades.yaml"


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """What the checks need of a dataset of datasets.yaml."""

    format: str
    fields: frozenset[str]


def catalogue_of(document: Document) -> dict[str, CatalogueEntry]:
    """Return the datasets of a checked datasets.yaml by code."""
    return {
        entry["code"]: CatalogueEntry(
            format=entry["format"],
            fields=frozenset(field["name"] for field in entry["fields"]),
        )
        for entry in document.items("datasets")
    }


def cascade_problems(
    root: Path,
    document: Document,
    *,
    departments: Set[str] | None,
    catalogue: Mapping[str, CatalogueEntry] | None,
) -> list[PackProblem]:
    """Check a schema-valid cascades.yaml; return its problems at their lines.

    ``departments`` and ``catalogue`` are None when their file is unusable (its own
    problems are reported); references to them are then not checked.
    """
    datasets = set(catalogue) if catalogue is not None else None
    try:
        model = parse_cascades(
            document.data, departments=departments, datasets=datasets
        )
    except CascadesInvalid as invalid:
        return [document.problem(list(p.path), p.message) for p in invalid.problems]
    problems = _file_problems(root, document)
    if catalogue is not None:
        problems.extend(_layer_problems(document, model, catalogue))
        problems.extend(_property_problems(document, model, catalogue))
    return problems


def _file_problems(root: Path, document: Document) -> list[PackProblem]:
    """Report example layer files that are missing or lie outside the pack."""
    problems: list[PackProblem] = []
    base = root.resolve()
    for index, entry in enumerate(document.items("layers")):
        name = entry.get("file")
        if name is None:
            continue
        file = (base / name).resolve()
        if not file.is_relative_to(base) or not file.is_file():
            path: list[str | int] = ["layers", index, "file"]
            problems.append(document.problem(path, f"no file {name} in the pack"))
    return problems


def _layer_problems(
    document: Document, model: CascadeModel, catalogue: Mapping[str, CatalogueEntry]
) -> list[PackProblem]:
    """Report layers whose dataset is not GeoJSON or lacks the id or name field."""
    problems: list[PackProblem] = []
    for index, entry in enumerate(document.items("layers")):
        spec = model.layers[entry["name"]]
        dataset = catalogue[spec.dataset]
        at: list[str | int] = ["layers", index]
        if dataset.format != "geojson":
            message = (
                f"dataset {spec.dataset} is {dataset.format}; a layer needs a geojson "
                "dataset (records with geometry)"
            )
            problems.append(document.problem([*at, "dataset"], message))
        checked = [("id_property", spec.id_property)]
        if "name_property" in entry:  # without it a feature may go by its id
            checked.append(("name_property", spec.name_property))
        for key, field in checked:
            if field not in dataset.fields:
                message = f"dataset {spec.dataset} has no field '{field}'"
                problems.append(document.problem([*at, key], message))
    return problems


def _property_problems(
    document: Document, model: CascadeModel, catalogue: Mapping[str, CatalogueEntry]
) -> list[PackProblem]:
    """Report properties a rule reads that a dataset of its layers lacks."""
    problems: list[PackProblem] = []

    def check(path: list[str | int], name: str, layers: tuple[str, ...]) -> None:
        for layer in layers:
            dataset = model.layers[layer].dataset
            if name not in catalogue[dataset].fields:
                message = f"dataset {dataset} (layer {layer}) has no field '{name}'"
                problems.append(document.problem(path, message))

    for index, entry in enumerate(document.items("rules")):
        rule = model.rules[index]
        at: list[str | int] = ["rules", index]
        for spot, name in _condition_properties(entry):
            check([*at, "when", *spot], name, rule.layers)
        if rule.relation.kind == "key":
            check([*at, "relation", "property"], rule.relation.property, rule.layers)
        if rule.population is not None:
            counted = (rule.population.layer,) if rule.population.layer else rule.layers
            check([*at, "population"], rule.population.property, counted)
    return problems


def _condition_properties(
    entry: Mapping[str, Any],
) -> list[tuple[list[str | int], str]]:
    """Return (path under when, property name) of every ``property`` condition."""
    found: list[tuple[list[str | int], str]] = []
    for index, clause in enumerate(entry.get("when", [])):
        if "any" in clause:
            for part, item in enumerate(clause["any"]):
                if "property" in item:
                    found.append(([index, "any", part, "property"], item["property"]))
        elif "property" in clause:
            found.append(([index, "property"], clause["property"]))
    return found


__all__ = ["CASCADES", "CatalogueEntry", "cascade_problems", "catalogue_of"]
