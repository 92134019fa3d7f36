"""Readiness of the departments and of the city, as of a day.

Puts together the course catalogue and training records (this part's tables), each
department's active people and roles (``muster.identity.queries``) and the completed
drills (``muster.training.drill_log``, read from the log), then applies the rules of
``muster.training.domain.readiness``. Used by ``muster readiness``, the readiness
pages and ``/api/v1/readiness``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from muster.core.errors import NotFound
from muster.identity import queries as identity
from muster.training import queries
from muster.training.domain.model import TRAINED_ROLES, Tier, best_tiers
from muster.training.domain.readiness import (
    CityTotals,
    DepartmentReadiness,
    RoleCoverage,
    assess,
    city_totals,
    role_coverage,
)
from muster.training.drill_log import CompletedDrill, completed_drills, drills_of


@dataclass(frozen=True, slots=True)
class CityReadiness:
    """Every department's readiness as of a day, with the city's totals."""

    as_of: date
    roles: tuple[str, ...]
    departments: tuple[DepartmentReadiness, ...]
    totals: CityTotals
    drills: tuple[CompletedDrill, ...]


def city_readiness(conn: Connection, *, today: date) -> CityReadiness:
    """Return every department's readiness (by code) and the totals, as of ``today``."""
    return _readiness(conn, today=today, only=None)


def department_readiness(
    conn: Connection, department: str, *, today: date
) -> CityReadiness:
    """Return one department's readiness (totals of that department alone)."""
    if identity.get_department(conn, department) is None:
        raise NotFound(f"no department {department}", department=department)
    return _readiness(conn, today=today, only=department)


def _readiness(conn: Connection, *, today: date, only: str | None) -> CityReadiness:
    catalogue = {course.code: course for course in queries.list_courses(conn)}
    taught = {course.role for course in catalogue.values()}
    roles = tuple(role for role in TRAINED_ROLES if role in taught)
    advanced_roles = {
        course.role for course in catalogue.values() if course.tier is Tier.ADVANCED
    }
    records = queries.training_records(conn)
    tiers = {
        role: best_tiers(records, catalogue, role=role, today=today) for role in roles
    }
    people = [user for user in identity.list_users(conn) if user.is_active]
    drills = completed_drills(conn)
    found: list[DepartmentReadiness] = []
    for department in identity.list_departments(conn):
        if only is not None and department.code != only:
            continue
        members = [user for user in people if user.department_code == department.code]
        coverage = [
            role_coverage(
                role,
                holders=[user.id for user in members if role in user.roles],
                tiers=tiers[role],
                has_advanced_course=role in advanced_roles,
            )
            for role in roles
        ]
        outcomes = drills_of(drills, department.code)
        found.append(assess(department.code, roles=coverage, drills=outcomes))
    joined = [d for d in drills if only is None or only in d.departments]
    return CityReadiness(
        as_of=today,
        roles=roles,
        departments=tuple(found),
        totals=city_totals(found, drills=len(joined)),
        drills=tuple(joined),
    )


def readiness_json(readiness: CityReadiness) -> dict[str, Any]:
    """Return the readiness as ``muster readiness --json`` and the API give it."""
    return {
        "as_of": readiness.as_of.isoformat(),
        "roles": list(readiness.roles),
        "departments": [_department_json(d) for d in readiness.departments],
        "totals": {
            "roles": {role.role: _role_json(role) for role in readiness.totals.roles},
            "drills": readiness.totals.drills,
            "levels": readiness.totals.levels,
        },
    }


def _department_json(department: DepartmentReadiness) -> dict[str, Any]:
    last = department.last_drill
    return {
        "department": department.department,
        "level": department.level.value,
        "reasons": [
            {"code": reason.code, "role": reason.role} for reason in department.reasons
        ],
        "roles": {role.role: _role_json(role) for role in department.roles},
        "drills_joined": department.drills_joined,
        "last_drill": None
        if last is None
        else {
            "drill_id": last.drill_id,
            "scenario_code": last.scenario_code,
            "title_zh": last.title_zh,
            "title_en": last.title_en,
            "finished_at": last.finished_at,
            "met": last.met,
            "late": last.late,
            "missed": last.missed,
        },
    }


def _role_json(role: RoleCoverage) -> dict[str, int]:
    return {"holders": role.holders, "trained": role.trained, "advanced": role.advanced}


__all__ = [
    "CityReadiness",
    "city_readiness",
    "department_readiness",
    "readiness_json",
]
