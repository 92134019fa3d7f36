"""Benchmark the ingest parsers against a reference measured in the same run.

(a) CAP parse + XSD validation, documents/s: ``parse_cap`` (OASIS CAP 1.2 XSD, CAP
    rules, typed result) with signature verification on (the default) and off,
    versus capparselib 0.6.6's own ``CAPParser`` path, which validates every document
    against its bundled CAP 1.2 schema (it compiles that schema on every call, as its
    code does). Both sides read the same files: those in ``cap/valid/`` that
    capparselib accepts, in alternating passes until each side has run at least
    ``--seconds``. Target >= 2 for parse + XSD: ``cap_nosig_ratio`` is the
    like-for-like figure (capparselib checks no signatures); ``cap_ratio`` adds the
    XML-signature verification of the signed files, which capparselib never does.
(b) validated observation batch ingest, rows/s, versus a raw ``executemany`` of the
    same rows into an identical SQLite table (``observation_batches.py``).
    Target >= 0.4.

Usage:  python bench/ingest.py [--seconds 2] [--corpus PATH]
capparselib pins lxml==4.6.3; install it beside Muster's lxml with
``pip install --no-deps capparselib``. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from observation_batches import bench_observations

import muster
from muster.ingest.formats import parse_cap

LABELS = {
    "cap_docs_per_s": "parse_cap, XSD + signatures verified (docs/s)",
    "cap_nosig_docs_per_s": "parse_cap, XSD, signatures not verified (docs/s)",
    "capparselib_docs_per_s": "capparselib CAPParser, its XSD on (docs/s)",
    "cap_ratio": "parse_cap with signatures / capparselib (extra work)",
    "cap_nosig_ratio": "parse_cap without signatures / capparselib (target >= 2)",
    "cap_files": "files measured (cap/valid accepted by capparselib)",
    "cap_signed_files": "of which signed (verified in cap_docs_per_s)",
    "capparselib_refused": "cap/valid files capparselib refuses (left out)",
}


def default_corpus() -> Path:
    """The shared corpus beside this checkout (``shared/corpus``)."""
    return Path(muster.__file__).resolve().parents[3] / "shared" / "corpus"


def docs_per_second(
    parsers: dict[str, Callable[[bytes], object]],
    documents: Sequence[bytes],
    seconds: float,
) -> dict[str, float]:
    """Time the parsers in alternating passes until each ran ``seconds``; docs/s.

    Alternating passes keep the ratios fair when the machine's load changes during
    the run (a shared CI or developer machine).
    """
    for parse in parsers.values():  # warm-up: schema compilation, imports
        for document in documents:
            parse(document)
    spent = dict.fromkeys(parsers, 0.0)
    passes = 0
    while min(spent.values()) < seconds:
        for name, parse in parsers.items():
            started = time.perf_counter()
            for document in documents:
                parse(document)
            spent[name] += time.perf_counter() - started
        passes += 1
    return {name: passes * len(documents) / spent[name] for name in parsers}


def _as_text(data: bytes) -> str:
    """Decode bytes by their XML declaration: capparselib takes ``str`` input."""
    declared = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", data)
    return data.decode(declared.group(1).decode() if declared else "utf-8")


def _capparselib() -> Callable[[bytes], object] | None:
    """Return capparselib's parse path (validation on), or ``None`` if not installed."""
    try:
        from capparselib.parsers import CAPParser  # optional: only this bench uses it
    except ImportError:
        return None
    return lambda data: CAPParser(_as_text(data)).as_dict()


def _accepted_by(parse: Callable[[bytes], object], data: bytes) -> bool:
    """Tell whether the reference parser accepts a document."""
    try:
        parse(data)
    except Exception:  # capparselib raises bare Exception and lxml errors
        return False
    return True


def bench_cap(*, corpus: Path, seconds: float = 2.0) -> dict[str, object]:
    """Measure part (a) and return its figures."""
    files = sorted((corpus / "cap" / "valid").glob("*.xml"))
    reference = _capparselib()
    if reference is None:
        raise SystemExit("capparselib is missing: pip install --no-deps capparselib")
    chosen = [path for path in files if _accepted_by(reference, path.read_bytes())]
    documents = [path.read_bytes() for path in chosen]
    signed = sum(parse_cap(data).signature == "valid" for data in documents)
    rates = docs_per_second(
        {
            "with_signatures": parse_cap,
            "without": lambda data: parse_cap(data, verify_signatures=False),
            "capparselib": reference,
        },
        documents,
        seconds,
    )
    with_signatures, without = rates["with_signatures"], rates["without"]
    theirs = rates["capparselib"]
    return {
        "cap_docs_per_s": round(with_signatures, 1),
        "cap_nosig_docs_per_s": round(without, 1),
        "capparselib_docs_per_s": round(theirs, 1),
        "cap_ratio": round(with_signatures / theirs, 2),
        "cap_nosig_ratio": round(without / theirs, 2),
        "cap_files": len(chosen),
        "cap_signed_files": signed,
        "capparselib_refused": [p.name for p in files if p not in chosen],
    }


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run every part, print one human line per figure, then one JSON line."""
    arguments = _arguments(argv)
    figures: dict[str, object] = {}
    figures.update(bench_cap(corpus=arguments.corpus, seconds=arguments.seconds))
    figures.update(bench_observations())
    for key, value in figures.items():
        print(f"{LABELS.get(key, key)}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
