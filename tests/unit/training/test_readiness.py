"""The readiness rules: ready, partly ready, not ready, and the city's totals."""

from __future__ import annotations

from muster.training.domain.model import Tier
from muster.training.domain.readiness import (
    DrillOutcome,
    Level,
    Reason,
    RoleCoverage,
    assess,
    city_totals,
    role_coverage,
)


def _drill(met: int = 3, late: int = 0, missed: int = 0) -> DrillOutcome:
    return DrillOutcome(
        drill_id="d1", scenario_code="FLOOD", title_zh="洪水", title_en="Flood",
        finished_at="2026-11-01T10:00:00Z", met=met, late=late, missed=missed,
    )  # fmt: skip


def _duty(holders: int, trained: int, advanced: int) -> RoleCoverage:
    return RoleCoverage("duty_officer", holders, trained, advanced, True)


def _head(holders: int, trained: int) -> RoleCoverage:
    return RoleCoverage("head", holders, trained, 0, False)


def test_given_everyone_trained_and_a_clean_drill_when_assessed_then_ready() -> None:
    """Full coverage, an advanced duty officer and a last drill without misses."""
    found = assess(
        "FIRE", roles=[_duty(2, 2, 1), _head(1, 1)], drills=[_drill(missed=2), _drill()]
    )

    assert found.level is Level.READY
    assert found.reasons == ()
    assert found.drills_joined == 2
    assert found.last_drill == _drill()


def test_given_no_drill_when_assessed_then_partly_ready_saying_so() -> None:
    """Trained people alone are not enough: a drill must have been joined."""
    found = assess("FIRE", roles=[_duty(1, 1, 1)], drills=[])

    assert found.level is Level.PARTLY
    assert found.reasons == (Reason("no_drill"),)
    assert found.last_drill is None


def test_given_half_trained_and_no_advanced_when_assessed_then_partly_ready() -> None:
    """Exactly half trained is partly ready; so is a role without advanced holder."""
    found = assess("WATER", roles=[_duty(2, 1, 0)], drills=[_drill(met=1, late=1)])

    assert found.level is Level.PARTLY
    assert found.reasons == (
        Reason("role_not_all_trained", "duty_officer"),
        Reason("no_advanced", "duty_officer"),
    )


def test_given_under_half_of_a_role_trained_when_assessed_then_not_ready() -> None:
    """Fewer than half of the heads trained blocks readiness."""
    found = assess("HEALTH", roles=[_duty(1, 1, 1), _head(3, 1)], drills=[_drill()])

    assert found.level is Level.NOT_READY
    assert found.reasons == (Reason("role_under_half", "head"),)


def test_given_nobody_in_a_measured_role_when_assessed_then_not_ready() -> None:
    """A department with nobody to train cannot answer a call."""
    found = assess("POWER", roles=[_duty(0, 0, 0)], drills=[_drill()])

    assert found.level is Level.NOT_READY
    assert found.reasons == (Reason("no_people"),)


def test_given_a_last_drill_mostly_missed_when_assessed_then_not_ready() -> None:
    """Missing more actions than were done (on time or late) blocks readiness;
    some misses only make it partly ready."""
    roles = [_duty(1, 1, 1)]

    mostly = assess("PSB", roles=roles, drills=[_drill(met=1, late=1, missed=3)])
    some = assess("PSB", roles=roles, drills=[_drill(met=1, late=1, missed=2)])

    assert mostly.level is Level.NOT_READY
    assert mostly.reasons == (Reason("last_drill_mostly_missed"),)
    assert some.level is Level.PARTLY
    assert some.reasons == (Reason("last_drill_missed"),)


def test_given_tiers_when_covering_a_role_then_only_holders_count() -> None:
    """Trained people who do not hold the role are not counted for it."""
    tiers = {"u1": Tier.ADVANCED, "u2": Tier.BASIC, "outsider": Tier.BASIC}

    found = role_coverage(
        "duty_officer",
        holders=["u1", "u2", "u3"],
        tiers=tiers,
        has_advanced_course=True,
    )

    assert found == RoleCoverage("duty_officer", 3, 2, 1, True)


def test_given_departments_when_totalled_then_roles_summed_and_levels_counted() -> None:
    """The city row sums each role and counts departments per level."""
    ready = assess("FIRE", roles=[_duty(2, 2, 1), _head(1, 1)], drills=[_drill()])
    not_ready = assess("POWER", roles=[_duty(1, 0, 0), _head(0, 0)], drills=[])

    totals = city_totals([ready, not_ready], drills=4)

    assert totals.roles == (_duty(3, 2, 1), _head(1, 1))
    assert totals.drills == 4
    assert totals.levels == {"ready": 1, "partly": 0, "not_ready": 1}
