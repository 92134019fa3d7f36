"""The compiled policy set, evaluated by the real Cedar engine (cedarpy, no mocks).

Each test compiles agreements, grants and break-glass with ``compile_policies``,
validates them against the schema with ``compile_set`` and asks
``DecisionPoint().decide`` the question a read or a handler would ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from muster.core.errors import ConfigurationError
from muster.sharing.domain.agreements import (
    Agreement,
    DatasetFacts,
    FieldFacts,
    parse_agreement,
)
from muster.sharing.domain.grants import Grant, grant_id
from muster.sharing.domain.masks import Mask, MaskKind
from muster.sharing.domain.policies import (
    BREAK_GLASS,
    MANAGE,
    MANAGE_QUARANTINE,
    READ_AGGREGATE,
    READ_RECORDS,
    BreakGlass,
    PolicyEntry,
    compile_policies,
    policy_text,
    release,
)
from muster.sharing.pdp import (
    Context,
    Decision,
    DecisionPoint,
    Principal,
    Slice,
    compile_set,
)

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
FIELDS = (
    FieldFacts("name", "string", "personal"),
    FieldFacts("id_number", "string", "sensitive_personal"),
    FieldFacts("district", "string"),
    FieldFacts("location", "point", "location"),
)
DEPARTMENTS = frozenset({"HEALTH", "FIRE", "PSB", "EMB"})
PDP = DecisionPoint()


def facts(
    *,
    grade: str = "IMPORTANT",
    sharing_class: str = "CONDITIONAL",
    code: str = "HEALTH_RESIDENTS",
) -> DatasetFacts:
    """Return HEALTH's dataset facts."""
    return DatasetFacts(
        code=code,
        owner="HEALTH",
        sharing_class=sharing_class,
        grade=grade,
        fields=FIELDS,
    )


def agreement(dataset: DatasetFacts | None = None, **changes: Any) -> Agreement:
    """Return a checked agreement sharing district and location with FIRE."""
    data: dict[str, Any] = {
        "code": "RESIDENTS_FIRE",
        "dataset": "HEALTH_RESIDENTS",
        "consumers": ["FIRE"],
        "fields": ["district", "location"],
        "purposes": ["evacuation"],
    }
    data.update(changes)
    return parse_agreement(data, dataset or facts(), departments=DEPARTMENTS)


def user(
    department: str = "FIRE", *roles: str, kind: str = "user", user_id: str = "u-1"
) -> Principal:
    """Return a principal of a department."""
    return Principal(
        user_id=user_id,
        department=department,
        roles=frozenset(roles or ("duty_officer",)),
        kind=kind,
    )


def decide(
    principal: Principal,
    *,
    agreements: Sequence[Agreement] = (),
    grants: Sequence[Grant] = (),
    glass: Sequence[BreakGlass] = (),
    action: str = READ_RECORDS,
    dataset: DatasetFacts | None = None,
    areas: frozenset[str] = frozenset(),
    purpose: str | None = "evacuation",
    incident: str | None = None,
    now: datetime = NOW,
) -> Decision:
    """Compile the set, validate it and decide one request on one slice."""
    entries = compile_policies(agreements, grants, glass)
    compiled = compile_set(1, entries, PDP.schema)
    piece = Slice(dataset or facts(), areas)
    context = Context(now=now, purpose=purpose, incident_id=incident)
    return PDP.decide(compiled, principal, action, [piece], context)[0]


def grant(code: str = "RESIDENTS_FIRE", incident: str = "inc-1") -> Grant:
    """Return an active 5 km grant of an agreement for an incident."""
    return Grant(
        grant_id=grant_id(code, incident),
        agreement_code=code,
        dataset="HEALTH_RESIDENTS",
        incident_id=incident,
        level="L2",
        latitude=28.2,
        longitude=112.9,
        radius_km=5.0,
    )


def flood_agreement(**changes: Any) -> Agreement:
    """Return an agreement switched on by floods at L2 within 5 km."""
    return agreement(
        conditions={
            "incident": {"categories": ["11A"], "min_level": "L2", "within_km": 5}
        },
        **changes,
    )


