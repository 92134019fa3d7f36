"""The bulletin's comparison of two periods: ranks, changes and highlights (pure)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from muster.review.domain.bulletin import compare, ranks
from muster.review.domain.scorecard import DepartmentScore, Scorecard


def _card(
    scores: dict[str, Fraction | None], *, is_exercise: bool = False
) -> Scorecard:
    return Scorecard(
        is_exercise=is_exercise,
        incident_id=None,
        departments=tuple(
            DepartmentScore(code, (), (), score) for code, score in scores.items()
        ),
    )


class TestRanks:
    def test_given_tied_scores_when_ranked_then_they_share_a_rank_and_skip(
        self,
    ) -> None:
        """Equal scores share a rank and the next rank skips ("1224"); no score, no
        rank."""
        scores = {
            "A": Fraction(90),
            "B": Fraction(80),
            "C": Fraction(80),
            "D": Fraction(10),
            "E": None,
        }

        assert ranks(scores) == {"A": 1, "B": 2, "C": 2, "D": 4}

    @settings(deadline=None)
    @given(
        st.dictionaries(
            st.sampled_from("ABCDEFGH"),
            st.one_of(st.none(), st.fractions(min_value=0, max_value=100)),
        )
    )
    def test_given_any_scores_when_ranked_then_rank_counts_better_ones(
        self, scores: dict[str, Fraction | None]
    ) -> None:
        """A department's rank is one more than the number of strictly higher
        scores."""
        ranked = ranks(scores)

        for department, rank in ranked.items():
            score = scores[department]
            assert score is not None
            higher = [s for s in scores.values() if s is not None and s > score]
            assert rank == 1 + len(higher)
        assert set(ranked) == {d for d, s in scores.items() if s is not None}


class TestCompare:
    def test_given_two_periods_when_compared_then_changes_and_highlights(
        self,
    ) -> None:
        """Changes pair each department's scores; the most improved has the largest
        rise, the lowest the lowest score, and known departments without figures
        this period are inactive."""
        previous = [_card({"FIRE": Fraction(50), "WATER": Fraction(80)})]
        current = [
            _card({"FIRE": Fraction(75), "WATER": Fraction(70), "MET": None}),
        ]

        (live,) = compare(current, previous, known=("FIRE", "MET", "POWER", "WATER"))

        assert [row.department for row in live.departments] == ["FIRE", "WATER", "MET"]
        assert live.of("FIRE").change == Fraction(25)
        assert (live.of("FIRE").rank, live.of("FIRE").previous_rank) == (1, 2)
        assert live.of("WATER").change == Fraction(-10)
        assert live.of("MET").rank is None
        assert live.of("MET").change is None
        assert live.most_improved == ("FIRE",)
        assert live.lowest == ("WATER",)
        assert live.inactive == ("POWER",)
        assert live.is_exercise is False

    def test_given_only_declines_when_compared_then_nobody_is_most_improved(
        self,
    ) -> None:
        """Most improved needs a rise: with only falls it names nobody."""
        previous = [_card({"FIRE": Fraction(60)})]
        current = [_card({"FIRE": Fraction(40)})]

        (live,) = compare(current, previous)

        assert live.most_improved == ()
        assert live.lowest == ("FIRE",)

    def test_given_drills_in_one_period_when_compared_then_drills_stay_apart(
        self,
    ) -> None:
        """Drills form their own scope, compared only with drills; a period without
        drills names nobody inactive in drills."""
        previous = [
            _card({"FIRE": Fraction(40)}),
            _card({"FIRE": Fraction(100)}, is_exercise=True),
        ]
        current = [_card({"FIRE": Fraction(50)})]

        live, drill = compare(current, previous, known=("FIRE", "WATER"))

        assert live.of("FIRE").change == Fraction(10)
        assert drill.is_exercise is True
        assert drill.of("FIRE").previous_score == Fraction(100)
        assert drill.of("FIRE").score is None
        assert drill.inactive == ()
        assert live.inactive == ("WATER",)

    def test_given_no_drills_when_compared_then_only_live(self) -> None:
        """Without drills in either period there is only the live scope."""
        assert len(compare([_card({})], [_card({})])) == 1
