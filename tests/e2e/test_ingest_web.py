"""Ingest over HTTP: pushes, CAP posts, quarantine, uploads, quality, alerts, feed."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import muster as muster_package
from muster.bootstrap import Muster
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity.domain.commands import RegisterDepartment
from muster.ingest import api as ingest_api
from muster.ingest import dashboard_pages, labels, pages, queries
from muster.ingest.domain.commands import IngestFile
from muster.settings import Settings
from muster.web import i18n
from muster.web.summaries import Summarizer
from tests import factories
from tests.e2e.client import (
    CSRF_COOKIE,
    WebClient,
    event_types,
    head,
    issue_api_key,
    web_client,
)

CORPUS = Path(muster_package.__file__).resolve().parents[3] / "shared" / "corpus"
ROADS = "TRANSPORT_ROADS"
RESIDENTS = "HEALTH_RESIDENTS"
ROADS_HEADER = "路段编号,道路名称,通行状态"
GOOD_ROW = "S203-K12,S203省道,封闭"
BAD_ROW = "S311-K4,S311省道,半封闭"


def _roads(code: str = ROADS) -> RegisterDataset:
    return RegisterDataset(
        metadata=DatasetMetadata(
            code=code, name_zh="道路通行状况", name_en="Road status",
            owner_department="TRANSPORT", sharing_class="UNCONDITIONAL",
            data_grade="GENERAL", update_interval_minutes=15, format="csv",
            connector="upload",
            csv_mapping=(("路段编号", "segment_id"), ("道路名称", "road_name"),
                         ("通行状态", "status")),
        ),
        fields=(
            DatasetField(name="segment_id", type="string", required=True),
            DatasetField(name="road_name", type="string", required=True),
            DatasetField(name="status", type="enum", required=True,
                         choices=("畅通", "封闭")),
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
            DatasetField(name="district", type="string"),
        ),
    )  # fmt: skip


def _csv(*rows: str) -> bytes:
    return ("\r\n".join([ROADS_HEADER, *rows]) + "\r\n").encode("gbk")


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Serve a deployment with three departments, their stewards and two datasets."""
    for code, zh, en in (
        ("TRANSPORT", "交通运输局", "Transport Bureau"),
        ("HEALTH", "卫生健康委", "Health Commission"),
        ("MET", "气象局", "Met Bureau"),
        ("EMB", "应急管理局", "Emergency Management"),
    ):
        muster.bus.handle(
            RegisterDepartment(code=code, name_zh=zh, name_en=en, type="other"),
            SYSTEM_ACTOR,
        )
    for username, department, roles, language in (
        ("transport.duty", "TRANSPORT", ("duty_officer",), "en"),
        ("zhao", "TRANSPORT", ("duty_officer",), "zh-CN"),
        ("health.duty", "HEALTH", ("duty_officer",), "en"),
        ("met.duty", "MET", ("duty_officer",), "en"),
        ("admin", "EMB", ("admin",), "en"),
    ):
        factories.user(
            muster, username, department_code=department, roles=roles,
            language=language,
        )  # fmt: skip
    muster.bus.handle(_roads(), SYSTEM_ACTOR)
    muster.bus.handle(_residents(), SYSTEM_ACTOR)
    with web_client(settings, muster) as client:
        yield client


def _bearer(muster: Muster, department: str, key_id: str = "k1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_api_key(muster, department, key_id)}"}


def _csrf(web: WebClient) -> dict[str, str]:
    return {"X-CSRF-Token": web.http.cookies[CSRF_COOKIE]}


def _quarantine_bad_row(muster: Muster) -> str:
    muster.bus.handle(
        IngestFile(dataset_code=ROADS, source="test", data=_csv(GOOD_ROW, BAD_ROW)),
        SYSTEM_ACTOR,
    )
    with muster.engine.connect() as conn:
        return queries.list_quarantine(conn, dataset_code=ROADS)[0].id


def _item(muster: Muster, item_id: str) -> queries.QuarantineView:
    with muster.engine.connect() as conn:
        item = queries.get_quarantine_item(conn, item_id)
    assert item is not None
    return item


