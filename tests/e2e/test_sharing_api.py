"""The sharing API (/api/v1): shared reads (JSON, CSV, TLP), agreements, access
requests, break-glass, the access log, grants and notices."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from muster.bootstrap import Muster
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.ingest.domain.commands import IngestFile
from muster.settings import Settings
from muster.sharing.domain.commands import RegisterAgreement
from muster.web.app import create_app
from muster.web.auth import CSRF_HEADER
from tests import factories
from tests.e2e.client import WebClient, running_server

ROADS = "TRANSPORT_ROADS"
RESIDENTS = "HEALTH_RESIDENTS"
FIRE_AGREEMENT = "HEALTH_RESIDENTS_FIRE"
PHONE = "13812345678"
NAME = "王秀英"
JUSTIFICATION = "Traffic control around the flooded districts needs this data."
USERS = (
    ("health.duty", "HEALTH", ("duty_officer",)),
    ("fire.duty", "FIRE", ("duty_officer",)),
    ("transport.duty", "TRANSPORT", ("duty_officer",)),
    ("commander", "EMB", ("commander",)),
    ("emb.duty", "EMB", ("duty_officer",)),
    ("admin", "EMB", ("admin",)),
)

SignIn = Callable[[str], WebClient]


def _roads() -> RegisterDataset:
    return RegisterDataset(
        metadata=DatasetMetadata(
            code=ROADS, name_zh="道路通行状况", name_en="Road status",
            owner_department="TRANSPORT", sharing_class="UNCONDITIONAL",
            data_grade="GENERAL", update_interval_minutes=15, format="json",
            connector="api_push",
        ),
        fields=(
            DatasetField(name="segment_id", type="string", required=True),
            DatasetField(name="status", type="string", required=True),
        ),
    )  # fmt: skip


def _residents() -> RegisterDataset:
    return RegisterDataset(
        metadata=DatasetMetadata(
            code=RESIDENTS, name_zh="重点关注居民", name_en="Residents needing help",
            owner_department="HEALTH", sharing_class="CONDITIONAL",
            sharing_conditions="Rescue teams on duty only.",
            data_grade="IMPORTANT", update_interval_minutes=1440, format="json",
            connector="api_push",
        ),
        fields=(
            DatasetField(name="name", type="string", required=True,
                         sensitivity="personal"),
            DatasetField(name="phone", type="string", sensitivity="personal"),
            DatasetField(name="district", type="string"),
        ),
    )  # fmt: skip


def fire_agreement(**changes: Any) -> dict[str, Any]:
    """Return HEALTH's agreement sharing residents with FIRE for rescue, masked."""
    return {
        "code": FIRE_AGREEMENT,
        "dataset": RESIDENTS,
        "consumers": ["FIRE"],
        "fields": ["name", "phone", "district"],
        "purposes": ["rescue"],
        "masks": {"name": "name", "phone": "phone"},
        "legal_basis": "STATUTORY_DUTY",
        "tlp": "AMBER",
        **changes,
    }


def sharing_world(muster: Muster) -> dict[str, Actor]:
    """Register HEALTH, FIRE, TRANSPORT and EMB with their people, a road dataset
    (unconditional) and a residents dataset (conditional, important, personal), each
    holding records. Return the actors by username."""
    for code in ("HEALTH", "FIRE", "TRANSPORT", "EMB"):
        factories.department(muster, code)
    actors = {
        username: factories.user(
            muster, username, department_code=department, roles=roles
        )
        for username, department, roles in USERS
    }
    muster.bus.handle(_roads(), SYSTEM_ACTOR)
    muster.bus.handle(_residents(), SYSTEM_ACTOR)
    roads = [{"segment_id": "S203-K12", "status": "closed"}]
    residents = [
        {"name": NAME, "phone": PHONE, "district": "江北"},
        {"name": "李建国", "phone": "13987654321", "district": "江南"},
    ]
    for code, records, owner in (
        (ROADS, roads, "transport.duty"),
        (RESIDENTS, residents, "health.duty"),
    ):
        data = json.dumps(records, ensure_ascii=False).encode()
        command = IngestFile(dataset_code=code, source="test", data=data, format="json")
        assert muster.bus.handle(command, actors[owner]).accepted == len(records)
    return actors


