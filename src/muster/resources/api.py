"""HTTP API of the resources part (R13): the typing catalog, resources and statuses.

``GET /api/v1/resources`` lists resources (``?department=&type=&status=``; with
``format=geojson`` a FeatureCollection, as the situation map's layer);
``GET …/resources/types`` the catalog; ``GET …/resources/{id}`` one resource.
``POST …/resources`` registers or describes a resource (admins, the department's
duty officers and heads) and ``POST …/resources/{id}/status`` changes its status
(also commanders). Refusals are MusterErrors, answered as problem+json by
``web.errors``. ``edxl_router``: ``GET /api/v1/resource-requests/{id}/edxl-rm`` gives
a request as an EDXL-RM RequestResource (``?answers=true``: its commitments and
declines as a CommitResource; a commitment id: that commitment). Imported by
``web.app``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from muster.resources import queries
from muster.resources.domain.commands import ChangeResourceStatus, RegisterResource
from muster.resources.domain.errors import UnknownResource
from muster.resources.domain.model import parse_status
from muster.resources.edxl_rm import export_record
from muster.resources.geojson import resources_collection
from muster.web.deps import CurrentActor, Language, MusterDep

router = APIRouter(prefix="/api/v1/resources", tags=["resources"])
edxl_router = APIRouter(prefix="/api/v1/resource-requests", tags=["resources"])

Text = Annotated[str | None, Query(max_length=64)]


class LocationIn(BaseModel):
    """Where a resource is kept."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    name: str = Field(default="", max_length=200)


class ResourceIn(BaseModel):
    """A resource to register, or the new description of one (its status stays)."""

    id: str = Field(min_length=1, max_length=64)
    department: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1)
    capability: float | None = Field(
        default=None, description="Per unit, in the type's measure."
    )
    tier: Literal["I", "II", "III"] | None = None
    location: LocationIn
    ready_minutes: int = Field(default=0, ge=0)
    notes: str = Field(default="", max_length=1000)
    status: Literal["available", "out_of_service"] = "available"
    status_reason: str = Field(default="", max_length=500)


class StatusIn(BaseModel):
    """A status to move a resource to."""

    status: str = Field(min_length=1, max_length=32)
    reason: str = Field(default="", max_length=500)
    incident_id: str | None = Field(default=None, max_length=64)


class ResultOut(BaseModel):
    """What a command did: created, updated, unchanged, or the new status."""

    result: str


@router.get("")
def list_resources(
    _actor: CurrentActor,
    muster: MusterDep,
    language: Language,
    department: Text = None,
    type_code: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    status: Text = None,
    output: Annotated[Literal["json", "geojson"], Query(alias="format")] = "json",
) -> Any:
    """Resources by department and id; ``format=geojson`` gives a FeatureCollection
    with labels in the reader's language."""
    if status:
        parse_status(status)
    with muster.engine.connect() as conn:
        if output == "geojson":
            body = resources_collection(
                conn,
                language=language,
                department=department or None,
                type_code=type_code or None,
                status=status or None,
            )
            return JSONResponse(
                body,
                media_type="application/geo+json",
                headers={"Cache-Control": "no-store"},
            )
        found = queries.list_resources(
            conn,
            department=department or None,
            type_code=type_code or None,
            status=status or None,
        )
        types = {item.code: item for item in queries.list_types(conn)}
    return [view.to_json(types.get(view.resource.type_code)) for view in found]


@router.get("/types")
def list_types(_actor: CurrentActor, muster: MusterDep) -> list[dict[str, Any]]:
    """The resource typing catalog: kind, unit, capability measure and tiers."""
    with muster.engine.connect() as conn:
        return [queries.type_json(item) for item in queries.list_types(conn)]


@router.get("/{resource_id}")
def get_resource(
    resource_id: str, _actor: CurrentActor, muster: MusterDep
) -> dict[str, Any]:
    """One resource (404 for an unknown id)."""
    with muster.engine.connect() as conn:
        view = queries.get_resource(conn, resource_id)
        if view is None:
            raise UnknownResource(f"no resource {resource_id}", resource=resource_id)
        of_type = queries.get_type(conn, view.resource.type_code)
    return view.to_json(of_type)


@router.post("", response_model=ResultOut)
async def register(
    body: ResourceIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Register a resource or describe it anew (again, the same: unchanged)."""
    command = RegisterResource(
        resource_id=body.id,
        department=body.department,
        type_code=body.type,
        name=body.name,
        quantity=body.quantity,
        latitude=body.location.lat,
        longitude=body.location.lon,
        capability=body.capability,
        tier=body.tier,
        location_name=body.location.name,
        ready_minutes=body.ready_minutes,
        notes=body.notes,
        status=body.status,
        status_reason=body.status_reason,
    )
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(outcome))


@router.post("/{resource_id}/status", response_model=ResultOut)
async def change_status(
    resource_id: str, body: StatusIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Move a resource to another status; answers the new status (or unchanged)."""
    command = ChangeResourceStatus(
        resource_id=resource_id,
        status=body.status,
        reason=body.reason,
        incident_id=body.incident_id or None,
    )
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(outcome))


@edxl_router.get("/{record_id}/edxl-rm")
def export_edxl(
    record_id: str, _actor: CurrentActor, muster: MusterDep, answers: bool = False
) -> Response:
    """A request (or commitment) as an EDXL-RM 1.0 message (404 for an unknown id)."""
    with muster.engine.connect() as conn:
        data = export_record(conn, record_id, sent=muster.clock.now(), answers=answers)
    return Response(data, media_type="application/xml")


__all__ = ["edxl_router", "router"]
