"""Running trigger evaluation: right after an ingest, and on a tick as a safety net.

``evaluate_pending`` drains the queue of observation batches and CAP alerts through
``EvaluateTriggers`` (each call one transaction of up to 50 items). Bootstrap runs it
after every ingest command outside a batch; the web lifespan runs ``run_trigger_loop``
so items queued by another process (the CLI, a feed) are evaluated within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from muster.core.bus import MessageBus
from muster.core.errors import ConcurrencyConflict
from muster.core.messages import SYSTEM_ACTOR
from muster.situation.domain.commands import EvaluateTriggers

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0
MAX_ROUNDS = 100


def evaluate_pending(bus: MessageBus) -> int:
    """Evaluate every queued item; return how many rule instances fired or cleared."""
    changed = 0
    for _ in range(MAX_ROUNDS):
        results = bus.handle_batch([EvaluateTriggers()], SYSTEM_ACTOR)
        if results[0] is None:
            break
        changed += int(results[0])
    return changed


def evaluate_quietly(bus: MessageBus) -> None:
    """Evaluate after an ingest; a failure is logged and left to the tick (the
    items stay queued), never turned into a failed ingest."""
    try:
        evaluate_pending(bus)
    except ConcurrencyConflict:
        logger.info("another worker is evaluating triggers")
    except Exception:
        logger.exception("could not evaluate triggers; they stay queued")


async def run_trigger_loop(bus: MessageBus, stopping: asyncio.Event) -> None:
    """Evaluate queued items every TICK_SECONDS until ``stopping`` is set."""
    while not stopping.is_set():
        await asyncio.to_thread(evaluate_quietly, bus)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=TICK_SECONDS)


__all__ = ["evaluate_pending", "evaluate_quietly", "run_trigger_loop"]