@pytest.fixture
def actors(muster: Muster) -> dict[str, Actor]:
    """Return the people of the sharing world."""
    return sharing_world(muster)


@pytest.fixture
def sign_in(
    settings: Settings, muster: Muster, actors: dict[str, Actor]
) -> Iterator[SignIn]:
    """Serve the app; return a function giving a signed-in client per username."""
    clients: list[WebClient] = []
    with running_server(create_app(settings, muster=muster)) as base_url:

        def open_client(username: str) -> WebClient:
            client = WebClient(base_url)
            clients.append(client)
            assert client.sign_in(username).status_code == 303
            return client

        yield open_client
        for client in clients:
            client.close()


def _post(web: WebClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return web.post(path, json=body, headers={CSRF_HEADER: web.csrf_token})


def _shared(web: WebClient, code: str = RESIDENTS, **params: str) -> httpx.Response:
    return web.get(f"/api/v1/datasets/{code}/shared", params=params)


def _agree(muster: Muster, actors: dict[str, Actor], **changes: Any) -> None:
    outcome = muster.bus.handle(
        RegisterAgreement(agreement=fire_agreement(**changes), source="ui"),
        actors["health.duty"],
    )
    assert outcome == "created"


class TestSharedRead:
    def test_owner_reads_unmasked(self, sign_in: SignIn) -> None:
        """The owning department reads its own records whole, labelled TLP:AMBER."""
        web = sign_in("health.duty")

        response = _shared(web)

        assert response.status_code == 200
        assert response.headers["X-TLP"] == "TLP:AMBER"
        body = response.json()
        assert (body["decision"], body["policies"], body["masks"]) == (
            "allow", ["base:owner"], {},
        )  # fmt: skip
        assert {r["values"]["phone"] for r in body["records"]} >= {PHONE}
        assert body["fields"] == ["name", "phone", "district"]
        assert body["access_id"]

    def test_unconditional_dataset_is_readable_by_anyone(self, sign_in: SignIn) -> None:
        """An unconditional dataset is released to any department, with its TLP."""
        web = sign_in("fire.duty")

        response = _shared(web, ROADS)

        assert response.status_code == 200
        assert response.headers["X-TLP"] == "TLP:GREEN"
        body = response.json()
        assert body["policies"] == ["base:unconditional"]
        assert [r["values"]["status"] for r in body["records"]] == ["closed"]

    def test_conditional_data_needs_a_purpose_then_an_agreement(
        self, sign_in: SignIn, muster: Muster, actors: dict[str, Actor]
    ) -> None:
        """Important data without a purpose is refused with the reason (403); with
        an agreement and its purpose, records come masked."""
        web = sign_in("fire.duty")
        before = _shared(web)
        without_agreement = _shared(web, purpose="rescue")
        _agree(muster, actors)

        response = _shared(web, purpose="rescue")

        assert before.status_code == 403
        assert before.headers["content-type"].startswith("application/problem+json")
        assert "state a purpose" in before.json()["detail"]
        assert before.json()["decision"] == "deny"
        assert without_agreement.status_code == 403
        assert "request access" in without_agreement.json()["detail"]
        assert response.status_code == 200
        assert response.headers["X-TLP"] == "TLP:AMBER"
        body = response.json()
        assert body["policies"] == [f"agreement:{FIRE_AGREEMENT}"]
        assert body["masks"] == {"name": "name", "phone": "phone"}
        assert (body["purpose"], len(body["records"])) == ("rescue", 2)
        assert PHONE not in response.text
        assert NAME not in response.text
        assert f"agreement {FIRE_AGREEMENT}" in body["reason"]

    def test_csv_export_starts_with_the_tlp_line(
        self, sign_in: SignIn, muster: Muster, actors: dict[str, Actor]
    ) -> None:
        """format=csv is an attachment: the TLP line with the reason, the released
        fields, one masked row per record."""
        _agree(muster, actors)
        web = sign_in("fire.duty")

        response = _shared(web, purpose="rescue", format="csv")

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"].startswith("attachment;")
        lines = response.text.splitlines()
        assert lines[0] == f"# TLP:AMBER — allowed by agreement {FIRE_AGREEMENT}"
        assert lines[1] == "name,phone,district"
        assert len(lines) == 4
        assert PHONE not in response.text

    def test_ingest_record_reads_follow_the_same_rule(
        self, sign_in: SignIn, muster: Muster, actors: dict[str, Actor]
    ) -> None:
        """The ingest records endpoint and page are the same read: refused without a
        purpose (the page says why), masked with the agreement's purpose."""
        _agree(muster, actors)
        web = sign_in("fire.duty")
        path = f"/api/datasets/{RESIDENTS}/records"

        refused = web.get(path)
        masked = web.get(path, params={"purpose": "rescue"})
        page_refused = web.get(f"/datasets/{RESIDENTS}/records")
        page = web.get(f"/datasets/{RESIDENTS}/records", params={"purpose": "rescue"})

        assert refused.status_code == 403
        assert "state a purpose" in refused.json()["detail"]
        assert masked.status_code == 200
        assert masked.headers["X-TLP"] == "TLP:AMBER"
        assert len(masked.json()) == 2
        assert PHONE not in masked.text
        assert page_refused.status_code == 403
        assert "state a purpose" in page_refused.text
        assert page.status_code == 200
        assert "<code>phone</code>" in page.text
        assert PHONE not in page.text
        assert "江北" in page.text


class TestAgreements:
    def test_owner_registers_updates_lists_and_revokes(
        self, sign_in: SignIn, muster: Muster
    ) -> None:
        """Created is 201, a change 200; the list and the agreement show it; after
        the revocation the consumer is refused again."""
        web = sign_in("health.duty")
        fire = sign_in("fire.duty")

        created = _post(web, "/api/v1/agreements", fire_agreement())
        updated = _post(web, "/api/v1/agreements", fire_agreement(tlp="RED"))
        listed = web.get("/api/v1/agreements", params={"provider": "HEALTH"})
        read = _shared(fire, purpose="rescue")
        revoked = _post(
            web, f"/api/v1/agreements/{FIRE_AGREEMENT}/revoke", {"reason": "Ended"}
        )
        after = _shared(fire, purpose="rescue")

        assert (created.status_code, created.json()["result"]) == (201, "created")
        assert (updated.status_code, updated.json()["result"]) == (200, "updated")
        assert [item["code"] for item in listed.json()] == [FIRE_AGREEMENT]
        assert read.headers["X-TLP"] == "TLP:RED"
        assert revoked.json()["status"] == "revoked"
        assert after.status_code == 403
        shown = web.get(f"/api/v1/agreements/{FIRE_AGREEMENT}").json()
        assert (shown["status"], shown["revoke_reason"]) == ("revoked", "Ended")
        assert web.get("/api/v1/agreements/NOPE_NOPE").status_code == 404

    def test_another_department_may_not_register(self, sign_in: SignIn) -> None:
        """FIRE may not register an agreement on HEALTH's dataset (403)."""
        web = sign_in("fire.duty")

        response = _post(web, "/api/v1/agreements", fire_agreement())

        assert response.status_code == 403


class TestAccessRequests:
    def test_request_approve_then_the_consumer_reads(self, sign_in: SignIn) -> None:
        """TRANSPORT asks; HEALTH sees and approves it; TRANSPORT then reads the
        requested field for its purpose (and only that field)."""
        transport = sign_in("transport.duty")
        health = sign_in("health.duty")
        asked = _post(
            transport, "/api/v1/access-requests",
            {"dataset": RESIDENTS, "fields": ["district"],
             "purposes": ["traffic_control"], "justification": JUSTIFICATION},
        )  # fmt: skip
        request_id = asked.json()["request_id"]
        refused = _shared(transport, purpose="traffic_control")

        received = health.get("/api/v1/access-requests").json()
        decided = _post(
            health,
            f"/api/v1/access-requests/{request_id}/decision",
            {"approve": True, "reason": "Needed for road closures."},
        )
        read = _shared(transport, purpose="traffic_control")

        assert asked.status_code == 201
        assert refused.status_code == 403
        assert [item["request_id"] for item in received] == [request_id]
        assert transport.get("/api/v1/access-requests").json()[0]["consumer"] == (
            "TRANSPORT"
        )
        assert decided.json()["status"] == "approved"
        assert decided.json()["agreement_code"]
        assert read.status_code == 200
        assert read.json()["fields"] == ["district"]
        assert {r["values"]["district"] for r in read.json()["records"]} == {
            "江北", "江南",
        }  # fmt: skip
        assert PHONE not in read.text


class TestBreakGlass:
    def test_commander_opens_and_reads_a_duty_officer_may_not(
        self, sign_in: SignIn
    ) -> None:
        """A commander opens break-glass (201, with its expiry) and reads; an EMB
        duty officer is refused (403)."""
        commander = sign_in("commander")
        duty = sign_in("emb.duty")
        body = {"dataset": RESIDENTS, "justification": JUSTIFICATION, "minutes": 30}

        opened = _post(commander, "/api/v1/break-glass", body)
        read = _shared(commander, purpose="rescue")
        refused = _post(duty, "/api/v1/break-glass", body)

        assert opened.status_code == 201
        assert opened.json()["break_glass_id"]
        assert opened.json()["expires_at"]
        assert read.status_code == 200
        assert read.json()["policies"] == [
            f"break-glass:{opened.json()['break_glass_id']}"
        ]
        assert refused.status_code == 403


class TestAccessLog:
    def test_the_provider_sees_the_consumers_read_others_do_not(
        self, sign_in: SignIn, muster: Muster, actors: dict[str, Actor]
    ) -> None:
        """HEALTH's log lists FIRE's read of its residents; TRANSPORT's log does
        not; an admin may name the provider; FIRE may not; the CSV has a header."""
        _agree(muster, actors)
        fire = sign_in("fire.duty")
        _shared(fire, purpose="rescue")
        health = sign_in("health.duty")

        entries = health.get("/api/v1/access-log", params={"department": "FIRE"})
        other = sign_in("transport.duty").get("/api/v1/access-log")
        by_admin = sign_in("admin").get(
            "/api/v1/access-log", params={"provider": "HEALTH"}
        )
        refused = fire.get("/api/v1/access-log", params={"provider": "HEALTH"})
        exported = health.get("/api/v1/access-log", params={"format": "csv"})

        assert [(e["department"], e["decision"]) for e in entries.json()] == [
            ("FIRE", "allow")
        ]
        entry = entries.json()[0]
        assert (entry["purpose"], entry["records"], entry["channel"]) == (
            "rescue", 2, "api",
        )  # fmt: skip
        assert entry["masks"] == {"name": "name", "phone": "phone"}
        assert all(e["dataset"] != RESIDENTS for e in other.json())
        assert "FIRE" in {e["department"] for e in by_admin.json()}
        assert refused.status_code == 403
        lines = exported.text.splitlines()
        assert exported.headers["content-type"] == "text/csv; charset=utf-8"
        assert lines[0] == (
            "at,user_id,department,dataset,purpose,incident_id,decision,records,"
            "aggregated,masks,policies,channel,reason"
        )
        assert any(",FIRE,HEALTH_RESIDENTS,rescue," in line for line in lines[1:])

    def test_grants_and_notices_answer_lists(self, sign_in: SignIn) -> None:
        """Without incidents there are no grants and no notices to give."""
        web = sign_in("health.duty")

        assert web.get("/api/v1/grants").json() == []
        assert web.get("/api/v1/sharing/notices").json() == []
        missing = _post(web, "/api/v1/sharing/notices/nope/given", {"note": "told"})
        assert missing.status_code == 404
