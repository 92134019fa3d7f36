"""Catalog pages and API: list, search, detail in both languages; register over HTTP."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from muster.bootstrap import Muster
from muster.catalog import pages
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.messages import SYSTEM_ACTOR
from muster.identity.domain.commands import RegisterDepartment
from muster.settings import Settings
from muster.web import i18n
from tests import factories
from tests.e2e.client import (
    CSRF_COOKIE,
    WebClient,
    event_types,
    head,
    issue_api_key,
    web_client,
)

GAUGES = DatasetMetadata(
    code="MET_RAIN_GAUGES",
    name_zh="自动雨量站观测",
    name_en="Rain gauge observations",
    description="Rainfall every five minutes.",
    owner_department="MET",
    sharing_class="UNCONDITIONAL",
    data_grade="GENERAL",
    update_interval_minutes=5,
    format="observations",
    connector="api_push",
    keywords=("降雨", "rainfall"),
)
GAUGE_FIELDS = (
    DatasetField(name="station_id", type="string", required=True),
    DatasetField(
        name="value", type="number", unit="mm", required=True, minimum=0,
        description_en="Accumulated rainfall", description_zh="累计降雨量",
    ),
    DatasetField(name="location", type="point", sensitivity="location"),
)  # fmt: skip
BEDS = DatasetMetadata(
    code="HEALTH_HOSPITAL_BEDS",
    name_zh="医疗机构床位资源",
    name_en="Hospital beds",
    owner_department="HEALTH",
    sharing_class="CONDITIONAL",
    sharing_conditions="Emergency command and 120 dispatch only.",
    data_grade="IMPORTANT",
    update_interval_minutes=60,
    format="geojson",
    connector="api_push",
)
BED_FIELDS = (
    DatasetField(name="hospital_name", type="string", required=True),
    DatasetField(name="beds_available", type="integer", unit="beds", minimum=0),
)
NEW_DATASET: dict[str, Any] = {
    "code": "MET_CAP_WARNINGS",
    "name_zh": "气象预警",
    "name_en": "Weather warnings",
    "fields": [
        {"name": "identifier", "type": "string", "required": True},
        {"name": "severity", "type": "enum", "choices": ["Extreme", "Severe"]},
    ],
    "sharing_class": "UNCONDITIONAL",
    "data_grade": "GENERAL",
    "update_interval_minutes": 10,
    "format": "cap",
    "connector": "cap_feed",
    "feed_url": "https://warnings.met.example/cap.atom",
}


def _department(muster: Muster, code: str, name_zh: str, name_en: str) -> None:
    muster.bus.handle(
        RegisterDepartment(code=code, name_zh=name_zh, name_en=name_en, type="other"),
        SYSTEM_ACTOR,
    )


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Return a client of a deployment with two catalogued datasets and a steward."""
    _department(muster, "MET", "澜江市气象局", "Meteorological Bureau")
    _department(muster, "HEALTH", "澜江市卫生健康委员会", "Health Commission")
    factories.user(muster, "met.duty", department_code="MET", roles=("duty_officer",))
    factories.user(muster, "zhang", department_code="MET", language="zh-CN")
    factories.user(muster, "olga", department_code="HEALTH", roles=("observer",))
    for metadata, fields in ((GAUGES, GAUGE_FIELDS), (BEDS, BED_FIELDS)):
        muster.bus.handle(
            RegisterDataset(metadata=metadata, fields=fields), SYSTEM_ACTOR
        )
    with web_client(settings, muster) as client:
        yield client


def _row_codes(html: str) -> list[str]:
    return re.findall(r'<a href="/catalog/([A-Z0-9_]+)"><code>', html)


