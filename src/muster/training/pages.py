"""Readiness pages (应急准备度): ``GET /readiness`` (every department and the city's
totals) and ``GET /readiness/{department}`` (roles, people and their training,
drills joined with their results).

Both are computed as of today in the deployment's time zone, through
``muster.training.readiness_queries``, and state the rules they apply. Any signed-in
person may look. Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from muster.identity import queries as identity
from muster.training import queries
from muster.training.domain.readiness import (
    DepartmentReadiness,
    Reason,
    RoleCoverage,
)
from muster.training.readiness_queries import city_readiness, department_readiness
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

ROLE_LABELS = {
    "duty_officer": N_("Duty officer"),
    "commander": N_("Commander"),
    "head": N_("Head"),
    "analyst": N_("Analyst"),
}
TIER_LABELS = {"basic": N_("Basic"), "advanced": N_("Advanced")}
LEVEL_LABELS = {
    "ready": N_("Ready"),
    "partly": N_("Partly ready"),
    "not_ready": N_("Not ready"),
}
LEVEL_BADGES = {"ready": "badge-ok", "partly": "badge-warn", "not_ready": "badge-bad"}
REASON_LABELS = {
    "no_people": N_("Nobody holds a role that courses train"),
    "role_under_half": N_("Fewer than half of the %(role)s holders are trained"),
    "role_not_all_trained": N_("Not every %(role)s holder is trained"),
    "no_advanced": N_("No %(role)s holder is trained at the advanced tier"),
    "no_drill": N_("Has not joined a drill"),
    "last_drill_missed": N_("The last drill missed expected actions"),
    "last_drill_mostly_missed": N_(
        "The last drill missed more expected actions than it met, on time or late"
    ),
}


def _today(page: Page) -> date:
    muster = page.muster
    return queries.local_today(muster.clock.now(), muster.settings.zone)


def _role(page: Page, role: str) -> str:
    return page.translate(ROLE_LABELS.get(role, role))


def _reason(page: Page, reason: Reason) -> str:
    label = REASON_LABELS.get(reason.code, reason.code)
    if reason.role is None:
        return page.translate(label)
    return page.translate(label, role=_role(page, reason.role))


def _cell(role: RoleCoverage) -> dict[str, Any]:
    return {
        "holders": role.holders,
        "trained": role.trained,
        "advanced": role.advanced,
        "has_advanced": role.has_advanced_course,
    }


def _row(
    page: Page, item: DepartmentReadiness, names: dict[str, str]
) -> dict[str, Any]:
    last = item.last_drill
    return {
        "code": item.department,
        "name": names.get(item.department, item.department),
        "roles": [_cell(role) for role in item.roles],
        "drills": item.drills_joined,
        "last": None
        if last is None
        else {
            "title": last.title(page.language),
            "finished_at": last.finished_at[:16].replace("T", " "),
            "met": last.met,
            "late": last.late,
            "missed": last.missed,
        },
        "level": item.level.value,
        "level_label": page.translate(LEVEL_LABELS[item.level.value]),
        "badge": LEVEL_BADGES[item.level.value],
        "reasons": [_reason(page, reason) for reason in item.reasons],
    }


@router.get("/readiness")
def readiness_page(page: SignedInPage) -> Response:
    """Show every department's readiness and the city's totals."""
    with page.muster.engine.connect() as conn:
        found = city_readiness(conn, today=_today(page))
        names = {
            item.code: item.name(page.language)
            for item in identity.list_departments(conn)
        }
    totals = found.totals
    return page.render(
        "training_readiness.html",
        as_of=found.as_of.isoformat(),
        roles=[_role(page, role) for role in found.roles],
        rows=[_row(page, item, names) for item in found.departments],
        totals={
            "roles": [_cell(role) for role in totals.roles],
            "drills": totals.drills,
            "levels": [
                (page.translate(LEVEL_LABELS[level]), LEVEL_BADGES[level], count)
                for level, count in totals.levels.items()
            ],
        },
    )


@router.get("/readiness/{department}")
def department_page(page: SignedInPage, department: str) -> Response:
    """Show one department's readiness: roles, people's training and drills."""
    today = _today(page)
    with page.muster.engine.connect() as conn:
        found = department_readiness(conn, department, today=today)
        view = identity.get_department(conn, department)
        records = queries.list_records(conn, today=today, department=department)
        members = [
            user
            for user in identity.list_users(conn)
            if user.department_code == department and user.is_active
        ]
    item = found.departments[0]
    name = view.name(page.language) if view else department
    people = []
    for user in members:
        held = [role for role in user.roles if role in found.roles]
        if not held:
            continue
        mine = [r for r in records if r.username == user.username]
        people.append(
            {
                "name": user.display_name,
                "username": user.username,
                "roles": ", ".join(_role(page, role) for role in held),
                "records": [
                    {
                        "title": record.title(page.language),
                        "tier": page.translate(
                            TIER_LABELS.get(record.tier, record.tier)
                        ),
                        "completed_on": record.completed_on,
                        "expires_on": record.expires_on or "",
                        "provider": record.provider,
                        "is_current": record.is_current,
                    }
                    for record in mine
                ],
            }
        )
    drills = [
        {
            "title": drill.title(page.language),
            "code": drill.scenario_code,
            "finished_at": drill.finished_at[:16].replace("T", " "),
            "met": drill.outcome(department).met,
            "late": drill.outcome(department).late,
            "missed": drill.outcome(department).missed,
        }
        for drill in reversed(found.drills)
    ]
    return page.render(
        "training_readiness_department.html",
        as_of=found.as_of.isoformat(),
        department=name,
        row=_row(page, item, {department: name}),
        roles=[{"label": _role(page, role.role), **_cell(role)} for role in item.roles],
        people=people,
        drills=drills,
    )


__all__ = ["LEVEL_LABELS", "REASON_LABELS", "ROLE_LABELS", "router"]
