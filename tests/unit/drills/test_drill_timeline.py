"""The runner's order of play, and its refusal of CAP alerts that are no exercise."""

from __future__ import annotations

import pytest

from muster.drills.cap_guard import require_exercise_cap
from muster.drills.domain.errors import InjectRefused
from muster.drills.domain.scenario import Inject, ScriptedAction
from muster.drills.inject_commands import check_scenario
from muster.drills.runner import timeline
from tests.drill_setup import EXERCISE_CAP, small_scenario


def _name(item: Inject | ScriptedAction) -> str:
    return item.id if isinstance(item, Inject) else item.action


def test_given_a_scenario_when_scripted_then_injects_come_first_at_each_minute() -> (
    None
):
    """Steps run in minute order; an inject precedes an action of the same minute."""
    scenario = small_scenario(cap_status="Exercise")

    steps = timeline(scenario, scripted=True)

    assert [(s.at_minutes, _name(s.item)) for s in steps] == [
        (0, "flooding"), (5, "briefing"), (8, "rainfall"), (9, "warning"),
        (10, "activate_plan"), (12, "acknowledge_task"), (30, "acknowledge_task"),
        (35, "start_task"),
    ]  # fmt: skip


def test_given_people_playing_when_not_scripted_then_only_injects_are_played() -> None:
    """A served drill plays the injects only; people act for the departments."""
    steps = timeline(small_scenario(), scripted=False)

    assert [s.at_minutes for s in steps] == [0, 5, 8]


@pytest.mark.parametrize("status", ["Actual", "System", "Test", "Draft", "exercise"])
def test_given_a_cap_alert_that_is_no_exercise_when_checked_then_it_is_refused(
    status: str,
) -> None:
    """Only status Exercise may be played; everything else is refused."""
    with pytest.raises(InjectRefused):
        require_exercise_cap(EXERCISE_CAP.format(status=status))
    with pytest.raises(InjectRefused):
        check_scenario(small_scenario(cap_status=status))


def test_given_an_envelope_with_one_real_alert_when_checked_then_it_is_refused() -> (
    None
):
    """Every alert of a document must be an exercise, not just the first."""
    two = EXERCISE_CAP.format(status="Exercise") + EXERCISE_CAP.format(status="Actual")

    with pytest.raises(InjectRefused):
        require_exercise_cap(two)
    require_exercise_cap(EXERCISE_CAP.format(status="Exercise"))
