"""The demo city for sharing tests: the Lanjiang pack and its demo records on a
simulated clock, one reader per department, and flood incidents brought to a level
(joint decisions taken where the plan gates a level)."""

from __future__ import annotations

from datetime import UTC, datetime

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.messages import Actor
from muster.response.domain.commands import (
    ActivatePlan,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    OpenIncident,
    ProposeDecision,
    SignDecision,
)
from muster.response.domain.errors import DecisionRequired
from muster.settings import Settings
from muster.sharing.domain.commands import ReadShared
from tests.prepared import example_pack

DEPARTMENTS = (
    "LJ_GOV", "EMB", "FIRE", "PSB", "HEALTH", "TRANSPORT", "WATER", "MET", "NATRES",
    "ECOENV", "HOTLINE", "POWER", "REDCROSS",
)  # fmt: skip
START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CENTRE = (28.2, 112.9)

DEMO = example_pack(at=START, demo_data=True)
"""The demo pack and its records loaded at START, built once per test process: a
module sets ``prepared = prepared_for(FIXTURE, DEMO)`` (tests/prepared.py)."""


def demo_city(settings: Settings) -> City:
    """Return the demo city on a simulated clock: the test's database is a copy of
    DEMO where the module prepared it, else the pack and its records are loaded."""
    clock = SimulatedClock(START)
    muster = bootstrap(settings, clock=clock)
    with muster.engine.connect() as conn:
        empty = muster.store.head(conn)[0] == 0
    if empty:
        DEMO.build(muster, clock)
    return City(muster, clock)


class City:
    """The demo city on a simulated clock, with one actor per department."""

    def __init__(self, muster: Muster, clock: SimulatedClock) -> None:
        self.muster = muster
        self.clock = clock
        self.readers = {
            code: Actor(kind="user", id=f"matrix.{code.lower()}", department=code,
                        roles=frozenset({"duty_officer"}))
            for code in DEPARTMENTS
        }  # fmt: skip
        self.commander = Actor(
            kind="user", id="matrix.commander", department="EMB",
            roles=frozenset({"commander"}),
        )  # fmt: skip
        self.incident: str | None = None

    def read(
        self, department: str, dataset: str, purpose: str
    ) -> tuple[str, dict[str, str], str]:
        """Read as the department; return decision, masks and reason."""
        result = self.muster.bus.handle(
            ReadShared(dataset=dataset, purpose=purpose), self.readers[department]
        )
        return result.decision, result.masks, result.reason

    def flood(self, at: tuple[float, float], level: str) -> str:
        """Open a flood incident and bring it to the level (decisions where needed)."""
        incident = str(
            self.muster.bus.handle(
                OpenIncident(title="城区内涝", category="NATURAL_DISASTER",
                             latitude=at[0], longitude=at[1], type_code="11A01"),
                self.commander,
            )
        )  # fmt: skip
        self.muster.bus.handle(
            ActivatePlan(incident_id=incident, plan_code="FLOOD_URBAN", level="L4"),
            self.commander,
        )
        for target in ("L3", "L2", "L1")[: ("L4", "L3", "L2", "L1").index(level)]:
            self.raise_to(incident, target)
        return incident

    def raise_to(self, incident: str, level: str) -> None:
        """Raise a level, approving the plan's joint decision when one gates it."""
        try:
            self.muster.bus.handle(
                ChangeResponseLevel(incident_id=incident, level=level, reason="matrix"),
                self.commander,
            )
        except DecisionRequired:  # gated: decide jointly, and the decision applies it
            self.decide(incident, level)

    def decide(self, incident: str, level: str) -> None:
        """Propose the raise as an ad-hoc decision of EMB alone and sign it."""
        decision = str(
            self.muster.bus.handle(
                ProposeDecision(incident_id=incident, title=f"raise to {level}",
                                departments=("EMB",), rule="all", raises_to=level),
                self.commander,
            )
        )  # fmt: skip
        self.muster.bus.handle(
            SignDecision(decision_id=decision, position="concur"), self.commander
        )

    def close(self, incident: str) -> None:
        """Close an incident through recovery."""
        for status in ("recovering", "closed"):
            self.muster.bus.handle(
                ChangeIncidentStatus(
                    incident_id=incident, to_status=status, reason="m"
                ),
                self.commander,
            )
