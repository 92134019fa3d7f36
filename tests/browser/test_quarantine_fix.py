"""Acceptance in a real browser: a steward fixes a quarantined CSV row.

The transport duty officer uploads the bureau's GBK road-status export with one bad
row, opens the quarantine, corrects the field in the form, resubmits, and finds the
record in the dataset. Screenshots of the item page and of /quality go to /tmp/.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from muster.bootstrap import Muster
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.messages import SYSTEM_ACTOR
from muster.identity.domain.commands import RegisterDepartment
from muster.ingest import queries
from tests import factories

SCREENSHOTS = Path(tempfile.gettempdir())  # /tmp: looked at by a person
ROADS_CSV = (
    "路段编号,道路名称,通行状态,原因\r\n"
    "S203-K12,S203省道,封闭,山体塌方\r\n"
    "S311-K4,S311省道,半封闭,积水\r\n"
    "G107-K1523,G107国道,畅通,\r\n"
).encode("gbk")


def _transport_bureau(muster: Muster) -> None:
    muster.bus.handle(
        RegisterDepartment(
            code="TRANSPORT", name_zh="交通运输局", name_en="Transport Bureau",
            type="other",
        ),
        SYSTEM_ACTOR,
    )  # fmt: skip
    factories.user(
        muster, "transport.duty", department_code="TRANSPORT", roles=("duty_officer",)
    )
    metadata = DatasetMetadata(
        code="TRANSPORT_ROAD_STATUS", name_zh="公路通行状况", name_en="Road status",
        owner_department="TRANSPORT", sharing_class="UNCONDITIONAL",
        data_grade="GENERAL", update_interval_minutes=15, format="csv",
        connector="upload", csv_encoding="gbk",
        csv_mapping=(("路段编号", "segment_id"), ("道路名称", "road_name"),
                     ("通行状态", "status"), ("原因", "reason")),
    )  # fmt: skip
    fields = (
        DatasetField(name="segment_id", type="string", required=True),
        DatasetField(name="road_name", type="string", required=True),
        DatasetField(
            name="status", type="enum", required=True,
            choices=("畅通", "缓行", "交通管制", "封闭"),
        ),
        DatasetField(name="reason", type="string"),
    )  # fmt: skip
    muster.bus.handle(RegisterDataset(metadata=metadata, fields=fields), SYSTEM_ACTOR)


@pytest.mark.browser
def test_steward_fixes_a_quarantined_csv_row_and_the_record_appears(
    browser: Browser, live_server: str, muster: Muster
) -> None:
    """Upload with one bad row; fix it in the quarantine; the record is stored."""
    _transport_bureau(muster)
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    page.goto("/signin")
    page.fill("input[name=username]", "transport.duty")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit].button-primary")

    page.goto("/datasets/TRANSPORT_ROAD_STATUS/records")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "roads.csv", "mimeType": "text/csv", "buffer": ROADS_CSV}],
    )
    page.click(".upload-form button[type=submit]")
    expect(page.locator("#upload-outcome")).to_contain_text("2 stored, 1 quarantined")

    page.click("nav.topbar-nav >> text=Quarantine")
    page.click(".quarantine-table a[href^='/quarantine/']")
    status = page.locator("input[name=value__status]")
    expect(status).to_have_value("半封闭")
    expect(page.locator("label.field.has-error")).to_contain_text("status")
    page.screenshot(
        path=str(SCREENSHOTS / "muster-quarantine-item.png"), full_page=True
    )
    status.fill("交通管制")
    page.click("text=Fix and resubmit >> nth=-1")

    expect(page).to_have_url(
        f"{live_server}/datasets/TRANSPORT_ROAD_STATUS/records?notice=resubmitted"
    )
    expect(page.locator(".alert-ok")).to_contain_text("corrected record was stored")
    row = page.locator(".records-table tr", has_text="S311-K4")
    expect(row).to_contain_text("交通管制")
    with muster.engine.connect() as conn:
        assert queries.list_quarantine(conn) == []
        stored = queries.list_records(conn, "TRANSPORT_ROAD_STATUS")
    assert sorted(record.values["segment_id"] for record in stored) == [
        "G107-K1523", "S203-K12", "S311-K4",
    ]  # fmt: skip

    page.goto("/quality")
    page.click("text=Measure now")
    expect(page.locator(".alert-ok")).to_contain_text("measured just now")
    page.screenshot(path=str(SCREENSHOTS / "muster-quality.png"), full_page=True)
    context.close()
