"""The authorization matrix of the demo city: every department × every dataset ×
every scenario, through the real read path (``ReadShared``), with expected decisions
and masks written out below from the agreements' meaning (sharing.yaml).

Scenarios: no incident; a flood incident (11A01) at the city centre at level IV,
III, II and I; a level-II flood 90 km away (outside every resident's 10 km circle);
after that incident closed; break-glass by the commander; an agreement past its
expiry. Each department reads each dataset for the purpose its agreements name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.cli_demo import load_demo_data
from muster.core.clock import SimulatedClock
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.pack.loader import load_pack
from muster.pack.validation import read_pack
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
from muster.sharing.domain.commands import OpenBreakGlass, ReadShared, RegisterAgreement

DEPARTMENTS = (
    "LJ_GOV", "EMB", "FIRE", "PSB", "HEALTH", "TRANSPORT", "WATER", "MET", "NATRES",
    "ECOENV", "HOTLINE", "POWER", "REDCROSS",
)  # fmt: skip
UNCONDITIONAL = (
    "MET_RAIN_GAUGES", "MET_CAP_WARNINGS", "WATER_RIVER_LEVELS",
    "TRANSPORT_ROAD_STATUS", "EMB_SHELTERS", "NATRES_LANDSLIDE_SLOPES",
    "POWER_OUTAGES", "REDCROSS_RELIEF_STOCK", "FIRE_STATIONS", "ECOENV_AIR_QUALITY",
)  # fmt: skip
OWNERS = {
    "HEALTH_HOSPITAL_BEDS": "HEALTH", "WATER_RESERVOIRS": "WATER",
    "EMB_POPULATION_GRID": "EMB", "HOTLINE_CITIZEN_REPORTS": "HOTLINE",
    "POWER_SUBSTATIONS": "POWER", "LJ_GOV_DUTY_ROSTER": "LJ_GOV",
    "PSB_VULNERABLE_RESIDENTS": "PSB",
}  # fmt: skip
PURPOSE = {
    "LJ_GOV_DUTY_ROSTER": "coordination",
    "PSB_VULNERABLE_RESIDENTS": "evacuation",
}
# Consumers of the conditional datasets with no incident condition (sharing.yaml).
PLAIN_CONSUMERS = {
    "HEALTH_HOSPITAL_BEDS": {"LJ_GOV", "EMB", "FIRE"},
    "WATER_RESERVOIRS": {"LJ_GOV", "EMB", "FIRE", "TRANSPORT"},
    "EMB_POPULATION_GRID": {"LJ_GOV", "FIRE", "PSB", "NATRES"},
    "HOTLINE_CITIZEN_REPORTS": {"EMB"},
    "POWER_SUBSTATIONS": {"LJ_GOV", "EMB"},
    "LJ_GOV_DUTY_ROSTER": set(DEPARTMENTS) - {"LJ_GOV", "POWER", "REDCROSS"},
}
HOTLINE_MASKS = {
    "caller_name": "name",
    "caller_phone": "phone",
    "location": "grid:0.001",
}
RESIDENT_MASKS = {"name": "name"}
CENTRE = (28.2, 112.9)
FAR = (28.9, 113.7)
SCENARIOS = ("none", "L4", "L3", "L2", "L1", "far", "closed", "break_glass", "expired")
START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    """What a read should give: decision and, for an allow, the masks."""

    decision: str
    masks: dict[str, str] | None = None


def expected(department: str, dataset: str, scenario: str) -> Expected:
    """The matrix, from the agreements' meaning."""
    if dataset in UNCONDITIONAL or OWNERS.get(dataset) == department:
        return Expected("allow", {})
    if dataset == "PSB_VULNERABLE_RESIDENTS":
        if scenario in ("L2", "L1") and department in ("FIRE", "EMB"):
            return Expected("allow", RESIDENT_MASKS)
        return Expected("aggregate")  # break-glass is the commander's alone (below)
    if dataset == "POWER_SUBSTATIONS" and department in ("FIRE", "WATER"):
        active = scenario in ("L3", "L2", "L1", "far")
        return Expected("allow", {}) if active else Expected("deny")
    if dataset == "HEALTH_HOSPITAL_BEDS" and department == "TRANSPORT":
        # A one-day agreement registered by the test; past it in "expired".
        return Expected("deny") if scenario == "expired" else Expected("allow", {})
    if department in PLAIN_CONSUMERS[dataset]:
        masks = {
            "HOTLINE_CITIZEN_REPORTS": HOTLINE_MASKS,
            "LJ_GOV_DUTY_ROSTER": {"officer_name": "partial"},  # personal: default
        }.get(dataset, {})
        return Expected("allow", masks)
    return Expected("deny")


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

    def read(self, department: str, dataset: str) -> tuple[str, dict[str, str], str]:
        """Read as the department; return decision, masks and reason."""
        result = self.muster.bus.handle(
            ReadShared(dataset=dataset, purpose=PURPOSE.get(dataset, "response")),
            self.readers[department],
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


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    """The demo pack and demo records, loaded on a simulated clock."""
    clock = SimulatedClock(START)
    muster = bootstrap(settings, clock=clock)
    with as_file(files("muster") / "examples" / "lanjiang") as folder:
        pack = read_pack(Path(folder))
        load_pack(muster, pack)
        load_demo_data(muster, pack)
    muster.bus.handle(
        RegisterAgreement(
            agreement={
                "code": "HEALTH_BEDS_TRANSPORT_DAY", "dataset": "HEALTH_HOSPITAL_BEDS",
                "consumers": ["TRANSPORT"], "purposes": ["response"],
                "valid_until": (START + timedelta(days=1)).isoformat(),
            }
        ),
        SYSTEM_ACTOR,
    )  # fmt: skip
    yield City(muster, clock)
    muster.engine.dispose()


def enter(city: City, scenario: str) -> None:
    """Bring the city into a scenario (scenarios run in SCENARIOS order)."""
    if city.incident is not None and scenario in ("L4", "far", "closed", "expired"):
        city.close(city.incident)
        city.incident = None
    if scenario == "L4":
        city.incident = city.flood(CENTRE, "L4")
    elif scenario in ("L3", "L2", "L1"):
        assert city.incident is not None
        city.raise_to(city.incident, scenario)
    elif scenario == "far":
        city.incident = city.flood(FAR, "L2")
    elif scenario == "closed":
        assert city.incident is None
    elif scenario == "break_glass":
        city.muster.bus.handle(
            OpenBreakGlass(dataset="PSB_VULNERABLE_RESIDENTS", minutes=30,
                           justification="河堤决口，需立即联系独居老人组织转移"),
            city.commander,
        )  # fmt: skip
    elif scenario == "expired":
        city.clock.advance(timedelta(days=2))


def test_given_the_demo_city_when_every_department_reads_every_dataset_in_every_scenario_then_decisions_and_masks_match(  # noqa: E501
    city: City,
) -> None:
    datasets = [*UNCONDITIONAL, *OWNERS]
    wrong: list[str] = []
    for scenario in SCENARIOS:
        enter(city, scenario)
        for dataset in datasets:
            for department in DEPARTMENTS:
                want = expected(department, dataset, scenario)
                decision, masks, reason = city.read(department, dataset)
                if decision != want.decision or (
                    want.masks is not None and masks != want.masks
                ):
                    wrong.append(
                        f"{scenario} {department} {dataset}: got {decision} {masks} "
                        f"({reason}); want {want.decision} {want.masks}"
                    )
        if scenario == "break_glass":
            result = city.muster.bus.handle(
                ReadShared(dataset="PSB_VULNERABLE_RESIDENTS", purpose="evacuation"),
                city.commander,
            )
            masks = {"id_number": "partial", "health_condition": "partial"}
            if (
                result.decision != "allow"
                or result.masks != masks
                or not result.records
            ):
                wrong.append(f"break-glass commander: {result.decision} {result.masks}")
    assert not wrong, "\n".join(wrong[:40]) + f"\n… {len(wrong)} cells differ"
