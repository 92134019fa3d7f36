"""Kinds of timeline events and the departments an entry concerns (no database)."""

from __future__ import annotations

import pytest

from muster.core.messages import registered_event_types
from muster.response.queries import TimelineEntry
from muster.review.timeline import KINDS, departments_of, kind_of


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("response.ResponseLevelChanged", "level"),
        ("response.ResponseActivated", "plan"),
        ("response.PlanRegistered", "plan"),
        ("response.TaskAssigned", "task"),
        ("response.TaskOverdue", "task"),
        ("response.ChecklistItemChecked", "task"),
        ("response.DecisionSigned", "decision"),
        ("response.SituationReportSent", "report"),
        ("response.ReportOverdue", "report"),
        ("response.EscalationStepReached", "escalation"),
        ("response.DepartmentMarkedUnresponsive", "escalation"),
        ("response.IncidentStatusChanged", "status"),
        ("response.IncidentOpened", "status"),
        ("ingest.BatchIngested", "data"),
        ("sharing.GrantActivated", "sharing"),
        ("situation.TriggerFired", "situation"),
        ("notify.NotificationQueued", "notification"),
        ("identity.UserSignedIn", "other"),
    ],
)
def test_given_an_event_type_when_classified_then_its_kind(
    event_type: str, kind: str
) -> None:
    """Kinds follow the part and the words of the event's name."""
    assert kind_of(event_type) == kind


def test_given_every_registered_event_when_classified_then_a_known_kind() -> None:
    """Every event type Muster records maps to one of the listed kinds."""
    kinds = {kind_of(name) for name in registered_event_types()}

    assert kinds <= set(KINDS)


def test_given_an_entry_when_asked_its_departments_then_actor_and_named() -> None:
    """An entry concerns its actor's department and every department it names."""
    entry = TimelineEntry(
        seq=3, type="response.TaskReassigned", at="2026-07-01T08:00:00.000000Z",
        actor_id="u1", department="EMB",
        data={"from_department": "TRANSPORT", "to_department": "WATER",
              "supporting_departments": ["MET"]},
    )  # fmt: skip

    assert departments_of(entry) == {"EMB", "TRANSPORT", "WATER", "MET"}