class TestBaseRules:
    def test_the_owner_reads_its_own_data(self) -> None:
        """The provider's people read records, with or without a purpose."""
        decision = decide(user("HEALTH"), purpose=None)

        assert decision.allowed
        assert decision.policy_ids == ("base:owner",)

    def test_unconditional_data_is_read_by_anyone(self) -> None:
        """UNCONDITIONAL GENERAL data needs no agreement and no purpose."""
        dataset = facts(grade="GENERAL", sharing_class="UNCONDITIONAL")

        decision = decide(user("PSB"), dataset=dataset, purpose=None)

        assert decision.allowed
        assert decision.policy_ids == ("base:unconditional",)

    def test_nothing_is_shared_by_default(self) -> None:
        """Without an agreement another department reads nothing."""
        decision = decide(user("FIRE"))

        assert not decision.allowed
        assert decision.policy_ids == ()

    def test_graded_data_without_a_purpose_is_forbidden_despite_an_agreement(
        self,
    ) -> None:
        """IMPORTANT data read with no purpose is forbidden, naming the rule."""
        decision = decide(user("FIRE"), agreements=[agreement()], purpose=None)

        assert not decision.allowed
        assert decision.policy_ids == ("rule:graded-data-needs-purpose",)

    def test_unconditional_graded_data_still_needs_a_purpose(self) -> None:
        """The purpose rule overrides even the unconditional class."""
        dataset = facts(sharing_class="UNCONDITIONAL")

        decision = decide(user("PSB"), dataset=dataset, purpose=None)

        assert not decision.allowed
        assert "rule:graded-data-needs-purpose" in decision.policy_ids

    @pytest.mark.parametrize("action", [READ_RECORDS, READ_AGGREGATE, MANAGE])
    def test_connectors_never_read(self, action: str) -> None:
        """A connector key of the owner itself reads and manages nothing."""
        connector = user("HEALTH", "admin", kind="api_key")

        decision = decide(connector, action=action, dataset=facts(grade="GENERAL"))

        assert not decision.allowed
        assert "rule:connectors-do-not-read" in decision.policy_ids


class TestAgreementPolicy:
    def test_a_listed_consumer_reads_for_a_listed_purpose(self) -> None:
        """FIRE reads for evacuation, under the agreement's policy."""
        decision = decide(user("FIRE"), agreements=[agreement()])

        assert decision.allowed
        assert decision.policy_ids == ("agreement:RESIDENTS_FIRE",)

    def test_other_departments_are_not_consumers(self) -> None:
        """PSB is not a consumer of FIRE's agreement."""
        assert not decide(user("PSB"), agreements=[agreement()]).allowed

    def test_other_purposes_are_not_covered(self) -> None:
        """Reading for a purpose the agreement does not name is refused."""
        decision = decide(user("FIRE"), agreements=[agreement()], purpose="research")

        assert not decision.allowed

    def test_all_consumers_means_every_department(self) -> None:
        """An agreement for "*" lets any department's people read."""
        shared = agreement(consumers=["*"])

        assert decide(user("PSB"), agreements=[shared]).allowed

    def test_an_agreement_applies_only_to_its_dataset(self) -> None:
        """An agreement on one dataset lets nothing of another through."""
        other = facts(code="HEALTH_CLINICS")

        assert not decide(user("FIRE"), agreements=[agreement()], dataset=other).allowed

    def test_validity_window_is_checked_against_context_now(self) -> None:
        """Before valid_from and from valid_until on, the agreement allows nothing."""
        bounded = agreement(
            valid_from="2026-07-01T00:00:00Z", valid_until="2026-08-01T00:00:00Z"
        )
        before = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)
        start = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
        end = datetime(2026, 8, 1, 0, 0, tzinfo=UTC)

        assert not decide(user(), agreements=[bounded], now=before).allowed
        assert decide(user(), agreements=[bounded], now=start).allowed
        assert not decide(user(), agreements=[bounded], now=end).allowed

    def test_aggregate_agreement_allows_counts_but_not_records(self) -> None:
        """Mode aggregate permits read_aggregate only."""
        counts = agreement(mode="aggregate", aggregate_by="district")

        records = decide(user(), agreements=[counts], action=READ_RECORDS)
        aggregate = decide(user(), agreements=[counts], action=READ_AGGREGATE)

        assert not records.allowed
        assert aggregate.allowed
        assert aggregate.policy_ids == ("agreement:RESIDENTS_FIRE",)

    def test_incident_agreement_allows_nothing_without_a_grant(self) -> None:
        """An agreement with an incident condition compiles to no standing policy."""
        entries = compile_policies([flood_agreement()], [], [])

        assert not decide(user(), agreements=[flood_agreement()]).allowed
        assert all(entry.kind != "agreement" for entry in entries)


