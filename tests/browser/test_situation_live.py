"""Acceptance: an observation batch crosses a trigger; in another browser context the
map shows the new incident and its warning area live, and the assessment panel lists
the cascade. On the demo city (pack, demo records and asset layers); a screenshot
goes to /tmp/situation_live.png (looked at by a person)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from muster.core.messages import SYSTEM_ACTOR
from muster.ingest.domain.commands import IngestCap, IngestFile
from muster.response import queries as response
from muster.settings import Settings
from muster.web.app import create_app
from tests.e2e.client import running_server
from tests.prepared import prepared_for
from tests.sharing_city import DEMO, START, City, demo_city

SCREENSHOT = Path(tempfile.gettempdir()) / "situation_live.png"
DEMO_PASSWORD = "muster-demo"
S203_FLOOD_POINT = "28.1087,112.7977"
"""A rain gauge inside the flood zone FZ-S203-K12 (layers/README.md)."""
RED_RAINSTORM = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>LJ-MET-LIVE-1</identifier>
  <sender>met@lanjiang.example</sender>
  <sent>2026-11-25T16:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Likely</certainty>
    <expires>2026-11-26T16:00:00+08:00</expires>
    <headline>澜江市气象台发布暴雨红色预警信号</headline>
    <area>
      <areaDesc>青山区</areaDesc>
      <polygon>28.20,112.90 28.26,112.90 28.26,112.98 28.20,112.98 {close}</polygon>
      <geocode><valueName>district</valueName><value>LJ-QINGSHAN</value></geocode>
    </area>
  </info>
</alert>
"""


def _rain_over_s203(city: City) -> str:
    """Push a rain gauge batch over RAIN_24H_50 (50 mm in 24 h); return the incident."""
    rows = [{"station_id": "57690", "metric": "rain_24h", "value": 120,
             "observed_at": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "location": S203_FLOOD_POINT}]  # fmt: skip
    city.muster.bus.handle(
        IngestFile(dataset_code="MET_RAIN_GAUGES", source="push",
                   data=json.dumps(rows).encode()),
        SYSTEM_ACTOR,
    )  # fmt: skip
    with city.muster.engine.connect() as conn:
        (incident,) = response.open_incidents(conn)
    return incident.id


prepared = prepared_for("settings", DEMO)  # the demo city, loaded once


@pytest.mark.browser
def test_given_the_map_open_when_rain_crosses_a_trigger_and_a_red_warning_arrives_then_the_incident_its_area_and_its_cascade_show_live(  # noqa: E501
    browser: Browser, settings: Settings
) -> None:
    """Given the demo city and the admin's map, when a rain batch crosses
    RAIN_24H_50 at the S203 low-lying stretch and a red rainstorm CAP alert for
    青山区 arrives, then without a reload the incident's marker, the warning polygon
    and the exposed S203 segment appear; clicking the incident lists its flood chain
    and the exposed assets with their departments in the side panel."""
    city = demo_city(settings)
    with running_server(create_app(settings, muster=city.muster)) as base_url:
        context = browser.new_context(base_url=base_url, locale="en-GB")
        page = context.new_page()
        page.goto("/signin")
        page.fill("input[name=username]", "admin")  # an English account
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit].button-primary")
        page.goto("/situation/map")
        container = page.locator("#situation-map")
        expect(container).to_have_attribute("data-live", "live")
        expect(page.locator("path[data-kind=incident]")).to_have_count(0)

        incident_id = _rain_over_s203(city)
        alert = RED_RAINSTORM.format(close="28.20,112.90").encode()
        city.muster.bus.handle(
            IngestCap(source="push", data=alert, dataset_code="MET_CAP_WARNINGS"),
            SYSTEM_ACTOR,
        )

        marker = page.locator(
            f'path[data-kind=incident][data-feature-id="{incident_id}"]'
        )
        expect(marker).to_have_count(1, timeout=15_000)
        expect(page.locator("path[data-kind=cap]")).to_have_count(1, timeout=15_000)
        asset = page.locator(
            'path[data-kind=asset][data-feature-id="roads:S203-K12-K15"]'
        )
        expect(asset).to_have_count(1, timeout=15_000)
        marker.click()
        panel = page.locator("#map-cascade")
        expect(panel).to_have_attribute("data-state", "ready", timeout=15_000)
        expect(panel).to_have_attribute("data-incident-id", incident_id)
        expect(panel.locator('[data-chain="rain_floods_low_lying"]')).to_have_count(1)
        road = panel.locator('[data-asset-id="S203-K12-K15"]').first
        expect(road).to_contain_text("S203 km 12–15")
        expect(road).to_contain_text("Transport")
        link = panel.locator("a.map-situation-link")
        expect(link).to_have_attribute("href", f"/situation/incidents/{incident_id}")
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        context.close()
    city.muster.engine.dispose()
