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
from datetime import timedelta

import pytest

from muster.core.messages import SYSTEM_ACTOR
from muster.settings import Settings
from muster.sharing.domain.commands import OpenBreakGlass, ReadShared, RegisterAgreement
from tests.prepared import prepared_for
from tests.sharing_city import CENTRE, DEMO, DEPARTMENTS, START, City, demo_city

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
FAR = (28.9, 113.7)
SCENARIOS = ("none", "L4", "L3", "L2", "L1", "far", "closed", "break_glass", "expired")


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


prepared = prepared_for("city", DEMO)  # the demo city, loaded once


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    """The demo city, plus a one-day agreement (for the expired scenario)."""
    built = demo_city(settings)
    built.muster.bus.handle(
        RegisterAgreement(
            agreement={
                "code": "HEALTH_BEDS_TRANSPORT_DAY",
                "dataset": "HEALTH_HOSPITAL_BEDS",
                "consumers": ["TRANSPORT"],
                "purposes": ["response"],
                "valid_until": (START + timedelta(days=1)).isoformat(),
            }
        ),
        SYSTEM_ACTOR,
    )
    yield built
    built.muster.engine.dispose()


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
                purpose = PURPOSE.get(dataset, "response")
                decision, masks, reason = city.read(department, dataset, purpose)
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
