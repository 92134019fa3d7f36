"""Joint decisions (response.domain.decisions): the rules, signing, closing, expiry."""

from __future__ import annotations

import pytest

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor
from muster.response.domain.decisions import (
    Decision,
    check_proposal,
    expire,
    fold,
    outcome_of,
    sign,
)
from muster.response.domain.errors import Conflict
from muster.response.domain.events import (
    DecisionClosed,
    DecisionProposed,
    DecisionSigned,
)
from muster.response.domain.plans import DecisionRule


def _proposed(
    departments: tuple[str, ...] = ("EMB", "WATER", "TRANSPORT"),
    rule: str = "all",
    veto: tuple[str, ...] = (),
) -> DecisionProposed:
    return DecisionProposed(
        decision_id="d-1", incident_id="i-1", decision_key="raise_l2",
        title="Raise to II", proposal="Rain keeps rising", evidence=(),
        departments=departments, rule=rule, veto=veto,
        deadline_at="2026-07-01T08:30:00.000000Z", raises_to="L2",
    )  # fmt: skip


def _decision(
    positions: dict[str, str],
    *,
    rule: str = "all",
    departments: tuple[str, ...] = ("EMB", "WATER", "TRANSPORT"),
    veto: tuple[str, ...] = (),
) -> Decision:
    events = [_proposed(departments, rule, veto)] + [
        DecisionSigned(
            decision_id="d-1",
            incident_id="i-1",
            department=department,
            position=position,
            comment="c",
        )
        for department, position in positions.items()
    ]
    decision = fold(events)
    assert decision is not None
    return decision


def _officer(department: str, role: str = "head") -> Actor:
    return Actor(
        kind="user", id=f"{department}.{role}", department=department,
        roles=frozenset({role}),
    )  # fmt: skip


FIVE = ("A", "B", "C", "D", "E")


class TestOutcome:
    @pytest.mark.parametrize(
        ("positions", "outcome"),
        [
            ({}, None),
            ({"EMB": "concur", "WATER": "concur"}, None),
            ({"EMB": "concur", "WATER": "concur", "TRANSPORT": "concur"}, "approved"),
            ({"WATER": "object"}, "rejected"),
            ({"EMB": "concur", "WATER": "concur", "TRANSPORT": "object"}, "rejected"),
        ],
    )
    def test_all_needs_every_department_and_one_objection_rejects(
        self, positions: dict[str, str], outcome: str | None
    ) -> None:
        """Rule all: approved when everyone concurs; rejected at the first
        objection, without waiting for the others."""
        decision = _decision(positions)

        result = outcome_of(decision)

        assert result == outcome

    @pytest.mark.parametrize(
        ("positions", "outcome"),
        [
            ({"A": "concur", "B": "concur"}, None),
            ({"A": "concur", "B": "concur", "C": "concur"}, "approved"),
            ({"A": "object", "B": "object"}, None),
            ({"A": "object", "B": "object", "C": "object"}, "rejected"),
            ({"A": "concur", "B": "object", "C": "object", "D": "object"}, "rejected"),
        ],
    )
    def test_majority_settles_as_soon_as_the_count_is_certain(
        self, positions: dict[str, str], outcome: str | None
    ) -> None:
        """Rule majority over five: three concurrences approve; three objections
        reject early, since a majority can no longer be reached."""
        decision = _decision(positions, rule="majority", departments=FIVE)

        result = outcome_of(decision)

        assert result == outcome

    def test_a_tie_is_not_a_majority(self) -> None:
        """One of two concurring is not more than half: rejected."""
        decision = _decision(
            {"A": "concur", "B": "object"}, rule="majority", departments=("A", "B")
        )

        result = outcome_of(decision)

        assert result == "rejected"

    @pytest.mark.parametrize(
        ("positions", "outcome"),
        [
            ({"A": "concur", "B": "concur", "D": "concur"}, None),
            ({"A": "concur", "B": "concur", "C": "concur"}, "approved"),
            ({"C": "object"}, "rejected"),
            ({"A": "concur", "B": "concur", "D": "concur", "C": "object"}, "rejected"),
            ({"A": "object", "B": "object", "D": "object"}, "rejected"),
        ],
    )
    def test_veto_needs_the_veto_department_and_a_majority(
        self, positions: dict[str, str], outcome: str | None
    ) -> None:
        """Rule veto (C holds the veto): a majority without C waits; C's objection
        rejects at once, whatever the others say."""
        decision = _decision(positions, rule="veto", departments=FIVE, veto=("C",))

        result = outcome_of(decision)

        assert result == outcome

    def test_majority_ignores_veto_names(self) -> None:
        """Rule majority with veto departments listed (the schema: veto applies to
        rule veto only): a majority approves without the listed department."""
        decision = _decision(
            {"EMB": "concur", "WATER": "concur", "TRANSPORT": "object"},
            rule="majority",
            veto=("TRANSPORT",),
        )

        result = outcome_of(decision)

        assert result == "approved"

    def test_an_unsettled_decision_expires(self) -> None:
        """At the deadline an unsettled rule reads as expired."""
        decision = _decision({"EMB": "concur"})

        result = outcome_of(decision, expired=True)

        assert result == "expired"


