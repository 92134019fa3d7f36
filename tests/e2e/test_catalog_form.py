"""The catalog's register and edit form: fields as table rows, refusals shown beside
the input they name, and only RegisterDataset through the bus writes anything."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from muster.bootstrap import Muster
from muster.catalog import form_pages, forms, queries
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
from tests.e2e.client import WebClient, event_types, head, web_client

GAUGES = DatasetMetadata(
    code="MET_RAIN_GAUGES",
    name_zh="自动雨量站观测",
    name_en="Rain gauge observations",
    description="Rainfall every five minutes.",
    owner_department="MET",
    sharing_class="UNCONDITIONAL",
    data_grade="GENERAL",
    update_interval_minutes=5,
    format="csv",
    connector="upload",
    csv_mapping=(("站号", "station_id"), ("雨量", "value")),
    csv_encoding="gbk",
    keywords=("降雨", "rainfall"),
)
GAUGE_FIELDS = (
    DatasetField(name="station_id", type="string", required=True, max_length=20),
    DatasetField(
        name="value", type="number", unit="mm", required=True, minimum=0,
        maximum=500.5, description_en="Accumulated rainfall",
        description_zh="累计降雨量",
    ),
    DatasetField(name="quality", type="enum", choices=("good", "suspect")),
)  # fmt: skip
RIVER: dict[str, str] = {
    "code": "MET_RIVER_LEVELS",
    "name_zh": "河道水位",
    "name_en": "River levels",
    "description": "Hourly gauge readings.",
    "owner_department": "MET",
    "sharing_class": "CONDITIONAL",
    "sharing_conditions": "Flood control only.",
    "data_grade": "IMPORTANT",
    "update_interval_minutes": "60",
    "format": "csv",
    "connector": "upload",
    "csv_encoding": "utf-8",
    "keywords": "水位\nriver",
    "fields-0-name": "gauge_id",
    "fields-0-type": "string",
    "fields-0-required": "on",
    "fields-0-sensitivity": "none",
    "fields-0-csv_header": "站点",
    "fields-1-name": "level",
    "fields-1-type": "number",
    "fields-1-unit": "m",
    "fields-1-sensitivity": "none",
    "fields-1-minimum": "-2",
    "fields-1-maximum": "45.5",
    "fields-1-description_zh": "水位",
    "fields-1-description_en": "Water level",
    "fields-2-type": "",
    "fields-2-sensitivity": "none",  # a blank row: ignored
}


def _department(muster: Muster, code: str, name_zh: str, name_en: str) -> None:
    muster.bus.handle(
        RegisterDepartment(code=code, name_zh=name_zh, name_en=name_en, type="other"),
        SYSTEM_ACTOR,
    )


@pytest.fixture
def web(settings: Settings, muster: Muster) -> Iterator[WebClient]:
    """Return a client of a deployment with one catalogued dataset and four people."""
    _department(muster, "MET", "澜江市气象局", "Meteorological Bureau")
    _department(muster, "HEALTH", "澜江市卫生健康委员会", "Health Commission")
    factories.user(muster, "met.duty", department_code="MET", roles=("duty_officer",))
    factories.user(muster, "zhang", department_code="MET", language="zh-CN")
    factories.user(muster, "health.duty", department_code="HEALTH", roles=("analyst",))
    factories.user(muster, "olga", department_code="HEALTH", roles=("observer",))
    factories.user(muster, "root", department_code="HEALTH", roles=("admin",))
    muster.bus.handle(
        RegisterDataset(metadata=GAUGES, fields=GAUGE_FIELDS), SYSTEM_ACTOR
    )
    with web_client(settings, muster) as client:
        yield client


class _FormReader(HTMLParser):
    """Collect what a browser would submit for the form's inputs (not buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name = found.get("name", "")
        if tag == "input" and name:
            if found.get("type") != "checkbox" or "checked" in found:
                self.values[name] = found.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select is not None:
            if self._select not in self.values or "selected" in found:
                self.values[self._select] = found.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.values[self._textarea] += data