def _roads_stored(muster: Muster) -> list[str]:
    with muster.engine.connect() as conn:
        return [r.values["status"] for r in queries.list_records(conn, ROADS)]


def _corpus(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.is_file():
        pytest.fail(f"corpus file {path} is missing; check out ../shared/corpus")
    return path


class TestPushRecords:
    def test_owner_key_pushes_json_records(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The owning department's key pushes an array: good stored, bad quarantined."""
        body = [
            {"segment_id": "S203-K12", "road_name": "S203", "status": "封闭"},
            {"segment_id": "S311-K4", "road_name": "S311", "status": "半封闭"},
        ]

        response = web.post(
            f"/api/datasets/{ROADS}/records",
            json=body,
            headers=_bearer(muster, "TRANSPORT"),
        )

        assert response.status_code == 200
        result = response.json()
        assert (result["status"], result["accepted"], result["quarantined"]) == (
            "accepted", 1, 1,
        )  # fmt: skip
        assert result["batch_id"]
        assert _roads_stored(muster) == ["封闭"]

    def test_records_wrapper_and_gbk_csv_are_read(
        self, web: WebClient, muster: Muster
    ) -> None:
        """{"records": [...]} as JSON and a GBK CSV as text/csv are both accepted."""
        headers = _bearer(muster, "TRANSPORT")
        wrapped = {
            "records": [{"segment_id": "A1", "road_name": "A", "status": "畅通"}]
        }

        as_json = web.post(
            f"/api/datasets/{ROADS}/records", json=wrapped, headers=headers
        )
        as_csv = web.post(
            f"/api/datasets/{ROADS}/records",
            content=_csv(GOOD_ROW),
            headers={**headers, "Content-Type": "text/csv; charset=gbk"},
        )

        assert (as_json.status_code, as_json.json()["accepted"]) == (200, 1)
        assert (as_csv.status_code, as_csv.json()["accepted"]) == (200, 1)
        assert sorted(_roads_stored(muster)) == ["封闭", "畅通"]

    def test_same_body_again_is_a_duplicate(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Re-delivery answers 200 duplicate with the original batch; nothing new."""
        headers = {**_bearer(muster, "TRANSPORT"), "Content-Type": "text/csv"}
        first = web.post(
            f"/api/datasets/{ROADS}/records", content=_csv(GOOD_ROW), headers=headers
        )

        again = web.post(
            f"/api/datasets/{ROADS}/records", content=_csv(GOOD_ROW), headers=headers
        )

        assert again.status_code == 200
        assert again.json()["status"] == "duplicate"
        assert again.json()["batch_id"] == first.json()["batch_id"]
        assert _roads_stored(muster) == ["封闭"]

    def test_other_departments_key_is_refused_and_logged(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A Met Bureau key may not push road records: 403 and AccessRefused."""
        headers = _bearer(muster, "MET")
        before = head(muster)

        response = web.post(f"/api/datasets/{ROADS}/records", json=[], headers=headers)

        assert response.status_code == 403
        assert response.json()["code"] == "permission"
        assert event_types(muster, after=before) == ["identity.AccessRefused"]

    def test_unreadable_body_is_422_and_kept_in_quarantine(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A JSON object that is no record list: 422 with the quarantine item's id;
        the owner's steward works the item (a connector key never reads it back)."""
        headers = _bearer(muster, "TRANSPORT")

        response = web.post(
            f"/api/datasets/{ROADS}/records", json={"rows": []}, headers=headers
        )

        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "document_rejected"
        path = f"/api/quarantine/{problem['quarantine_id']}"
        assert web.get(path, headers=headers).status_code == 403
        web.sign_in("transport.duty")
        item = web.get(path)
        assert item.status_code == 200
        assert item.json()["is_document"] is True
        assert item.json()["reasons"][0]["rule"] == "structure"

    def test_unknown_body_type_and_unknown_dataset(
        self, web: WebClient, muster: Muster
    ) -> None:
        """An unknown media type is 415; an unknown dataset is 404."""
        headers = _bearer(muster, "TRANSPORT")

        as_text = web.post(
            f"/api/datasets/{ROADS}/records",
            content=b"hello",
            headers={**headers, "Content-Type": "text/plain"},
        )
        unknown = web.post(
            "/api/datasets/NO_SUCH_SET/records", json=[], headers=headers
        )

        assert as_text.status_code == 415
        assert "text/csv" in as_text.json()["detail"]
        assert unknown.status_code == 404
        assert unknown.json()["code"] == "unknown_dataset"


class TestCapApi:
    def test_corpus_alert_is_accepted_then_a_duplicate(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A valid corpus alert: 200 with identifier and counts; again: duplicate."""
        data = _corpus("cap", "valid", "spec_a2_nws_ksto_thunderstorm.xml").read_bytes()
        headers = {**_bearer(muster, "MET"), "Content-Type": "application/cap+xml"}

        first = web.post("/api/cap", content=data, headers=headers)
        again = web.post("/api/cap", content=data, headers=headers)
        listed = web.get("/api/cap/alerts", headers=headers)

        assert first.status_code == 200
        assert first.json()["status"] == "accepted"
        assert first.json()["identifier"] == "KSTO1055887203"
        assert (first.json()["infos"], first.json()["areas"]) == (1, 1)
        assert again.json()["status"] == "duplicate"
        assert [alert["identifier"] for alert in listed.json()] == ["KSTO1055887203"]
        assert listed.json()[0]["summary"]["infos"][0]["event"]

    def test_invalid_corpus_alert_is_422_and_kept(
        self, web: WebClient, muster: Muster
    ) -> None:
        """An XXE document is refused with 422; it waits in quarantine."""
        data = _corpus("cap", "invalid", "xxe_xinclude_attack.xml").read_bytes()
        headers = {**_bearer(muster, "MET"), "Content-Type": "application/xml"}

        response = web.post("/api/cap", content=data, headers=headers)

        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "alert_rejected"
        assert problem["alert"]["status"] == "rejected"
        assert _item(muster, problem["quarantine_id"]).is_document

    def test_json_is_not_cap(self, web: WebClient, muster: Muster) -> None:
        """Only XML media types reach the CAP intake."""
        response = web.post("/api/cap", json={}, headers=_bearer(muster, "MET"))

        assert response.status_code == 415


class TestQuarantineApi:
    def test_resubmit_with_session_and_csrf_stores_the_record(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A steward's corrected values are stored and the resubmission logged."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")
        before = head(muster)
        fixed = {"segment_id": "S311-K4", "road_name": "S311省道", "status": "封闭"}

        response = web.post(
            f"/api/quarantine/{item_id}/resubmit",
            json={"values": fixed},
            headers=_csrf(web),
        )

        assert response.status_code == 200
        assert response.json()["status"] == "accepted"
        assert response.json()["batch_id"]
        assert _item(muster, item_id).status == "accepted"
        assert _roads_stored(muster).count("封闭") == 2
        assert event_types(muster, after=before) == [
            "ingest.BatchIngested",
            "ingest.RecordResubmitted",
        ]

    def test_still_invalid_values_are_422_with_the_new_reasons(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A resubmission that still fails names its field; the item stays open."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")
        values = {"segment_id": "S311-K4", "road_name": "", "status": "封闭"}

        response = web.post(
            f"/api/quarantine/{item_id}/resubmit",
            json={"values": values},
            headers=_csrf(web),
        )

        assert response.status_code == 422
        assert response.json()["code"] == "record_invalid"
        assert [r["field"] for r in response.json()["reasons"]] == ["road_name"]
        assert _item(muster, item_id).status == "open"

    def test_discard_with_a_reason(self, web: WebClient, muster: Muster) -> None:
        """Discarding closes the item; discarding again is a conflict."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")

        response = web.post(
            f"/api/quarantine/{item_id}/discard",
            json={"reason": "test row from the drill"},
            headers=_csrf(web),
        )
        again = web.post(
            f"/api/quarantine/{item_id}/discard",
            json={"reason": "again"},
            headers=_csrf(web),
        )

        assert response.json() == {
            "status": "discarded", "quarantine_id": item_id, "batch_id": None,
        }  # fmt: skip
        assert _item(muster, item_id).resolution == "test row from the drill"
        assert again.status_code == 409

    def test_forged_csrf_token_writes_nothing(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A session POST with a wrong CSRF header is 403 and changes nothing."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")
        before = head(muster)

        resubmit = web.post(
            f"/api/quarantine/{item_id}/resubmit",
            json={"values": {"status": "封闭"}},
            headers={"X-CSRF-Token": "forged.token"},
        )
        discard = web.post(f"/api/quarantine/{item_id}/discard", json={"reason": "x"})

        assert (resubmit.status_code, discard.status_code) == (403, 403)
        assert resubmit.json()["params"]["reason"] == "csrf"
        assert event_types(muster, after=before) == []
        assert _item(muster, item_id).status == "open"

    def test_list_filters_by_dataset_and_status(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The list answers open items by default; status=all includes closed ones."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")
        web.post(
            f"/api/quarantine/{item_id}/discard",
            json={"reason": "x"},
            headers=_csrf(web),
        )

        open_items = web.get("/api/quarantine", params={"dataset": ROADS})
        every = web.get("/api/quarantine", params={"dataset": ROADS, "status": "all"})

        assert open_items.json() == []
        assert [item["id"] for item in every.json()] == [item_id]
        assert every.json()[0]["values"]["status"] == "半封闭"


class TestQuarantinePages:
    def test_list_and_item_in_english(self, web: WebClient, muster: Muster) -> None:
        """The list shows where and why; the item page prefills and marks the field."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")

        listed = web.get("/quarantine")
        shown = web.get(f"/quarantine/{item_id}")

        assert listed.status_code == 200
        assert f'href="/quarantine/{item_id}">row 3</a>' in listed.text
        assert "Not an allowed value" in listed.text
        assert shown.status_code == 200
        marked = re.search(
            r'<label class="field has-error">\s*<span class="field-label"><code>status',
            shown.text,
        )
        assert marked is not None
        assert 'name="value__status" value="半封闭"' in shown.text
        assert '<option value="畅通">' in shown.text
        assert "Fix and resubmit" in shown.text

    def test_pages_in_chinese(self, web: WebClient, muster: Muster) -> None:
        """A Chinese-speaking steward sees the quarantine and the form in Chinese."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("zhao")

        listed = web.get("/quarantine")
        shown = web.get(f"/quarantine/{item_id}")

        for text in ("隔离区", "不在允许的取值内", "待处理", "数据质量", "预警"):
            assert text in listed.text
        for text in ("修正并重新提交", "拒收原因", "丢弃", "道路通行状况"):
            assert text in shown.text

    def test_fixing_in_the_form_stores_and_redirects(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The corrected form goes to the records page, which shows the record."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")
        form = {"value__segment_id": "S311-K4", "value__road_name": "S311省道"}

        fixed = web.post_form(
            f"/quarantine/{item_id}/resubmit", {**form, "value__status": "封闭"}
        )
        records = web.get(fixed.headers["location"])

        assert fixed.status_code == 303
        assert (
            fixed.headers["location"] == f"/datasets/{ROADS}/records?notice=resubmitted"
        )
        assert "The corrected record was stored in the dataset." in records.text
        assert "<td>S311-K4</td>" in records.text

    def test_still_wrong_form_is_shown_again(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A form that still fails re-renders with the new reason, status 422."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")

        response = web.post_form(
            f"/quarantine/{item_id}/resubmit",
            {"value__segment_id": "S311-K4", "value__status": "封闭"},
        )

        assert response.status_code == 422
        assert "The corrected record still fails" in response.text
        assert re.search(
            r'has-error">\s*<span class="field-label"><code>road_name', response.text
        )
        assert _item(muster, item_id).status == "open"

    def test_discard_needs_a_reason(self, web: WebClient, muster: Muster) -> None:
        """An empty reason is asked for again; a reason discards and goes back."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")

        empty = web.post_form(f"/quarantine/{item_id}/discard", {"reason": " "})
        done = web.post_form(f"/quarantine/{item_id}/discard", {"reason": "duplicate"})
        listed = web.get(done.headers["location"])

        assert empty.status_code == 422
        assert "Give a reason for discarding." in empty.text
        assert done.status_code == 303
        assert "The item was discarded" in listed.text
        assert _item(muster, item_id).status == "discarded"

    def test_forged_form_token_is_refused(self, web: WebClient, muster: Muster) -> None:
        """A form posted with a forged token is 403; nothing is written."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("transport.duty")
        before = head(muster)

        response = web.post(
            f"/quarantine/{item_id}/resubmit",
            data={"csrf_token": "forged.value", "value__status": "封闭"},
        )

        assert response.status_code == 403
        assert event_types(muster, after=before) == []

    def test_document_shows_an_escaped_excerpt_and_only_discard(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A refused document shows its text escaped, and no correction form."""
        outcome = muster.bus.handle(
            IngestFile(
                dataset_code=ROADS,
                source="test",
                data=b'{"rows": "<script>alert(1)</script>"}',
                format="json",
            ),
            SYSTEM_ACTOR,
        )
        web.sign_in("transport.duty")

        shown = web.get(f"/quarantine/{outcome.quarantine_id}")

        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
        assert "<script>alert(1)" not in shown.text
        assert "Refused document" in shown.text
        assert "/resubmit" not in shown.text
        assert f'action="/quarantine/{outcome.quarantine_id}/discard"' in shown.text

    def test_default_scope_is_the_viewers_department(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The quarantine is the owner's work queue: another department sees no road
        items and is refused the dataset's queue and the item (403)."""
        item_id = _quarantine_bad_row(muster)
        web.sign_in("met.duty")

        default = web.get("/quarantine")
        chosen = web.get("/quarantine", params={"dataset": ROADS})
        shown = web.get(f"/quarantine/{item_id}")

        assert item_id not in default.text
        assert (chosen.status_code, shown.status_code) == (403, 403)


class TestUploadForm:
    def test_steward_uploads_a_gbk_csv(self, web: WebClient, muster: Muster) -> None:
        """The upload form stores good rows and reports the quarantined one."""
        web.sign_in("transport.duty")

        response = web.http.post(
            f"/datasets/{ROADS}/records",
            data={"csrf_token": web.csrf_token},
            files={"file": ("roads.csv", _csv(GOOD_ROW, BAD_ROW), "text/csv")},
        )

        assert response.status_code == 200
        assert "File read: 1 stored, 1 quarantined." in response.text
        assert "<td>S203-K12</td>" in response.text
        with muster.engine.connect() as conn:
            assert queries.list_quarantine(conn)[0].source == "upload:roads.csv"

    def test_other_department_sees_no_form_and_is_refused(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A Met Bureau officer reads road records but may not upload to them."""
        web.sign_in("met.duty")
        before = head(muster)

        page = web.get(f"/datasets/{ROADS}/records")
        refused = web.http.post(
            f"/datasets/{ROADS}/records",
            data={"csrf_token": web.csrf_token},
            files={"file": ("roads.csv", _csv(GOOD_ROW), "text/csv")},
        )

        assert page.status_code == 200
        assert 'enctype="multipart/form-data"' not in page.text
        assert refused.status_code == 403
        assert event_types(muster, after=before) == [
            "sharing.AccessDecided",  # the page's read of the records, logged
            "identity.AccessRefused",
        ]

    def test_missing_file_is_asked_for(self, web: WebClient) -> None:
        """Submitting the form without a file shows it again with a message."""
        web.sign_in("zhao")

        response = web.post_form(f"/datasets/{ROADS}/records", {})

        assert response.status_code == 422
        assert "请选择要上传的文件。" in response.text


class TestQuality:
    def test_measure_now_and_the_dashboard(
        self, web: WebClient, muster: Muster
    ) -> None:
        """'Measure now' logs the statuses; the viewer's department comes first."""
        _quarantine_bad_row(muster)
        web.sign_in("transport.duty")

        measured = web.post_form("/quality/measure", {})
        dashboard = web.get(measured.headers["location"])

        assert measured.status_code == 303
        assert "Data quality was measured just now." in dashboard.text
        text = dashboard.text
        assert text.index("Transport Bureau") < text.index("Health Commission")
        assert re.search(r'class="badge badge-ok" title="newest data 0 min old', text)
        assert re.search(r'class="badge badge-bad" title="1 good, 1 not">Poor', text)
        assert "Whole city" in text
        assert "ingest.QualityChanged" in event_types(muster)

    def test_dashboard_in_chinese_and_the_api(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The dashboard speaks Chinese; the API lists every dataset's measures."""
        _quarantine_bad_row(muster)
        web.sign_in("zhao")
        web.post_form("/quality/measure", {})

        dashboard = web.get("/quality")
        api = web.get("/api/quality")

        for text in (
            "数据质量",
            "立即评估",
            "及时性",
            "按时",
            "较差",
            "全市汇总",
            "本部门",
        ):
            assert text in dashboard.text
        by_code = {item["dataset"]: item for item in api.json()}
        assert by_code[ROADS]["measures"]["freshness"]["status"] == "on_time"
        assert by_code[ROADS]["owner_department"] == "TRANSPORT"
        assert by_code[RESIDENTS]["measures"]["freshness"]["status"] == "no_data"


class TestAlertsPage:
    def test_lists_received_alerts_with_signature(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The alerts page shows identifier, sender, type and a signature badge."""
        data = _corpus("cap", "valid", "us_ipaws_fema_otg_signed.xml").read_bytes()
        web.post(
            "/api/cap",
            content=data,
            headers={**_bearer(muster, "MET"), "Content-Type": "application/cap+xml"},
        )
        web.sign_in("transport.duty")

        response = web.get("/alerts")

        assert response.status_code == 200
        assert 'class="badge badge-ok"' in response.text
        assert "Signature valid" in response.text
        with muster.engine.connect() as conn:
            alert = queries.list_cap_alerts(conn)[0]
        assert f"<code>{alert['identifier']}</code>" in response.text


class TestPersonalData:
    def _push(self, web: WebClient, muster: Muster) -> dict[str, str]:
        headers = _bearer(muster, "HEALTH", "h1")
        web.post(
            f"/api/datasets/{RESIDENTS}/records",
            json=[{"name": "王阿姨", "district": "江北"}, {"district": "江南"}],
            headers=headers,
        )
        return headers

    def test_owner_reads_others_are_refused_and_every_read_logged(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Reads go through the sharing policies: the owning department reads; an
        admin and another department without an agreement and purpose, and a key,
        get 403 with the reason; every read is logged as an access decision."""
        key = self._push(web, muster)
        path = f"/api/datasets/{RESIDENTS}/records"
        readers = {}
        for username in ("health.duty", "admin", "transport.duty"):
            web.sign_in(username)
            readers[username] = web.get(path)
            web.post_form("/signout", {})
        before = head(muster)

        by_key = web.get(path, headers=key)

        assert [r["values"]["name"] for r in readers["health.duty"].json()] == [
            "王阿姨"
        ]
        assert readers["health.duty"].headers["X-TLP"] == "TLP:AMBER"
        for refused in (readers["admin"], readers["transport.duty"]):
            assert refused.status_code == 403
            assert "state a purpose" in refused.json()["detail"]
        assert by_key.status_code == 403
        assert event_types(muster, after=before) == ["sharing.AccessDecided"]

    def test_pages_and_quarantine_follow_the_rule(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Another department gets 403 pages and no personal quarantine items."""
        self._push(web, muster)
        web.sign_in("transport.duty")

        page = web.get(f"/datasets/{RESIDENTS}/records")
        listed = web.get("/api/quarantine")
        chosen = web.get("/api/quarantine", params={"dataset": RESIDENTS})

        assert page.status_code == 403
        assert listed.json() == []
        assert chosen.status_code == 403

    def test_who_works_the_quarantine(self, muster: Muster) -> None:
        """manage_quarantine is the decision point's: the owner's stewards and
        admins work a dataset's quarantine; other departments and keys do not."""
        factories.department(muster, "HEALTH")
        factories.department(muster, "EMB")
        muster.bus.handle(_residents(), SYSTEM_ACTOR)
        actors = {
            "nurse": factories.user(muster, "nurse", department_code="HEALTH"),
            "root": factories.user(muster, "root", roles=("admin",)),
            "emb": factories.user(muster, "emb", roles=("duty_officer",)),
            "key": Actor(
                kind="api_key", id="k", department="HEALTH",
                roles=frozenset({"connector"}),
            ),
        }  # fmt: skip

        with muster.engine.connect() as conn:
            decided = {
                name: ingest_api.may_manage_quarantine(muster, conn, actor, RESIDENTS)
                for name, actor in actors.items()
            }

        assert decided == {"nurse": True, "root": True, "emb": False, "key": False}


class TestFeedSummaries:
    def test_ingest_and_catalog_events_read_as_sentences(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The live feed summarises ingest events in both languages."""
        web.sign_in("transport.duty")
        before = head(muster)
        web.http.post(
            f"/datasets/{ROADS}/records",
            data={"csrf_token": web.csrf_token},
            files={"file": ("roads.csv", _csv(GOOD_ROW, BAD_ROW), "text/csv")},
        )
        muster.bus.handle(_roads("TRANSPORT_ROADS_V2"), SYSTEM_ACTOR)

        with muster.engine.connect() as conn:
            summarizer = Summarizer(muster)
            items = [
                summarizer.item(conn, record)
                for record in muster.store.read_all(conn, after=before)
            ]

        summaries = {item.envelope.type: item.summaries for item in items}
        assert summaries["ingest.BatchIngested"]["zh-CN"] == (
            "交通运输局 提交了 道路通行状况：1 条入库，1 条隔离"
        )
        assert summaries["ingest.BatchIngested"]["en"] == (
            "Transport Bureau submitted Road status: 1 stored, 1 quarantined"
        )
        assert summaries["catalog.DatasetRegistered"]["zh-CN"] == (
            "交通运输局 登记了数据集 道路通行状况"
        )
        assert summaries["catalog.DatasetSchemaVersioned"]["en"] == (
            "Dataset Road status has schema version 1"
        )

    def test_quality_and_quarantine_summaries(self, muster: Muster) -> None:
        """Quality changes and quarantine outcomes have their own sentences."""
        factories.department(muster, "TRANSPORT")
        muster.bus.handle(_roads(), SYSTEM_ACTOR)
        item_id = _quarantine_bad_row(muster)
        before = head(muster)
        from muster.ingest.domain.commands import DiscardRecord, EvaluateQuality

        muster.bus.handle(
            DiscardRecord(quarantine_id=item_id, reason="test"), SYSTEM_ACTOR
        )
        muster.bus.handle(EvaluateQuality(), SYSTEM_ACTOR)

        with muster.engine.connect() as conn:
            summarizer = Summarizer(muster)
            texts = [
                summarizer.item(conn, record).summaries["zh-CN"]
                for record in muster.store.read_all(conn, after=before)
            ]
        assert texts[0] == "Muster 丢弃了 道路通行状况 的一条隔离项：test"
        assert "道路通行状况 数据质量：及时性 变为“按时”" in texts


class TestTranslations:
    def test_every_ingest_page_message_has_a_chinese_translation(self) -> None:
        """Each N_(...) or translate(...) literal of the ingest edge is in zh_CN."""
        literals: set[str] = set()
        for module in (ingest_api, pages, dashboard_pages, labels):
            tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
            literals.update(
                node.args[0].value
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "N_", "translate"
                )
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            )  # fmt: skip
        path = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as po:
            chinese = {str(m.id): str(m.string) for m in read_po(po) if m.id}

        missing = sorted(m for m in literals if not chinese.get(m))

        assert len(literals) > 40
        assert missing == []


def test_quarantine_json_values_round_trip() -> None:
    """Form cells show stored values as text (numbers and lists as JSON)."""
    assert [pages.cell(value) for value in (None, "封闭", 12.5, [28.2, 112.9])] == [
        "", "封闭", "12.5", "[28.2, 112.9]",
    ]  # fmt: skip
    assert json.loads(pages.cell({"a": 1})) == {"a": 1}
