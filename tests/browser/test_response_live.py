"""Coordinated response in real browsers: a plan activated by the commander reaches the
transport duty officer's inbox live, and the acknowledgement reaches the commander's
incident page live, neither page reloaded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from muster.bootstrap import Muster
from muster.response import queries
from tests import factories
from tests.response_setup import build_world, flood_incident

ROAD = "Close road S203 km 12–15"


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
def test_activation_reaches_the_inbox_and_acknowledgement_the_incident_page(
    browser: Browser, live_server: str, muster: Muster
) -> None:
    """Given a reported flood incident, when the commander activates the plan, the
    transport duty officer's open inbox shows the road task without a reload; when
    they acknowledge it, the commander's open incident page shows it acknowledged."""
    world = build_world(muster)
    incident_id = flood_incident(muster, world, activate=False)
    context_a, commander = _signed_in_page(browser, live_server, "commander")
    context_b, duty = _signed_in_page(browser, live_server, "t.duty")
    duty.goto("/inbox")
    expect(duty.locator("#inbox-empty")).to_be_visible()
    expect(duty.locator("#inbox-live")).to_have_attribute("data-live", "live")

    commander.goto(f"/incidents/{incident_id}")
    commander.select_option("select[name=plan_code]", "FLOOD_URBAN")
    commander.select_option("#activate-form select[name=level]", "L4")
    commander.click("#activate-form button[type=submit]")

    expect(commander.locator("#incident-level")).to_have_text("Level IV")
    row = duty.locator("#inbox-tasks tr.task-row").filter(has_text=ROAD)
    expect(row).to_have_count(1, timeout=10_000)
    expect(commander.locator("#incident-live")).to_have_attribute("data-live", "live")
    with muster.engine.connect() as conn:
        road = next(
            task
            for task in queries.incident_tasks(conn, incident_id)
            if task.template_key == "close_road"
        )
    board_status = commander.locator(
        f'#task-board tr[data-task-id="{road.id}"] .badge-task'
    )
    expect(board_status).to_have_text("Assigned")

    row.locator("button[data-action=acknowledge]").click()

    expect(duty.locator(".alert-ok")).to_have_text("The task was updated.")
    expect(board_status).to_have_text("Acknowledged", timeout=10_000)
    expect(commander.locator("#timeline")).to_contain_text(
        f"TRANSPORT dept acknowledged “{ROAD}”"
    )
    context_a.close()
    context_b.close()
