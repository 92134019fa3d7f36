"""Notifications for governed sharing, end to end through the bus: break-glass tells
the provider at once, requests reach the provider's stewards, decisions reach the
requester, grants switching on and off reach the provider's duty officers; a second
delivery tick queues nothing twice."""

from __future__ import annotations

from typing import Any

import pytest

from muster.bootstrap import Muster
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.notify import queries
from muster.notify.domain.audience import Cause, notices_for
from muster.notify.domain.model import Channel
from muster.notify.domain.sharing_audience import AgreementFacts, RequestFacts
from muster.notify.tasks import deliver_once
from muster.response.domain.commands import ChangeIncidentStatus
from muster.sharing.domain.commands import (
    DecideAccessRequest,
    OpenBreakGlass,
    ReconcileGrants,
    RegisterAgreement,
    RequestAccess,
)
from muster.sharing.domain.events import PersonalDataNoticeDue
from tests.response_setup import World, build_world, flood_incident

DATASET = "TRANSPORT_ROAD_STATUS"
JUSTIFICATION = "Evacuation routes for the flooded Riverside district are needed now."
REQUEST_WHY = "Pump crews need to know which roads are closed to reach stations."


@pytest.fixture
def world(muster: Muster) -> World:
    """Return the response world with TRANSPORT's road-status dataset."""
    world = build_world(muster)
    muster.bus.handle(
        RegisterDataset(
            metadata=DatasetMetadata(
                code=DATASET,
                name_zh="道路通行状态",
                name_en="Road status",
                owner_department="TRANSPORT",
                sharing_class="CONDITIONAL",
                sharing_conditions="Emergency response only.",
                data_grade="GENERAL",
                update_interval_minutes=10,
                format="observations",
                connector="api_push",
            ),
            fields=(
                DatasetField(name="segment", type="string", required=True),
                DatasetField(name="status", type="string", required=True),
                DatasetField(name="observed_at", type="datetime", required=True),
            ),
        ),
        SYSTEM_ACTOR,
    )
    return world


def _commander(world: World) -> Actor:
    return Actor(
        kind="user",
        id=world.commander.id,
        department="EMB",
        roles=frozenset({"commander"}),
    )


def _inbox(muster: Muster, user_id: str) -> list[queries.InboxItem]:
    with muster.engine.connect() as conn:
        return queries.user_notifications(conn, user_id)


def _about(muster: Muster, user_id: str, start: str) -> list[queries.InboxItem]:
    return [
        item for item in _inbox(muster, user_id) if item.subject_en.startswith(start)
    ]


def _queued(muster: Muster) -> int:
    with muster.engine.connect() as conn:
        return len(queries.list_notifications(conn))


def _open_break_glass(muster: Muster, world: World, incident_id: str | None) -> str:
    return str(
        muster.bus.handle(
            OpenBreakGlass(
                dataset=DATASET,
                justification=JUSTIFICATION,
                minutes=90,
                incident_id=incident_id,
            ),
            _commander(world),
        )
    )


def _flood_agreement() -> dict[str, Any]:
    return {
        "code": "TRANSPORT_ROADS_FLOOD",
        "dataset": DATASET,
        "consumers": ["WATER"],
        "fields": ["*"],
        "purposes": ["flood_response"],
        "mode": "records",
        "conditions": {"incident": {"categories": ["11A"], "min_level": "L4"}},
        "name_zh": "内涝期间道路状态共享",
        "name_en": "Road status during floods",
    }


class TestBreakGlass:
    def test_break_glass_tells_the_provider_at_once(
        self, muster: Muster, world: World
    ) -> None:
        """Given a flood incident and TRANSPORT's dataset, when the commander opens
        break-glass access and the delivery tick runs, then TRANSPORT's duty officer
        and head find in their inbox who opened which dataset, until when, for which
        incident and why, linked to the dataset's access log; WATER hears nothing
        and the commander is not told of their own act."""
        incident_id = flood_incident(muster, world)
        _open_break_glass(muster, world, incident_id)

        deliver_once(muster.bus)

        for user in (world.transport_duty, world.transport_head):
            (item,) = _about(muster, user.id, "Break-glass")
            assert DATASET in item.subject_en
            assert "Commander (EMB)" in item.subject_en
            assert JUSTIFICATION in item.body_en
            assert JUSTIFICATION in item.body_zh
            assert incident_id in item.body_en
            assert "until 20" in item.body_en
            assert item.subject_zh.startswith("紧急授权")
            assert item.link == f"/sharing/log?dataset={DATASET}"
            assert item.incident_id == incident_id
        assert _about(muster, world.water_duty.id, "Break-glass") == []
        assert _about(muster, world.commander.id, "Break-glass") == []

    def test_a_second_tick_queues_nothing_twice(
        self, muster: Muster, world: World
    ) -> None:
        """Given break-glass already notified, when the delivery tick runs again,
        then no notification is queued twice."""
        _open_break_glass(muster, world, None)
        deliver_once(muster.bus)
        before = _queued(muster)

        reports = deliver_once(muster.bus)

        assert sum(report.queued for report in reports) == 0
        assert _queued(muster) == before
        assert len(_about(muster, world.transport_duty.id, "Break-glass")) == 1
        (item,) = _about(muster, world.transport_duty.id, "Break-glass")
        assert "Incident: none" in item.body_en