class TestCatalogList:
    def test_anonymous_visitors_are_sent_to_sign_in(self, web: WebClient) -> None:
        """The catalog is for signed-in people."""
        response = web.get("/catalog")

        assert response.status_code == 303
        assert response.headers["location"] == "/signin?next=%2Fcatalog"

    def test_lists_datasets_in_english(self, web: WebClient) -> None:
        """The table shows code, English name, owner, sharing, grade, SLA, format."""
        web.sign_in("met.duty")

        response = web.get("/catalog")

        assert response.status_code == 200
        assert _row_codes(response.text) == ["HEALTH_HOSPITAL_BEDS", "MET_RAIN_GAUGES"]
        for text in (
            "Rain gauge observations", "Meteorological Bureau", "Unconditional sharing",
            "Conditional sharing", "General data", "Important data", "every 5 min",
            "every 1 h", "Observation batches", "GeoJSON",
        ):  # fmt: skip
            assert text in response.text
        assert '<a class="button button-quiet" href="/catalog">Data catalog</a>' in (
            response.text
        )

    def test_lists_datasets_in_chinese(self, web: WebClient) -> None:
        """A Chinese-speaking user sees Chinese names, labels and intervals."""
        web.sign_in("zhang")

        response = web.get("/catalog")

        for text in (
            "数据目录", "自动雨量站观测", "澜江市气象局", "无条件共享", "有条件共享",
            "一般数据", "重要数据", "每 5 分钟", "每 1 小时", "观测数据批次",
        ):  # fmt: skip
            assert text in response.text
        assert "Rain gauge observations" not in response.text

    def test_search_box_and_department_filter(self, web: WebClient) -> None:
        """Search matches names and keywords; the filter keeps one owner's datasets."""
        web.sign_in("met.duty")

        by_name = web.get("/catalog", params={"search": "床位"})
        by_keyword = web.get("/catalog", params={"search": "RAINFALL"})
        by_owner = web.get("/catalog", params={"department": "HEALTH"})
        nothing = web.get("/catalog", params={"search": "tsunami"})

        assert _row_codes(by_name.text) == ["HEALTH_HOSPITAL_BEDS"]
        assert 'value="床位"' in by_name.text
        assert _row_codes(by_keyword.text) == ["MET_RAIN_GAUGES"]
        assert _row_codes(by_owner.text) == ["HEALTH_HOSPITAL_BEDS"]
        assert '<option value="HEALTH" selected>' in by_owner.text
        assert _row_codes(nothing.text) == []
        assert "No dataset matches the search." in nothing.text


