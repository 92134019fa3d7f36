"""The resources part's pure rules: catalog entries, resources, status transitions and
who may change what."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.messages import Actor
from muster.resources.domain.errors import (
    ResourceInvalid,
    ResourceTypeInvalid,
    TransitionNotAllowed,
)
from muster.resources.domain.model import (
    TRANSITIONS,
    Kind,
    Resource,
    ResourceType,
    Status,
    change_status,
    check_resource,
    check_type,
    next_statuses,
)
from muster.resources.domain.permissions import may_change_status, may_register

PUMP = ResourceType(
    code="PUMP", name_zh="排涝泵", name_en="Pump", kind=Kind.EQUIPMENT,
    unit="unit", measure="m3_per_h",
)  # fmt: skip
TEAM = ResourceType(
    code="TEAM", name_zh="救援队", name_en="Team", kind=Kind.TEAM, unit="team",
    measure="persons", tiers=("I", "II", "III"),
)  # fmt: skip
WATER = ResourceType(
    code="WATER", name_zh="饮用水", name_en="Water", kind=Kind.SUPPLY, unit="litre"
)


def pump(**changes: object) -> Resource:
    """Return four 500 m³/h pumps of WATER, available, with changes."""
    resource = Resource(
        id="P1", department="WATER", type_code="PUMP", name="Pumps", quantity=4,
        latitude=28.2, longitude=112.9, capability=500.0,
    )  # fmt: skip
    return dataclasses.replace(resource, **changes)  # type: ignore[arg-type]


def described(of_type: ResourceType = PUMP, **fields: object) -> Resource:
    """Check a resource of a type with sensible fields, overridden by ``fields``."""
    values: dict[str, object] = {
        "resource_id": "P1", "department": "WATER", "of_type": of_type,
        "name": "Pumps", "quantity": 4, "latitude": 28.2, "longitude": 112.9,
        "capability": 500,
    }  # fmt: skip
    return check_resource(**{**values, **fields})  # type: ignore[arg-type]


def person(*roles: str, department: str = "WATER") -> Actor:
    """Return a user actor of a department with roles."""
    return Actor(kind="user", id="u", department=department, roles=frozenset(roles))


class TestCatalog:
    def test_given_tiers_out_of_order_when_checked_then_ordered_most_capable_first(
        self,
    ) -> None:
        """A type's tiers are kept as I, II, III whatever order they are listed in."""
        checked = check_type(
            code="TEAM", name_zh="救援队", name_en=" Team ", kind="team",
            unit="team", measure="persons", tiers=("III", "I"),
        )  # fmt: skip

        assert checked.tiers == ("I", "III")
        assert checked.name_en == "Team"
        assert checked.kind is Kind.TEAM

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("code", "no spaces"), ("name_zh", " "), ("kind", "robot"),
            ("unit", "barrel"), ("measure", "horsepower"), ("tiers", ("I", "I")),
            ("tiers", ("IV",)),
        ],
    )  # fmt: skip
    def test_given_a_bad_field_when_checked_then_refused_naming_it(
        self, field: str, value: object
    ) -> None:
        """Each broken field of a type is refused with its name."""
        fields: dict[str, object] = {
            "code": "PUMP", "name_zh": "泵", "name_en": "Pump", "kind": "equipment",
            "unit": "unit", "measure": "m3_per_h", "tiers": (),
        }  # fmt: skip

        with pytest.raises(ResourceTypeInvalid) as refused:
            check_type(**{**fields, field: value})  # type: ignore[arg-type]

        assert refused.value.params["field"] == field


class TestCheckResource:
    def test_given_a_pump_when_checked_then_capability_is_per_unit(self) -> None:
        """Four pumps of 500 m³/h move 2000 m³/h together."""
        resource = described()

        assert resource.capability == 500.0
        assert resource.total_capability == 2000.0
        assert resource.status is Status.AVAILABLE

    def test_given_a_type_without_measure_when_counted_then_no_capability(
        self,
    ) -> None:
        """Water is counted in litres; a capability is refused and none is summed."""
        water = described(WATER, capability=None, quantity=20000)

        assert water.total_capability is None
        with pytest.raises(ResourceInvalid) as refused:
            described(WATER, capability=5)
        assert refused.value.params["field"] == "capability"

    @pytest.mark.parametrize(
        ("of_type", "fields", "field"),
        [
            (PUMP, {"capability": None}, "capability"),
            (PUMP, {"capability": 0}, "capability"),
            (PUMP, {"tier": "I"}, "tier"),
            (TEAM, {"capability": 30}, "tier"),
            (TEAM, {"capability": 30, "tier": "IV"}, "tier"),
            (PUMP, {"quantity": 0}, "quantity"),
            (PUMP, {"quantity": True}, "quantity"),
            (PUMP, {"latitude": 91}, "location"),
            (PUMP, {"ready_minutes": -1}, "ready_minutes"),
            (PUMP, {"resource_id": "a b"}, "id"),
            (PUMP, {"name": ""}, "name"),
            (PUMP, {"status": "assigned"}, "status"),
            (PUMP, {"status": "out_of_service"}, "status_reason"),
        ],
    )
    def test_given_a_broken_field_when_checked_then_refused_naming_it(
        self, of_type: ResourceType, fields: dict[str, object], field: str
    ) -> None:
        """Capability, tier, quantity, place, readiness, id, name and the initial
        status are each checked against the type."""
        with pytest.raises(ResourceInvalid) as refused:
            described(of_type, **fields)

        assert refused.value.params["field"] == field

    def test_given_out_of_service_with_a_reason_when_checked_then_kept(
        self,
    ) -> None:
        """A resource may be registered out of service, with its reason."""
        resource = described(status="out_of_service", status_reason=" impeller ")

        assert resource.status is Status.OUT_OF_SERVICE
        assert resource.status_reason == "impeller"


