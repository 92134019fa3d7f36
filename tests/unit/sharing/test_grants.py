"""Scenario grants: which agreements an incident switches on, and where.

Pure: ``wanted_grants`` / ``reconcile`` across an incident's level changes and its
closing, categories by prefix, the circle a grant covers and where a record lies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from muster.sharing.domain.agreements import (
    Agreement,
    DatasetFacts,
    FieldFacts,
    parse_agreement,
)
from muster.sharing.domain.grants import (
    Grant,
    IncidentState,
    covering_grants,
    distance_km,
    grant_id,
    reconcile,
    record_position,
    wanted_grants,
)

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
FACTS = DatasetFacts(
    code="HEALTH_RESIDENTS",
    owner="HEALTH",
    sharing_class="NOT_SHARED",
    grade="IMPORTANT",
    fields=(
        FieldFacts("name", "string", "personal"),
        FieldFacts("district", "string"),
        FieldFacts("location", "point", "location"),
    ),
)
INCIDENT = IncidentState(
    id="inc-1",
    type_code="11A01",
    level="L3",
    status="responding",
    latitude=28.2,
    longitude=112.9,
)


def emergency(
    code: str = "RESIDENTS_FLOOD",
    *,
    categories: Sequence[str] = ("11A",),
    min_level: str = "L2",
    within_km: float | None = 5,
    valid_until: str | None = None,
) -> Agreement:
    """Return an emergency agreement switched on by floods at min_level or higher."""
    return parse_agreement(
        {
            "code": code,
            "dataset": FACTS.code,
            "consumers": ["FIRE"],
            "purposes": ["evacuation"],
            "legal_basis": "EMERGENCY",
            "valid_until": valid_until,
            "conditions": {
                "incident": {
                    "categories": list(categories),
                    "min_level": min_level,
                    "within_km": within_km,
                }
            },
        },
        FACTS,
        departments=frozenset({"FIRE", "HEALTH"}),
    )


def at(
    level: str | None, status: str = "responding", **changes: object
) -> IncidentState:
    """Return the incident at a level and status."""
    return replace(INCIDENT, level=level, status=status, **changes)  # type: ignore[arg-type]


def step(
    agreement: Agreement,
    incident: IncidentState,
    active: dict[str, Grant],
    now: datetime = NOW,
    *,
    agreements: dict[str, Agreement] | None = None,
) -> tuple[dict[str, Grant], list[Grant], list[tuple[Grant, str]]]:
    """Reconcile once; return the grants active afterwards, the started, the ended."""
    known = {agreement.code: agreement} if agreements is None else agreements
    start, end = reconcile(known, [incident], active, now)
    after = dict(active)
    for grant, _ in end:
        after.pop(grant.grant_id, None)
    after.update({grant.grant_id: grant for grant in start})
    return after, start, end


class TestWantedGrants:
    def test_an_incident_below_the_level_switches_nothing_on(self) -> None:
        """A flood at L3 does not meet a condition of L2."""
        assert wanted_grants([emergency()], [at("L3")], NOW) == {}

    def test_an_incident_at_the_level_switches_the_agreement_on_around_it(
        self,
    ) -> None:
        """A flood at L2 activates the grant, centred on the incident, with the
        agreement's radius."""
        wanted = wanted_grants([emergency()], [at("L2")], NOW)

        key = grant_id("RESIDENTS_FLOOD", "inc-1")
        assert list(wanted) == [key]
        grant = wanted[key]
        assert (grant.dataset, grant.incident_id, grant.level) == (
            FACTS.code,
            "inc-1",
            "L2",
        )
        assert (grant.latitude, grant.longitude, grant.radius_km) == (28.2, 112.9, 5.0)

    @pytest.mark.parametrize(
        ("categories", "type_code", "met"),
        [
            (("11A",), "11A01", True),
            (("11B", "11A"), "11A01", True),
            (("11B",), "11A01", False),
            (("11A00",), "11A01", True),
            ((), "41B02", True),
            (("11A",), None, False),
        ],
    )
    def test_categories_are_code_prefixes(
        self, categories: tuple[str, ...], type_code: str | None, met: bool
    ) -> None:
        """A grant needs the incident's type to start with one of the categories."""
        wanted = wanted_grants(
            [emergency(categories=categories)], [at("L1", type_code=type_code)], NOW
        )

        assert bool(wanted) is met

    def test_closed_incidents_and_incidents_without_level_switch_nothing_on(
        self,
    ) -> None:
        """A closed incident, or one not yet responding at a level, grants nothing."""
        assert wanted_grants([emergency()], [at("L1", status="closed")], NOW) == {}
        assert wanted_grants([emergency(min_level="L4")], [at(None)], NOW) == {}

    def test_an_expired_agreement_switches_nothing_on(self) -> None:
        """An agreement past valid_until grants nothing."""
        agreement = emergency(valid_until="2026-07-01T07:00:00Z")

        assert wanted_grants([agreement], [at("L1")], NOW) == {}


