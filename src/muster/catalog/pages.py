"""Server-rendered catalog pages: the searchable dataset list and a dataset's detail.

The register and edit form lives in ``form_pages``; it reuses the labels here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from muster.catalog import queries
from muster.catalog.domain.errors import UnknownDataset
from muster.catalog.domain.model import (
    Connector,
    DataFormat,
    DataGrade,
    FieldType,
    Sensitivity,
    SharingClass,
    may_register,
)
from muster.core.messages import Actor
from muster.identity import queries as identity_queries
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

SHARING_LABELS: dict[str, str] = {
    SharingClass.UNCONDITIONAL: N_("Unconditional sharing"),
    SharingClass.CONDITIONAL: N_("Conditional sharing"),
    SharingClass.NOT_SHARED: N_("Not shared"),
}
GRADE_LABELS: dict[str, str] = {
    DataGrade.GENERAL: N_("General data"),
    DataGrade.IMPORTANT: N_("Important data"),
    DataGrade.CORE: N_("Core data"),
}
SENSITIVITY_LABELS: dict[str, str] = {
    Sensitivity.NONE: N_("Not sensitive"),
    Sensitivity.PERSONAL: N_("Personal information"),
    Sensitivity.SENSITIVE_PERSONAL: N_("Sensitive personal information"),
    Sensitivity.LOCATION: N_("Location data"),
}
TYPE_LABELS: dict[str, str] = {
    FieldType.STRING: N_("Text"),
    FieldType.INTEGER: N_("Integer"),
    FieldType.NUMBER: N_("Number"),
    FieldType.BOOLEAN: N_("Yes/no"),
    FieldType.DATETIME: N_("Date and time"),
    FieldType.DATE: N_("Date"),
    FieldType.POINT: N_("Point"),
    FieldType.GEOMETRY: N_("Geometry"),
    FieldType.ENUM: N_("Choice"),
}
# Standard names (CAP, GeoJSON…) are shown as they are; only the last is a phrase.
FORMAT_LABELS: dict[str, str] = {
    DataFormat.CAP: "CAP",
    DataFormat.EDXL: "EDXL",
    DataFormat.GEOJSON: "GeoJSON",
    DataFormat.CSV: "CSV",
    DataFormat.JSON: "JSON",
    DataFormat.OBSERVATIONS: N_("Observation batches"),
}
CONNECTOR_LABELS: dict[str, str] = {
    Connector.UPLOAD: N_("File upload"),
    Connector.API_PUSH: N_("API push"),
    Connector.CAP_FEED: N_("CAP feed"),
    Connector.FILE_DROP: N_("File drop folder"),
}
# After the register/edit form: ?notice=<outcome of RegisterDataset>.
NOTICES: dict[str, str] = {
    "created": N_("The dataset is registered, with schema version %(version)s."),
    "updated": N_("The dataset is updated; its schema version is %(version)s."),
    "unchanged": N_("Nothing changed: the catalog already said all of this."),
}
_LABELS = {
    "sharing": SHARING_LABELS,
    "grade": GRADE_LABELS,
    "sensitivity": SENSITIVITY_LABELS,
    "type": TYPE_LABELS,
    "format": FORMAT_LABELS,
    "connector": CONNECTOR_LABELS,
}


@dataclass(frozen=True, slots=True)
class VersionChanges:
    """How a schema version differs from the one before it (field names)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]


@router.get("/catalog")
def catalog_list(
    page: SignedInPage, search: str = "", department: str = ""
) -> Response:
    """List datasets, searched by text and filtered by owner department."""
    with page.muster.engine.connect() as conn:
        datasets = queries.list_datasets(
            conn, search=search.strip() or None, department=department or None
        )
        departments = _department_names(conn, page.language)
    return page.render(
        "catalog_list.html",
        datasets=datasets,
        departments=departments,
        search=search,
        department=department,
        labels=translated_labels(page),
        intervals={
            d.code: _interval(page, d.update_interval_minutes) for d in datasets
        },
        can_register=any(may_register(_actor(page), code) for code in departments),
    )


@router.get("/catalog/{code}")
def catalog_detail(code: str, page: SignedInPage, notice: str = "") -> Response:
    """Show one dataset: metadata, current fields and schema version history."""
    with page.muster.engine.connect() as conn:
        dataset = queries.get_dataset(conn, code)
        departments = _department_names(conn, page.language)
    if dataset is None:
        raise UnknownDataset(f"no dataset {code}", dataset=code)
    return page.render(
        "catalog_detail.html",
        dataset=dataset,
        departments=departments,
        labels=translated_labels(page),
        interval=_interval(page, dataset.update_interval_minutes),
        changes=version_changes(dataset.versions),
        can_edit=may_register(_actor(page), dataset.owner_department),
        notice=(
            page.translate(NOTICES[notice], version=dataset.schema_version)
            if notice in NOTICES
            else ""
        ),
    )


def version_changes(
    versions: tuple[queries.SchemaVersionView, ...],
) -> dict[int, VersionChanges]:
    """Return, for each version after the first, the fields added, removed, changed."""
    changes: dict[int, VersionChanges] = {}
    for before, after in pairwise(versions):
        old = {item.name: item for item in before.fields}
        new = {item.name: item for item in after.fields}
        changes[after.version] = VersionChanges(
            added=tuple(name for name in new if name not in old),
            removed=tuple(name for name in old if name not in new),
            changed=tuple(
                name for name in new if name in old and new[name] != old[name]
            ),
        )
    return changes


def _interval(page: Page, minutes: int) -> str:
    if minutes % 1440 == 0:
        return page.translate("every %(count)s d", count=minutes // 1440)
    if minutes % 60 == 0:
        return page.translate("every %(count)s h", count=minutes // 60)
    return page.translate("every %(count)s min", count=minutes)


def translated_labels(page: Page) -> dict[str, dict[str, str]]:
    """Return the label dicts (sharing, grade, type…) in the page's language."""
    return {
        kind: {code: page.translate(label) for code, label in labels.items()}
        for kind, labels in _LABELS.items()
    }


def _actor(page: Page) -> Actor:
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    return page.user.actor


def _department_names(conn: Connection, language: str) -> dict[str, str]:
    departments = identity_queries.list_departments(conn)
    return {view.code: view.name(language) for view in departments}


__all__ = [
    "CONNECTOR_LABELS",
    "FORMAT_LABELS",
    "GRADE_LABELS",
    "NOTICES",
    "SENSITIVITY_LABELS",
    "SHARING_LABELS",
    "TYPE_LABELS",
    "VersionChanges",
    "router",
    "translated_labels",
    "version_changes",
]