class TestRequests:
    def test_a_request_reaches_the_providers_stewards(
        self, muster: Muster, world: World
    ) -> None:
        """Given WATER's duty officer, when they ask for TRANSPORT's road status and
        the delivery tick runs, then TRANSPORT's duty officer and head see the
        request with its justification, linked to the sharing page."""
        muster.bus.handle(
            RequestAccess(
                dataset=DATASET,
                fields=("segment", "status"),
                purposes=("flood_response",),
                justification=REQUEST_WHY,
            ),
            world.water_duty,
        )

        deliver_once(muster.bus)

        for user in (world.transport_duty, world.transport_head):
            (item,) = _about(muster, user.id, "Access request: WATER asks")
            assert REQUEST_WHY in item.body_en
            assert "segment, status" in item.body_en
            assert item.link == "/sharing"
        assert _about(muster, world.water_duty.id, "Access request") == []

    @pytest.mark.parametrize("approve", [True, False])
    def test_the_decision_reaches_the_requester(
        self, muster: Muster, world: World, approve: bool
    ) -> None:
        """Given a request from WATER's duty officer, when TRANSPORT's duty officer
        approves or denies it with a reason and the tick runs (twice), then the
        requester is told the outcome and the reason once; nobody else is."""
        request_id = str(
            muster.bus.handle(
                RequestAccess(
                    dataset=DATASET,
                    fields=("segment", "status"),
                    purposes=("flood_response",),
                    justification=REQUEST_WHY,
                ),
                world.water_duty,
            )
        )
        deliver_once(muster.bus)
        reason = "Granted for the flood season." if approve else "Use the public map."
        code = muster.bus.handle(
            DecideAccessRequest(request_id=request_id, approve=approve, reason=reason),
            world.transport_duty,
        )

        deliver_once(muster.bus)
        deliver_once(muster.bus)

        outcome = "approved" if approve else "denied"
        (item,) = _about(muster, world.water_duty.id, f"Access request {outcome}")
        assert DATASET in item.subject_en
        assert reason in item.body_en
        assert reason in item.body_zh
        assert item.subject_zh.startswith("数据申请")
        assert item.link == "/sharing"
        if approve:
            assert f"agreement {code}" in item.body_en
        assert (
            _about(muster, world.transport_duty.id, f"Access request {outcome}") == []
        )


class TestGrants:
    def test_grants_switching_on_and_off_tell_the_providers_duty_officers(
        self, muster: Muster, world: World
    ) -> None:
        """Given TRANSPORT's flood agreement, when a flood incident at L4 switches it
        on and closing the incident switches it off, then TRANSPORT's duty officer
        is told both (agreement, incident and why), and its head is not."""
        muster.bus.handle(
            RegisterAgreement(agreement=_flood_agreement()), world.transport_duty
        )
        incident_id = flood_incident(muster, world)
        muster.bus.handle(ReconcileGrants(), SYSTEM_ACTOR)
        deliver_once(muster.bus)
        muster.bus.handle(
            ChangeIncidentStatus(
                incident_id=incident_id, to_status="closed", reason="Water receded."
            ),
            world.commander,
        )
        muster.bus.handle(ReconcileGrants(), SYSTEM_ACTOR)

        deliver_once(muster.bus)

        (on,) = _about(muster, world.transport_duty.id, "Scenario sharing switched on")
        assert "Road status during floods" in on.subject_en
        assert incident_id in on.body_en
        assert "TRANSPORT_ROADS_FLOOD" in on.body_en
        (off,) = _about(
            muster, world.transport_duty.id, "Scenario sharing switched off"
        )
        assert "the incident closed" in off.body_en
        assert "事件已关闭" in off.body_zh
        assert _about(muster, world.transport_head.id, "Scenario sharing") == []


class _Directory:
    """A directory for the pure mapping: TRANSPORT's duty officer and head."""

    def role_holders(self, department: str, role: str) -> list[str]:
        return {
            ("TRANSPORT", "duty_officer"): ["t.duty"],
            ("TRANSPORT", "head"): ["t.head"],
        }.get((department, role), [])

    def users_with_role(self, role: str) -> list[str]:
        return []

    def has_email(self, user_id: str) -> bool:
        return user_id == "t.head"

    def has_webhook(self, department: str) -> bool:
        return False

    def user_name(self, user_id: str) -> str:
        return user_id

    def access_request(self, request_id: str) -> RequestFacts | None:
        return None

    def agreement(self, code: str) -> AgreementFacts | None:
        return None


class TestPersonalDataNotice:
    def test_a_notice_due_asks_the_provider_to_tell_the_people(self) -> None:
        """Given personal data shared under the emergency basis, when the notice
        falls due, then TRANSPORT's duty officer and head are asked (in-app, and by
        e-mail where they have an address) to tell the people concerned."""
        event = PersonalDataNoticeDue(
            notice_id="n1", provider="TRANSPORT", dataset=DATASET,
            agreement_code="TRANSPORT_EMERGENCY", incident_id="i1", records_shared=37,
        )  # fmt: skip
        cause = Cause(
            event_id="ev-1", type="sharing.PersonalDataNoticeDue", is_exercise=False
        )

        notices = notices_for(event, cause, _Directory())

        assert {(n.recipient, n.channel) for n in notices} == {
            ("t.duty", Channel.IN_APP),
            ("t.head", Channel.IN_APP),
            ("t.head", Channel.EMAIL),
        }
        assert "37 records" in notices[0].body_en
        assert "PIPL Art. 18" in notices[0].body_en
        assert "第十八条" in notices[0].body_zh
        assert notices[0].link == "/sharing"
        assert notices[0].incident_id == "i1"
