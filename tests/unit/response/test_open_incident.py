"""The pure decision to open an incident (response.domain.model.open_incident)."""

from __future__ import annotations

import pytest

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor
from muster.response.domain.events import IncidentOpened
from muster.response.domain.model import IncidentDraft, open_incident

DUTY = Actor(kind="user", id="u1", department="FIRE", roles=frozenset({"duty_officer"}))
OBSERVER = Actor(kind="user", id="u2", department="FIRE", roles=frozenset({"observer"}))
FIRE_KEY = Actor(
    kind="api_key", id="k1", department="FIRE", roles=frozenset({"connector"})
)


def _draft(**changes: object) -> IncidentDraft:
    fields: dict[str, object] = {
        "incident_id": "i-1",
        "title": "  Landslide on S203 km 12  ",
        "category": "NATURAL_DISASTER",
        "latitude": 28.2,
        "longitude": 112.9,
        "description": "Slope failure blocks both lanes.",
        "reporting_department": None,
    }
    fields.update(changes)
    return IncidentDraft(**fields)  # type: ignore[arg-type]


class TestOpenIncident:
    def test_duty_officer_opens_for_own_department(self) -> None:
        """A duty officer opens an incident reported by their own department."""
        draft = _draft()

        events = open_incident(draft, actor=DUTY)

        assert events == [
            IncidentOpened(
                incident_id="i-1",
                title="Landslide on S203 km 12",
                category="NATURAL_DISASTER",
                latitude=28.2,
                longitude=112.9,
                description="Slope failure blocks both lanes.",
                reporting_department="FIRE",
            )
        ]

    def test_observer_is_refused(self) -> None:
        """An observer may read incidents but not open one."""
        draft = _draft()

        with pytest.raises(PermissionDenied):
            open_incident(draft, actor=OBSERVER)

    def test_api_key_cannot_report_for_another_department(self) -> None:
        """A connector key acts for its own department only."""
        draft = _draft(reporting_department="PSB")

        with pytest.raises(PermissionDenied):
            open_incident(draft, actor=FIRE_KEY)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"title": "   "}, "title"),
            ({"title": "x" * 201}, "title"),
            ({"category": "VOLCANO"}, "category"),
            ({"latitude": 91.0}, "location"),
            ({"longitude": -181.0}, "location"),
            ({"description": "x" * 5001}, "description"),
        ],
    )
    def test_malformed_input_names_the_field(
        self, changes: dict[str, object], field: str
    ) -> None:
        """Each malformed input is refused with the field it concerns."""
        draft = _draft(**changes)

        with pytest.raises(ValidationFailed) as refused:
            open_incident(draft, actor=DUTY)

        assert refused.value.params["field"] == field