class TestSign:
    def test_a_named_department_signs_once(self) -> None:
        """A signature records the department's position and comment; the open
        decision stays open."""
        decision = _decision({})

        events = sign(
            decision, position="concur", comment=" agreed ", actor=_officer("WATER")
        )

        assert events == [
            DecisionSigned(
                decision_id="d-1", incident_id="i-1", department="WATER",
                position="concur", comment="agreed",
            )
        ]  # fmt: skip

    def test_the_settling_signature_closes_with_the_tally(self) -> None:
        """The last concurrence closes the decision as approved, with who said what."""
        decision = _decision({"EMB": "concur", "WATER": "concur"})

        events = sign(
            decision, position="concur", comment="", actor=_officer("TRANSPORT")
        )

        assert events[1:] == [
            DecisionClosed(
                decision_id="d-1", incident_id="i-1", outcome="approved",
                concur=("EMB", "WATER", "TRANSPORT"), object=(), silent=(),
            )
        ]  # fmt: skip

    def test_an_objection_under_rule_all_closes_at_once(self) -> None:
        """One objection rejects; the departments that did not sign are silent."""
        decision = _decision({"EMB": "concur"})

        events = sign(
            decision, position="object", comment="too early", actor=_officer("WATER")
        )

        closed = events[-1]
        assert isinstance(closed, DecisionClosed)
        assert (closed.outcome, closed.concur, closed.object, closed.silent) == (
            "rejected", ("EMB",), ("WATER",), ("TRANSPORT",),
        )  # fmt: skip

    def test_only_named_departments_sign(self) -> None:
        """A department not asked to sign is refused."""
        decision = _decision({})

        with pytest.raises(PermissionDenied):
            sign(decision, position="concur", comment="", actor=_officer("MET"))

    def test_only_authorised_roles_sign(self) -> None:
        """An observer of a named department cannot sign for it."""
        decision = _decision({})

        with pytest.raises(PermissionDenied):
            sign(
                decision, position="concur", comment="",
                actor=_officer("WATER", "observer"),
            )  # fmt: skip

    def test_a_department_signs_only_once(self) -> None:
        """A second signature of the same department is a conflict."""
        decision = _decision({"WATER": "concur"})

        with pytest.raises(Conflict):
            sign(
                decision, position="object", comment="changed my mind",
                actor=_officer("WATER", "duty_officer"),
            )  # fmt: skip

    @pytest.mark.parametrize("comment", ["", "   "])
    def test_an_objection_needs_a_comment(self, comment: str) -> None:
        """Objecting without saying why is refused."""
        decision = _decision({})

        with pytest.raises(ValidationFailed) as refused:
            sign(decision, position="object", comment=comment, actor=_officer("EMB"))

        assert refused.value.params["field"] == "comment"

    def test_an_unknown_position_is_refused(self) -> None:
        """Positions are concur or object."""
        decision = _decision({})

        with pytest.raises(ValidationFailed) as refused:
            sign(decision, position="abstain", comment="", actor=_officer("EMB"))

        assert refused.value.params["field"] == "position"

    def test_a_closed_decision_is_immutable(self) -> None:
        """After it closed, nobody signs any more, not even a silent department."""
        decision = fold(
            [
                _proposed(),
                *sign(
                    _decision({}), position="object", comment="no",
                    actor=_officer("EMB"),
                ),
            ]
        )  # fmt: skip
        assert decision is not None
        assert decision.outcome == "rejected"

        with pytest.raises(Conflict):
            sign(decision, position="concur", comment="", actor=_officer("WATER"))

        assert expire(decision) == []


class TestExpire:
    def test_an_open_decision_expires_with_the_silent_named(self) -> None:
        """At the deadline an unsettled decision closes as expired."""
        decision = _decision({"EMB": "concur"})

        events = expire(decision)

        assert events == [
            DecisionClosed(
                decision_id="d-1", incident_id="i-1", outcome="expired",
                concur=("EMB",), object=(), silent=("WATER", "TRANSPORT"),
            )
        ]  # fmt: skip


class TestCheckProposal:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"title": "  "}, "title"),
            ({"departments": ()}, "departments"),
            ({"departments": ("EMB", "EMB")}, "departments"),
            ({"rule": "unanimous"}, "rule"),
            ({"veto": ("MET",)}, "veto"),
            ({"rule": "veto"}, "veto"),
        ],
    )
    def test_malformed_proposals_name_the_field(
        self, changes: dict[str, object], field: str
    ) -> None:
        """A proposal needs a title, distinct departments, a known rule, and veto
        departments that also sign (at least one for rule veto)."""
        parts: dict[str, object] = {
            "departments": ("EMB", "WATER"), "rule": "all", "veto": (),
            "title": "Raise",
        }  # fmt: skip
        parts.update(changes)

        with pytest.raises(ValidationFailed) as refused:
            check_proposal(**parts)  # type: ignore[arg-type]

        assert refused.value.params["field"] == field

    def test_a_well_formed_proposal_returns_its_rule(self) -> None:
        """The rule is parsed."""
        parts = {"departments": ("EMB", "WATER"), "veto": ("WATER",), "title": "R"}

        rule = check_proposal(rule="veto", **parts)  # type: ignore[arg-type]

        assert rule is DecisionRule.VETO
