"""A small response world for tests: departments with a chain of command, users, a plan.

EMB (emergency bureau) is the root; TRANSPORT, WATER and MET report to it. TRANSPORT
has a duty officer and a head; MET has nobody on duty (its escalation falls to EMB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from muster.bootstrap import Muster
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity.domain.commands import RegisterDepartment
from muster.response.domain.commands import (
    ActivatePlan,
    OpenIncident,
    RegisterPlan,
    SetEscalationChain,
)
from tests import factories

FLOOD_PLAN: dict[str, Any] = {
    "code": "FLOOD_URBAN",
    "version": 1,
    "name_zh": "城市内涝应急预案",
    "name_en": "Urban flood plan",
    "categories": ["11A00", "11B00"],
    "levels": [
        {
            "level": "L4",
            "activation": [{"attribute": "rain_24h_mm", "op": "gte", "value": 50}],
            "lead_department": "WATER",
            "supporting": [
                {"department": "TRANSPORT", "responsibility_zh": "交通管制",
                 "responsibility_en": "Traffic control"},
            ],
            "command_roles": {"commander": "EMB"},
            "tasks": [
                {"key": "close_road", "title_zh": "封闭S203 12–15公里",
                 "title_en": "Close road S203 km 12–15", "lead_department": "TRANSPORT",
                 "due_minutes": 60, "ack_minutes": 15,
                 "checklist": ["Barriers placed", "Detour signed"]},
                {"key": "pumps", "title_zh": "启动泵站",
                 "title_en": "Start pump stations", "lead_department": "WATER",
                 "due_minutes": 30, "ack_minutes": 10},
                {"key": "forecast", "title_zh": "滚动预报",
                 "title_en": "Rolling forecast", "lead_department": "MET",
                 "due_minutes": 120, "ack_minutes": 20},
            ],
            "reports": [
                {"key": "initial", "name_zh": "初报", "name_en": "Initial report",
                 "recipient": "City government", "initial_minutes": 30,
                 "follow_up_minutes": 120},
            ],
            "decisions": [
                {"key": "raise_l2", "title_zh": "提升至二级响应",
                 "title_en": "Raise to level II",
                 "departments": ["EMB", "WATER", "TRANSPORT"], "rule": "all",
                 "deadline_minutes": 30, "raises_to": "L2"},
            ],
        },
        {
            "level": "L2",
            "activation": [{"attribute": "rain_24h_mm", "op": "gte", "value": 250}],
            "lead_department": "EMB",
            "supporting": [
                {"department": "WATER", "responsibility_zh": "排涝",
                 "responsibility_en": "Drainage"},
                {"department": "TRANSPORT", "responsibility_zh": "交通管制",
                 "responsibility_en": "Traffic control"},
            ],
            "tasks": [
                {"key": "evacuate", "title_zh": "转移低洼地区群众",
                 "title_en": "Evacuate low-lying areas", "lead_department": "EMB",
                 "due_minutes": 90, "ack_minutes": 10, "depends_on": ["close_road"]},
            ],
        },
    ],
}  # fmt: skip


@dataclass(frozen=True)
class World:
    """The actors of the response world."""

    commander: Actor
    transport_duty: Actor
    transport_head: Actor
    water_duty: Actor
    emb_duty: Actor


def _department(muster: Muster, code: str, parent: str | None) -> None:
    muster.bus.handle(
        RegisterDepartment(
            code=code,
            name_zh=f"{code}部门",
            name_en=f"{code} dept",
            type="other",
            parent_code=parent,
        ),
        SYSTEM_ACTOR,
    )


def build_world(muster: Muster, *, transport_repeat: int = 1) -> World:
    """Register departments, users, the flood plan and TRANSPORT's chain."""
    _department(muster, "EMB", None)
    for code in ("TRANSPORT", "WATER", "MET"):
        _department(muster, code, "EMB")
    world = World(
        commander=factories.user(muster, "commander", roles=("commander",)),
        transport_duty=factories.user(
            muster, "t.duty", department_code="TRANSPORT", roles=("duty_officer",)
        ),
        transport_head=factories.user(
            muster, "t.head", department_code="TRANSPORT", roles=("head",)
        ),
        water_duty=factories.user(
            muster, "w.duty", department_code="WATER", roles=("duty_officer",)
        ),
        emb_duty=factories.user(muster, "e.duty", roles=("duty_officer",)),
    )
    muster.bus.handle(RegisterPlan(document=FLOOD_PLAN), SYSTEM_ACTOR)
    steps = (
        {"after_minutes": 0, "notify": "duty_officer"},
        {"after_minutes": 10, "notify": "head"},
        {"after_minutes": 10, "notify": "commander"},
    )
    muster.bus.handle(
        SetEscalationChain(
            department="TRANSPORT", steps=steps, repeat=transport_repeat
        ),
        SYSTEM_ACTOR,
    )
    return world


def flood_incident(muster: Muster, world: World, *, activate: bool = True) -> str:
    """Open a flood incident (11A00) and, by default, activate the plan at L4."""
    incident_id = str(
        muster.bus.handle(
            OpenIncident(
                title="内涝：滨江路积水",
                category="NATURAL_DISASTER",
                latitude=28.2,
                longitude=112.9,
                type_code="11A00",
            ),
            world.commander,
        )
    )
    if activate:
        muster.bus.handle(
            ActivatePlan(incident_id=incident_id, plan_code="FLOOD_URBAN", level="L4"),
            world.commander,
        )
    return incident_id
