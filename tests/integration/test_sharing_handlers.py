"""Sharing commands through the bus on the database under test (SQLite, PostgreSQL).

Given HEALTH's residents (NOT_SHARED: counts always, records only under an emergency
grant) and clinics (CONDITIONAL), when agreements, requests, break-glass and reads are
handled, then the log and the read models say what happened or the refusal says why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from muster.bootstrap import Muster, bootstrap
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.clock import SimulatedClock
from muster.core.errors import PermissionDenied
from muster.core.messages import SYSTEM_ACTOR, Actor, Command
from muster.identity.domain.commands import RegisterDepartment
from muster.ingest.domain.commands import IngestFile
from muster.response.domain.commands import (
    ActivatePlan,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    OpenIncident,
    RegisterPlan,
)
from muster.settings import Settings
from muster.sharing import queries
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    OpenBreakGlass,
    ReadShared,
    RecordNoticeGiven,
    RegisterAgreement,
    RequestAccess,
    RevokeAgreement,
)
from muster.sharing.domain.errors import (
    AgreementInvalid,
    BreakGlassInvalid,
    RequestAlreadyDecided,
)
from muster.sharing.reads import SharedRead
from tests import factories

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
WHY = "Evacuation planning for the flood season on the river banks."
GLASS = OpenBreakGlass(dataset="HEALTH_RESIDENTS", justification=WHY)
FLOOD = OpenIncident(
    title="内涝：滨江路积水", category="NATURAL_DISASTER", latitude=28.2,
    longitude=112.9, type_code="11A01",
)  # fmt: skip
PLAN = {
    "code": "FLOOD_SHARE", "version": 1, "name_zh": "内涝", "name_en": "Flood",
    "categories": ["11A00"],
    "levels": [
        {"level": level, "lead_department": "EMB",
         "command_roles": {"commander": "EMB"}}
        for level in ("L4", "L3", "L2", "L1")
    ],
}  # fmt: skip
PEOPLE = (
    DatasetField(name="name", type="string", required=True, sensitivity="personal"),
    DatasetField(name="phone", type="string", sensitivity="personal"),
    DatasetField(name="id_number", type="string", sensitivity="sensitive_personal"),
    DatasetField(name="district", type="string"),
    DatasetField(name="location", type="point", sensitivity="location"),
)
RESIDENTS = [  # one 1.1 km from the incident, one about 55 km away
    {"name": "张三丰", "phone": "13812345678", "id_number": "430102199001011234",
     "district": "岳麓", "location": "28.21,112.91"},
    {"name": "李四海", "phone": "13900001111", "id_number": "430102198001011234",
     "district": "天心", "location": "28.60,113.30"},
]  # fmt: skip
COUNTS = {
    "code": "RESIDENT_COUNTS", "dataset": "HEALTH_RESIDENTS", "consumers": ["FIRE"],
    "purposes": ["evacuation"], "mode": "aggregate", "aggregate_by": "district",
}  # fmt: skip
EMERGENCY = {
    "code": "RESIDENT_EMERGENCY", "dataset": "HEALTH_RESIDENTS", "consumers": ["FIRE"],
    "purposes": ["evacuation"], "legal_basis": "EMERGENCY",
    "masks": {"phone": "phone"},
    "conditions": {"incident": {"categories": ["11A"], "min_level": "L2",
                                "within_km": 10}},
}  # fmt: skip


@dataclass(frozen=True)
class City:
    """The actors of the test city."""

    commander: Actor
    emb_duty: Actor
    health: Actor
    fire: Actor
    psb: Actor


@pytest.fixture
def sim(settings: Settings) -> Iterator[Muster]:
    """Return a deployment on a simulated clock at 08:00 UTC."""
    app = bootstrap(settings, clock=SimulatedClock(START))
    yield app
    app.engine.dispose()


def _dataset(muster: Muster, code: str, sharing_class: str) -> None:
    metadata = DatasetMetadata(
        code=code, name_zh=code, name_en=code, owner_department="HEALTH",
        sharing_class=sharing_class, sharing_conditions="Emergency use only.",
        legal_basis="PIPL Art. 13", data_grade="IMPORTANT",
        update_interval_minutes=60, format="json", connector="file_drop",
    )  # fmt: skip
    muster.bus.handle(RegisterDataset(metadata=metadata, fields=PEOPLE), SYSTEM_ACTOR)


@pytest.fixture
def city(sim: Muster) -> City:
    """Register EMB, HEALTH, FIRE, PSB, their people, the flood plan and HEALTH's
    datasets with two residents each."""
    factories.department(sim, "EMB")
    for code in ("HEALTH", "FIRE", "PSB"):
        sim.bus.handle(
            RegisterDepartment(
                code=code, name_zh=code, name_en=code, type="other", parent_code="EMB"
            ),
            SYSTEM_ACTOR,
        )
    duty = ("duty_officer",)
    people = City(
        commander=factories.user(sim, "commander", roles=("commander",)),
        emb_duty=factories.user(sim, "e.duty", roles=duty),
        health=factories.user(sim, "h.duty", department_code="HEALTH", roles=duty),
        fire=factories.user(sim, "f.duty", department_code="FIRE", roles=duty),
        psb=factories.user(sim, "p.duty", department_code="PSB", roles=duty),
    )
    sim.bus.handle(RegisterPlan(document=PLAN), SYSTEM_ACTOR)
    _dataset(sim, "HEALTH_RESIDENTS", "NOT_SHARED")
    _dataset(sim, "HEALTH_CLINICS", "CONDITIONAL")
    data = json.dumps(RESIDENTS).encode()
    for code in ("HEALTH_RESIDENTS", "HEALTH_CLINICS"):
        ingest = IngestFile(dataset_code=code, source="test", data=data, format="json")
        assert sim.bus.handle(ingest, people.health).accepted == 2
    return people


def _head(muster: Muster) -> int:
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def _types_after(muster: Muster, seq: int) -> list[str]:
    with muster.engine.connect() as conn:
        return [item.envelope.type for item in muster.store.read_all(conn, after=seq)]


def _events(muster: Muster, stream: str) -> list[Any]:
    with muster.engine.connect() as conn:
        return [item.event for item in muster.store.read_stream(conn, stream)]


def _read(muster: Muster, actor: Actor, **kwargs: Any) -> SharedRead:
    """Read HEALTH_RESIDENTS for evacuation; check one AccessDecided was appended."""
    before = _head(muster)
    values: dict[str, Any] = {"dataset": "HEALTH_RESIDENTS", "purpose": "evacuation"}
    values.update(kwargs)
    result = muster.bus.handle(ReadShared(**values), actor)
    assert isinstance(result, SharedRead)
    assert _types_after(muster, before).count("sharing.AccessDecided") == 1
    return result


def _send(muster: Muster, actor: Actor, command: Command) -> Any:
    return muster.bus.handle(command, actor)


def _agreement(muster: Muster, code: str) -> dict[str, Any]:
    with muster.engine.connect() as conn:
        row = queries.get_agreement(conn, code)
    assert row is not None
    return row


def _decide(muster: Muster, actor: Actor, request_id: str, *, approve: bool) -> Any:
    reason = "Agreed" if approve else "No need"
    command = DecideAccessRequest(request_id=request_id, approve=approve, reason=reason)
    return _send(muster, actor, command)


class TestRegisterAgreement:
    def test_created_then_unchanged_then_updated(self, sim: Muster, city: City) -> None:
        """The owner registers; the same data again is unchanged; new data updates."""
        first = _send(sim, city.health, RegisterAgreement(agreement=COUNTS))
        again = _send(sim, city.health, RegisterAgreement(agreement=COUNTS))
        wider = {**COUNTS, "consumers": ["FIRE", "PSB"]}
        changed = _send(sim, city.health, RegisterAgreement(agreement=wider))

        assert (first, again, changed) == ("created", "unchanged", "updated")
        assert len(_events(sim, "agreement-RESIDENT_COUNTS")) == 2
        assert _agreement(sim, "RESIDENT_COUNTS")["data"]["consumers"] == [
            "FIRE",
            "PSB",
        ]

    def test_a_non_owner_is_refused(self, sim: Muster, city: City) -> None:
        """FIRE cannot register an agreement on HEALTH's data; only the refusal is
        recorded (the security audit), no sharing event."""
        before = _head(sim)

        with pytest.raises(PermissionDenied):
            _send(sim, city.fire, RegisterAgreement(agreement=COUNTS))

        assert not [t for t in _types_after(sim, before) if t.startswith("sharing.")]
        with sim.engine.connect() as conn:
            assert queries.list_agreements(conn) == []

    def test_a_broken_rule_is_refused_and_nothing_appended(
        self, sim: Muster, city: City
    ) -> None:
        """Records of NOT_SHARED data without the emergency basis: AgreementInvalid."""
        before = _head(sim)
        records = {**COUNTS, "mode": "records", "legal_basis": "STATUTORY_DUTY"}

        with pytest.raises(AgreementInvalid, match="not shared"):
            _send(sim, city.health, RegisterAgreement(agreement=records))

        assert _head(sim) == before


class TestRevokeAgreement:
    def test_revoking_ends_the_access(self, sim: Muster, city: City) -> None:
        """After the owner revokes, FIRE's counts are refused."""
        _send(sim, city.health, RegisterAgreement(agreement=COUNTS))
        assert _read(sim, city.fire).decision == "aggregate"

        _send(sim, city.health, RevokeAgreement(code="RESIDENT_COUNTS", reason="Done"))

        assert _agreement(sim, "RESIDENT_COUNTS")["status"] == "revoked"
        assert _read(sim, city.fire).decision == "deny"

    def test_a_non_owner_cannot_revoke(self, sim: Muster, city: City) -> None:
        """FIRE cannot revoke HEALTH's agreement."""
        _send(sim, city.health, RegisterAgreement(agreement=COUNTS))

        with pytest.raises(PermissionDenied):
            _send(sim, city.fire, RevokeAgreement(code="RESIDENT_COUNTS", reason="x"))


