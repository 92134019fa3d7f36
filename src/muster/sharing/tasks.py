"""The grant loop of one server process: scenario grants follow the incidents.

Every tick sends ``ReconcileGrants``; a read reconciles too, so a decision never uses
a grant the incidents no longer call for. Started by the web lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from muster.bootstrap import Muster
from muster.core.errors import ConcurrencyConflict
from muster.core.messages import SYSTEM_ACTOR
from muster.sharing.domain.commands import ReconcileGrants

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0


def reconcile_once(muster: Muster) -> int:
    """Activate and end grants to match the incidents; return the events appended."""
    return int(muster.bus.handle(ReconcileGrants(), SYSTEM_ACTOR))


async def run_grant_loop(muster: Muster, stopping: asyncio.Event) -> None:
    """Reconcile every TICK_SECONDS until ``stopping`` is set."""
    while not stopping.is_set():
        try:
            await asyncio.to_thread(reconcile_once, muster)
        except ConcurrencyConflict:
            logger.info("another worker reconciled grants at the same time")
        except Exception:
            logger.exception("could not reconcile sharing grants")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=TICK_SECONDS)


__all__ = ["reconcile_once", "run_grant_loop"]