class TestCatalogDetail:
    def test_shows_metadata_fields_and_history_in_english(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The detail page lists fields with badges and the schema versions."""
        fields = (*GAUGE_FIELDS, DatasetField(name="station_name", type="string"))
        muster.bus.handle(RegisterDataset(metadata=GAUGES, fields=fields), SYSTEM_ACTOR)
        web.sign_in("met.duty")

        response = web.get("/catalog/MET_RAIN_GAUGES")

        assert response.status_code == 200
        for text in (
            "Rain gauge observations", "自动雨量站观测", "Rainfall every five minutes.",
            "<code>station_id</code>", "Number", "mm", "Required", "Optional",
            "Location data", "Not sensitive", "At least 0", "Accumulated rainfall",
            "Schema versions", "First version", "Added: station_name", "Current",
            "降雨",
        ):  # fmt: skip
            assert text in response.text

    def test_shows_sharing_conditions_in_chinese(self, web: WebClient) -> None:
        """A Chinese reader sees the conditions and translated labels."""
        web.sign_in("zhang")

        response = web.get("/catalog/HEALTH_HOSPITAL_BEDS")

        for text in (
            "医疗机构床位资源", "共享条件", "Emergency command and 120 dispatch only.",
            "重要数据", "整数", "beds", "不小于 0", "结构版本历史", "首个版本",
        ):  # fmt: skip
            assert text in response.text

    def test_unknown_dataset_is_a_404_page(self, web: WebClient) -> None:
        """A code that is not catalogued shows the not-found page."""
        web.sign_in("met.duty")

        response = web.get("/catalog/NO_SUCH_DATA")

        assert response.status_code == 404
        assert "does not exist" in response.text


class TestCatalogApi:
    def test_api_key_lists_searches_and_shows(
        self, web: WebClient, muster: Muster
    ) -> None:
        """GET routes answer a connector key with summaries and full detail."""
        headers = {"Authorization": f"Bearer {issue_api_key(muster, 'MET')}"}

        listed = web.get("/api/catalog/datasets", headers=headers)
        searched = web.get(
            "/api/catalog/datasets", params={"search": "beds"}, headers=headers
        )
        by_owner = web.get(
            "/api/catalog/datasets", params={"department": "MET"}, headers=headers
        )
        shown = web.get("/api/catalog/datasets/MET_RAIN_GAUGES", headers=headers)

        assert [item["code"] for item in listed.json()] == [
            "HEALTH_HOSPITAL_BEDS",
            "MET_RAIN_GAUGES",
        ]
        assert [item["code"] for item in searched.json()] == ["HEALTH_HOSPITAL_BEDS"]
        assert [item["code"] for item in by_owner.json()] == ["MET_RAIN_GAUGES"]
        detail = shown.json()
        assert detail["schema_version"] == 1
        assert detail["keywords"] == ["降雨", "rainfall"]
        assert detail["fields"][1] == {
            "name": "value", "type": "number", "unit": "mm", "required": True,
            "sensitivity": "none", "choices": [], "minimum": 0.0, "maximum": None,
            "max_length": None, "description_zh": "累计降雨量",
            "description_en": "Accumulated rainfall",
        }  # fmt: skip
        assert [version["version"] for version in detail["versions"]] == [1]

    def test_unknown_dataset_is_a_404_problem(
        self, web: WebClient, muster: Muster
    ) -> None:
        """GET of an unknown code answers problem+json with the catalog's code."""
        headers = {"Authorization": f"Bearer {issue_api_key(muster, 'MET')}"}

        response = web.get("/api/catalog/datasets/NOPE_NOPE", headers=headers)

        assert response.status_code == 404
        assert response.json()["code"] == "unknown_dataset"

    def test_api_key_may_not_register_and_is_logged(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A connector key is no data steward: 403, and AccessRefused is recorded."""
        headers = {"Authorization": f"Bearer {issue_api_key(muster, 'MET')}"}
        before = head(muster)

        response = web.post("/api/catalog/datasets", json=NEW_DATASET, headers=headers)

        assert response.status_code == 403
        assert response.json()["code"] == "permission"
        assert event_types(muster, after=before) == ["identity.AccessRefused"]

    def test_steward_session_with_csrf_creates_then_updates(
        self, web: WebClient, muster: Muster
    ) -> None:
        """201 created for the caller's department; 200 unchanged; 200 updated."""
        web.sign_in("met.duty")
        headers = {"X-CSRF-Token": web.http.cookies[CSRF_COOKIE]}
        changed = {**NEW_DATASET, "fields": NEW_DATASET["fields"][:1]}

        created = web.post("/api/catalog/datasets", json=NEW_DATASET, headers=headers)
        again = web.post("/api/catalog/datasets", json=NEW_DATASET, headers=headers)
        updated = web.post("/api/catalog/datasets", json=changed, headers=headers)

        assert (created.status_code, created.json()) == (
            201,
            {"code": "MET_CAP_WARNINGS", "outcome": "created", "schema_version": 1},
        )
        assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
        assert (updated.status_code, updated.json()["schema_version"]) == (200, 2)
        shown = web.get("/api/catalog/datasets/MET_CAP_WARNINGS").json()
        assert shown["owner_department"] == "MET"
        assert shown["feed_url"] == "https://warnings.met.example/cap.atom"

    def test_session_without_csrf_token_is_refused(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A cookie session must send the CSRF header on POST."""
        web.sign_in("met.duty")
        before = head(muster)

        response = web.post("/api/catalog/datasets", json=NEW_DATASET)

        assert response.status_code == 403
        assert response.json()["params"]["reason"] == "csrf"
        assert "catalog.DatasetRegistered" not in event_types(muster, after=before)

    def test_rule_violations_are_422_problems_naming_the_rule(
        self, web: WebClient
    ) -> None:
        """就高从严 and malformed input come back as 422 with a specific code."""
        web.sign_in("met.duty")
        headers = {"X-CSRF-Token": web.http.cookies[CSRF_COOKIE]}
        phone = {"name": "phone", "type": "string", "sensitivity": "sensitive_personal"}
        general = {**NEW_DATASET, "fields": [*NEW_DATASET["fields"], phone]}
        no_choices = {**NEW_DATASET, "fields": [{"name": "kind", "type": "enum"}]}
        bad_enum = {**NEW_DATASET, "data_grade": "SECRET"}
        nul = {**NEW_DATASET, "description": "rain\u0000fall"}

        graded = web.post("/api/catalog/datasets", json=general, headers=headers)
        malformed = web.post("/api/catalog/datasets", json=no_choices, headers=headers)
        unknown = web.post("/api/catalog/datasets", json=bad_enum, headers=headers)
        with_nul = web.post("/api/catalog/datasets", json=nul, headers=headers)

        assert graded.status_code == 422
        assert graded.json()["code"] == "sensitive_data_graded_general"
        assert graded.json()["params"]["field"] == "data_grade"
        assert malformed.status_code == 422
        assert malformed.json()["code"] == "invalid_dataset"
        assert malformed.json()["params"]["field"] == "fields[0].choices"
        assert unknown.status_code == 422
        assert unknown.json()["code"] == "request_validation"
        assert with_nul.status_code == 422  # PostgreSQL text cannot hold NUL
        assert with_nul.json()["params"]["field"] == "text"

    def test_observer_session_is_refused(self, web: WebClient, muster: Muster) -> None:
        """An observer of the owning department may read but not register."""
        web.sign_in("olga")
        headers = {"X-CSRF-Token": web.http.cookies[CSRF_COOKIE]}
        body = {**NEW_DATASET, "owner_department": "HEALTH"}

        listed = web.get("/api/catalog/datasets")
        refused = web.post("/api/catalog/datasets", json=body, headers=headers)

        assert listed.status_code == 200
        assert refused.status_code == 403


class TestTranslations:
    def test_every_catalog_page_message_has_a_chinese_translation(self) -> None:
        """Each N_(...) or translate(...) literal of catalog/pages.py is in zh_CN."""
        source = Path(pages.__file__).read_text(encoding="utf-8")
        literals = {
            node.args[0].value
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "N_", "translate"
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
        }  # fmt: skip
        path = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as po:
            chinese = {str(m.id): str(m.string) for m in read_po(po) if m.id}

        missing = sorted(m for m in literals if not chinese.get(m))

        assert len(literals) > 25
        assert missing == []
