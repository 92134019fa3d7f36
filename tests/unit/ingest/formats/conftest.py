"""Fixtures for the format parsers: the shared corpus, read in place.

The corpus lives in ``shared/corpus`` beside the repository checkout (``/work/shared``
next to ``/work/main``; in CI, ``shared/`` beside the fresh clone). A missing corpus
FAILS these tests: it is never a reason to skip them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.ingest.formats.corpus import corpus_candidates, find_corpus


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus folder; fail (not skip) with a clear message if it is gone."""
    found = find_corpus()
    if found is None:
        tried = ", ".join(str(path) for path in corpus_candidates())
        pytest.fail(
            "the shared corpus is missing: expected shared/corpus beside the "
            f"checkout (tried {tried}); the format tests read it in place",
            pytrace=False,
        )
    return found
