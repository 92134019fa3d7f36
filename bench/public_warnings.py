"""Benchmark public warnings: compose, validate, sign, publish; the Atom feed.

Setup: a temporary SQLite deployment on a simulated clock with the Lanjiang example
pack loaded (its ``warnings.yaml``), alert signing on (RSA-3072 key created in the
data folder), one flood incident.

(a) publish path through the bus, per alert: ``ComposeAlert`` (template → draft),
    ``ApproveAlert`` (second person) and ``PublishAlert`` (CAP XML, OASIS XSD and
    CAP rules through Muster's own ingest, XML-DSig signature, verification of that
    signature by the ingest, event append, projections, commit): p50 and p99 ms.
(b) the render steps alone, on the content of a composed alert: ``alert_xml``,
    ``validate_alert`` (unsigned), ``sign_alert``, ``validate_alert`` (signed: XSD
    plus signature verification), p50 and p99 ms. Floors measured in the same run:
    one bare RSA-3072 PKCS#1 v1.5 SHA-256 signature over the alert's bytes
    (``cryptography``), and one bare lxml XSD validation with the compiled schema.
(c) the Atom feed of 10,000 current alerts: ``atom_feed`` + ``etag_for``, p50 and
    p99 ms over several runs, against building and serialising the same feed as an
    lxml tree (the obvious other way to write it).

Usage:  PYTHONPATH=src python bench/public_warnings.py [--alerts 60] [--renders 200]
        [--feed-runs 10]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib.resources import files
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from muster.alerting import queries
from muster.alerting.cap_xml import alert_xml, validate_alert
from muster.alerting.domain.commands import ApproveAlert, ComposeAlert, PublishAlert
from muster.alerting.domain.model import AlertContent
from muster.alerting.feed import (
    ATOM,
    CAP_TYPE,
    Entry,
    atom_feed,
    atom_time,
    entry_id,
    etag_for,
)
from muster.alerting.signing import alert_signer, sign_alert
from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.db import make_engine
from muster.core.eventlog.signing import create_signing_key
from muster.core.messages import Actor
from muster.core.migrate import upgrade
from muster.identity import queries as identity_queries
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.response.domain.commands import OpenIncident
from muster.settings import Settings

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
FEED_SIZE = 10_000

LABELS = {
    "compose_p50_ms": "ComposeAlert via the bus, p50 (ms)",
    "approve_p50_ms": "ApproveAlert via the bus, p50 (ms)",
    "publish_p50_ms": "PublishAlert (render + sign + verify + append), p50 (ms)",
    "publish_p99_ms": "PublishAlert, p99 (ms)",
    "end_to_end_p50_ms": "compose + approve + publish, p50 (ms)",
    "end_to_end_p99_ms": "compose + approve + publish, p99 (ms)",
    "xml_p50_ms": "alert_xml, p50 (ms)",
    "validate_p50_ms": "validate_alert unsigned (ingest: XSD + rules), p50 (ms)",
    "sign_p50_ms": "sign_alert (signxml, RSA-3072), p50 (ms)",
    "sign_p99_ms": "sign_alert, p99 (ms)",
    "validate_signed_p50_ms": "validate_alert signed (+ signature check), p50 (ms)",
    "render_p50_ms": "the four render steps together, p50 (ms)",
    "render_p99_ms": "the four render steps together, p99 (ms)",
    "rsa_floor_p50_ms": "floor: bare RSA-3072 signature of the bytes, p50 (ms)",
    "xsd_floor_p50_ms": "floor: bare lxml XSD validation, p50 (ms)",
    "sign_ratio": "bare RSA signature / sign_alert (1 = no overhead)",
    "feed_p50_ms": f"atom_feed + etag_for, {FEED_SIZE:,} entries, p50 (ms)",
    "feed_p99_ms": f"atom_feed + etag_for, {FEED_SIZE:,} entries, p99 (ms)",
    "feed_lxml_p50_ms": "same feed as an lxml tree + tostring, p50 (ms)",
    "feed_ratio": "lxml tree / atom_feed (> 1: ours is faster)",
    "feed_bytes": "feed size (bytes)",
    "alerts": "alerts published in (a)",
}


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ms(values: list[float], fraction: float) -> float:
    """Return a percentile (nearest rank) of seconds, in ms."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index] * 1000


def _timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _actor(muster: Muster, username: str) -> Actor:
    with muster.engine.connect() as conn:
        view = identity_queries.get_user_by_username(conn, username)
    assert view is not None, username
    return view.as_actor()


