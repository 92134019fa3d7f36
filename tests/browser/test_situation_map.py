"""The situation map in a real browser: Leaflet served by Muster itself, an incident's
marker on the map, a new incident appearing live without a reload, and the time
slider taking the map back to the log's start and to live again. A screenshot goes
to /tmp/situation_map.png (looked at by a person)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from muster.bootstrap import Muster
from muster.core.clock import isoformat_utc
from muster.core.messages import Actor
from muster.response.domain.commands import OpenIncident
from tests import factories
from tests.response_setup import build_world

SCREENSHOT = Path(tempfile.gettempdir()) / "situation_map.png"


def _open(muster: Muster, actor: Actor, title: str, lat: float) -> str:
    command = OpenIncident(
        title=title, category="NATURAL_DISASTER", latitude=lat, longitude=112.93,
        type_code="11A00",
    )  # fmt: skip
    return str(muster.bus.handle(command, actor))


@pytest.mark.browser
def test_given_the_map_open_when_an_incident_is_opened_then_its_marker_appears_live_and_the_slider_goes_back_in_time(  # noqa: E501
    browser: Browser, live_server: str, muster: Muster
) -> None:
    """Given an open incident and the commander's map, its marker shows (Leaflet from
    /static/leaflet, no CSP complaint); when another incident is opened through the
    bus, its marker appears without a reload; the slider's left end (the log's start)
    shows neither, Back to live shows both again, and ?at= between the two openings
    shows the first only."""
    world = build_world(muster)
    first = _open(muster, world.commander, "Flooding at Binjiang Road", 28.21)
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    complaints: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            complaints.append(message.text)

    page.on("console", listen)
    page.goto("/signin")
    page.fill("input[name=username]", "commander")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit].button-primary")
    page.click("nav.topbar-nav >> text=Situation map")

    container = page.locator("#situation-map")
    marker = page.locator(f'path[data-kind=incident][data-feature-id="{first}"]')
    expect(marker).to_have_count(1)
    expect(container).to_have_attribute("data-live", "live")
    assert page.evaluate("window.L.version") == "1.9.3"
    assert page.locator('script[src="/static/leaflet/leaflet.js"]').count() == 1

    between = isoformat_utc(muster.clock.now())
    second = _open(muster, world.commander, "Landslide on S203", 28.25)

    later = page.locator(f'path[data-kind=incident][data-feature-id="{second}"]')
    expect(later).to_have_count(1, timeout=10_000)
    page.screenshot(path=str(SCREENSHOT))

    page.locator("#time-slider").fill("0")
    expect(container).to_have_attribute("data-mode", "past")
    expect(page.locator("path[data-kind=incident]")).to_have_count(0)
    page.click("#time-live")
    expect(container).to_have_attribute("data-mode", "live")
    expect(page.locator("path[data-kind=incident]")).to_have_count(2)
    page.goto(f"/situation/map?at={between}")  # how replay links to the map
    expect(container).to_have_attribute("data-mode", "past")
    expect(page.locator("path[data-kind=incident]")).to_have_count(1)
    expect(marker).to_have_count(1)
    assert complaints == []
    context.close()
