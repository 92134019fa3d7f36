"""Browser fixtures: a real uvicorn server on the test database and Debian's chromium.

Chromium is driven with Playwright's sync API through ``executable_path``; a missing
browser fails the tests with a clear message rather than skipping them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from muster.bootstrap import Muster
from muster.settings import Settings
from muster.web.app import create_app
from tests.e2e.client import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch headless Debian chromium once per test session."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install -y chromium) to run the browser tests"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def live_server(settings: Settings, muster: Muster) -> Iterator[str]:
    """Serve the app on a free 127.0.0.1 port against the test database."""
    with running_server(create_app(settings, muster=muster)) as base_url:
        yield base_url
