"""Acceptance (issue 9): a department commits a requested resource and the commander
sees it on the map live. On Lanjiang with its pack loaded: EMB asks for 4 drainage
pumps of at least 900 m³/h; the commander has the situation map open; WATER's duty
officer, in another browser context, commits its 4 big pumps from the resource board;
without a reload the commander's map shows the request committed and the pumps
assigned, "4 of 4 units committed" in their popup. A screenshot goes to
/tmp/resource_commit_live.png (looked at by a person)."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.identity import queries as identity
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.resources.domain.commands import RequestResource
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings
from muster.web.app import create_app
from tests.e2e.client import running_server

SCREENSHOT = Path(tempfile.gettempdir()) / "resource_commit_live.png"
EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
DEMO_PASSWORD = "muster-demo"
BIG_PUMPS = "WATER-PUMP-1000"  # 4 units of 1000 m³/h
LIVE = 15_000  # ms Playwright polls before giving up (not a timing assertion)


def _city(settings: Settings) -> tuple[Muster, str, str]:
    """Load the pack, open a flood incident and raise EMB's request for pumps."""
    city = bootstrap(
        settings, clock=SimulatedClock(datetime(2026, 11, 26, 4, tzinfo=UTC))
    )
    load_pack(city, read_pack(EXAMPLE))
    with city.engine.connect() as conn:
        commander = identity.get_user_by_username(conn, "commander")
        emb = identity.get_user_by_username(conn, "emb.duty")
    assert commander is not None
    assert emb is not None
    incident = str(city.bus.handle(OpenIncident(
        title="滨江路内涝", category="NATURAL_DISASTER", latitude=28.2,
        longitude=112.9, type_code="11A00",
    ), commander.as_actor()))  # fmt: skip
    request_id = str(city.bus.handle(RequestResource(
        incident_id=incident, requested_by="EMB", type_code="PUMP_DRAINAGE",
        quantity=4, min_capability=900, location_name="滨江路下穿隧道",
    ), emb.as_actor()))  # fmt: skip
    return city, incident, request_id


def _sign_in(page: Page, username: str) -> None:
    page.goto("/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit].button-primary")


@pytest.mark.browser
def test_given_the_commanders_map_open_when_water_commits_the_requested_pumps_then_the_request_and_the_pumps_change_live(  # noqa: E501
    browser: Browser, settings: Settings
) -> None:
    """Given EMB's open request and the commander's situation map (request marker
    open, pumps available), when WATER's duty officer commits all 4 big pumps from
    /resources in another browser context, then without a reload the request's
    marker turns committed, the pumps' marker turns assigned and their popup says
    4 of 4 units are committed."""
    city, _incident, request_id = _city(settings)
    with running_server(create_app(settings, muster=city)) as base_url:
        commander = browser.new_context(base_url=base_url, locale="zh-CN")
        water = browser.new_context(base_url=base_url, locale="zh-CN")
        map_page = commander.new_page()
        _sign_in(map_page, "commander")
        map_page.goto("/situation/map")
        container = map_page.locator("#situation-map")
        expect(container).to_have_attribute("data-live", "live", timeout=LIVE)
        request_mark = map_page.locator(
            f'[data-kind=request][data-feature-id="{request_id}"]'
        )
        pumps_mark = map_page.locator(
            f'[data-kind=resource][data-feature-id="{BIG_PUMPS}"]'
        )
        expect(request_mark).to_have_attribute("data-status", "open", timeout=LIVE)
        expect(pumps_mark).to_have_attribute("data-status", "available")
        expect(map_page.locator("#map-legend .swatch-request-committed")).to_have_count(
            1
        )
        map_page.evaluate("window.mapSession = 'not reloaded'")

        board = water.new_page()
        _sign_in(board, "water.duty")
        board.goto("/resources")
        row = board.locator(f"#request-{request_id}")
        form = row.locator("form.request-commit-form")
        form.locator("select[name=resource_id]").select_option(BIG_PUMPS)
        form.locator("input[name=units]").fill("4")
        form.locator("button[type=submit]").click()
        expect(board.locator(".alert-ok")).to_contain_text("已向请求承诺资源")
        expect(board.locator(f"#request-{request_id}")).to_have_count(0)

        expect(request_mark).to_have_attribute("data-status", "committed", timeout=LIVE)
        expect(pumps_mark).to_have_attribute("data-status", "assigned", timeout=LIVE)
        expect(pumps_mark).to_have_class(re.compile(r"\bmap-resource-assigned\b"))
        pumps_mark.dispatch_event("click")  # markers overlap at the depot
        popup = map_page.locator(".leaflet-popup-content")
        expect(popup).to_contain_text("已承诺 4 / 4 个单位")
        assert map_page.evaluate("window.mapSession") == "not reloaded"
        map_page.screenshot(path=str(SCREENSHOT), full_page=True)
        commander.close()
        water.close()
    city.engine.dispose()
