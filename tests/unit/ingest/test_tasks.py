"""Background ingest work without a server: CAP feed polling and quality rounds.

Despite the folder, these use the ``muster`` database fixture and a local HTTP
server (tests/integration/feed_server.py) serving a corpus alert in an Atom feed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

import muster as muster_package
from muster.bootstrap import Muster, bootstrap
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.core.clock import SimulatedClock
from muster.core.messages import SYSTEM_ACTOR
from muster.ingest import queries
from muster.ingest.tasks import (
    IngestTasks,
    poll_feeds_once,
    refresh_scheduler,
    run_quality_once,
)
from muster.settings import Settings
from tests import factories
from tests.e2e.client import event_types, head
from tests.integration.feed_server import FeedServer, atom_entry, atom_feed, static

CAP_FILE = (
    Path(muster_package.__file__).resolve().parents[3]
    / "shared"
    / "corpus"
    / "cap"
    / "valid"
    / "spec_a2_nws_ksto_thunderstorm.xml"
)
START = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SimulatedClock:
    """Return a simulated clock, so that a test can move past a feed's interval."""
    return SimulatedClock(START)


@pytest.fixture
def hub(settings: Settings, clock: SimulatedClock) -> Iterator[Muster]:
    """Return a deployment on the simulated clock with a Met Bureau department."""
    deployment = bootstrap(settings, clock=clock)
    factories.department(deployment, "MET")
    yield deployment
    deployment.engine.dispose()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """Serve an Atom feed (with an ETag) linking one corpus CAP alert."""
    if not CAP_FILE.is_file():
        pytest.fail(f"CAP corpus not found at {CAP_FILE}; check out ../shared/corpus")
    with FeedServer() as server:
        server.routes["/cap/alert.xml"] = static(
            CAP_FILE.read_bytes(), content_type="application/cap+xml"
        )
        feed = atom_feed(atom_entry("urn:alert:1", href=server.url("/cap/alert.xml")))
        server.routes["/feed.atom"] = static(
            feed, content_type="application/atom+xml", etag='"v1"'
        )
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """Return the kind of HTTP client the feed task shares between polls."""
    with httpx.Client(trust_env=False, timeout=5.0) as shared:
        yield shared


def _register_feed(hub: Muster, url: str) -> None:
    _register_dataset(hub, connector="cap_feed", feed_url=url)


def _register_dataset(
    hub: Muster,
    *,
    connector: str,
    feed_url: str | None = None,
    code: str = "MET_CAP_WARNINGS",
) -> None:
    metadata = DatasetMetadata(
        code=code,
        name_zh="气象预警",
        name_en="Weather warnings",
        owner_department="MET",
        sharing_class="UNCONDITIONAL",
        data_grade="GENERAL",
        update_interval_minutes=10,
        format="cap",
        connector=connector,
        feed_url=feed_url,
    )
    fields = (DatasetField(name="identifier", type="string", required=True),)
    hub.bus.handle(RegisterDataset(metadata=metadata, fields=fields), SYSTEM_ACTOR)


def _stored_alerts(hub: Muster) -> list[dict[str, object]]:
    with hub.engine.connect() as conn:
        return queries.list_cap_alerts(conn)


