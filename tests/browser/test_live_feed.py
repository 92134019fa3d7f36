"""The live activity feed in a real browser: an incident reaches another's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from muster.bootstrap import Muster
from muster.response import queries
from tests import factories

TITLE = "Flooding on Riverside Road"


def _signed_in_page(
    browser: Browser, base_url: str, username: str
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=base_url, locale="en-GB")
    page = context.new_page()
    page.goto("/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit].button-primary")
    expect(page.locator("#feed-status")).to_have_class("feed-status feed-status-live")
    return context, page


@pytest.mark.browser
def test_incident_opened_by_one_department_appears_on_the_other_dashboard(
    browser: Browser, live_server: str, muster: Muster
) -> None:
    """User B's open dashboard shows user A's new incident in the feed, unreloaded."""
    factories.department(muster, "FIRE")
    factories.department(muster, "HEALTH")
    factories.user(muster, "anna", department_code="FIRE")
    factories.user(muster, "boris", department_code="HEALTH")
    context_a, page_a = _signed_in_page(browser, live_server, "anna")
    context_b, page_b = _signed_in_page(browser, live_server, "boris")

    page_a.goto("/incidents/new")
    page_a.fill("input[name=title]", TITLE)
    page_a.select_option("select[name=category]", "NATURAL_DISASTER")
    page_a.fill("input[name=latitude]", "28.19")
    page_a.fill("input[name=longitude]", "112.97")
    page_a.fill("textarea[name=description]", "Water 40 cm deep across both lanes.")
    page_a.click("button[type=submit].button-primary")

    expect(page_a.locator("h1")).to_have_text(TITLE)
    feed_item = page_b.locator("#feed-list .feed-summary").first
    expect(feed_item).to_have_text(
        f"FIRE dept opened incident “{TITLE}”", timeout=10_000
    )
    expect(page_b.locator("#incident-list .incident-title").first).to_have_text(TITLE)
    with muster.engine.connect() as conn:
        assert [item.title for item in queries.list_incidents(conn)] == [TITLE]
    context_a.close()
    context_b.close()