def _deployment(folder: Path) -> tuple[Muster, SimulatedClock]:
    url = f"sqlite:///{folder / 'muster.db'}"
    settings = Settings(
        mode="test",
        secret_key="b" * 40,
        database_url=url,
        data_dir=folder,
        sign_alerts=True,
    )
    engine = make_engine(url)
    upgrade(engine)
    create_signing_key(settings.effective_signing_key_file)
    clock = SimulatedClock(NOW)
    muster = bootstrap(settings, engine=engine, clock=clock)
    load_pack(muster, read_pack(EXAMPLE))
    return muster, clock


def bench_publish(
    muster: Muster, clock: SimulatedClock, alerts: int
) -> tuple[dict[str, float], AlertContent]:
    """(a): compose, approve and publish ``alerts`` alerts; return figures, content."""
    duty, head = _actor(muster, "emb.duty"), _actor(muster, "emb.head")
    incident = str(
        muster.bus.handle(
            OpenIncident(
                title="滨江路内涝",
                category="NATURAL_DISASTER",
                latitude=28.2,
                longitude=112.9,
                type_code="11A00",
            ),
            _actor(muster, "commander"),
        )
    )
    compose: list[float] = []
    approve: list[float] = []
    publish: list[float] = []
    alert_id = ""
    for number in range(alerts + 3):  # the first three warm up
        clock.advance(timedelta(seconds=30))
        spent, made = _timed(
            lambda: muster.bus.handle(
                ComposeAlert(
                    incident_id=incident,
                    hazard="rainstorm",
                    colour="yellow",
                    radius_km=2,
                ),
                duty,
            )
        )
        alert_id = str(made)
        approve_s, _ = _timed(
            partial(muster.bus.handle, ApproveAlert(alert_id=alert_id), head)
        )
        publish_s, _ = _timed(
            partial(muster.bus.handle, PublishAlert(alert_id=alert_id), duty)
        )
        if number >= 3:
            compose.append(spent)
            approve.append(approve_s)
            publish.append(publish_s)
    with muster.engine.connect() as conn:
        view = queries.get_alert(conn, alert_id)
    assert view is not None
    total = [c + a + p for c, a, p in zip(compose, approve, publish, strict=True)]
    return {
        "compose_p50_ms": _ms(compose, 0.5),
        "approve_p50_ms": _ms(approve, 0.5),
        "publish_p50_ms": _ms(publish, 0.5),
        "publish_p99_ms": _ms(publish, 0.99),
        "end_to_end_p50_ms": _ms(total, 0.5),
        "end_to_end_p99_ms": _ms(total, 0.99),
        "alerts": alerts,
    }, view.record.content


def bench_render(
    content: AlertContent, data_dir: Path, renders: int
) -> dict[str, float]:
    """(b): each render step alone, and its floors."""
    signer = alert_signer(data_dir, content.sender)
    sent = "2026-07-01T09:00:00+00:00"
    steps: dict[str, list[float]] = {
        "xml": [],
        "validate": [],
        "sign": [],
        "signed": [],
    }
    floors: dict[str, list[float]] = {"rsa": [], "xsd": []}
    xsd = files("muster.ingest.formats") / "schemas" / "CAP-v1.2.xsd"
    schema = etree.XMLSchema(etree.fromstring(xsd.read_bytes()))
    for number in range(renders + 5):
        xml_s, xml = _timed(lambda: alert_xml(content, sent))
        assert isinstance(xml, bytes)
        validate_s, _ = _timed(partial(validate_alert, xml))
        sign_s, signed = _timed(partial(sign_alert, xml, signer))
        assert isinstance(signed, bytes)
        signed_s, _ = _timed(partial(validate_alert, signed))
        rsa_s, _ = _timed(
            partial(signer.private_key.sign, xml, padding.PKCS1v15(), hashes.SHA256())
        )
        xsd_s, valid = _timed(partial(schema.validate, etree.fromstring(xml)))
        assert valid
        if number >= 5:
            for name, value in (
                ("xml", xml_s),
                ("validate", validate_s),
                ("sign", sign_s),
                ("signed", signed_s),
            ):
                steps[name].append(value)
            floors["rsa"].append(rsa_s)
            floors["xsd"].append(xsd_s)
    render = [sum(parts) for parts in zip(*steps.values(), strict=True)]
    sign_p50 = _ms(steps["sign"], 0.5)
    rsa_p50 = _ms(floors["rsa"], 0.5)
    return {
        "xml_p50_ms": _ms(steps["xml"], 0.5),
        "validate_p50_ms": _ms(steps["validate"], 0.5),
        "sign_p50_ms": sign_p50,
        "sign_p99_ms": _ms(steps["sign"], 0.99),
        "validate_signed_p50_ms": _ms(steps["signed"], 0.5),
        "render_p50_ms": _ms(render, 0.5),
        "render_p99_ms": _ms(render, 0.99),
        "rsa_floor_p50_ms": rsa_p50,
        "xsd_floor_p50_ms": _ms(floors["xsd"], 0.5),
        "sign_ratio": rsa_p50 / sign_p50,
    }


