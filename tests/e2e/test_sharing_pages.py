"""The sharing pages: the department overview, the request, agreement and break-glass
forms, deciding a request, the access log and reading a shared dataset (masked,
logged, or refused with its reason). Real routes over HTTP on both databases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from muster.bootstrap import Muster
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries as identity
from muster.ingest.domain.commands import IngestFile
from muster.settings import Settings
from muster.sharing import queries
from muster.sharing.domain.commands import DecideAccessRequest, RequestAccess
from tests import factories
from tests.e2e.client import WebClient, web_client

DATASET = "HOTLINE_CITIZEN_REPORTS"
CALLERS = [
    {"ticket_id": "T-1", "caller_name": "王小明", "caller_phone": "13800138000",
     "category": "trapped_people", "location": "28.2,112.9"},
    {"ticket_id": "T-2", "caller_name": "李建国", "caller_phone": "13900139000",
     "category": "flooding", "location": "28.21,112.91"},
    {"ticket_id": "T-3", "caller_name": "赵丽", "caller_phone": "13700137000",
     "category": "flooding", "location": "28.22,112.92"},
]  # fmt: skip
JUSTIFICATION = "Rescue crews must reach callers trapped by the flood water."


def hotline_world(muster: Muster) -> None:
    """Register HOTLINE (provider), FIRE (consumer) and EMB (command) with their
    people, the hotline's conditional dataset with personal fields, and three calls
    ingested by the hotline's duty officer."""
    for code in ("HOTLINE", "FIRE", "EMB"):
        factories.department(muster, code)
    hotline = factories.user(
        muster, "hotline.duty", department_code="HOTLINE", roles=("duty_officer",)
    )
    factories.user(muster, "fire.duty", department_code="FIRE", roles=("duty_officer",))
    factories.user(
        muster,
        "fire.zh",
        department_code="FIRE",
        roles=("duty_officer",),
        language="zh-CN",
    )
    factories.user(muster, "commander", department_code="EMB", roles=("commander",))
    metadata = DatasetMetadata(
        code=DATASET, name_zh="12345 热线市民诉求", name_en="Hotline citizen reports",
        owner_department="HOTLINE", sharing_class="CONDITIONAL",
        sharing_conditions="Callers' names and phones only to the assigned department.",
        data_grade="IMPORTANT", update_interval_minutes=5, format="json",
        connector="api_push",
    )  # fmt: skip
    fields = (
        DatasetField(name="ticket_id", type="string", required=True),
        DatasetField(name="caller_name", type="string", sensitivity="personal"),
        DatasetField(
            name="caller_phone", type="string", sensitivity="sensitive_personal"
        ),
        DatasetField(
            name="category", type="enum", required=True,
            choices=("flooding", "trapped_people", "other"),
        ),
        DatasetField(name="location", type="point", sensitivity="location"),
    )  # fmt: skip
    muster.bus.handle(RegisterDataset(metadata=metadata, fields=fields), SYSTEM_ACTOR)
    muster.bus.handle(
        IngestFile(
            dataset_code=DATASET, source="test", data=json.dumps(CALLERS).encode()
        ),
        hotline,
    )


