"""Background work of the ingest part in a server process: quality and CAP feeds.

``run_quality_once`` and ``poll_feeds_once`` do one round each and can be called
without a server (tests, operators); ``IngestTasks`` repeats them from the web app's
lifespan. A round never raises: trouble is logged and the next round tries again.
Every worker polls on its own; a document fetched twice is a duplicate to the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable

import httpx

from muster.bootstrap import Muster
from muster.catalog import queries as catalog
from muster.core.errors import ConcurrencyConflict, ValidationFailed
from muster.core.messages import SYSTEM_ACTOR
from muster.ingest.alerts import AlertOutcome
from muster.ingest.domain.commands import EvaluateQuality, IngestCap
from muster.ingest.feed_state import FeedSource
from muster.ingest.feeds import FeedScheduler, FetchedDocument, poll_feed
from muster.ingest.quality import Measure

logger = logging.getLogger(__name__)

MAX_FEED_INTERVAL_SECONDS = 300.0
"""A feed is polled at its dataset's update interval, but at least this often."""
FEED_TICK_SECONDS = 5.0
"""How often the feed loop looks for due feeds and new cap_feed datasets."""
HTTP_TIMEOUT_SECONDS = 10.0
STOP_GRACE_SECONDS = 5.0

Sleep = Callable[[float], None]
_JITTER = random.SystemRandom()


def run_quality_once(muster: Muster) -> list[Measure]:
    """Measure every dataset's quality now, as Muster; return the measures."""
    measures: list[Measure] = muster.bus.handle(EvaluateQuality(), SYSTEM_ACTOR)
    return measures


def feed_sources(muster: Muster) -> list[FeedSource]:
    """Return one feed source per catalog dataset with a cap_feed connector and URL."""
    with muster.engine.connect() as conn:
        datasets = catalog.list_datasets(conn)
    sources: dict[str, FeedSource] = {}
    for dataset in datasets:
        if dataset.connector != "cap_feed" or not dataset.feed_url:
            continue
        if dataset.feed_url in sources:
            logger.warning("feed %s is listed by two datasets", dataset.feed_url)
            continue
        interval = min(
            dataset.update_interval_minutes * 60.0, MAX_FEED_INTERVAL_SECONDS
        )
        try:
            sources[dataset.feed_url] = FeedSource(
                url=dataset.feed_url,
                dataset_code=dataset.code,
                interval_seconds=interval,
                timeout_seconds=HTTP_TIMEOUT_SECONDS,
            )
        except ValidationFailed as error:
            logger.warning("dataset %s: unusable feed: %s", dataset.code, error)
    return list(sources.values())


def refresh_scheduler(
    muster: Muster, scheduler: FeedScheduler | None = None
) -> FeedScheduler:
    """Return a scheduler of the catalog's current feeds, keeping known feeds' state."""
    try:
        sources = feed_sources(muster)
    except Exception:
        logger.exception("could not read the catalog's CAP feeds")
        return scheduler or FeedScheduler([])
    states = {}
    if scheduler is not None:
        states = {source.url: scheduler.state_for(source) for source in sources}
    return FeedScheduler(sources, states)


def poll_feeds_once(
    muster: Muster,
    scheduler: FeedScheduler,
    client: httpx.Client,
    *,
    sleep: Sleep = time.sleep,
    stop: threading.Event | None = None,
) -> list[AlertOutcome]:
    """Poll every due feed once and send each new document to the CAP intake.

    A feed's new state (seen entries, validators) is kept only when every document
    reached the intake; otherwise the feed backs off and its entries come again.
    """
    outcomes: list[AlertOutcome] = []
    for source in scheduler.due(muster.clock.now()):
        if stop is not None and stop.is_set():
            break
        outcomes.extend(_poll_one(muster, scheduler, source, client, sleep))
    return outcomes


def _poll_one(
    muster: Muster,
    scheduler: FeedScheduler,
    source: FeedSource,
    client: httpx.Client,
    sleep: Sleep,
) -> list[AlertOutcome]:
    """Poll one feed, store its documents, and record the feed's next state."""
    state = scheduler.state_for(source)
    result = poll_feed(source, state, client=client, clock=muster.clock, sleep=sleep)
    for error in result.errors:
        logger.warning("CAP feed %s: %s: %s", error.url, error.kind, error.message)
    outcomes: list[AlertOutcome] = []
    try:
        for document in result.documents:
            outcomes.append(_ingest(muster, source, document))
    except Exception as error:
        logger.exception("CAP feed %s: a document could not be stored", source.url)
        failed = state.after_failure(
            source=source,
            now=muster.clock.now(),
            error=f"intake: {type(error).__name__}",
            jitter=_JITTER,
        )
        scheduler.record(source, failed)
        return outcomes
    scheduler.record(source, result.state)
    return outcomes


def _ingest(
    muster: Muster, source: FeedSource, document: FetchedDocument
) -> AlertOutcome:
    command = IngestCap(
        source=f"feed:{document.url}",
        data=document.data,
        dataset_code=source.dataset_code,
    )
    outcome: AlertOutcome = muster.bus.handle(command, SYSTEM_ACTOR)
    if outcome.status == "rejected":
        logger.warning(
            "CAP feed %s: document rejected: %s", document.url, outcome.error
        )
    return outcome


class IngestTasks:
    """The quality and feed loops of one server process, run by the web lifespan."""

    def __init__(self, muster: Muster) -> None:
        self.muster = muster
        self._stop = threading.Event()  # seen by blocking work in worker threads
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, *, feeds: bool = True) -> None:
        """Start the quality loop and (unless ``feeds`` is off, as in a drill's
        sandbox, which must not poll real CAP feeds) the feed loop."""
        self._tasks = [asyncio.create_task(self._quality_loop(), name="ingest-quality")]
        if feeds:
            self._tasks.append(
                asyncio.create_task(self._feed_loop(), name="ingest-feeds")
            )

    async def stop(self) -> None:
        """Ask both loops to end; cancel whatever still runs after a short grace."""
        self._stop.set()
        self._stopping.set()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stopped; tell whether the loop should end."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return self._stopping.is_set()

    async def _quality_loop(self) -> None:
        interval = self.muster.settings.quality_interval_seconds
        while not await self._pause(interval):
            try:
                await asyncio.to_thread(run_quality_once, self.muster)
            except ConcurrencyConflict:
                logger.info("another worker measured data quality at the same time")
            except Exception:
                logger.exception("could not measure data quality")

    async def _feed_loop(self) -> None:
        scheduler: FeedScheduler | None = None
        with httpx.Client(trust_env=False, timeout=HTTP_TIMEOUT_SECONDS) as client:
            while not self._stopping.is_set():
                try:
                    scheduler = await asyncio.to_thread(
                        refresh_scheduler, self.muster, scheduler
                    )
                    await asyncio.to_thread(self._poll, scheduler, client)
                except Exception:
                    logger.exception("could not poll the CAP feeds")
                if await self._pause(FEED_TICK_SECONDS):
                    return

    def _poll(self, scheduler: FeedScheduler, client: httpx.Client) -> None:
        poll_feeds_once(
            self.muster, scheduler, client, sleep=self._sleep, stop=self._stop
        )

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)  # a retry backoff ends at once when stopping


__all__ = [
    "IngestTasks",
    "feed_sources",
    "poll_feeds_once",
    "refresh_scheduler",
    "run_quality_once",
]
