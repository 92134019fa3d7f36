"""The decision point's cache: a cached answer is exactly what Cedar would say.

The cache key holds the clock's *era* (which interval between the policies' time
constants the clock is in), so validity windows and break-glass expiry end access at
the second they say, with answers cached before and after.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from muster.sharing.domain.agreements import DatasetFacts, FieldFacts, parse_agreement
from muster.sharing.domain.policies import (
    READ_RECORDS,
    BreakGlass,
    compile_policies,
    time_boundaries,
)
from muster.sharing.pdp import (
    CompiledPolicies,
    Context,
    DecisionPoint,
    Principal,
    Slice,
)

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
BEDS = DatasetFacts(
    code="HEALTH_BEDS",
    owner="HEALTH",
    sharing_class="CONDITIONAL",
    grade="IMPORTANT",
    fields=(FieldFacts("hospital", "string"), FieldFacts("free", "integer")),
)
FIRE = Principal("f1", "FIRE", frozenset({"duty_officer"}), "user")
EMB = Principal("c1", "EMB", frozenset({"commander"}), "user")


def compiled(
    pdp: DecisionPoint, *, until: datetime, glass_until: datetime
) -> CompiledPolicies:
    """Compile one agreement (FIRE, until ``until``) and one break-glass (EMB)."""
    agreement = parse_agreement(
        {
            "code": "BEDS_FIRE",
            "dataset": "HEALTH_BEDS",
            "consumers": ["FIRE"],
            "purposes": ["response"],
            "valid_until": until.isoformat(),
        },
        BEDS,
        departments=frozenset({"HEALTH", "FIRE", "EMB"}),
    )
    glass = BreakGlass(
        break_glass_id="g1",
        dataset="HEALTH_BEDS",
        user_id="c1",
        incident_id=None,
        expires_at=glass_until,
    )
    policies = pdp.compiled(1, compile_policies([agreement], [], [glass]))
    assert policies is not None
    return policies


def test_given_time_constants_when_compiled_then_boundaries_are_their_seconds() -> None:
    until, glass = NOW + timedelta(days=1), NOW + timedelta(minutes=30)
    pdp = DecisionPoint()
    policies = compiled(pdp, until=until, glass_until=glass)
    assert policies.boundaries == (int(glass.timestamp()), int(until.timestamp()))
    assert time_boundaries(()) == ()


def test_given_cached_allows_when_the_clock_passes_expiry_then_answers_change() -> None:
    until, glass = NOW + timedelta(days=1), NOW + timedelta(minutes=30)
    pdp = DecisionPoint()
    policies = compiled(pdp, until=until, glass_until=glass)
    piece = [Slice(BEDS)]

    def allowed(who: Principal, at: datetime) -> bool:
        context = Context(at, "response")
        return pdp.decide(policies, who, READ_RECORDS, piece, context)[0].allowed

    for _ in range(2):  # the second round answers from the cache
        assert allowed(FIRE, NOW)
        assert allowed(EMB, NOW)
        assert allowed(EMB, glass - timedelta(seconds=1))
        assert not allowed(EMB, glass)
        assert allowed(FIRE, until - timedelta(seconds=1))
        assert not allowed(FIRE, until)
    # Five keys: EMB now and EMB a second before expiry share an era (one answer).
    assert len(policies.decisions) == 5


def test_given_a_cached_answer_when_another_purpose_asks_then_cedar_decides() -> None:
    pdp = DecisionPoint()
    policies = compiled(pdp, until=NOW + timedelta(days=1), glass_until=NOW)
    piece = [Slice(BEDS)]

    def allowed(context: Context) -> bool:
        return pdp.decide(policies, FIRE, READ_RECORDS, piece, context)[0].allowed

    assert allowed(Context(NOW, "response"))
    assert not allowed(Context(NOW, "planning"))
    assert not allowed(Context(NOW))
