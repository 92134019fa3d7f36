"""Pause the cyclic garbage collector while a large batch is built and stored.

A batch of readings allocates tens of thousands of short-lived, acyclic objects
(dicts, tuples, strings). Reference counting frees them; the cyclic collector only
rescans them, again and again as its generation thresholds trip — about a tenth of
the ingest time of a 5,000-row batch (``bench/ingest.py`` part b). Pausing it for the
duration of one batch is the standard remedy; it runs again as soon as the last
overlapping batch ends. Threads share one collector, hence the counter.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable cyclic GC inside the block; restore it when no block is active."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
