"""Builders for test data, readable in given-clauses."""

from __future__ import annotations

from muster.bootstrap import Muster
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries
from muster.identity.domain.commands import RegisterDepartment, RegisterUser
from muster.response.domain.commands import OpenIncident

PASSWORD = "correct-horse-9"


def department(
    muster: Muster, code: str = "EMB", *, type_: str = "emergency_management"
) -> str:
    """Register a department and return its code."""
    muster.bus.handle(
        RegisterDepartment(
            code=code, name_zh=f"{code}部门", name_en=f"{code} dept", type=type_
        ),
        SYSTEM_ACTOR,
    )
    return code


def user(
    muster: Muster,
    username: str = "alice",
    *,
    department_code: str = "EMB",
    roles: tuple[str, ...] = ("commander",),
    language: str = "en",
) -> Actor:
    """Register a user (department must exist) and return the actor it acts as."""
    muster.bus.handle(
        RegisterUser(
            username=username,
            display_name=username.title(),
            department_code=department_code,
            roles=roles,
            password=PASSWORD,
            language=language,
        ),
        SYSTEM_ACTOR,
    )
    with muster.engine.connect() as conn:
        view = queries.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def incident(
    muster: Muster, actor: Actor, title: str = "Flooding on Riverside Road"
) -> str:
    """Open an incident and return its id."""
    return str(
        muster.bus.handle(
            OpenIncident(
                title=title,
                category="NATURAL_DISASTER",
                latitude=28.2,
                longitude=112.9,
                description="Water 40 cm deep across both lanes.",
            ),
            actor,
        )
    )