class TestAccessRequests:
    def _request(self, sim: Muster, city: City) -> str:
        command = RequestAccess(
            dataset="HEALTH_CLINICS",
            fields=("name", "district"),
            purposes=("planning",),
            justification=WHY,
        )
        return str(_send(sim, city.psb, command))

    def test_approval_makes_an_agreement_the_consumer_reads_under(
        self, sim: Muster, city: City
    ) -> None:
        """PSB asks, HEALTH approves: REQ_<id> exists and PSB reads masked names."""
        request_id = self._request(sim, city)

        code = _decide(sim, city.health, request_id, approve=True)

        assert code == f"REQ_{request_id.upper()}"
        assert _agreement(sim, code)["data"]["consumers"] == ["PSB"]
        with sim.engine.connect() as conn:
            request = queries.get_request(conn, request_id)
        assert request is not None
        assert (request["status"], request["agreement_code"]) == ("approved", code)
        result = _read(sim, city.psb, dataset="HEALTH_CLINICS", purpose="planning")
        assert result.decision == "allow"
        assert result.policies == (f"agreement:{code}",)
        assert {tuple(record["values"]) for record in result.records} == {
            ("name", "district")
        }
        assert result.masks == {"name": "partial"}
        assert "张三丰" not in {record["values"]["name"] for record in result.records}

    def test_denial_stores_the_reason(self, sim: Muster, city: City) -> None:
        """A denied request keeps its reason and makes no agreement."""
        request_id = self._request(sim, city)

        code = _decide(sim, city.health, request_id, approve=False)

        assert code is None
        with sim.engine.connect() as conn:
            request = queries.get_request(conn, request_id)
            assert queries.list_agreements(conn) == []
        assert request is not None
        assert (request["status"], request["reason"]) == ("denied", "No need")

    def test_deciding_twice_is_refused(self, sim: Muster, city: City) -> None:
        """A decided request cannot be decided again."""
        request_id = self._request(sim, city)
        _decide(sim, city.health, request_id, approve=False)

        with pytest.raises(RequestAlreadyDecided):
            _decide(sim, city.health, request_id, approve=True)

    def test_only_the_provider_decides(self, sim: Muster, city: City) -> None:
        """The requester cannot approve its own request."""
        request_id = self._request(sim, city)

        with pytest.raises(PermissionDenied):
            _decide(sim, city.psb, request_id, approve=True)


