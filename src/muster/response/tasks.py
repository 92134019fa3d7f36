"""The response timer loop of one server process: escalation, overdue tasks and
reports, decision deadlines. Started by the web lifespan.

Each tick sends ``RunTimers`` through the bus; what is due is decided by the clock the
deployment was built with, and the timers live in the database, so several workers
may tick (a concurrent tick loses on the stream version and simply retries later) and
a restart resumes where the log left off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from muster.bootstrap import Muster
from muster.core.errors import ConcurrencyConflict
from muster.core.messages import SYSTEM_ACTOR
from muster.response.domain.commands import RunTimers

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0
BATCH = 500
STOP_GRACE_SECONDS = 5.0


def run_timers_once(muster: Muster) -> int:
    """Fire every due timer (in batches); return how many fired."""
    fired = 0
    while True:
        count = int(muster.bus.handle(RunTimers(limit=BATCH), SYSTEM_ACTOR))
        fired += count
        if count < BATCH:
            return fired


class ResponseTasks:
    """The timer loop, run by the web lifespan."""

    def __init__(self, muster: Muster, *, interval: float = TICK_SECONDS) -> None:
        self.muster = muster
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop on the running event loop."""
        self._task = asyncio.create_task(self._loop(), name="response-timers")

    async def stop(self) -> None:
        """Ask the loop to end; cancel it if it does not within a short grace."""
        self._stopping.set()
        if self._task is None:
            return
        _done, pending = await asyncio.wait([self._task], timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(run_timers_once, self.muster)
            except ConcurrencyConflict:
                logger.info("another worker fired response timers at the same time")
            except Exception:
                logger.exception("could not fire response timers")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            if self._stopping.is_set():
                return


__all__ = ["ResponseTasks", "run_timers_once"]
