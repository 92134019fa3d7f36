"""Joint assessment through the bus: open, views, revision, conclusion that proposes a
joint decision, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.errors import DomainError, PermissionDenied, ValidationFailed
from muster.core.messages import Actor
from muster.response import queries as response_queries
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings
from muster.situation import queries
from muster.situation.domain.commands import (
    ConcludeAssessment,
    OpenAssessment,
    SubmitView,
)
from tests.prepared import example_pack, prepared_for

START = datetime(2026, 7, 1, tzinfo=UTC)
COMMANDER = Actor(
    kind="user", id="cmd", department="EMB", roles=frozenset({"commander"})
)


def _duty(department: str) -> Actor:
    return Actor(kind="user", id=f"{department.lower()}.duty", department=department,
                 roles=frozenset({"duty_officer"}))  # fmt: skip


prepared = prepared_for("city", example_pack(at=START))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """The demo pack on a simulated clock (the test's copy of it loaded once:
    ``prepared``, tests/prepared.py)."""
    muster = bootstrap(settings, clock=SimulatedClock(START))
    yield muster
    muster.engine.dispose()


def test_given_an_assessment_when_departments_give_views_and_it_concludes_then_a_decision_is_proposed(  # noqa: E501
    city: Muster,
) -> None:
    """Given a flood incident and an assessment asking WATER, MET and NATRES, when
    two give views (one revised) and the commander concludes with a decision, then
    the combined view shows the disagreement and the decision cites the assessment."""
    incident_id = city.bus.handle(
        OpenIncident(title="澜江洪水", category="NATURAL_DISASTER", latitude=28.2,
                     longitude=112.9, type_code="11A01"),
        COMMANDER,
    )  # fmt: skip
    assessment_id = city.bus.handle(
        OpenAssessment(incident_id=incident_id, topic="未来24小时洪水风险",
                       departments=("WATER", "MET", "NATRES")),
        COMMANDER,
    )  # fmt: skip
    city.bus.handle(
        SubmitView(assessment_id=assessment_id, level="orange", confidence="high",
                   note="H-LJ-01 超警戒0.4米",
                   evidence=("trigger:RIVER_ABOVE_WARNING",)),
        _duty("WATER"),
    )  # fmt: skip
    city.bus.handle(
        SubmitView(assessment_id=assessment_id, level="yellow", confidence="medium"),
        _duty("MET"),
    )
    revised = city.bus.handle(
        SubmitView(assessment_id=assessment_id, level="red", confidence="medium",
                   note="雨带北移"),
        _duty("MET"),
    )  # fmt: skip
    assert revised == "revised"
    with pytest.raises(PermissionDenied):
        city.bus.handle(
            SubmitView(assessment_id=assessment_id, level="red", confidence="low"),
            _duty("FIRE"),
        )

    with city.engine.connect() as conn:
        shown = queries.assessment(conn, assessment_id)
    assert shown is not None
    assert shown.combined.by_level == {"orange": ("WATER",), "red": ("MET",)}
    assert (shown.combined.agreement, shown.combined.missing) == (False, ("NATRES",))

    decision_id = city.bus.handle(
        ConcludeAssessment(assessment_id=assessment_id, conclusion="按橙色风险准备",
                           level="orange", decision_title="启动防汛三级响应"),
        COMMANDER,
    )  # fmt: skip
    with city.engine.connect() as conn:
        (decision,) = response_queries.incident_decisions(conn, incident_id)
        shown = queries.assessment(conn, assessment_id)
    assert decision.id == decision_id
    assert f"assessment:{assessment_id}" in decision.evidence
    assert shown is not None
    assert shown.status == "concluded"
    with pytest.raises(DomainError):
        city.bus.handle(
            SubmitView(assessment_id=assessment_id, level="red", confidence="low"),
            _duty("NATRES"),
        )


def test_given_a_bad_assessment_request_when_opened_then_it_is_refused(
    city: Muster,
) -> None:
    """Given one department only, or a duty officer opening it, refuse."""
    incident_id = city.bus.handle(
        OpenIncident(title="滑坡", category="NATURAL_DISASTER", latitude=28.4,
                     longitude=112.7, type_code="11D00"),
        COMMANDER,
    )  # fmt: skip
    with pytest.raises(ValidationFailed):
        city.bus.handle(
            OpenAssessment(incident_id=incident_id, topic="x", departments=("NATRES",)),
            COMMANDER,
        )
    with pytest.raises(PermissionDenied):
        city.bus.handle(
            OpenAssessment(incident_id=incident_id, topic="x",
                           departments=("NATRES", "MET")),
            _duty("NATRES"),
        )  # fmt: skip