def _entries(count: int) -> list[Entry]:
    """Return ``count`` feed entries with bilingual, escaping-heavy text."""
    return [
        Entry(
            id=entry_id("warnings@lanjiang.example", f"MUSTER-{number:08d}"),
            title=f"澜江市发布暴雨黄色预警 <{number}> & Yellow rainstorm warning",
            updated=NOW + timedelta(seconds=number),
            summary="受强降雨影响，滨江路 & 东湖区将出现强降水 (> 50 mm)。",
            xml_url=f"https://warnings.lanjiang.example/alerts/MUSTER-{number:08d}.xml",
            msg_type=("Alert", "Update", "Cancel")[number % 3],
            status="Actual",
            colour=("red", "orange", "yellow", "blue")[number % 4],
            author="澜江市突发事件预警信息发布中心",
        )
        for number in range(count)
    ]


def _our_feed(entries: list[Entry], updated: datetime) -> bytes:
    """The feed as the pages serve it: ``atom_feed`` and its ETag."""
    data = atom_feed(
        entries,
        feed_id="urn:muster:feed:warnings",
        title="澜江市公共预警 Public warnings",
        self_url="https://x/feed.atom",
        updated=updated,
    )
    etag_for(data)
    return data


def _lxml_feed(entries: list[Entry], updated: datetime) -> bytes:
    """The same feed built as an lxml tree (the peer of ``atom_feed``)."""
    a = f"{{{ATOM}}}"
    root = etree.Element(f"{a}feed", nsmap={None: ATOM})
    etree.SubElement(root, f"{a}id").text = "urn:muster:feed:warnings"
    etree.SubElement(root, f"{a}title").text = "澜江市公共预警 Public warnings"
    etree.SubElement(root, f"{a}updated").text = atom_time(updated)
    etree.SubElement(root, f"{a}link", rel="self", href="https://x/feed.atom")
    for entry in sorted(entries, key=lambda e: (e.updated, e.id), reverse=True):
        item = etree.SubElement(root, f"{a}entry")
        etree.SubElement(item, f"{a}id").text = entry.id
        etree.SubElement(item, f"{a}title").text = entry.title
        etree.SubElement(item, f"{a}updated").text = atom_time(entry.updated)
        author = etree.SubElement(item, f"{a}author")
        etree.SubElement(author, f"{a}name").text = entry.author
        etree.SubElement(
            item, f"{a}link", rel="alternate", type=CAP_TYPE, href=entry.xml_url
        )
        for term in (entry.msg_type, entry.status, entry.colour):
            etree.SubElement(item, f"{a}category", term=term)
        etree.SubElement(item, f"{a}summary").text = entry.summary
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return data


def bench_feed(runs: int) -> dict[str, float]:
    """(c): the Atom feed of 10,000 alerts, ours and lxml's, alternating runs."""
    entries = _entries(FEED_SIZE)
    updated = NOW + timedelta(days=1)
    ours: list[float] = []
    peer: list[float] = []
    size = 0
    for number in range(runs + 1):  # the first run warms up
        spent, data = _timed(lambda: _our_feed(entries, updated))
        peer_s, _ = _timed(lambda: _lxml_feed(entries, updated))
        assert isinstance(data, bytes)
        size = len(data)
        if number:
            ours.append(spent)
            peer.append(peer_s)
    feed_p50 = _ms(ours, 0.5)
    lxml_p50 = _ms(peer, 0.5)
    return {
        "feed_p50_ms": feed_p50,
        "feed_p99_ms": _ms(ours, 0.99),
        "feed_lxml_p50_ms": lxml_p50,
        "feed_ratio": lxml_p50 / feed_p50,
        "feed_bytes": size,
    }


def main() -> None:
    """Run the three measurements; print a table, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=60)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--feed-runs", type=int, default=10)
    options = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="muster-bench-warnings-") as folder:
        _progress("setting up the Lanjiang deployment (pack, signing key)…")
        muster, clock = _deployment(Path(folder))
        try:
            _progress(f"(a) composing, approving, publishing {options.alerts} alerts…")
            published, content = bench_publish(muster, clock, options.alerts)
            figures.update(published)
            _progress(f"(b) render steps × {options.renders}…")
            figures.update(bench_render(content, Path(folder), options.renders))
        finally:
            muster.engine.dispose()
    _progress(f"(c) Atom feed of {FEED_SIZE:,} alerts × {options.feed_runs}…")
    figures.update(bench_feed(options.feed_runs))
    for key, label in LABELS.items():
        value = figures[key]
        shown = f"{value:,.0f}" if key in ("feed_bytes", "alerts") else f"{value:.3f}"
        print(f"{label:<62} {shown:>12}")
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