def _actor(muster: Muster, username: str) -> Actor:
    with muster.engine.connect() as conn:
        view = identity.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def _approved_request(muster: Muster) -> str:
    """FIRE asks for the calls for rescue and HOTLINE approves; return the code."""
    request_id = muster.bus.handle(
        RequestAccess(
            dataset=DATASET,
            fields=("ticket_id", "caller_name", "caller_phone", "category"),
            purposes=("rescue",),
            justification=JUSTIFICATION,
        ),
        _actor(muster, "fire.duty"),
    )
    code = muster.bus.handle(
        DecideAccessRequest(request_id=request_id, approve=True, reason="For rescue."),
        _actor(muster, "hotline.duty"),
    )
    return str(code)


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Return a client of the app serving the hotline world."""
    hotline_world(muster)
    with web_client(settings, muster) as client:
        yield client


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


class TestPagesRender:
    @pytest.mark.parametrize(
        ("username", "heading"),
        [("fire.duty", "Data sharing"), ("fire.zh", "数据共享")],
    )
    @pytest.mark.parametrize(
        "path",
        [
            "/sharing",
            "/sharing/requests/new",
            f"/sharing/requests/new?dataset={DATASET}",
            "/sharing/agreements/new",
            "/sharing/break-glass",
            "/sharing/log",
        ],
    )
    def test_each_page_renders_in_the_person_s_language(
        self, web: WebClient, username: str, heading: str, path: str
    ) -> None:
        """Given a signed-in consumer who reads English or Chinese, when they open a
        sharing page, then it renders in their language with the navigation link."""
        web.sign_in(username)

        page = web.get(path)

        assert page.status_code == 200
        assert heading in page.text
        assert 'href="/sharing"' in page.text

    def test_provider_sees_its_dataset_s_fields_on_the_agreement_form(
        self, web: WebClient
    ) -> None:
        """Given the hotline's duty officer, when they choose their dataset on the
        agreement form, then its fields are listed with a mask choice each."""
        web.sign_in("hotline.duty")

        page = web.get(f"/sharing/agreements/new?dataset={DATASET}")

        assert page.status_code == 200
        assert 'name="mask-caller_phone"' in page.text
        assert 'value="FIRE"' in page.text
        assert 'value="HOTLINE"' not in page.text

    def test_signed_out_visitor_is_sent_to_sign_in(self, web: WebClient) -> None:
        """Given nobody signed in, when /sharing is opened, then sign-in is asked."""
        page = web.get("/sharing")

        assert page.status_code == 303
        assert page.headers["location"].startswith("/signin")


class TestRequestForm:
    def test_consumer_files_a_request(self, web: WebClient, muster: Muster) -> None:
        """Given FIRE's duty officer, when they send the request form, then a pending
        request is recorded and both departments see it on /sharing."""
        web.sign_in("fire.duty")

        sent = web.post_form(
            "/sharing/requests/new",
            {"dataset": DATASET, "fields": "caller_name", "purposes": "Rescue, search",
             "justification": JUSTIFICATION},
        )  # fmt: skip

        assert sent.status_code == 303
        assert sent.headers["location"] == "/sharing?notice=requested"
        with muster.engine.connect() as conn:
            (request,) = queries.list_requests(conn, department="FIRE")
        assert (request["status"], request["fields"], request["purposes"]) == (
            "pending",
            ["caller_name"],
            ["rescue", "search"],
        )
        overview = web.get("/sharing?notice=requested")
        assert "Your request was sent" in overview.text
        assert f'data-request-id="{request["request_id"]}"' in overview.text
        web.sign_in("hotline.duty")
        received = web.get("/sharing")
        assert JUSTIFICATION in received.text
        assert f"/sharing/requests/{request['request_id']}/decision" in received.text

    def test_short_justification_is_refused_beside_the_field(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given a too-short justification, when the form is sent, then it
        comes back with the rule beside the justification and nothing is recorded."""
        web.sign_in("fire.duty")

        sent = web.post_form(
            "/sharing/requests/new",
            {"dataset": DATASET, "purposes": "rescue", "justification": "soon"},
        )

        assert sent.status_code == 422
        assert re.search(r'name="justification"[^>]*aria-invalid="true"', sent.text), (
            "the justification input is not marked"
        )
        assert re.search(r"at least \d+ characters", sent.text)
        assert "Traceback" not in sent.text
        with muster.engine.connect() as conn:
            assert queries.list_requests(conn) == []


