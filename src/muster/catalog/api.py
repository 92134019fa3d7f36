"""HTTP API of the catalog part: list, show and register datasets (R13)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from muster.catalog import queries
from muster.catalog.domain.commands import RegisterDataset
from muster.catalog.domain.errors import UnknownDataset
from muster.catalog.schemas import (
    DatasetIn,
    DatasetOut,
    DatasetSummaryOut,
    RegistrationOut,
)
from muster.web.deps import CurrentActor, MusterDep

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


@router.get("/datasets", response_model=list[DatasetSummaryOut])
def list_datasets(
    _actor: CurrentActor,
    muster: MusterDep,
    search: str | None = None,
    department: str | None = None,
) -> list[DatasetSummaryOut]:
    """List catalog entries, optionally searched and filtered by owner department."""
    with muster.engine.connect() as conn:
        views = queries.list_datasets(conn, search=search, department=department)
    return [DatasetSummaryOut.of(view) for view in views]


@router.get("/datasets/{code}", response_model=DatasetOut)
def get_dataset(code: str, _actor: CurrentActor, muster: MusterDep) -> DatasetOut:
    """Show one entry with its current fields and schema version history."""
    with muster.engine.connect() as conn:
        view = queries.get_dataset(conn, code)
    if view is None:
        raise UnknownDataset(f"no dataset {code}", dataset=code)
    return DatasetOut.of(view)


@router.post(
    "/datasets",
    status_code=201,
    response_model=RegistrationOut,
    responses={200: {"description": "The entry existed: updated or unchanged."}},
)
def register_dataset(
    body: DatasetIn, actor: CurrentActor, muster: MusterDep, response: Response
) -> RegistrationOut:
    """Register a dataset for the caller's department (201), or update it (200)."""
    command = RegisterDataset(
        metadata=body.to_metadata(default_owner=actor.department),
        fields=tuple(item.to_field() for item in body.fields),
    )
    outcome = muster.bus.handle(command, actor)
    if outcome != "created":
        response.status_code = 200
    with muster.engine.connect() as conn:
        view = queries.get_dataset(conn, body.code)
    return RegistrationOut(
        code=body.code,
        outcome=str(outcome),
        schema_version=view.schema_version if view is not None else 0,
    )


__all__ = ["router"]