def _form_values(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    return reader.values


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.DOTALL)
    assert select is not None
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def _rows(html: str) -> int:
    return len(re.findall(r'name="fields-\d+-name"', html))


def _dataset(muster: Muster, code: str) -> queries.DatasetView | None:
    with muster.engine.connect() as conn:
        return queries.get_dataset(conn, code)


class TestRegisterForm:
    def test_form_offers_the_stewards_department_and_three_blank_rows(
        self, web: WebClient
    ) -> None:
        """A department steward may choose only their own department as the owner."""
        web.sign_in("met.duty")

        response = web.get("/catalog/new")

        assert response.status_code == 200
        assert _options(response.text, "owner_department") == ["MET"]
        assert _rows(response.text) == 3
        assert 'action="/catalog/new"' in response.text
        assert "Description (Chinese)" in response.text

    def test_admin_may_choose_any_department(self, web: WebClient) -> None:
        """Someone who may act for any department sees them all."""
        web.sign_in("root")

        response = web.get("/catalog/new")

        assert _options(response.text, "owner_department") == ["HEALTH", "MET"]

    def test_steward_registers_a_dataset_with_two_fields(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The form becomes RegisterDataset; blank rows are ignored; 303 to detail."""
        web.sign_in("met.duty")
        before = head(muster)

        response = web.post_form("/catalog/new", RIVER)
        detail = web.get(response.headers["location"])
        listed = web.get("/catalog")

        assert response.status_code == 303
        assert (
            response.headers["location"] == "/catalog/MET_RIVER_LEVELS?notice=created"
        )
        assert event_types(muster, after=before) == [
            "catalog.DatasetRegistered",
            "catalog.DatasetSchemaVersioned",
        ]
        assert "The dataset is registered, with schema version 1." in detail.text
        assert "MET_RIVER_LEVELS" in listed.text
        dataset = _dataset(muster, "MET_RIVER_LEVELS")
        assert dataset is not None
        assert [(f.name, f.type, f.required) for f in dataset.fields] == [
            ("gauge_id", "string", True),
            ("level", "number", False),
        ]
        assert (dataset.fields[1].minimum, dataset.fields[1].maximum) == (-2.0, 45.5)
        assert dataset.field_descriptions["level"] == ("水位", "Water level")
        assert dict(dataset.csv_mapping) == {"站点": "gauge_id"}
        assert dataset.keywords == ("水位", "river")
        assert dataset.sharing_conditions == "Flood control only."

    def test_more_field_rows_keeps_the_posted_values(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The button shows the form again with what was typed and 3 more rows."""
        web.sign_in("met.duty")
        before = head(muster)

        response = web.post_form("/catalog/new", {**RIVER, "action": "more_rows"})

        assert response.status_code == 200
        assert _rows(response.text) == 6
        shown = _form_values(response.text)
        for name in ("code", "name_zh", "keywords", "fields-1-maximum"):
            assert shown[name] == RIVER[name]
        assert shown["fields-0-required"] == "on"
        assert shown["fields-1-type"] == "number"
        assert event_types(muster, after=before) == []

    @pytest.mark.parametrize(
        ("change", "input_name", "message"),
        [
            (
                {"fields-1-type": "colour"},
                "fields-1-type",
                "Choose a type.",
            ),
            (
                {"fields-1-minimum": "50"},
                "fields-1-minimum",
                "the minimum is not above the maximum",
            ),
            (
                {"fields-1-name": "gauge_id"},
                "fields-1-name",
                "Enter a field name used once",
            ),
            (
                {"fields-1-maximum": "high"},
                "fields-1-maximum",
                "Enter a number.",
            ),
            (
                {"sharing_conditions": ""},
                "sharing_conditions",
                "State the conditions of a conditionally shared dataset",
            ),
        ],
    )
    def test_bad_input_is_shown_beside_its_input_and_nothing_is_recorded(
        self,
        web: WebClient,
        muster: Muster,
        change: dict[str, str],
        input_name: str,
        message: str,
    ) -> None:
        """A refusal re-renders the form (422) with the input kept and marked."""
        web.sign_in("met.duty")
        before = head(muster)

        response = web.post_form("/catalog/new", {**RIVER, **change})

        assert response.status_code == 422
        assert "Please correct the marked fields." in response.text
        marked = re.search(
            rf'<div class="field has-error">\s*<[^>]+name="{input_name}"'
            rf'.*?<span class="field-error">([^<]*)</span>',
            response.text,
            re.DOTALL,
        ) or re.search(
            rf'<label class="field has-error">.*?name="{input_name}"'
            rf'.*?<span class="field-error">([^<]*)</span>',
            response.text,
            re.DOTALL,
        )
        assert marked is not None
        assert message in marked.group(1)
        assert _form_values(response.text)["name_en"] == "River levels"
        assert event_types(muster, after=before) == []

    def test_sensitive_fields_cannot_be_general_data(
        self, web: WebClient, muster: Muster
    ) -> None:
        """就高从严: the grade input names the rule in the person's language."""
        web.sign_in("zhang")
        phone = {
            "fields-2-name": "phone",
            "fields-2-type": "string",
            "fields-2-sensitivity": "sensitive_personal",
        }
        before = head(muster)

        response = web.post_form(
            "/catalog/new", {**RIVER, **phone, "data_grade": "GENERAL"}
        )

        assert response.status_code == 422
        assert "就高从严" in response.text
        assert event_types(muster, after=before) == []

    def test_an_existing_code_is_not_registered_again(
        self, web: WebClient, muster: Muster
    ) -> None:
        """The new-dataset form does not overwrite an entry that exists."""
        web.sign_in("met.duty")
        before = head(muster)

        response = web.post_form("/catalog/new", {**RIVER, "code": GAUGES.code})

        assert response.status_code == 409
        assert "already registered" in response.text
        assert event_types(muster, after=before) == []

    def test_other_departments_steward_is_refused_and_logged(
        self, web: WebClient, muster: Muster
    ) -> None:
        """Owner MET chosen by a Health analyst: the bus refuses; the form says why."""
        web.sign_in("health.duty")
        before = head(muster)

        response = web.post_form("/catalog/new", RIVER)

        assert response.status_code == 403
        assert (
            "You may not register or change datasets of this department."
            in response.text
        )
        assert _form_values(response.text)["code"] == "MET_RIVER_LEVELS"
        assert event_types(muster, after=before) == ["identity.AccessRefused"]
        assert _dataset(muster, "MET_RIVER_LEVELS") is None

    def test_missing_csrf_token_is_refused(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A form post without the security token is 403 and writes nothing."""
        web.sign_in("met.duty")
        before = head(muster)

        response = web.post("/catalog/new", data=RIVER)

        assert response.status_code == 403
        assert "security token" in response.text
        assert event_types(muster, after=before) == []


class TestEditForm:
    def test_form_is_filled_in_from_the_catalog(self, web: WebClient) -> None:
        """Edit shows every field as a row, read-only code, and 3 blank rows."""
        web.sign_in("met.duty")

        response = web.get("/catalog/MET_RAIN_GAUGES/edit")

        assert response.status_code == 200
        assert re.search(r'name="code" value="MET_RAIN_GAUGES"[^>]*readonly', (
            response.text
        ))  # fmt: skip
        assert _rows(response.text) == 6
        shown = _form_values(response.text)
        assert shown["fields-1-name"] == "value"
        assert (shown["fields-1-minimum"], shown["fields-1-maximum"]) == ("0", "500.5")
        assert shown["fields-1-description_zh"] == "累计降雨量"
        assert shown["fields-1-csv_header"] == "雨量"
        assert shown["fields-2-choices"] == "good\nsuspect"
        assert shown["keywords"] == "降雨\nrainfall"
        assert shown["csv_encoding"] == "gbk"

    def test_saving_without_changes_records_nothing(
        self, web: WebClient, muster: Muster
    ) -> None:
        """What the form shows reads back as the same entry: outcome unchanged."""
        web.sign_in("met.duty")
        values = _form_values(web.get("/catalog/MET_RAIN_GAUGES/edit").text)
        before = head(muster)

        response = web.post_form("/catalog/MET_RAIN_GAUGES/edit", values)
        detail = web.get(response.headers["location"])

        assert response.status_code == 303
        assert response.headers["location"].endswith("?notice=unchanged")
        assert "Nothing changed" in detail.text
        assert event_types(muster, after=before) == []

    def test_adding_a_field_makes_schema_version_2(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A new row is a new schema version; the posted code cannot change."""
        web.sign_in("met.duty")
        values = _form_values(web.get("/catalog/MET_RAIN_GAUGES/edit").text)
        values.update(
            {"code": "MET_OTHER", "fields-3-name": "station_name",
             "fields-3-type": "string"}
        )  # fmt: skip
        before = head(muster)

        response = web.post_form("/catalog/MET_RAIN_GAUGES/edit", values)
        detail = web.get(response.headers["location"])

        assert response.status_code == 303
        assert response.headers["location"] == "/catalog/MET_RAIN_GAUGES?notice=updated"
        assert event_types(muster, after=before) == ["catalog.DatasetSchemaVersioned"]
        assert "its schema version is 2" in detail.text
        assert "Added: station_name" in detail.text
        assert _dataset(muster, "MET_OTHER") is None

    def test_refusal_on_edit_keeps_the_rows(
        self, web: WebClient, muster: Muster
    ) -> None:
        """A bad edit is shown again on the edit page, nothing recorded."""
        web.sign_in("met.duty")
        values = _form_values(web.get("/catalog/MET_RAIN_GAUGES/edit").text)
        values["fields-0-max_length"] = "0"
        before = head(muster)

        response = web.post_form("/catalog/MET_RAIN_GAUGES/edit", values)

        assert response.status_code == 422
        assert 'action="/catalog/MET_RAIN_GAUGES/edit"' in response.text
        assert "Only text fields have a maximum length" in response.text
        assert _form_values(response.text)["fields-2-choices"] == "good\nsuspect"
        assert event_types(muster, after=before) == []

    def test_unknown_dataset_is_404(self, web: WebClient) -> None:
        """There is nothing to edit under a code that is not catalogued."""
        web.sign_in("met.duty")

        assert web.get("/catalog/NO_SUCH_DATA/edit").status_code == 404


class TestLinks:
    def test_steward_sees_register_and_edit(self, web: WebClient) -> None:
        """The owner's steward gets the register button and the edit link."""
        web.sign_in("met.duty")

        listed = web.get("/catalog")
        detail = web.get("/catalog/MET_RAIN_GAUGES")

        assert 'href="/catalog/new"' in listed.text
        assert 'href="/catalog/MET_RAIN_GAUGES/edit"' in detail.text

    def test_other_stewards_and_observers_see_what_they_may_use(
        self, web: WebClient
    ) -> None:
        """A Health analyst may register (for Health) but not edit Met's data."""
        web.sign_in("health.duty")
        steward_list = web.get("/catalog")
        steward_detail = web.get("/catalog/MET_RAIN_GAUGES")
        web.sign_in("olga")
        observer_list = web.get("/catalog")

        assert 'href="/catalog/new"' in steward_list.text
        assert "/edit" not in steward_detail.text
        assert 'href="/catalog/new"' not in observer_list.text


class TestChinese:
    def test_form_renders_chinese_labels(self, web: WebClient) -> None:
        """A Chinese-speaking steward sees the form and its choices in Chinese."""
        web.sign_in("zhang")

        response = web.get("/catalog/new")

        for text in (
            "登记数据集", "中文名称", "共享类型", "无条件共享", "重要数据", "字段名",
            "更多字段行", "文本", "位置信息", "澜江市气象局",
        ):  # fmt: skip
            assert text in response.text
        assert "More field rows" not in response.text


class TestTranslations:
    def test_every_form_message_has_a_chinese_translation(self) -> None:
        """Each N_(...) or translate(...) literal of the form modules is in zh_CN."""
        literals = {
            node.args[0].value
            for module in (forms, form_pages)
            for node in ast.walk(ast.parse(Path(module.__file__).read_text("utf-8")))
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
