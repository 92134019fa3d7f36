"""The allocation model, the MILP against brute force, explanations and the fallback.

The optimality claim: on small random instances HiGHS's allocation has exactly the
brute-force optimum's priority-weighted unmet demand and (to rounding) its travel
time. The explanation claims: every assignment of an optimal allocation names its
competing requests with one of the three reasons an optimum allows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.errors import ValidationFailed
from muster.resources.domain.allocation import (
    AllocationPolicy,
    AllocationProblem,
    Location,
    Pair,
    PairIndex,
    Request,
    Supply,
    TravelTable,
    compatible_pairs,
    evaluate,
    rejection,
    unmet_weight,
)
from muster.resources.domain.allocation_baselines import (
    brute_force,
    greedy_nearest_first,
)
from muster.resources.optimiser import build_model, propose, solve_model

HERE = Location(28.2, 112.9)
NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def pump(supply_id: str, quantity: int = 1, capability: float = 300.0) -> Supply:
    """Return a drainage pump supply held by the fire department."""
    return Supply(supply_id, "FIRE", "PUMP", quantity, HERE, capability=capability)


def need(request_id: str, priority: int, quantity: int = 1, **more: object) -> Request:
    """Return a request for pumps."""
    return Request(request_id, "PUMP", quantity, HERE, priority=priority, **more)  # type: ignore[arg-type]


def problem(
    requests: list[Request],
    supplies: list[Supply],
    minutes: dict[tuple[str, str], float],
    **more: object,
) -> AllocationProblem:
    """Return a problem with the given road minutes (missing pairs: no route)."""
    return AllocationProblem(
        tuple(requests),
        tuple(supplies),
        TravelTable(minutes),
        **more,  # type: ignore[arg-type]
    )


@st.composite
def instances(draw: st.DrawFn) -> AllocationProblem:
    """Draw a tiny instance: ≤ 3 supplies of ≤ 3 units, ≤ 4 requests, 2 types."""
    types = ("PUMP", "BOAT")
    supplies = [
        Supply(
            f"S{k}",
            draw(st.sampled_from(("FIRE", "WATER"))),
            draw(st.sampled_from(types)),
            draw(st.integers(0, 3)),
            HERE,
            capability=draw(st.sampled_from((1.0, 2.0, 3.0))),
        )
        for k in range(draw(st.integers(1, 3)))
    ]
    requests = [
        Request(
            f"Q{k}",
            draw(st.sampled_from(types)),
            draw(st.integers(1, 3)),
            HERE,
            priority=draw(st.integers(1, 4)),
            min_capability=draw(st.sampled_from((None, 1.0, 2.0, 3.0))),
        )
        for k in range(draw(st.integers(1, 4)))
    ]
    minutes = {
        (s.id, r.id): float(m)
        for s in supplies
        for r in requests
        if (m := draw(st.one_of(st.none(), st.integers(1, 90)))) is not None
    }
    return problem(requests, supplies, minutes)


@st.composite
def rule_cases(draw: st.DrawFn) -> AllocationProblem:
    """Draw an instance exercising every usability rule (tiers, deadlines, limits)."""
    supplies = [
        Supply(
            f"S{k}",
            "FIRE",
            draw(st.sampled_from(("PUMP", "BOAT"))),
            draw(st.integers(0, 2)),
            HERE,
            capability=draw(st.sampled_from((None, 1.0, 2.0))),
            tier=draw(st.sampled_from((None, 1, 2, 3))),
            ready_minutes=draw(st.sampled_from((0.0, 20.0))),
        )
        for k in range(draw(st.integers(1, 4)))
    ]
    requests = [
        Request(
            f"Q{k}",
            draw(st.sampled_from(("PUMP", "BOAT"))),
            1,
            HERE,
            min_capability=draw(st.sampled_from((None, 1.5))),
            max_tier=draw(st.sampled_from((None, 2))),
            needed_by=draw(st.sampled_from((None, NOW + timedelta(minutes=40)))),
        )
        for k in range(draw(st.integers(1, 4)))
    ]
    minutes = {
        (s.id, r.id): float(m)
        for s in supplies
        for r in requests
        if (m := draw(st.one_of(st.none(), st.integers(1, 90)))) is not None
    }
    policy = AllocationPolicy(
        allow_late=draw(st.booleans()),
        max_travel_minutes=draw(st.sampled_from((None, 60.0))),
    )
    return problem(requests, supplies, minutes, now=NOW, policy=policy)


class TestRules:
    @settings(deadline=None, max_examples=150)
    @given(rule_cases())
    def test_given_any_instance_when_pairs_are_listed_then_they_follow_the_rules(
        self, instance: AllocationProblem
    ) -> None:
        """The inlined ``compatible_pairs`` agrees with ``rejection`` pair by pair."""
        expected = [
            found
            for q in range(len(instance.requests))
            for s in range(len(instance.supplies))
            if isinstance(found := rejection(instance, s, q), Pair)
            and instance.supplies[s].quantity > 0
        ]
        pairs = compatible_pairs(instance)
        assert list(pairs) == expected
        index = PairIndex.of(pairs)
        for pair in pairs:
            assert index.get(pair.supply, pair.request) == pair
        assert index.get(len(instance.supplies), 0) is None


class TestOptimality:
    @settings(deadline=None, max_examples=150)
    @given(instances())
    def test_given_a_small_instance_when_proposed_then_it_equals_brute_force(
        self, instance: AllocationProblem
    ) -> None:
        """HiGHS reaches the brute-force optimum: same unmet, same travel."""
        pairs = compatible_pairs(instance)
        _, best = brute_force(instance, pairs)
        proposal = propose(instance)
        assert proposal.method == "milp"
        assert proposal.optimal
        assert proposal.score.weighted_unmet == best.weighted_unmet
        assert proposal.score.travel_minutes == pytest.approx(best.travel_minutes)
        weight = unmet_weight(instance, pairs)
        assert proposal.objective == pytest.approx(best.objective(weight))
        solved = solve_model(build_model(instance, pairs), time_limit_seconds=10.0)
        assert solved.objective == pytest.approx(best.objective(weight))

    @settings(deadline=None, max_examples=100)
    @given(instances())
    def test_given_an_optimum_when_explained_then_each_rival_has_an_optimal_reason(
        self, instance: AllocationProblem
    ) -> None:
        """Rivals are served, of lower priority, or not nearer; nearer supplies busy."""
        proposal = propose(instance)
        for assignment in proposal.assignments:
            for rival in assignment.competitors:
                assert rival.verdict in {"served", "lower_priority", "not_nearer"}
            for nearer in assignment.nearer:
                assert nearer.minutes < assignment.minutes
        for shortfall in proposal.shortfalls:
            assert shortfall.idle_units == 0
            assert all(t.priority >= shortfall.priority for t in shortfall.takers)

    @settings(deadline=None, max_examples=100)
    @given(instances())
    def test_given_a_random_instance_when_allocated_greedily_then_it_is_never_better(
        self, instance: AllocationProblem
    ) -> None:
        """The greedy baseline is a valid allocation no better than the optimum."""
        pairs = compatible_pairs(instance)
        greedy = evaluate(instance, pairs, greedy_nearest_first(instance, pairs))
        assert propose(instance).score.key() <= greedy.key()


class TestExplanations:
    def test_given_one_pump_and_two_requests_when_proposed_then_it_names_the_rival(
        self,
    ) -> None:
        """The pump goes to the higher priority; B is named as the lower priority."""
        case = problem(
            [need("A", 3), need("B", 1)],
            [pump("P1")],
            {("P1", "A"): 20.0, ("P1", "B"): 5.0},
        )
        proposal = propose(case)
        (assignment,) = proposal.assignments
        assert (assignment.supply_id, assignment.request_id) == ("P1", "A")
        (rival,) = assignment.competitors
        assert (rival.request_id, rival.verdict, rival.short) == (
            "B",
            "lower_priority",
            1,
        )
        assert "Not B: lower priority (1 < 3), still 1 short" in assignment.describe()
        assert "未派往 B：优先级较低（1 < 3）" in assignment.describe("zh-CN")
        (short,) = proposal.shortfalls
        assert short.request_id == "B"
        assert "A (priority 3, 1)" in short.describe()

    def test_given_equal_priorities_when_proposed_then_the_nearer_request_wins(
        self,
    ) -> None:
        """Same priority: the pump goes where it is nearer, and says so."""
        case = problem(
            [need("A", 2), need("B", 2)],
            [pump("P1")],
            {("P1", "A"): 30.0, ("P1", "B"): 10.0},
        )
        (assignment,) = propose(case).assignments
        assert assignment.request_id == "B"
        assert assignment.competitors[0].verdict == "not_nearer"
        assert "same priority, 30 min away against 10 min to B" in (
            assignment.describe()
        )

    def test_given_a_rival_served_elsewhere_when_explained_then_its_supply_is_named(
        self,
    ) -> None:
        """A rival fully served by another supply is reported with that supply."""
        case = problem(
            [need("A", 1), need("B", 1)],
            [pump("P1"), pump("P2")],
            {("P1", "A"): 5.0, ("P1", "B"): 9.0, ("P2", "B"): 4.0},
        )
        proposal = propose(case)
        first = next(a for a in proposal.assignments if a.supply_id == "P1")
        assert first.competitors[0].verdict == "served"
        assert first.competitors[0].served_by == ("P2",)
        assert "already fully served (by P2)" in first.describe()

    def test_given_a_greedy_trap_when_proposed_then_the_milp_serves_both(self) -> None:
        """Greedy gives A its nearest pump and leaves B short; the MILP does not."""
        case = problem(
            [need("A", 2), need("B", 1)],
            [pump("NEAR"), pump("FAR")],
            {("NEAR", "A"): 5.0, ("FAR", "A"): 30.0, ("NEAR", "B"): 10.0},
        )
        pairs = compatible_pairs(case)
        greedy = evaluate(case, pairs, greedy_nearest_first(case, pairs))
        proposal = propose(case)
        assert (greedy.weighted_unmet, proposal.score.weighted_unmet) == (1, 0)
        far = next(a for a in proposal.assignments if a.supply_id == "FAR")
        assert [(n.supply_id, n.serving) for n in far.nearer] == [("NEAR", ("B",))]
        assert "Nearer NEAR (5 min) is fully used by B." in far.describe()

    def test_given_no_usable_supply_when_proposed_then_the_shortfall_says_why(
        self,
    ) -> None:
        """Capability, closures and deadlines are counted as reasons."""
        case = problem(
            [need("A", 2, min_capability=200.0, needed_by=NOW + timedelta(minutes=30))],
            [pump("WEAK", capability=100.0), pump("CUT"), pump("SLOW")],
            {("WEAK", "A"): 5.0, ("SLOW", "A"): 45.0},
            now=NOW,
            policy=AllocationPolicy(allow_late=False),
        )
        (short,) = propose(case).shortfalls
        assert short.rejected == (
            ("capability", 1),
            ("too_late", 1),
            ("unreachable", 1),
        )
        text = short.describe()
        assert "1 with too little capability" in text
        assert "1 cut off by road closures" in text
        assert "因道路封闭无法到达" in short.describe("zh-CN")

    def test_given_late_arrivals_allowed_when_proposed_then_lateness_is_shown(
        self,
    ) -> None:
        """A unit arriving after needed_by is sent, and flagged as late."""
        case = problem(
            [need("A", 1, needed_by=NOW + timedelta(minutes=30))],
            [pump("SLOW")],
            {("SLOW", "A"): 45.0},
            now=NOW,
        )
        (assignment,) = propose(case).assignments
        assert assignment.late_minutes == pytest.approx(15.0)
        assert "45 min by road, 15 min late." in assignment.describe()

    def test_given_a_proposal_when_serialised_then_it_is_json(self) -> None:
        """``as_dict`` is JSON-ready, with explanations in the asked language."""
        case = problem([need("A", 1)], [pump("P1")], {("P1", "A"): 5.0})
        data = propose(case).as_dict("zh-CN")
        text = json.dumps(data, ensure_ascii=False)
        assert '"method": "milp"' in text
        assert "派往 A" in text


class TestEdges:
    def test_given_no_requests_when_proposed_then_nothing_is_allocated(self) -> None:
        """An empty problem is trivially optimal, without a fallback."""
        proposal = propose(problem([], [pump("P1")], {}))
        assert (proposal.method, proposal.optimal, proposal.assignments) == (
            "milp",
            True,
            (),
        )
        assert proposal.fallback_reason is None

    def test_given_no_supply_of_the_type_when_proposed_then_the_shortfall_says_so(
        self,
    ) -> None:
        """A request nobody can serve is short: no department holds its type."""
        proposal = propose(problem([need("A", 2, quantity=2)], [], {}))
        assert proposal.optimal
        assert proposal.unmet() == {"A": 2}
        assert "No department holds this type." in proposal.shortfalls[0].describe()
        assert "没有部门持有该类型" in proposal.shortfalls[0].describe("zh-CN")


class TestFallback:
    def test_given_no_time_when_proposed_then_the_greedy_fallback_is_reported(
        self,
    ) -> None:
        """A zero time limit leaves HiGHS without a solution: greedy, said so."""
        case = problem(
            [need("A", 2), need("B", 1)],
            [pump("NEAR"), pump("FAR")],
            {("NEAR", "A"): 5.0, ("FAR", "A"): 30.0, ("NEAR", "B"): 10.0},
        )
        proposal = propose(case, time_limit_seconds=0.0)
        assert proposal.method == "greedy"
        assert not proposal.optimal
        assert proposal.fallback_reason is not None
        assert "Time limit" in proposal.fallback_reason
        assert proposal.as_dict()["fallback_reason"] == proposal.fallback_reason
        near = next(a for a in proposal.assignments if a.supply_id == "NEAR")
        assert near.request_id == "A"
        assert near.competitors[0].verdict == "lower_priority"

    def test_given_equal_priorities_and_the_greedy_order_when_explained_then_it_says_so(
        self,
    ) -> None:
        """The fallback explains a choice an optimum would not make by its order."""
        case = problem(
            [need("A", 2), need("B", 2)],
            [pump("P1")],
            {("P1", "A"): 30.0, ("P1", "B"): 10.0},
        )
        proposal = propose(case, time_limit_seconds=0.0)
        (assignment,) = proposal.assignments
        assert assignment.request_id == "A"  # handled first: same priority, input order
        assert assignment.competitors[0].verdict == "handled_first"
        assert "the greedy fallback handled A first" in assignment.describe()


class TestInputs:
    @pytest.mark.parametrize(
        "build",
        [
            lambda: Request("A", "PUMP", 0, HERE),
            lambda: Request("A", "PUMP", 1, HERE, priority=0),
            lambda: Request("A", "PUMP", 1, HERE, needed_by=datetime(2026, 7, 1)),  # noqa: DTZ001
            lambda: Supply("S", "FIRE", "PUMP", -1, HERE),
            lambda: Location(91.0, 0.0),
            lambda: problem([need("A", 1), need("A", 1)], [], {}),
        ],
    )
    def test_given_bad_input_when_built_then_it_is_refused(self, build: object) -> None:
        """Quantities, priorities, naive datetimes, positions and duplicate ids."""
        with pytest.raises(ValidationFailed):
            build()  # type: ignore[operator]

    def test_given_an_allocation_breaking_a_rule_when_evaluated_then_it_is_refused(
        self,
    ) -> None:
        """Sending more than a supply holds is not an allocation."""
        case = problem([need("A", 3)], [pump("P1", 2)], {("P1", "A"): 5.0})
        with pytest.raises(ValidationFailed):
            evaluate(case, compatible_pairs(case), {(0, 0): 3})
