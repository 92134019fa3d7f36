"""Acceptance in a real browser: a consumer asks for data, the provider approves, the
consumer reads it masked, and the provider sees the read in its access log.

FIRE's duty officer requests the hotline's citizen reports for rescue; the hotline's
duty officer (another browser context) approves on /sharing; FIRE opens the data page
with the purpose and sees the calls with names masked and phones hidden; the hotline
finds FIRE's read (department, purpose, record count) on /sharing/log. Screenshots of
the data page and the log go to /tmp/.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from muster.bootstrap import Muster
from muster.sharing import queries
from tests import factories
from tests.e2e.test_sharing_pages import CALLERS, DATASET, hotline_world

SCREENSHOTS = Path(tempfile.gettempdir())  # /tmp: looked at by a person
JUSTIFICATION = "Rescue crews must reach callers trapped by the flood water."


def _signed_in(browser: Browser, base_url: str, username: str) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="en-GB")
    page = context.new_page()
    page.goto("/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit].button-primary")
    expect(page.locator(".who-name")).to_be_visible()
    return context


def _file_request(page: Page) -> None:
    page.goto("/")
    page.click("nav.topbar-nav >> text=Data sharing")
    page.click("nav.sharing-nav >> text=Request access")
    page.select_option("#choose-dataset select[name=dataset]", DATASET)
    page.click("#choose-dataset button[type=submit]")
    form = page.locator("#request-form")
    for field in ("ticket_id", "caller_name", "caller_phone", "category"):
        form.locator(f"input[name=fields][value={field}]").check()
    form.locator("input[name=purposes]").fill("rescue")
    form.locator("textarea[name=justification]").fill(JUSTIFICATION)
    form.locator("button[type=submit]").click()
    expect(page.locator("#sharing-notice")).to_contain_text("Your request was sent")
    expect(page.locator("#made-requests")).to_contain_text("Waiting for a decision")


def _approve(page: Page) -> None:
    page.goto("/sharing")
    request = page.locator("#received-requests article.sharing-request")
    expect(request).to_contain_text(JUSTIFICATION)
    request.locator("select[name='mask-caller_name']").select_option("name")
    request.locator("textarea[name=reason]").fill("Approved for flood rescue.")
    request.locator("button[value=approve]").click()
    expect(page.locator("#sharing-notice")).to_contain_text("approved")
    expect(page.locator("#provided-agreements")).to_contain_text("In force")


@pytest.mark.browser
def test_request_approve_read_and_log_across_two_departments(
    browser: Browser, live_server: str, muster: Muster
) -> None:
    """FIRE requests, HOTLINE approves, FIRE reads masked records, HOTLINE sees it."""
    hotline_world(muster)
    fire = _signed_in(browser, live_server, "fire.duty")
    hotline = _signed_in(browser, live_server, "hotline.duty")
    fire_page, hotline_page = fire.new_page(), hotline.new_page()

    _file_request(fire_page)
    _approve(hotline_page)

    fire_page.goto("/sharing")
    fire_page.click("#consumed-agreements >> text=Read data")
    expect(fire_page.locator("input[name=purpose]")).to_have_value("rescue")
    expect(fire_page.locator("#tlp-banner")).to_contain_text("TLP:AMBER")
    expect(fire_page.locator("#decision")).to_have_text("Allowed")
    expect(fire_page.locator("#masks-applied")).to_contain_text("caller_phone")
    rows = fire_page.locator("table.shared-records tbody tr")
    expect(rows).to_have_count(len(CALLERS))
    expect(fire_page.locator("table.shared-records")).to_contain_text("王**")
    records_text = fire_page.locator("table.shared-records").inner_text()
    for call in CALLERS:
        assert call["ticket_id"] in records_text
        assert call["caller_name"] not in records_text
        assert call["caller_phone"] not in records_text
    fire_page.screenshot(
        path=str(SCREENSHOTS / "muster-sharing-data.png"), full_page=True
    )

    hotline_page.click("nav.sharing-nav >> text=Access log")
    hotline_page.select_option("#log-filter select[name=department]", "FIRE")
    hotline_page.click("#log-filter button[type=submit]")
    read = hotline_page.locator("table.access-log-table tbody tr").first
    expect(read.locator(".log-department")).to_have_text("FIRE dept")
    expect(read.locator(".log-purpose")).to_have_text("rescue")
    expect(read.locator(".log-records")).to_have_text(str(len(CALLERS)))
    expect(hotline_page.locator("#export-csv")).to_have_attribute(
        "href", "/api/v1/access-log?format=csv&department=FIRE"
    )
    hotline_page.screenshot(
        path=str(SCREENSHOTS / "muster-sharing-log.png"), full_page=True
    )
    with muster.engine.connect() as conn:
        (entry,) = queries.access_entries(
            conn, queries.LogFilter(provider="HOTLINE", department="FIRE")
        )
    assert (entry["decision"], entry["purpose"], entry["records"]) == (
        "allow",
        "rescue",
        len(CALLERS),
    )
    fire.close()
    hotline.close()
