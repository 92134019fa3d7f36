"""The notification delivery loop of one server process. Started by the web lifespan.

Each tick sends ``DeliverDueNotifications`` through the bus; queueing is idempotent
and every send is claimed first, so several workers may tick at once (ADR 0009).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from muster.bootstrap import Muster
from muster.core.bus import MessageBus
from muster.core.errors import ConcurrencyConflict
from muster.core.messages import SYSTEM_ACTOR
from muster.notify.delivery import DeliveryReport
from muster.notify.domain.commands import DeliverDueNotifications

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0
MAX_ROUNDS = 20
STOP_GRACE_SECONDS = 5.0


def deliver_once(bus: MessageBus, *, limit: int = 200) -> list[DeliveryReport]:
    """Run ticks until the log is scanned (at most MAX_ROUNDS); return their reports."""
    reports: list[DeliveryReport] = []
    for _ in range(MAX_ROUNDS):
        report: DeliveryReport = bus.handle(
            DeliverDueNotifications(limit=limit), SYSTEM_ACTOR
        )
        reports.append(report)
        if report.caught_up:
            break
    return reports


class NotifyTasks:
    """The delivery loop, run by the web lifespan."""

    def __init__(self, muster: Muster, *, interval: float = TICK_SECONDS) -> None:
        self.muster = muster
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop on the running event loop."""
        self._task = asyncio.create_task(self._loop(), name="notify-delivery")

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
                await asyncio.to_thread(deliver_once, self.muster.bus)
            except ConcurrencyConflict:
                logger.info("another worker queued notifications at the same time")
            except Exception:
                logger.exception("could not deliver notifications")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            if self._stopping.is_set():
                return


__all__ = ["NotifyTasks", "deliver_once"]