class TestGrantPolicy:
    def test_a_grant_allows_only_slices_inside_its_area(self) -> None:
        """Records whose areas hold the grant id are allowed, others are not."""
        active = grant()
        inside = frozenset({active.grant_id})

        allowed = decide(
            user(), agreements=[flood_agreement()], grants=[active], areas=inside
        )
        outside = decide(user(), agreements=[flood_agreement()], grants=[active])
        elsewhere = decide(
            user(),
            agreements=[flood_agreement()],
            grants=[active],
            areas=frozenset({grant_id("RESIDENTS_FIRE", "inc-2")}),
        )

        assert allowed.allowed
        assert allowed.policy_ids == (f"grant:{active.grant_id}",)
        assert not outside.allowed
        assert not elsewhere.allowed

    def test_a_grant_holds_for_no_incident_or_its_own_incident(self) -> None:
        """context.incident empty or the grant's incident: allowed; another: not."""
        active = grant()
        inside = frozenset({active.grant_id})
        kwargs: dict[str, Any] = {
            "agreements": [flood_agreement()],
            "grants": [active],
            "areas": inside,
        }

        assert decide(user(), incident=None, **kwargs).allowed
        assert decide(user(), incident="inc-1", **kwargs).allowed
        assert not decide(user(), incident="inc-2", **kwargs).allowed

    def test_a_grant_without_radius_covers_every_record(self) -> None:
        """A grant with no within_km needs no area fact."""
        anywhere = replace(grant(), radius_km=None)

        assert decide(user(), agreements=[flood_agreement()], grants=[anywhere]).allowed

    def test_a_grant_keeps_the_consumers_and_purposes_of_its_agreement(self) -> None:
        """Inside the area, PSB and another purpose are still refused."""
        active = grant()
        kwargs: dict[str, Any] = {
            "agreements": [flood_agreement()],
            "grants": [active],
            "areas": frozenset({active.grant_id}),
        }

        assert not decide(user("PSB"), **kwargs).allowed
        assert not decide(user(), purpose="research", **kwargs).allowed

    def test_a_grant_of_a_revoked_agreement_compiles_to_nothing(self) -> None:
        """A grant whose agreement is not in the set adds no policy."""
        entries = compile_policies([], [grant()], [])

        assert all(entry.kind != "grant" for entry in entries)


class TestBreakGlass:
    def glass(self, minutes: int = 60) -> BreakGlass:
        """Return break-glass of user c-1 on HEALTH_RESIDENTS."""
        return BreakGlass(
            break_glass_id="bg1",
            dataset="HEALTH_RESIDENTS",
            user_id="c-1",
            incident_id=None,
            expires_at=NOW + timedelta(minutes=minutes),
        )

    def test_only_that_user_on_that_dataset_until_expiry(self) -> None:
        """The commander who opened it reads until it expires; nobody else, nothing
        else."""
        commander = user("EMB", "commander", user_id="c-1")
        other = user("EMB", "commander", user_id="c-2")
        glass = [self.glass()]

        allowed = decide(commander, glass=glass)

        assert allowed.allowed
        assert allowed.policy_ids == ("break-glass:bg1",)
        assert not decide(other, glass=glass).allowed
        assert not decide(
            commander, glass=glass, dataset=facts(code="HEALTH_CLINICS")
        ).allowed
        assert not decide(
            commander, glass=glass, now=NOW + timedelta(minutes=60)
        ).allowed
        assert decide(commander, glass=glass, now=NOW + timedelta(minutes=59)).allowed