class TestDecision:
    def _pending(self, muster: Muster) -> str:
        return str(
            muster.bus.handle(
                RequestAccess(
                    dataset=DATASET,
                    fields=("ticket_id", "caller_name", "category"),
                    purposes=("rescue",),
                    justification=JUSTIFICATION,
                ),
                _actor(muster, "fire.duty"),
            )
        )

    def test_provider_approves_and_an_agreement_is_made(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given a pending request, when the hotline approves it on /sharing with a
        reason and a mask, then an agreement for FIRE is in force with that mask."""
        request_id = self._pending(muster)
        web.sign_in("hotline.duty")

        sent = web.post_form(
            f"/sharing/requests/{request_id}/decision",
            {"decision": "approve", "reason": "Needed for rescue.",
             "mask-caller_name": "name", "valid_days": "30"},
        )  # fmt: skip

        assert sent.status_code == 303
        assert sent.headers["location"] == "/sharing?notice=approved"
        with muster.engine.connect() as conn:
            request = queries.get_request(conn, request_id)
            assert request is not None
            agreement = queries.get_agreement(conn, str(request["agreement_code"]))
        assert agreement is not None
        assert agreement["status"] == "active"
        assert agreement["data"]["consumers"] == ["FIRE"]
        assert agreement["data"]["masks"]["caller_name"] == "name"
        overview = web.get("/sharing")
        assert f'data-agreement="{agreement["code"]}"' in overview.text

    def test_deny_without_reason_is_refused_readably(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given a pending request, when the hotline denies it without a reason, then
        the overview shows why and the request stays pending."""
        request_id = self._pending(muster)
        web.sign_in("hotline.duty")

        sent = web.post_form(
            f"/sharing/requests/{request_id}/decision",
            {"decision": "deny", "reason": " "},
        )

        assert sent.status_code == 422
        assert "Give the requester a reason" in sent.text
        assert "Traceback" not in sent.text
        with muster.engine.connect() as conn:
            request = queries.get_request(conn, request_id)
        assert request is not None
        assert request["status"] == "pending"

    def test_consumer_may_not_decide(self, web: WebClient, muster: Muster) -> None:
        """Given a pending request, when FIRE's own officer tries to approve it, then
        the decision point refuses and the page says so (403)."""
        request_id = self._pending(muster)
        web.sign_in("fire.duty")

        sent = web.post_form(
            f"/sharing/requests/{request_id}/decision",
            {"decision": "approve", "reason": "self-service"},
        )

        assert sent.status_code == 403
        assert "You may not do this for this dataset." in sent.text


class TestAgreementForm:
    def _form(self, **changes: str) -> dict[str, str]:
        return {
            "dataset": DATASET, "code": "HOTLINE_TO_FIRE", "consumers": "FIRE",
            "fields": "category", "purposes": "rescue", "mode": "records",
            "tlp": "AMBER", **changes,
        }  # fmt: skip

    def test_provider_registers_an_agreement(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given the hotline's officer, when they send a valid agreement, then it is
        registered from the UI and listed among the agreements they provide."""
        web.sign_in("hotline.duty")

        sent = web.post_form("/sharing/agreements/new", self._form())

        assert sent.status_code == 303
        assert sent.headers["location"] == "/sharing?notice=agreement_created"
        with muster.engine.connect() as conn:
            agreement = queries.get_agreement(conn, "HOTLINE_TO_FIRE")
        assert agreement is not None
        assert agreement["source"] == "ui"
        assert 'data-agreement="HOTLINE_TO_FIRE"' in web.get("/sharing").text

    def test_personal_fields_without_legal_basis_are_refused_on_the_form(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given personal fields and no legal basis, when the agreement is sent, then
        the form comes back with the rule beside the legal basis."""
        web.sign_in("hotline.duty")

        sent = web.post_form(
            "/sharing/agreements/new", self._form(fields="caller_name")
        )

        assert sent.status_code == 422
        assert re.search(r'name="legal_basis"[^>]*aria-invalid="true"', sent.text)
        assert "PIPL Art. 13" in sent.text
        with muster.engine.connect() as conn:
            assert queries.get_agreement(conn, "HOTLINE_TO_FIRE") is None

    def test_another_department_may_not_register(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given FIRE's officer, when they post an agreement on the hotline's data,
        then the refusal is shown as a page message, not a stack trace."""
        web.sign_in("fire.duty")

        sent = web.post_form("/sharing/agreements/new", self._form())

        assert sent.status_code == 403
        assert "You may not do this for this dataset." in sent.text


class TestRevokeAndBreakGlass:
    def test_provider_revokes_with_a_reason(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given an agreement in force, when the hotline revokes it with a reason,
        then it is revoked and FIRE's next read is refused."""
        code = _approved_request(muster)
        web.sign_in("hotline.duty")

        sent = web.post_form(
            f"/sharing/agreements/{code}/revoke", {"reason": "Rescue over."}
        )

        assert sent.status_code == 303
        with muster.engine.connect() as conn:
            agreement = queries.get_agreement(conn, code)
        assert agreement is not None
        assert agreement["status"] == "revoked"

    def test_duty_officer_may_not_break_glass(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given FIRE's duty officer (no commander), when they open break-glass, then
        the form says they may not and nothing opens."""
        web.sign_in("fire.duty")

        sent = web.post_form(
            "/sharing/break-glass",
            {"dataset": DATASET, "minutes": "30", "justification": JUSTIFICATION},
        )

        assert sent.status_code == 403
        assert "only a commander" in sent.text.lower()
        with muster.engine.connect() as conn:
            assert queries.list_break_glass(conn) == []

    def test_commander_opens_break_glass(self, web: WebClient, muster: Muster) -> None:
        """Given the commander, when they open break-glass for 30 minutes, then it is
        open and listed on /sharing."""
        web.sign_in("commander")

        sent = web.post_form(
            "/sharing/break-glass",
            {"dataset": DATASET, "minutes": "30", "justification": JUSTIFICATION},
        )

        assert sent.status_code == 303
        assert sent.headers["location"] == "/sharing?notice=break_glass"
        assert JUSTIFICATION in web.get("/sharing").text


class TestDataPage:
    def test_masked_dataset_shows_no_raw_personal_value(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given an approved request, when FIRE reads the calls for rescue, then the
        records show masked names, no phone numbers, a TLP banner and the masks."""
        _approved_request(muster)
        web.sign_in("fire.duty")

        page = web.get(f"/sharing/data/{DATASET}?purpose=rescue")

        assert page.status_code == 200
        assert "TLP:AMBER" in page.text
        assert "王*明" in page.text
        for call in CALLERS:
            assert call["caller_name"] not in page.text
            assert call["caller_phone"] not in page.text
        assert "T-3" in page.text
        assert "caller_phone" in _text(page.text)

    def test_refused_read_shows_its_reason(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given no agreement, when FIRE opens the data page, then a normal page says
        it was denied and why (403), and the hotline's access log records it."""
        web.sign_in("fire.duty")

        page = web.get(f"/sharing/data/{DATASET}?purpose=rescue")

        assert page.status_code == 403
        assert "Denied" in page.text
        assert "no agreement of HOTLINE shares" in page.text
        assert "王" not in _text(page.text).split("Decision", 1)[1]
        with muster.engine.connect() as conn:
            (entry,) = queries.access_entries(
                conn, queries.LogFilter(provider="HOTLINE")
            )
        assert (entry["decision"], entry["channel"]) == ("deny", "page")

    def test_wrong_purpose_is_refused_in_chinese_page(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given an agreement for rescue, when FIRE's Chinese reader reads for another
        purpose, then the Chinese page shows the refusal and its reason."""
        _approved_request(muster)
        web.sign_in("fire.zh")

        page = web.get(f"/sharing/data/{DATASET}?purpose=marketing")

        assert page.status_code == 403
        assert "拒绝" in page.text
        assert "purpose must be one of rescue" in page.text


class TestAccessLog:
    def test_provider_sees_reads_and_export_links(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Given FIRE read the calls for rescue, when the hotline opens its access log
        filtered by FIRE, then the read is listed with purpose and record count, and
        the export links carry the same filters."""
        _approved_request(muster)
        web.sign_in("fire.duty")
        web.get(f"/sharing/data/{DATASET}?purpose=rescue")
        web.sign_in("hotline.duty")

        page = web.get(f"/sharing/log?department=FIRE&dataset={DATASET}")

        assert page.status_code == 200
        row = re.search(r'<tr data-access-id="[^"]+">(.*?)</tr>', page.text, re.S)
        assert row is not None
        cells = _text(row.group(1))
        assert "FIRE dept" in cells
        assert "rescue" in cells
        assert " 3 " in cells
        assert (
            f"/api/v1/access-log?format=csv&amp;dataset={DATASET}&amp;department=FIRE"
            in page.text
        )
        assert "format=json" in page.text

    def test_consumer_sees_no_reads_of_others(self, web: WebClient) -> None:
        """Given FIRE provides nothing, when its officer opens the log, then it is
        empty (a department sees the reads of its own datasets only)."""
        web.sign_in("fire.duty")

        page = web.get("/sharing/log")

        assert page.status_code == 200
        assert "data-access-id" not in page.text
