"""Stateful property: whatever agreements, incidents and levels come and go, a read
never returns a record or a field, or an unmasked value, that the agreements in force
do not allow.

Hypothesis drives random sequences of agreement registrations and revocations,
incidents opened at random places, response level changes, closes, and reads by
three departments with random purposes, against one deployment (both databases).
The oracle below is written from the agreements' meaning, independently of the
policy compiler and of Cedar: a record may leave only if some agreement in force
names the reader's department and purpose and, when it has an incident condition,
some open incident at or above the level lies within the radius; each released
field must be one such agreement shares, masked no less than the least restrictive
of their masks.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from muster.bootstrap import Muster
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.ingest.domain.commands import IngestFile
from muster.response.domain.commands import (
    ActivatePlan,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    OpenIncident,
    RegisterPlan,
)
from muster.sharing.domain.commands import (
    ReadShared,
    RegisterAgreement,
    RevokeAgreement,
)
from muster.sharing.domain.masks import mask_order, mask_value, parse_mask
from tests import factories

LEVELS = ("L4", "L3", "L2", "L1")
FIELDS = ("rid", "name", "phone", "community", "location")
PURPOSES = ("evacuation", "planning")
CONSUMERS = ("C1", "C2")
READERS = ("C1", "C2", "C3")
MASKS = ("none", "name", "phone", "partial", "hide")
CENTRE = (28.2, 112.9)

PLAN: dict[str, Any] = {
    "code": "SHARE_TEST",
    "version": 1,
    "name_zh": "共享测试预案",
    "name_en": "Sharing test plan",
    "categories": ["11A00"],
    "levels": [
        {
            "level": level,
            "lead_department": "EMB",
            "command_roles": {"commander": "EMB"},
        }
        for level in LEVELS
    ],
}

PEOPLE = (
    DatasetField(name="rid", type="string", required=True),
    DatasetField(name="name", type="string", sensitivity="personal"),
    DatasetField(name="phone", type="string", sensitivity="personal"),
    DatasetField(name="community", type="string"),
    DatasetField(name="location", type="point", sensitivity="location"),
)


@dataclass
class Model:
    """What the agreements in force allow (the oracle's state)."""

    agreements: dict[str, dict[str, Any]] = field(default_factory=dict)
    incidents: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def permitting(
    model: Model, reader: str, purpose: str, record: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return the agreements that let this record reach the reader for this purpose."""
    found = []
    position = tuple(record["location"])
    for agreement in model.agreements.values():
        if reader not in agreement["consumers"] or purpose not in agreement["purposes"]:
            continue
        condition = agreement.get("conditions", {}).get("incident")
        if condition is None:
            found.append(agreement)
            continue
        minimum = LEVELS.index(condition["min_level"])
        for level, lat, lon in model.incidents.values():
            near = _distance_km((lat, lon), position) <= condition["within_km"] + 1e-6
            if LEVELS.index(level) >= minimum and near:
                found.append(agreement)
                break
    return found


def near_edge(model: Model, record: dict[str, Any]) -> bool:
    """Tell whether a record lies within 5 m of some circle's rim (float-safe skip)."""
    position = tuple(record["location"])
    for agreement in model.agreements.values():
        condition = agreement.get("conditions", {}).get("incident")
        if condition is None:
            continue
        for _, lat, lon in model.incidents.values():
            if abs(_distance_km((lat, lon), position) - condition["within_km"]) < 0.005:
                return True
    return False


class SharingMachine(RuleBasedStateMachine):
    """Random agreement, incident and read sequences against one deployment."""

    muster: Muster
    actors: dict[str, Actor]
    serial = itertools.count()
    released: ClassVar[dict[str, int]] = {"plain": 0, "in_area": 0, "withheld": 0}

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.round = next(self.serial)
        self.dataset = f"PEOPLE_{self.round:03d}"
        self.provider = self.actors["PROV"]
        self.commander = self.actors["EMB"]
        self.readers = {code: self.actors[code] for code in READERS}
        self.codes = itertools.count()

    @initialize(
        positions=st.lists(
            st.tuples(st.floats(-0.15, 0.15), st.floats(-0.15, 0.15)),
            min_size=3,
            max_size=8,
        )
    )
    def seed(self, positions: list[tuple[float, float]]) -> None:
        """Register the dataset and store a few records at random places."""
        metadata = DatasetMetadata(
            code=self.dataset, name_zh="人员", name_en="People",
            owner_department="PROV", sharing_class="CONDITIONAL",
            data_grade="IMPORTANT",
            sharing_conditions="By agreement with PROV.",
            update_interval_minutes=1440, format="json", connector="upload",
        )  # fmt: skip
        self.muster.bus.handle(
            RegisterDataset(metadata=metadata, fields=PEOPLE), SYSTEM_ACTOR
        )
        rows = []
        for index, (dlat, dlon) in enumerate(positions):
            lat, lon = round(CENTRE[0] + dlat, 5), round(CENTRE[1] + dlon, 5)
            rows.append(
                {
                    "rid": f"{self.dataset}-{index}",
                    "name": f"测试居民{index}号",
                    "phone": f"1390000{index:04d}",
                    "community": f"社区{index % 3}",
                    "location": f"{lat},{lon}",
                }
            )
            self.model.records[rows[-1]["rid"]] = {**rows[-1], "location": [lat, lon]}
        data = json.dumps(rows, ensure_ascii=False).encode()
        outcome = self.muster.bus.handle(
            IngestFile(
                dataset_code=self.dataset, source="test", data=data, format="json"
            ),
            self.provider,
        )
        assert outcome.accepted == len(rows)

    @rule(
        consumers=st.sets(st.sampled_from(CONSUMERS), min_size=1),
        fields=st.sets(st.sampled_from(FIELDS), min_size=1),
        masks=st.dictionaries(
            st.sampled_from(("name", "phone")), st.sampled_from(MASKS)
        ),
        purposes=st.sets(st.sampled_from(PURPOSES), min_size=1),
        condition=st.none()
        | st.tuples(st.sampled_from(LEVELS), st.sampled_from((2.0, 8.0, 20.0))),
        replace=st.booleans(),
    )
    def register(
        self,
        consumers: set[str],
        fields: set[str],
        masks: dict[str, str],
        purposes: set[str],
        condition: tuple[str, float] | None,
        replace: bool,
    ) -> None:
        """Register a new agreement, or replace an existing one."""
        if replace and self.model.agreements:
            code = sorted(self.model.agreements)[0]
        else:
            code = f"AG_{self.round:03d}_{next(self.codes)}"
        fields |= {"rid"}
        data: dict[str, Any] = {
            "code": code, "dataset": self.dataset, "consumers": sorted(consumers),
            "fields": sorted(fields), "purposes": sorted(purposes),
            "masks": {name: mask for name, mask in masks.items() if name in fields},
            "legal_basis": "STATUTORY_DUTY",
        }  # fmt: skip
        if condition is not None:
            data["conditions"] = {
                "incident": {"categories": ["11A"], "min_level": condition[0],
                             "within_km": condition[1]}
            }  # fmt: skip
        self.muster.bus.handle(RegisterAgreement(agreement=data), self.provider)
        self.model.agreements[code] = data

    @precondition(lambda self: bool(self.model.agreements))
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        """Revoke an agreement."""
        code = data.draw(st.sampled_from(sorted(self.model.agreements)))
        self.muster.bus.handle(RevokeAgreement(code=code, reason="test"), self.provider)
        del self.model.agreements[code]

    @precondition(lambda self: len(self.model.incidents) < 3)
    @rule(
        dlat=st.floats(-0.15, 0.15),
        dlon=st.floats(-0.15, 0.15),
        level=st.sampled_from(LEVELS),
    )
    def open_incident(self, dlat: float, dlon: float, level: str) -> None:
        """Open a flood incident somewhere and activate the plan at a level."""
        lat, lon = round(CENTRE[0] + dlat, 5), round(CENTRE[1] + dlon, 5)
        incident = str(
            self.muster.bus.handle(
                OpenIncident(title="内涝", category="NATURAL_DISASTER", latitude=lat,
                             longitude=lon, type_code="11A01"),
                self.commander,
            )
        )  # fmt: skip
        self.muster.bus.handle(
            ActivatePlan(incident_id=incident, plan_code="SHARE_TEST", level=level),
            self.commander,
        )
        self.model.incidents[incident] = (level, lat, lon)

    @precondition(lambda self: len(self.model.incidents) < 3)
    @rule(
        radius=st.sampled_from((5.0, 15.0)),
        fields=st.sets(st.sampled_from(FIELDS), min_size=1),
    )
    def emergency(self, radius: float, fields: set[str]) -> None:
        """An emergency-style agreement for every consumer and purpose, and a flood
        at the centre at level I (so that grants switch on often enough)."""
        self.register(
            consumers=set(CONSUMERS), fields=fields, masks={},
            purposes=set(PURPOSES), condition=("L2", radius), replace=False,
        )  # fmt: skip
        self.open_incident(0.0, 0.0, "L1")

    @precondition(lambda self: bool(self.model.incidents))
    @rule(data=st.data(), level=st.sampled_from(LEVELS))
    def change_level(self, data: st.DataObject, level: str) -> None:
        """Raise or lower an incident's response level."""
        incident = data.draw(st.sampled_from(sorted(self.model.incidents)))
        current, lat, lon = self.model.incidents[incident]
        if level == current:
            return
        self.muster.bus.handle(
            ChangeResponseLevel(incident_id=incident, level=level, reason="test"),
            self.commander,
        )
        self.model.incidents[incident] = (level, lat, lon)

    @precondition(lambda self: bool(self.model.incidents))
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        """Close an incident."""
        incident = data.draw(st.sampled_from(sorted(self.model.incidents)))
        self.close_incident(incident)

    def close_incident(self, incident: str) -> None:
        """Close an incident through the statuses it must pass."""
        for status in ("recovering", "closed"):
            self.muster.bus.handle(
                ChangeIncidentStatus(
                    incident_id=incident, to_status=status, reason="t"
                ),
                self.commander,
            )
        del self.model.incidents[incident]

    @rule(reader=st.sampled_from(READERS), purpose=st.sampled_from(PURPOSES))
    def read(self, reader: str, purpose: str) -> None:
        """Read as a department; check every record and field against the oracle."""
        result = self.muster.bus.handle(
            ReadShared(dataset=self.dataset, purpose=purpose), self.readers[reader]
        )
        returned = {item["values"]["rid"]: item["values"] for item in result.records}
        self.released["withheld"] += len(self.model.records) - len(returned)
        for rid in returned:
            conditioned = all(
                "conditions" in agreement
                for agreement in permitting(
                    self.model, reader, purpose, self.model.records[rid]
                )
            )
            self.released["in_area" if conditioned else "plain"] += 1
        for rid, values in returned.items():
            record = self.model.records[rid]
            allowed = permitting(self.model, reader, purpose, record)
            if not allowed and near_edge(self.model, record):
                continue
            assert allowed, f"{rid} reached {reader} for {purpose} with no agreement"
            for name, value in values.items():
                sharing = [a for a in allowed if name in a["fields"]]
                assert sharing, f"{name} of {rid} reached {reader} unshared"
                default = "partial" if name in ("name", "phone") else "none"
                loosest = min(
                    (parse_mask(a["masks"].get(name, default)) for a in sharing),
                    key=mask_order,
                )
                assert value == mask_value(record[name], loosest), (name, value)
        for rid, record in self.model.records.items():
            if rid not in returned and not near_edge(self.model, record):
                assert not permitting(self.model, reader, purpose, record), (
                    f"{rid} was withheld from {reader} although an agreement allows it"
                )

    def teardown(self) -> None:
        """Close what this example opened so the next starts from no incident."""
        for incident in list(self.model.incidents):
            self.close_incident(incident)
        for code in list(self.model.agreements):
            self.muster.bus.handle(
                RevokeAgreement(code=code, reason="end"), self.provider
            )


@pytest.fixture
def world(muster: Muster) -> dict[str, Actor]:
    """Departments EMB (root), PROV (provider), C1-C3, their users and the plan."""
    for code in ("EMB", "PROV", *READERS):
        factories.department(muster, code)
    actors = {"EMB": factories.user(muster, "commander", roles=("commander",))}
    for code in ("PROV", *READERS):
        actors[code] = factories.user(
            muster,
            f"{code.lower()}.duty",
            department_code=code,
            roles=("duty_officer",),
        )
    muster.bus.handle(RegisterPlan(document=PLAN), SYSTEM_ACTOR)
    return actors


def test_given_random_agreement_incident_and_read_sequences_then_no_read_exceeds_them(
    muster: Muster, world: dict[str, Actor]
) -> None:
    SharingMachine.muster = muster
    SharingMachine.actors = world
    run_state_machine_as_test(
        SharingMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,  # the same sequences every run: CI is repeatable
            # No shrinking: on a failure, report the sequence found at once (CI time).
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    # The run was not vacuous: records were released (by plain agreements or only
    # inside an incident's circle) and withheld. Every read above was checked both
    # ways against the oracle (nothing beyond the agreements, nothing they allow
    # withheld). Which release path a run takes depends on the drawn sequences; one
    # CI run drew no plain release in 40 examples, so the test does not require each.
    released = SharingMachine.released
    assert released["plain"] + released["in_area"] > 0, released
    assert released["withheld"] > 0, released