class TestManage:
    @pytest.mark.parametrize("role", ["commander", "duty_officer", "analyst", "head"])
    @pytest.mark.parametrize("action", [MANAGE, MANAGE_QUARANTINE])
    def test_owner_stewards_manage(self, role: str, action: str) -> None:
        """The owner's stewards manage the dataset."""
        decision = decide(user("HEALTH", role), action=action, purpose=None)

        assert decision.allowed
        assert decision.policy_ids == ("base:steward",)

    def test_admin_manages_any_dataset(self) -> None:
        """An admin of any department manages."""
        decision = decide(user("EMB", "admin"), action=MANAGE, purpose=None)

        assert decision.allowed
        assert decision.policy_ids == ("base:admin",)

    def test_owner_without_a_steward_role_does_not_manage(self) -> None:
        """A plain member of the owner does not manage."""
        assert not decide(user("HEALTH", "viewer"), action=MANAGE).allowed

    def test_other_departments_do_not_manage(self) -> None:
        """FIRE's duty officer, with an agreement, does not manage HEALTH's data."""
        decision = decide(user("FIRE"), agreements=[agreement()], action=MANAGE)

        assert not decision.allowed

    def test_only_commanders_break_glass(self) -> None:
        """The break_glass action is the commander's."""
        assert decide(user("EMB", "commander"), action=BREAK_GLASS).allowed
        assert not decide(user("EMB", "duty_officer"), action=BREAK_GLASS).allowed


class TestCompile:
    def test_the_whole_set_validates_against_the_schema(self) -> None:
        """Base rules, an agreement, a grant and a break-glass compile and validate."""
        entries = compile_policies(
            [agreement(), flood_agreement(code="RESIDENTS_FLOOD")],
            [grant("RESIDENTS_FLOOD")],
            [TestBreakGlass().glass()],
        )

        compiled = compile_set(7, entries, PDP.schema)

        assert compiled.version == 7
        assert [entry.kind for entry in compiled.entries][-3:] == [
            "agreement",
            "grant",
            "break_glass",
        ]
        assert policy_text(entries).count("@id(") == len(entries)

    def test_a_typo_in_an_attribute_fails_the_schema(self) -> None:
        """A policy naming an attribute the schema lacks is a ConfigurationError."""
        typo = PolicyEntry(
            policy_id="agreement:TYPO",
            text="permit(principal, action, resource) when "
            '{ resource.sharingclass == "X" };',
            kind="agreement",
        )
        entries = (*compile_policies([], [], []), typo)

        with pytest.raises(ConfigurationError, match="schema"):
            compile_set(1, entries, PDP.schema)

    def test_unsafe_names_never_reach_cedar(self) -> None:
        """A break-glass user id with a quote cannot be spliced into a policy."""
        unsafe = replace(TestBreakGlass().glass(), user_id='x" || true || "')

        with pytest.raises(ValueError, match="cannot appear"):
            compile_policies([], [], [unsafe])


class TestRelease:
    def test_owner_sees_everything_unmasked(self) -> None:
        """The owner gets every field without masks."""
        granted = release(facts(), [], owner=True)

        assert granted.fields == tuple(item.name for item in FIELDS)
        assert set(granted.masks.values()) == {Mask(MaskKind.NONE)}

    def test_least_restrictive_mask_and_strictest_tlp_of_the_allowing_policies(
        self,
    ) -> None:
        """Two agreements: a field shows with the looser mask, under the stricter
        label."""
        loose = agreement(
            code="LOOSE", fields=["name", "district"], legal_basis="CONSENT",
            masks={"name": "name"}, tlp="GREEN",
        )  # fmt: skip
        strict = agreement(
            code="STRICT", fields=["name"], legal_basis="CONSENT",
            masks={"name": "hide"}, tlp="RED",
        )  # fmt: skip
        entries = [
            entry
            for entry in compile_policies([loose, strict], [], [])
            if entry.agreement is not None
        ]

        granted = release(facts(), entries, owner=False)

        assert granted.fields == ("name", "district")
        assert granted.masks["name"] == Mask(MaskKind.NAME)
        assert granted.tlp == "RED"