class TestTransitions:
    @pytest.mark.parametrize(
        ("start", "path"),
        [
            (Status.AVAILABLE, ["assigned", "en_route", "on_scene", "released",
                                "available"]),
            (Status.ASSIGNED, ["released", "available"]),
            (Status.EN_ROUTE, ["released"]),
            (Status.OUT_OF_SERVICE, ["available", "assigned"]),
        ],
    )  # fmt: skip
    def test_given_a_path_of_allowed_moves_when_followed_then_each_is_accepted(
        self, start: Status, path: list[str]
    ) -> None:
        """A response's usual life cycle is allowed step by step."""
        resource = pump(status=start)
        for step in path:
            change = change_status(resource, step)
            assert change is not None
            resource = pump(status=change.status, incident_id=change.incident_id)

        assert resource.status.value == path[-1]

    @pytest.mark.parametrize(
        ("start", "target"),
        [
            (Status.AVAILABLE, "on_scene"), (Status.AVAILABLE, "released"),
            (Status.ON_SCENE, "available"), (Status.OUT_OF_SERVICE, "assigned"),
            (Status.RELEASED, "en_route"),
        ],
    )  # fmt: skip
    def test_given_a_skipped_step_when_asked_then_refused_naming_both(
        self, start: Status, target: str
    ) -> None:
        """Moves that skip the life cycle are refused, naming both statuses."""
        with pytest.raises(TransitionNotAllowed) as refused:
            change_status(pump(status=start), target)

        assert refused.value.params == {"current": start.value, "requested": target}

    def test_given_out_of_service_without_reason_when_asked_then_refused(
        self,
    ) -> None:
        """Going out of service needs a reason; with one it is kept."""
        with pytest.raises(ResourceInvalid) as refused:
            change_status(pump(), "out_of_service", reason="  ")
        change = change_status(pump(), "out_of_service", reason="engine fault")

        assert refused.value.params["field"] == "reason"
        assert change is not None
        assert change.reason == "engine fault"

    def test_given_an_assigned_resource_when_it_moves_on_then_its_incident_stays(
        self,
    ) -> None:
        """En route and on scene keep the incident named when assigned; released
        drops it."""
        assigned = pump(status=Status.ASSIGNED, incident_id="INC-1")

        en_route = change_status(assigned, "en_route")
        released = change_status(assigned, "released")

        assert en_route is not None
        assert en_route.incident_id == "INC-1"
        assert released is not None
        assert released.incident_id is None

    def test_given_an_incident_on_a_non_engaged_status_when_asked_then_refused(
        self,
    ) -> None:
        """Only assigned, en-route and on-scene resources work for an incident."""
        with pytest.raises(ResourceInvalid) as refused:
            change_status(pump(status=Status.ON_SCENE), "released", incident_id="X")

        assert refused.value.params["field"] == "incident_id"

    def test_given_the_same_status_when_asked_then_nothing_changes(self) -> None:
        """Asking for the status a resource is in (same incident) is no change; an
        engaged resource may move to another incident."""
        assigned = pump(status=Status.ASSIGNED, incident_id="INC-1")

        same = change_status(assigned, "assigned")
        moved = change_status(assigned, "assigned", incident_id="INC-2")

        assert same is None
        assert moved is not None
        assert moved.incident_id == "INC-2"

    def test_given_an_unknown_status_when_asked_then_refused(self) -> None:
        """A status outside the list is refused naming the field."""
        with pytest.raises(ResourceInvalid) as refused:
            change_status(pump(), "lost")

        assert refused.value.params["field"] == "status"

    @settings(deadline=None)
    @given(start=st.sampled_from(list(Status)), target=st.sampled_from(list(Status)))
    def test_given_any_two_statuses_when_asked_then_the_table_decides(
        self, start: Status, target: Status
    ) -> None:
        """A move is accepted exactly when the table lists it (or it is no move)."""
        resource = pump(status=start)
        try:
            change = change_status(resource, target.value, reason="r")
        except TransitionNotAllowed:
            assert target not in TRANSITIONS[start]
            assert target is not start
            return

        if target is start:
            assert change is None
        else:
            assert change is not None
            assert target in TRANSITIONS[start]
            assert next_statuses(start).count(target) == 1

    def test_given_every_status_when_listed_then_each_can_come_back_available(
        self,
    ) -> None:
        """From every status a path leads back to available."""
        for start in Status:
            reached, pending = {start}, [start]
            while pending:
                for following in TRANSITIONS[pending.pop()]:
                    if following not in reached:
                        reached.add(following)
                        pending.append(following)
            assert Status.AVAILABLE in reached


class TestPermissions:
    @pytest.mark.parametrize(
        ("actor", "allowed"),
        [
            (person("duty_officer"), True), (person("head"), True),
            (person("duty_officer", department="FIRE"), False),
            (person("commander", department="EMB"), True),
            (person("admin", department="EMB"), True),
            (person("analyst"), False), (person("observer"), False),
            (person("connector"), True),
            (person("connector", department="FIRE"), False),
        ],
    )  # fmt: skip
    def test_given_an_actor_when_asked_then_status_changes_follow_the_rule(
        self, actor: Actor, allowed: bool
    ) -> None:
        """The owner's duty officers, heads and API keys, commanders and admins
        change a status; nobody else."""
        assert may_change_status(actor, "WATER") is allowed

    def test_given_a_commander_when_registering_then_refused(self) -> None:
        """Commanders deploy resources but do not describe other departments'."""
        assert may_register(person("commander", department="EMB"), "WATER") is False
        assert may_register(person("head"), "WATER") is True