class TestBreakGlass:
    def test_a_commander_opens_and_reads(self, sim: Muster, city: City) -> None:
        """The commander opens break-glass and reads the NOT_SHARED records."""
        opened = _send(sim, city.commander, GLASS)

        result = _read(sim, city.commander)

        assert result.decision == "allow"
        assert result.policies == (f"break-glass:{opened}",)
        assert len(result.records) == 2
        with sim.engine.connect() as conn:
            (row,) = queries.list_break_glass(conn)
        assert (row["break_glass_id"], row["department"]) == (opened, "EMB")

    def test_a_duty_officer_is_refused(self, sim: Muster, city: City) -> None:
        """Only a commander opens break-glass."""
        with pytest.raises(PermissionDenied):
            _send(sim, city.emb_duty, GLASS)

    def test_a_short_justification_is_refused(self, sim: Muster, city: City) -> None:
        """Break-glass needs at least 20 characters of justification."""
        before = _head(sim)

        with pytest.raises(BreakGlassInvalid):
            _send(sim, city.commander, replace(GLASS, justification="urgent"))

        assert _head(sim) == before


class TestReadAcrossAnIncident:
    def _incident(self, sim: Muster, city: City, level: str) -> str:
        incident_id = str(_send(sim, city.commander, FLOOD))
        plan = ActivatePlan(
            incident_id=incident_id, plan_code="FLOOD_SHARE", level=level
        )
        _send(sim, city.commander, plan)
        return incident_id

    def _level(self, sim: Muster, city: City, incident_id: str, level: str) -> None:
        change = ChangeResponseLevel(
            incident_id=incident_id, level=level, reason="Rain"
        )
        _send(sim, city.commander, change)

    def test_counts_before_records_in_the_radius_at_l2_and_the_notice_after(
        self, sim: Muster, city: City
    ) -> None:
        """Counts only until the flood reaches L2; then masked records within 10 km
        (the far one only counted); closing ends the grant and opens a notice."""
        for agreement in (COUNTS, EMERGENCY):
            _send(sim, city.health, RegisterAgreement(agreement=agreement))
        before = _read(sim, city.fire)
        incident_id = self._incident(sim, city, "L3")
        at_l3 = _read(sim, city.fire)

        self._level(sim, city, incident_id, "L2")
        at_l2 = _read(sim, city.fire)

        assert (before.decision, at_l3.decision) == ("aggregate", "aggregate")
        assert before.records == []
        assert before.aggregates == [("天心", 1), ("岳麓", 1)]
        grant = f"RESIDENT_EMERGENCY@{incident_id}"
        assert at_l2.decision == "allow"
        assert at_l2.incident_id == incident_id
        assert f"grant:{grant}" in at_l2.policies
        assert [record["values"]["district"] for record in at_l2.records] == ["岳麓"]
        values = at_l2.records[0]["values"]
        assert "id_number" not in values  # sensitive: hidden by default
        assert values["phone"] != "13812345678"
        assert values["phone"].endswith("5678")
        assert values["name"] != "张三丰"
        assert at_l2.masks["id_number"] == "hide"
        assert at_l2.aggregates == [("天心", 1)]  # the far record: counted only

        seq = _head(sim)
        close = ChangeIncidentStatus(
            incident_id=incident_id, to_status="closed", reason="Water receded"
        )
        _send(sim, city.commander, close)
        after = _read(sim, city.fire)

        assert after.decision == "aggregate"
        assert after.records == []
        ended = [e for e in _events(sim, f"grant-{grant}") if hasattr(e, "reason")]
        assert [event.reason for event in ended] == ["incident_closed"]
        assert "sharing.PersonalDataNoticeDue" in _types_after(sim, seq)
        with sim.engine.connect() as conn:
            (notice,) = queries.list_notices(conn, provider="HEALTH")
        assert (notice["status"], notice["records_shared"]) == ("open", 1)

        given = RecordNoticeGiven(notice_id=notice["notice_id"], note="SMS sent")
        _send(sim, city.health, given)

        with sim.engine.connect() as conn:
            done = queries.get_notice(conn, notice["notice_id"])
        assert done is not None
        assert done["status"] == "done"

    def test_level_changes_keep_or_end_the_same_grant(
        self, sim: Muster, city: City
    ) -> None:
        """L2 -> L1 keeps the grant (one activation); L1 -> L3 ends it."""
        _send(sim, city.health, RegisterAgreement(agreement=EMERGENCY))
        incident_id = self._incident(sim, city, "L2")
        grant = f"grant-RESIDENT_EMERGENCY@{incident_id}"

        self._level(sim, city, incident_id, "L1")
        assert _read(sim, city.fire).decision == "allow"
        self._level(sim, city, incident_id, "L3")
        denied = _read(sim, city.fire)

        types = [type(event).__name__ for event in _events(sim, grant)]
        assert types == ["GrantActivated", "GrantEnded"]
        assert _events(sim, grant)[-1].reason == "level_below_condition"
        assert denied.decision == "deny"
        assert "needs an open incident" in denied.reason

    def test_the_grant_survives_a_restart(
        self, sim: Muster, city: City, settings: Settings
    ) -> None:
        """A second deployment on the same database reads under the same grant."""
        _send(sim, city.health, RegisterAgreement(agreement=EMERGENCY))
        incident_id = self._incident(sim, city, "L2")
        assert _read(sim, city.fire).decision == "allow"

        restarted = bootstrap(settings, clock=SimulatedClock(START))
        try:
            result = _read(restarted, city.fire)
        finally:
            restarted.engine.dispose()

        assert result.decision == "allow"
        assert result.policies == (f"grant:RESIDENT_EMERGENCY@{incident_id}",)
        assert len(result.records) == 1

    def test_a_deny_is_logged_with_its_reason(self, sim: Muster, city: City) -> None:
        """Without an agreement PSB is refused, and the log says why."""
        result = _read(sim, city.psb)

        assert result.decision == "deny"
        assert "not shared" in result.reason
        with sim.engine.connect() as conn:
            (entry,) = queries.access_entries(conn, queries.LogFilter(department="PSB"))
        assert (entry["decision"], entry["records"]) == ("deny", 0)
