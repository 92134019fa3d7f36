"""HTTP API of the training part (R13): readiness, courses and training records.

``GET /api/v1/readiness`` gives every department's readiness and the city's totals,
``GET /api/v1/readiness/{department}`` one department's (both as of today in the
deployment's time zone, same JSON as ``muster readiness --json``).
``GET /api/v1/training/courses`` lists the catalogue, ``GET …/training/records``
the records (``?department=``), and ``POST …/training/records`` records a completed
course (admins, or the head of the person's department). Refusals are MusterErrors,
answered as problem+json by ``web.errors``. Imported by ``web.app``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from muster.training import queries
from muster.training.domain.commands import RecordTraining
from muster.training.readiness_queries import (
    city_readiness,
    department_readiness,
    readiness_json,
)
from muster.web.deps import CurrentActor, MusterDep

router = APIRouter(prefix="/api/v1", tags=["training"])


class RecordIn(BaseModel):
    """A completed course to record."""

    username: str = Field(min_length=1, max_length=64)
    course: str = Field(min_length=1, max_length=64)
    completed_on: str = Field(description="YYYY-MM-DD, not in the future")
    provider: str = Field(default="", max_length=200)
    expires_on: str | None = Field(
        default=None, description="YYYY-MM-DD; default: the course's validity"
    )


class ResultOut(BaseModel):
    """What recording did: created, updated or unchanged."""

    result: str


def _today(muster: MusterDep) -> date:
    return queries.local_today(muster.clock.now(), muster.settings.zone)


@router.get("/readiness")
def readiness(_actor: CurrentActor, muster: MusterDep) -> dict[str, Any]:
    """Every department's readiness (trained people per role, drills joined, last
    drill's results, level and reasons) and the city's totals."""
    with muster.engine.connect() as conn:
        return readiness_json(city_readiness(conn, today=_today(muster)))


@router.get("/readiness/{department}")
def readiness_of(
    department: str, _actor: CurrentActor, muster: MusterDep
) -> dict[str, Any]:
    """One department's readiness (404 for an unknown department)."""
    with muster.engine.connect() as conn:
        found = department_readiness(conn, department, today=_today(muster))
    return readiness_json(found)


@router.get("/training/courses")
def courses(_actor: CurrentActor, muster: MusterDep) -> list[dict[str, Any]]:
    """The course catalogue: code, titles, role, tier and validity in months."""
    with muster.engine.connect() as conn:
        found = queries.list_courses(conn)
    return [
        {
            "code": course.code,
            "title_zh": course.title_zh,
            "title_en": course.title_en,
            "role": course.role,
            "tier": course.tier.value,
            "validity_months": course.validity_months,
        }
        for course in found
    ]


@router.get("/training/records")
def records(
    _actor: CurrentActor,
    muster: MusterDep,
    department: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Training records by department and person, each saying whether it is
    current today."""
    with muster.engine.connect() as conn:
        found = queries.list_records(
            conn, today=_today(muster), department=department or None
        )
    return [item.to_json() for item in found]


@router.post("/training/records", response_model=ResultOut)
async def record(body: RecordIn, actor: CurrentActor, muster: MusterDep) -> ResultOut:
    """Record that a person completed a course (again: unchanged)."""
    command = RecordTraining(
        username=body.username,
        course=body.course,
        completed_on=body.completed_on,
        provider=body.provider,
        expires_on=body.expires_on,
    )
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(outcome))


__all__ = ["router"]
