"""Joint assessment: views side by side, agreement and disagreement."""

from __future__ import annotations

import pytest

from muster.core.errors import ValidationFailed
from muster.situation.domain.assessment import View, check_view, combine


def _view(department: str, level: str) -> View:
    return View(department, level, "medium", "", (), f"{department.lower()}.duty", "t")


def test_given_views_that_agree_when_combined_then_the_consensus_is_theirs() -> None:
    """Given two departments at orange, when combined, then they agree at orange."""
    combined = combine(["WATER", "MET", "EMB"], [_view("WATER", "orange"),
                                                 _view("MET", "orange")])  # fmt: skip
    assert (combined.consensus, combined.agreement) == ("orange", True)
    assert combined.missing == ("EMB",)
    assert combined.spread == ("orange", "orange")


def test_given_views_that_differ_when_combined_then_spread_and_outliers_show() -> None:
    """Given blue, orange, orange and red, when combined, then orange is the
    consensus, the spread is blue..red and blue stands two levels apart."""
    combined = combine(
        ["A", "B", "C", "D"],
        [_view("A", "blue"), _view("B", "orange"), _view("C", "orange"),
         _view("D", "red")],
    )  # fmt: skip
    assert (combined.consensus, combined.agreement) == ("orange", False)
    assert combined.spread == ("blue", "red")
    assert combined.outliers == ("A",)
    assert combined.by_level == {"blue": ("A",), "orange": ("B", "C"), "red": ("D",)}


def test_given_a_tie_or_a_revision_when_combined_then_the_higher_and_latest_count() -> (
    None
):
    """Given a tie between yellow and red, then red (就高); a revised view replaces
    the department's earlier one."""
    tie = combine(["A", "B"], [_view("A", "yellow"), _view("B", "red")])
    assert tie.consensus == "red"
    revised = combine(["A", "B"], [_view("A", "yellow"), _view("B", "red"),
                                   _view("B", "yellow")])  # fmt: skip
    assert (revised.consensus, revised.agreement) == ("yellow", True)
    assert combine(["A"], []).consensus is None


@pytest.mark.parametrize(
    ("level", "confidence", "note", "evidence"),
    [("purple", "low", "", ()), ("red", "sure", "", ()), ("red", "low", "x" * 2001, ()),
     ("red", "low", "", (" ",))],
)  # fmt: skip
def test_given_a_malformed_view_when_checked_then_it_is_refused(
    level: str, confidence: str, note: str, evidence: tuple[str, ...]
) -> None:
    """Given an unknown level or confidence, a long note or blank evidence, refuse."""
    with pytest.raises(ValidationFailed):
        check_view(level, confidence, note, evidence)