class TestPollFeedsOnce:
    def test_a_cap_feed_datasets_feed_is_polled_and_its_alert_stored(
        self, hub: Muster, feed_server: FeedServer, client: httpx.Client
    ) -> None:
        """The catalog's cap_feed dataset is polled; its alert is stored for it."""
        _register_feed(hub, feed_server.url("/feed.atom"))
        scheduler = refresh_scheduler(hub)

        outcomes = poll_feeds_once(hub, scheduler, client)

        assert [outcome.status for outcome in outcomes] == ["accepted"]
        [alert] = _stored_alerts(hub)
        assert alert["identifier"] == "KSTO1055887203"
        assert alert["dataset_code"] == "MET_CAP_WARNINGS"
        assert alert["source"] == f"feed:{feed_server.url('/cap/alert.xml')}"

    def test_a_second_poll_stores_nothing_new(
        self,
        hub: Muster,
        clock: SimulatedClock,
        feed_server: FeedServer,
        client: httpx.Client,
    ) -> None:
        """Not due: no request; due: a 304; another worker's fetch: a duplicate."""
        _register_feed(hub, feed_server.url("/feed.atom"))
        scheduler = refresh_scheduler(hub)
        poll_feeds_once(hub, scheduler, client)
        before = head(hub)

        too_soon = poll_feeds_once(hub, scheduler, client)
        clock.advance(timedelta(minutes=11))
        not_modified = poll_feeds_once(hub, refresh_scheduler(hub, scheduler), client)
        other_worker = poll_feeds_once(hub, refresh_scheduler(hub), client)

        assert (too_soon, not_modified) == ([], [])
        assert len(feed_server.requests_to("/feed.atom")) == 3
        assert [outcome.status for outcome in other_worker] == ["duplicate"]
        assert len(_stored_alerts(hub)) == 1
        assert event_types(hub, after=before) == ["ingest.DuplicateReceived"]

    def test_a_failing_feed_backs_off_without_raising(
        self, hub: Muster, feed_server: FeedServer, client: httpx.Client
    ) -> None:
        """A 404 feed is logged and rescheduled later; nothing is stored."""
        _register_feed(hub, feed_server.url("/missing.atom"))
        scheduler = refresh_scheduler(hub)

        outcomes = poll_feeds_once(hub, scheduler, client, sleep=lambda _s: None)

        assert outcomes == []
        [source] = scheduler.due(hub.clock.now() + timedelta(days=1))
        state = scheduler.state_for(source)
        assert state.consecutive_failures == 1
        assert state.last_error is not None
        assert state.last_error.startswith("http_status")
        assert _stored_alerts(hub) == []

    def test_an_intake_failure_keeps_the_entries_for_later(
        self,
        hub: Muster,
        clock: SimulatedClock,
        feed_server: FeedServer,
        client: httpx.Client,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """If storing fails, the round survives and the next poll stores the alert."""
        _register_feed(hub, feed_server.url("/feed.atom"))
        scheduler = refresh_scheduler(hub)
        handle = hub.bus.handle

        def broken(*args: object, **kwargs: object) -> object:
            raise RuntimeError("database went away")

        monkeypatch.setattr(hub.bus, "handle", broken)
        failed = poll_feeds_once(hub, scheduler, client)
        monkeypatch.setattr(hub.bus, "handle", handle)
        clock.advance(timedelta(minutes=10))
        retried = poll_feeds_once(hub, scheduler, client)

        assert failed == []
        assert [outcome.status for outcome in retried] == ["accepted"]
        assert len(_stored_alerts(hub)) == 1

    def test_datasets_without_a_feed_are_not_polled(self, hub: Muster) -> None:
        """Only cap_feed datasets with a feed URL become feed sources."""
        _register_feed(hub, "https://warnings.example/cap.atom")
        _register_dataset(hub, connector="upload", code="MET_UPLOADS")
        _register_dataset(hub, connector="cap_feed", code="MET_NO_URL")

        scheduler = refresh_scheduler(hub)

        [source] = scheduler.due(hub.clock.now())
        assert source.url == "https://warnings.example/cap.atom"
        assert source.interval_seconds == 300.0  # at least every five minutes


class TestRunQualityOnce:
    def test_measures_every_dataset_and_logs_changes(self, hub: Muster) -> None:
        """One round measures the dataset and logs each measure's first status."""
        _register_dataset(hub, connector="upload")
        before = head(hub)

        measures = run_quality_once(hub)

        assert {measure.measure for measure in measures} == {
            "freshness", "validity", "completeness", "volume",
        }  # fmt: skip
        assert event_types(hub, after=before) == ["ingest.QualityChanged"] * 4


class TestIngestTasks:
    def test_loops_run_and_stop_promptly(self, settings: Settings) -> None:
        """The quality loop runs on its interval; stopping takes well under a second."""
        fast = settings.model_copy(update={"quality_interval_seconds": 0.05})
        deployment = bootstrap(fast)
        factories.department(deployment, "MET")
        _register_dataset(deployment, connector="upload")
        before = head(deployment)

        async def scenario() -> float:
            tasks = IngestTasks(deployment)
            tasks.start()
            await asyncio.sleep(0.5)
            started = time.monotonic()
            await tasks.stop()
            return time.monotonic() - started

        # A thread of its own: the browser tests' Playwright loop may run in this one.
        with ThreadPoolExecutor(max_workers=1) as thread:
            stopping = thread.submit(asyncio.run, scenario()).result()

        assert stopping < 1.0
        assert "ingest.QualityChanged" in event_types(deployment, after=before)
        deployment.engine.dispose()