class TestReconcile:
    def test_l3_to_l2_activates_the_grant(self) -> None:
        """Raising the flood from L3 to L2 starts the L2 agreement's grant."""
        agreement = emergency()
        active, start, end = step(agreement, at("L3"), {})
        assert (active, start, end) == ({}, [], [])

        active, start, end = step(agreement, at("L2"), active)

        assert [grant.grant_id for grant in start] == ["RESIDENTS_FLOOD@inc-1"]
        assert end == []

    def test_l2_to_l1_keeps_the_same_grant(self) -> None:
        """Raising further keeps the grant: no end and no new start."""
        agreement = emergency()
        active, _, _ = step(agreement, at("L2"), {})

        after, start, end = step(agreement, at("L1"), active)

        assert (start, end) == ([], [])
        assert after == active

    def test_l1_to_l3_ends_the_grant_below_its_level(self) -> None:
        """Lowering below the condition ends the grant: level_below_condition."""
        agreement = emergency()
        active, _, _ = step(agreement, at("L1"), {})

        after, start, end = step(agreement, at("L3"), active)

        assert start == []
        assert [(grant.grant_id, reason) for grant, reason in end] == [
            ("RESIDENTS_FLOOD@inc-1", "level_below_condition")
        ]
        assert after == {}

    def test_closing_ends_the_grant(self) -> None:
        """Closing the incident ends the grant: incident_closed."""
        agreement = emergency()
        active, _, _ = step(agreement, at("L2"), {})

        _, _, end = step(agreement, at("L2", status="closed"), active)

        assert [reason for _, reason in end] == ["incident_closed"]

    def test_a_vanished_incident_counts_as_closed(self) -> None:
        """An incident no longer among the open ones ended the grant by closing."""
        agreement = emergency()
        active, _, _ = step(agreement, at("L2"), {})

        _, end = reconcile({agreement.code: agreement}, [], active, NOW)

        assert [reason for _, reason in end] == ["incident_closed"]

    def test_revoking_the_agreement_ends_the_grant(self) -> None:
        """A grant whose agreement is gone ends: agreement_revoked."""
        agreement = emergency()
        active, _, _ = step(agreement, at("L2"), {})

        _, _, end = step(agreement, at("L2"), active, agreements={})

        assert [reason for _, reason in end] == ["agreement_revoked"]

    def test_expiry_of_the_agreement_ends_the_grant(self) -> None:
        """A grant whose agreement ran out ends: agreement_expired."""
        agreement = emergency(valid_until="2026-07-02T00:00:00Z")
        active, _, _ = step(agreement, at("L2"), {})

        _, start, end = step(agreement, at("L2"), active, NOW + timedelta(days=1))

        assert start == []
        assert [reason for _, reason in end] == ["agreement_expired"]

    def test_a_moved_incident_replaces_the_grant(self) -> None:
        """When the incident's position changes the grant ends (area_changed) and
        starts again around the new position."""
        agreement = emergency()
        active, _, _ = step(agreement, at("L2"), {})

        _, start, end = step(agreement, at("L2", latitude=28.3), active)

        assert [reason for _, reason in end] == ["area_changed"]
        assert [grant.latitude for grant in start] == [28.3]

    def test_a_changed_category_ends_the_grant(self) -> None:
        """When the incident's type leaves the categories: category_changed."""
        agreement = emergency()
        active, _, _ = step(agreement, at("L2"), {})

        _, _, end = step(agreement, at("L2", type_code="11B01"), active)

        assert [reason for _, reason in end] == ["category_changed"]


class TestArea:
    def test_distance_is_great_circle_km(self) -> None:
        """One degree of latitude is about 111.2 km; a point is 0 km from itself."""
        assert distance_km(28.0, 112.9, 29.0, 112.9) == pytest.approx(111.19, abs=0.01)
        assert distance_km(28.2, 112.9, 28.2, 112.9) == 0.0

    def test_covering_grants_by_distance(self) -> None:
        """A record 3.3 km away is in a 5 km grant, not in a 2 km one; a record
        without position and grants without a radius are never listed."""
        wide = wanted_grants([emergency("WIDE", within_km=5)], [at("L1")], NOW)
        narrow = wanted_grants([emergency("NARROW", within_km=2)], [at("L1")], NOW)
        anywhere = wanted_grants(
            [emergency("ANYWHERE", within_km=None)], [at("L1")], NOW
        )
        grants = [*wide.values(), *narrow.values(), *anywhere.values()]
        near = (28.23, 112.9)  # 3.3 km north

        assert distance_km(28.2, 112.9, *near) == pytest.approx(3.34, abs=0.01)
        assert covering_grants(near, grants) == frozenset({"WIDE@inc-1"})
        assert covering_grants((28.2, 112.9), grants) == frozenset(
            {"WIDE@inc-1", "NARROW@inc-1"}
        )
        assert covering_grants((29.0, 112.9), grants) == frozenset()
        assert covering_grants(None, grants) == frozenset()
        assert next(iter(anywhere.values())).covers(40.0, 116.0)

    def test_position_from_a_point_field(self) -> None:
        """A point field holds [lat, lon]; the first point field with one wins."""
        values = {"location": [28.21, 112.91], "other": [1, 2]}

        assert record_position(values, None, ("location", "other")) == (28.21, 112.91)
        assert record_position(
            {"location": None, "other": [1, 2]}, None, ("location", "other")
        ) == (1.0, 2.0)

    def test_position_from_a_geojson_point(self) -> None:
        """Without a point field, a GeoJSON Point (lon, lat) gives the position."""
        geometry = {"type": "Point", "coordinates": [112.91, 28.21]}

        assert record_position({"location": None}, geometry, ("location",)) == (
            28.21,
            112.91,
        )

    @pytest.mark.parametrize(
        ("values", "geometry"),
        [
            ({}, None),
            ({"location": "28.2,112.9"}, None),
            ({"location": [28.2]}, None),
            ({}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1]]]}),
            ({}, {"type": "Point", "coordinates": ["a", "b"]}),
        ],
    )
    def test_no_position_when_none_can_be_read(
        self, values: dict[str, object], geometry: dict[str, object] | None
    ) -> None:
        """Other shapes give no position (the record is then in no grant's area)."""
        assert record_position(values, geometry, ("location",)) is None
