"""Assess an incident's cascading hazards (灾害链研判) from what the deployment holds.

``assess_incident`` reads the cascade model in force (``situation_cascade_model``),
the incident (type, position, facts, departments already in the response) and each
layer of the model as the stored records of its catalogue dataset, then calls
``muster.situation.cascade.assess``. Imported by the situation CLI (``muster
assess``) and tests.

Reading stored records directly, past the sharing decision point, is fine here only
because an assessment outputs asset ids, names and departments and aggregated
counts (people per grid cell or village), never personal fields; and a layer whose
dataset has any field with personal, sensitive personal or location sensitivity is
not read at all (it shows as a gap). A web route that offers this to users must
still check the actor's role before calling it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.catalog import queries as catalog
from muster.core.errors import NotFound, ValidationFailed
from muster.ingest import queries as ingest
from muster.response import queries as response
from muster.situation.cascade import LayerData, assess
from muster.situation.cascade_tables import cascade_model
from muster.situation.domain.cascade_model import CascadeModel, FactValue, LayerSpec
from muster.situation.domain.cascade_parse import parse_cascades
from muster.situation.domain.cascade_results import Assessment, IncidentSource

DEFAULT_RADIUS_KM = 1.0
RADIUS_FACT = "radius_km"
MAX_LAYER_RECORDS = 50_000
PERSONAL = frozenset({"personal", "sensitive_personal", "location"})


def current_model(conn: Connection) -> CascadeModel | None:
    """Return the cascade model in force, or None when no pack has set one."""
    row = conn.execute(select(cascade_model.c.document)).first()
    return parse_cascades(json.loads(row[0])) if row is not None else None


def assess_incident(
    conn: Connection,
    incident_id: str,
    *,
    now: datetime,
    radius_km: float | None = None,
) -> Assessment:
    """Assess what may follow an incident, from the stored layers.

    The incident's area is a circle around its position: ``radius_km``, else its
    fact ``radius_km``, else 1 km. Its facts (numbers and texts) are the facts the
    rules read; its lead and supporting departments are those already involved.
    Each layer's freshness is when its newest stored records arrived.

    Raises:
        NotFound: no such incident, or no cascade model loaded.
        ValidationFailed: the incident has no GB/T 35561 type yet.
    """
    model = current_model(conn)
    if model is None:
        raise NotFound(
            "no cascade model: load a pack with cascades.yaml (muster load)",
            what="cascade model",
        )
    incident = response.get_incident(conn, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}", incident_id=incident_id)
    if not incident.type_code:
        raise ValidationFailed(
            f"incident {incident_id} has no GB/T 35561 type code yet; set it first",
            field="type_code",
        )
    facts = _facts(incident.facts or {})
    source = IncidentSource(
        id=incident.id,
        type_code=incident.type_code,
        lat=incident.latitude,
        lon=incident.longitude,
        radius_km=radius_km if radius_km is not None else _radius(facts),
    )
    layers: dict[str, LayerData] = {}
    freshness: dict[str, datetime] = {}
    gaps: list[str] = []
    for spec in model.layers.values():
        found = read_layer(conn, spec, gaps)
        if found is not None:
            layers[spec.name], updated = found
            if updated is not None:
                freshness[spec.name] = updated
    involved = {incident.lead_department, *incident.supporting_departments}
    assessment = assess(
        source,
        layers,
        model,
        facts=facts,
        freshness=freshness,
        involved={code for code in involved if code},
        now=now,
    )
    if not gaps:
        return assessment
    explanation = dataclasses.replace(
        assessment.explanation, gaps=(*gaps, *assessment.explanation.gaps)
    )
    return dataclasses.replace(assessment, explanation=explanation)


def read_layer(
    conn: Connection, spec: LayerSpec, gaps: list[str]
) -> tuple[LayerData, datetime | None] | None:
    """Return a layer built from its dataset's stored records and their age, or
    None (with the reason in ``gaps``) when the dataset is missing or personal."""
    dataset = catalog.get_dataset(conn, spec.dataset)
    if dataset is None:
        gaps.append(f"layer {spec.name}: no dataset {spec.dataset} in the catalogue")
        return None
    personal = sorted(f.name for f in dataset.fields if f.sensitivity in PERSONAL)
    if personal:
        gaps.append(
            f"layer {spec.name}: dataset {spec.dataset} has personal fields "
            f"({', '.join(personal)}); not read"
        )
        return None
    records = ingest.list_records(conn, spec.dataset, limit=MAX_LAYER_RECORDS)
    if len(records) == MAX_LAYER_RECORDS:
        gaps.append(
            f"layer {spec.name}: only the newest {MAX_LAYER_RECORDS} records read"
        )
    features: dict[str, dict[str, Any]] = {}
    for record in records:  # newest first: a feature's latest version wins
        ident = record.values.get(spec.id_property)
        key = json.dumps(ident) if ident is not None else f"#{len(features)}"
        features.setdefault(
            key,
            {
                "type": "Feature",
                "geometry": record.geometry,
                "properties": record.values,
            },
        )
    collection = {"type": "FeatureCollection", "features": list(features.values())}
    data = LayerData(collection, spec.dataset, dataset.owner_department)
    updated = datetime.fromisoformat(records[0].received_at) if records else None
    return data, updated


def _facts(raw: Mapping[str, Any]) -> dict[str, FactValue]:
    """Return the incident's facts the rules can read (numbers and texts)."""
    return {
        name: value
        for name, value in raw.items()
        if isinstance(value, bool | int | float | str)
    }


def _radius(facts: Mapping[str, FactValue]) -> float:
    """Return the fact ``radius_km`` when it is a positive number, else 1 km."""
    value = facts.get(RADIUS_FACT)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_RADIUS_KM


__all__ = [
    "DEFAULT_RADIUS_KM",
    "MAX_LAYER_RECORDS",
    "assess_incident",
    "current_model",
    "read_layer",
]
