"""HTTP API of the identity part: who am I, and the departments (R13)."""

from __future__ import annotations

from fastapi import APIRouter

from muster.identity import queries
from muster.identity.schemas import DepartmentOut, MeOut
from muster.web.deps import CurrentActor, MusterDep

router = APIRouter(prefix="/api", tags=["identity"])


@router.get("/me", response_model=MeOut)
def me(actor: CurrentActor, muster: MusterDep) -> MeOut:
    """Return the caller: a person signed in, or an API key's department."""
    with muster.engine.connect() as conn:
        user = queries.get_user(conn, actor.id) if actor.kind == "user" else None
        department = (
            queries.get_department(conn, actor.department) if actor.department else None
        )
    return MeOut.of(actor, user=user, department=department)


@router.get("/departments", response_model=list[DepartmentOut])
def departments(_actor: CurrentActor, muster: MusterDep) -> list[DepartmentOut]:
    """List every department with its Chinese and English names."""
    with muster.engine.connect() as conn:
        return [DepartmentOut.of(view) for view in queries.list_departments(conn)]


__all__ = ["router"]
