"""In-app notifications in a real browser: the unread badge next to the Inbox link
updates live when a notification reaches the signed-in user, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from muster.bootstrap import Muster
from muster.core.errors import ConcurrencyConflict
from muster.notify import queries
from muster.notify.tasks import deliver_once
from tests import factories
from tests.response_setup import build_world, flood_incident


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


def _deliver(muster: Muster) -> None:
    """Run the delivery tick; the app's own loop may tick at the same moment."""
    for _ in range(5):
        try:
            deliver_once(muster.bus)
        except ConcurrencyConflict:
            continue
        return


@pytest.mark.browser
def test_activation_lights_the_duty_officers_badge_live(
    browser: Browser, live_server: str, muster: Muster
) -> None:
    """Given the transport duty officer with the inbox open and no notifications,
    when the commander activates the flood plan in another browser and the delivery
    tick runs, then the officer's badge shows the unread count without a reload,
    and opening it lists the new task."""
    world = build_world(muster)
    incident_id = flood_incident(muster, world, activate=False)
    context_a, commander = _signed_in_page(browser, live_server, "commander")
    context_b, duty = _signed_in_page(browser, live_server, "t.duty")
    duty.goto("/inbox")
    expect(duty.locator("#inbox-live")).to_have_attribute("data-live", "live")
    badge = duty.locator("#notification-badge")
    expect(badge).to_be_hidden()
    expect(badge).to_have_attribute("data-count", "0")
    duty.evaluate("document.body.setAttribute('data-not-reloaded', 'yes')")

    commander.goto(f"/incidents/{incident_id}")
    commander.select_option("select[name=plan_code]", "FLOOD_URBAN")
    commander.select_option("#activate-form select[name=level]", "L4")
    commander.click("#activate-form button[type=submit]")
    expect(commander.locator("#incident-level")).to_have_text("Level IV")
    _deliver(muster)

    with muster.engine.connect() as conn:
        unread = queries.unread_count(conn, world.transport_duty.id)
    assert unread >= 1
    expect(badge).to_be_visible(timeout=10_000)
    expect(badge).to_have_text(str(unread))
    expect(duty.locator("body")).to_have_attribute("data-not-reloaded", "yes")
    commander_badge = commander.locator("#notification-badge")
    with muster.engine.connect() as conn:
        commander_unread = queries.unread_count(conn, world.commander.id)
    expect(commander_badge).to_have_attribute("data-count", str(commander_unread))

    duty.click("#nav-notifications")
    expect(duty.locator("#notification-list")).to_contain_text(
        "Close road S203 km 12–15"
    )
    duty.click("#mark-all-read")
    expect(duty.locator("#notification-badge")).to_be_hidden()
    context_a.close()
    context_b.close()
