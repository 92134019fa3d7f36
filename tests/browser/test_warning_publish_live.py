"""Acceptance (issue 10): an author composes a public warning in the browser, a second
person approves and publishes it in another browser context, and the warning appears
in the public Atom feed and on the commander's open situation map without a reload.
On Lanjiang with its pack loaded. Screenshots of the map and of the warnings page go
to /tmp/warning_publish_live.png and /tmp/warning_publish_page.png (looked at by a
person)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Browser, Page, expect

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.identity import queries as identity
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings
from muster.web.app import create_app
from tests.e2e.client import running_server
from tests.prepared import example_pack, prepared_for

SCREENSHOT = Path(tempfile.gettempdir()) / "warning_publish_live.png"
PAGE_SCREENSHOT = Path(tempfile.gettempdir()) / "warning_publish_page.png"
DEMO_PASSWORD = "muster-demo"
NOW = datetime(2026, 11, 26, 4, tzinfo=UTC)
LIVE = 15_000  # ms Playwright polls before giving up (not a timing assertion)
ATOM = "{http://www.w3.org/2005/Atom}"
prepared = prepared_for("city", example_pack(at=NOW))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return Lanjiang with its pack loaded (copied from the prepared state)."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    yield deployment
    deployment.engine.dispose()


def _flood(city: Muster) -> str:
    with city.engine.connect() as conn:
        commander = identity.get_user_by_username(conn, "commander")
    assert commander is not None
    return str(city.bus.handle(OpenIncident(
        title="滨江路内涝", category="NATURAL_DISASTER", latitude=28.2,
        longitude=112.9, type_code="11A00",
    ), commander.as_actor()))  # fmt: skip


def _sign_in(page: Page, username: str) -> None:
    page.goto("/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit].button-primary")


@pytest.mark.browser
def test_given_the_commanders_map_open_when_an_author_composes_and_another_person_approves_and_publishes_then_the_warning_is_in_the_feed_and_on_the_map(  # noqa: E501
    browser: Browser, settings: Settings, city: Muster
) -> None:
    """Given the commander's situation map (no warnings), when EMB's duty officer
    drafts a yellow rainstorm warning from the incident's page (and is offered no
    Approve) and EMB's head, in another context, approves and publishes it, then the
    public Atom feed lists it with its CAP XML link and, without a reload, the map
    shows its yellow circle with the headline and message type in its popup."""
    incident = _flood(city)
    with running_server(create_app(settings, muster=city)) as base_url:
        commander = browser.new_context(base_url=base_url, locale="zh-CN")
        author = browser.new_context(base_url=base_url, locale="zh-CN")
        approver = browser.new_context(base_url=base_url, locale="zh-CN")
        anonymous = browser.new_context(base_url=base_url)

        map_page = commander.new_page()
        _sign_in(map_page, "commander")
        map_page.goto("/situation/map")
        container = map_page.locator("#situation-map")
        expect(container).to_have_attribute("data-live", "live", timeout=LIVE)
        expect(container).to_have_attribute("data-warnings", "ready", timeout=LIVE)
        expect(container).to_have_attribute("data-warnings-count", "0")
        legend = map_page.locator("#map-legend [data-warning-colour=yellow]")
        expect(legend).to_contain_text("公众预警，黄色")
        map_page.evaluate("window.mapSession = 'not reloaded'")

        writer = author.new_page()
        _sign_in(writer, "emb.duty")
        writer.goto(f"/incidents/{incident}")
        writer.click("#warnings-link")
        form = writer.locator("#compose-form")
        form.locator("select[name=template]").select_option("rainstorm:yellow")
        form.locator("input[name=radius_km]").fill("3")
        form.locator("button[type=submit]").click()
        expect(writer.locator(".alert-ok")).to_contain_text("预警草稿已生成")
        draft = writer.locator("article[data-state=draft]")
        expect(draft).to_have_count(1)
        alert_id = draft.get_attribute("data-alert-id")
        assert alert_id
        expect(draft.locator("[data-action=approve]")).to_have_count(0)

        head = approver.new_page()
        _sign_in(head, "emb.head")
        head.goto(f"/incidents/{incident}/warnings")
        card = head.locator(f"#alert-{alert_id}")
        card.locator("[data-action=approve]").click()
        expect(head.locator(f"#alert-{alert_id}")).to_have_attribute(
            "data-state", "approved"
        )
        head.locator(f"#alert-{alert_id} [data-action=publish]").click()
        published = head.locator(f"#alert-{alert_id}")
        expect(published).to_have_attribute("data-state", "published")
        xml_url = published.locator("[data-xml-link]").get_attribute("href")
        assert xml_url
        assert xml_url.startswith("/warnings/alerts/MUSTER-")
        head.screenshot(path=str(PAGE_SCREENSHOT), full_page=True)

        feed = anonymous.request.get("/warnings/feed.atom")
        assert feed.status == 200
        links = [
            str(entry.find(f"{ATOM}link").get("href"))  # type: ignore[union-attr]
            for entry in etree.fromstring(feed.body()).findall(f"{ATOM}entry")
        ]
        assert [link.removeprefix(base_url) for link in links] == [xml_url]
        document = anonymous.request.get(xml_url)
        assert document.headers["content-type"] == "application/cap+xml"

        circle = map_page.locator(f'[data-kind=warning][data-feature-id="{alert_id}"]')
        expect(circle).to_have_count(1, timeout=LIVE)
        expect(circle).to_have_attribute("data-colour", "yellow")
        expect(container).to_have_attribute("data-warnings-count", "1")
        circle.dispatch_event("click")
        popup = map_page.locator(".leaflet-popup-content")
        expect(popup).to_contain_text("澜江市发布暴雨黄色预警")
        expect(popup).to_contain_text("Alert")
        assert map_page.evaluate("window.mapSession") == "not reloaded"
        map_page.screenshot(path=str(SCREENSHOT), full_page=True)
        for context in (commander, author, approver, anonymous):
            context.close()
