"""Explanations of access decisions: deny reasons name the unmet condition, allow
reasons name what allowed. Pure: the policy entries come from compile_policies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from muster.sharing.domain.agreements import (
    Agreement,
    DatasetFacts,
    FieldFacts,
    parse_agreement,
)
from muster.sharing.domain.explain import Asker, explain_allow, explain_deny
from muster.sharing.domain.grants import Grant, grant_id
from muster.sharing.domain.policies import BreakGlass, compile_policies

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
FACTS = DatasetFacts(
    code="HEALTH_RESIDENTS",
    owner="HEALTH",
    sharing_class="CONDITIONAL",
    grade="IMPORTANT",
    fields=(FieldFacts("district", "string"), FieldFacts("location", "point")),
)
FIRE = Asker(department="FIRE", purpose="evacuation", incident_id=None)


def agreement(facts: DatasetFacts = FACTS, **changes: Any) -> Agreement:
    """Return FIRE's agreement for evacuation, with changes."""
    data: dict[str, Any] = {
        "code": "RESIDENTS_FIRE",
        "dataset": facts.code,
        "consumers": ["FIRE"],
        "purposes": ["evacuation"],
        "fields": ["district", "location"],
    }
    data.update(changes)
    return parse_agreement(data, facts, departments=frozenset({"FIRE", "PSB"}))


FLOOD = {"incident": {"categories": ["11A"], "min_level": "L2", "within_km": 5}}


def grant(incident: str = "inc-1", level: str = "L2") -> Grant:
    """Return the flood agreement's 5 km grant for an incident."""
    return Grant(
        grant_id=grant_id("RESIDENTS_FIRE", incident),
        agreement_code="RESIDENTS_FIRE",
        dataset=FACTS.code,
        incident_id=incident,
        level=level,
        latitude=28.2,
        longitude=112.9,
        radius_km=5.0,
    )


def deny(
    asker: Asker = FIRE,
    *,
    agreements: Sequence[Agreement] = (),
    grants: Sequence[Grant] = (),
    forbids: Sequence[str] = (),
    facts: DatasetFacts = FACTS,
    outside_area: bool = False,
) -> str:
    """Explain a refusal."""
    return explain_deny(
        facts,
        asker,
        forbids=forbids,
        agreements=agreements,
        grants=grants,
        now=NOW,
        outside_area=outside_area,
    )


class TestExplainDeny:
    def test_names_the_rule_that_forbade(self) -> None:
        """A forbidding rule is explained before any agreement."""
        reason = deny(
            Asker("FIRE", None, None),
            agreements=[agreement()],
            forbids=["rule:graded-data-needs-purpose"],
        )

        assert reason == (
            "HEALTH_RESIDENTS is IMPORTANT data: state a purpose "
            "(one the agreement names)"
        )

    def test_connectors_are_told_they_never_read(self) -> None:
        """The connector rule has its own reason."""
        assert "never read" in deny(forbids=["rule:connectors-do-not-read"])

    def test_not_a_consumer(self) -> None:
        """PSB is told it is not the agreement's consumer."""
        reason = deny(Asker("PSB", "evacuation", None), agreements=[agreement()])

        assert reason == "refused: RESIDENTS_FIRE: PSB is not a consumer"

    def test_purpose_not_covered(self) -> None:
        """Another purpose is told which purposes the agreement covers."""
        reason = deny(Asker("FIRE", "research", None), agreements=[agreement()])

        assert "purpose must be one of evacuation" in reason

    def test_not_in_force(self) -> None:
        """An expired agreement is said not to be in force."""
        expired = agreement(valid_until=(NOW - timedelta(days=1)).isoformat())

        assert "not in force" in deny(agreements=[expired])

    def test_needs_an_incident_at_its_level(self) -> None:
        """With no grant, the reason names the categories and the level."""
        reason = deny(agreements=[agreement(conditions=FLOOD)])

        assert "needs an open incident (11A) at level L2 or higher" in reason

    def test_another_incident_does_not_meet_the_conditions(self) -> None:
        """Asking under an incident without a grant names that incident."""
        reason = deny(
            Asker("FIRE", "evacuation", "inc-9"),
            agreements=[agreement(conditions=FLOOD)],
            grants=[grant()],
        )

        assert "incident inc-9 does not meet its conditions" in reason

    def test_outside_the_area(self) -> None:
        """With a grant but records beyond its radius, the distance is named."""
        reason = deny(
            agreements=[agreement(conditions=FLOOD)],
            grants=[grant()],
            outside_area=True,
        )

        assert "outside 5.0 km of the incident" in reason

    def test_counts_only(self) -> None:
        """An aggregate agreement is said to share counts only."""
        counts = agreement(mode="aggregate", aggregate_by="district")

        assert "shares counts only" in deny(agreements=[counts])

    def test_not_shared_without_agreement(self) -> None:
        """A NOT_SHARED dataset without an agreement says so, in both languages."""
        closed = DatasetFacts(
            code="HEALTH_RESIDENTS",
            owner="HEALTH",
            sharing_class="NOT_SHARED",
            grade="IMPORTANT",
            fields=FACTS.fields,
        )

        reason = deny(facts=closed)

        assert "not shared (不予共享)" in reason
        assert "HEALTH" in reason

    def test_no_agreement_points_to_a_request(self) -> None:
        """A shareable dataset without an agreement (of this dataset) suggests
        requesting access."""
        other = DatasetFacts(
            code="HEALTH_CLINICS",
            owner="HEALTH",
            sharing_class="CONDITIONAL",
            grade="IMPORTANT",
            fields=FACTS.fields,
        )

        reason = deny(agreements=[agreement(other)])

        assert reason == (
            "no agreement of HEALTH shares HEALTH_RESIDENTS with FIRE; "
            "request access from the provider"
        )

    def test_each_agreement_gets_its_reason(self) -> None:
        """Two agreements on the dataset: both are explained."""
        second = agreement(code="RESIDENTS_PSB", consumers=["PSB"])

        reason = deny(Asker("FIRE", "research", None), agreements=[agreement(), second])

        assert "RESIDENTS_FIRE: purpose must be one of evacuation" in reason
        assert "RESIDENTS_PSB: FIRE is not a consumer" in reason


class TestExplainAllow:
    def test_names_the_agreement_and_the_grant(self) -> None:
        """An agreement and a grant are named, the grant with incident and level."""
        standing = agreement(code="STANDING")
        flood = agreement(conditions=FLOOD)
        entries = [
            entry
            for entry in compile_policies([standing, flood], [grant()], [])
            if entry.agreement is not None
        ]

        reason = explain_allow(entries)

        assert reason == (
            "allowed by agreement STANDING; agreement RESIDENTS_FIRE, switched on by "
            "incident inc-1 at level L2"
        )

    def test_names_base_rules_and_break_glass(self) -> None:
        """Owner, unconditional and break-glass allows have their own words."""
        glass = BreakGlass(
            break_glass_id="bg1",
            dataset=FACTS.code,
            user_id="c-1",
            incident_id=None,
            expires_at=NOW,
        )
        entries = {
            entry.policy_id: entry for entry in compile_policies([], [], [glass])
        }

        assert explain_allow([entries["base:owner"]]) == (
            "allowed by the provider reads its own data"
        )
        assert "无条件共享" in explain_allow([entries["base:unconditional"]])
        assert explain_allow([entries["break-glass:bg1"]]) == (
            "allowed by break-glass access bg1"
        )
