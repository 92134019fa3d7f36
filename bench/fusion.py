"""Benchmark report fusion: speed on 100,000 reports, pairwise quality against labels.

Setup (pure, in memory, no database): ``muster.situation.synthetic.report_stream``
makes a seeded stream of labelled reports over the fictional region around lat
28.2, lon 112.9 (about 900 true events a day over 25 days: positions a few hundred
metres off, delays within the hour, looser codes, misfiled and singleton reports,
recurring hotspots, storm bursts). Generating it is not timed.

(a) fusion: ``Fuser.add`` on every report in time order, default ``FusionRules``
    (1.5 km, 120 min, same sub-category or a related pair, score >= 0.5), timed
    once; reports per second. Pairwise precision, recall and F1 against the true
    labels, counted from the (cluster, label) contingency table, never pair by pair.
(b) peers, in the same run on the first 10,000 reports (a time slice, so as busy as
    the whole stream): the same ``Fuser`` without its h3 index (``indexed=False``,
    a scan of every open cluster; it must give identical links), and the indexed
    one on the same slice; ratio = scan / indexed. Both scale linearly with the
    reports (the open clusters are bounded by the time window), so the scan's time
    is extrapolated to the whole stream linearly. Beside them, the naive quadratic
    scan (each report against every earlier report, no index, no time window) on
    the first 2,000 reports, extrapolated as n².
(c) a busier day: 10,000 reports in six hours (ten times the density, as in a
    province-wide storm), indexed and scan again, with the F1 reached there.

Usage:  python bench/fusion.py [--reports 100000] [--seed 20260701]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

from muster.situation.domain.reports import FusionRules, Link, Report, distance_km
from muster.situation.fusion import Fuser
from muster.situation.synthetic import pairwise_scores, report_stream

SLICE = 10_000
BUSY_DAYS = 0.25
QUADRATIC_SLICE = 2_000


def timed_fusion(
    reports: list[Report], *, indexed: bool = True
) -> tuple[list[Link], float, Fuser]:
    """Fuse the reports with one fuser; return the links, the seconds, the fuser."""
    fuser = Fuser(FusionRules(), indexed=indexed)
    start = time.perf_counter()
    links = [fuser.add(report) for report in reports]
    return links, time.perf_counter() - start, fuser


def quadratic(reports: list[Report], rules: FusionRules) -> tuple[list[str], float]:
    """Link each report to its best-scoring earlier report: every pair compared."""
    start = time.perf_counter()
    cluster: list[str] = []
    times = [report.received_at.timestamp() for report in reports]
    max_gap = rules.max_gap_minutes * 60
    for index, report in enumerate(reports):
        best, best_score = -1, -1.0
        here = (report.latitude, report.longitude)
        for earlier in range(index):
            gap = abs(times[index] - times[earlier])
            if gap > max_gap:
                continue
            other = reports[earlier]
            relation = rules.relation(report.category, other.category)
            if not rules.is_compatible(relation):
                continue
            distance = distance_km(here, (other.latitude, other.longitude))
            if distance > rules.max_distance_km:
                continue
            score = rules.score(
                distance_km=distance, minutes_apart=gap / 60, relation=relation
            )
            if score > best_score and score >= rules.min_score:
                best, best_score = earlier, score
        cluster.append(report.report_id if best < 0 else cluster[best])
    return cluster, time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260701)
    args = parser.parse_args()
    start = time.perf_counter()
    stream = report_stream(args.seed, args.reports)
    generate_seconds = time.perf_counter() - start
    reports = [report for report, _ in stream]
    labels = [label for _, label in stream]

    links, seconds, fuser = timed_fusion(reports)
    scores = pairwise_scores([link.cluster_id for link in links], labels)
    sizes = Counter(link.cluster_id for link in links)
    joined = [link for link in links if link.joined]
    relations = Counter(
        link.reason.category_relation for link in joined if link.reason is not None
    )

    part = reports[: min(SLICE, len(reports))]
    scan_links, scan_seconds, _ = timed_fusion(part, indexed=False)
    slice_links, slice_seconds, _ = timed_fusion(part)
    naive = reports[: min(QUADRATIC_SLICE, len(reports))]
    naive_clusters, naive_seconds = quadratic(naive, FusionRules())
    naive_scores = pairwise_scores(naive_clusters, labels[: len(naive)])
    busy = report_stream(args.seed + 1, SLICE, days=BUSY_DAYS)
    busy_reports = [report for report, _ in busy]
    busy_scan, busy_scan_seconds, _ = timed_fusion(busy_reports, indexed=False)
    busy_links, busy_seconds, _ = timed_fusion(busy_reports)
    busy_scores = pairwise_scores(
        [link.cluster_id for link in busy_links], [label for _, label in busy]
    )

    figures: dict[str, float] = {
        "reports": len(reports),
        "fusion_seconds": seconds,
        "reports_per_second": len(reports) / seconds,
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "true_pairs": scores.true_pairs,
        "predicted_pairs": scores.predicted_pairs,
        "events": len(set(labels)),
        "clusters": len(sizes),
        "singleton_clusters": sum(1 for size in sizes.values() if size == 1),
        "largest_cluster": max(sizes.values()),
        "joined_same_type": relations["same_type"],
        "joined_same_subcategory": relations["same_subcategory"],
        "joined_related": relations["related"],
        "open_clusters_at_end": fuser.open_count(),
        "h3_resolution": fuser.resolution,
        "generate_seconds": generate_seconds,
        "slice_reports": len(part),
        "slice_indexed_seconds": slice_seconds,
        "slice_scan_seconds": scan_seconds,
        "scan_ratio": scan_seconds / slice_seconds,
        "scan_links_identical": float(scan_links == slice_links),
        "scan_extrapolated_seconds": scan_seconds * len(reports) / len(part),
        "quadratic_reports": len(naive),
        "quadratic_seconds": naive_seconds,
        "quadratic_extrapolated_seconds": naive_seconds
        * (len(reports) / len(naive)) ** 2,
        "quadratic_f1": naive_scores.f1,
        "busy_reports": len(busy_reports),
        "busy_indexed_seconds": busy_seconds,
        "busy_scan_seconds": busy_scan_seconds,
        "busy_scan_ratio": busy_scan_seconds / busy_seconds,
        "busy_scan_links_identical": float(busy_scan == busy_links),
        "busy_f1": busy_scores.f1,
    }

    def verdict(ok: bool, target: str) -> str:
        return f"target {target}: {'met' if ok else 'NOT met'}"

    print(
        f"stream: {len(reports)} reports of {figures['events']:.0f} true events "
        f"(generated in {generate_seconds:.1f} s, not timed)"
    )
    print(
        f"(a) fusion: {seconds:.2f} s, {figures['reports_per_second']:,.0f} "
        f"reports/s, h3 resolution {fuser.resolution}; "
        f"{verdict(seconds <= 5.0, '<= 5 s')}"
    )
    print(
        f"    pairwise precision {scores.precision:.4f}, recall {scores.recall:.4f}, "
        f"F1 {scores.f1:.4f} ({scores.predicted_pairs} pairs put together, "
        f"{scores.true_pairs} true); {verdict(scores.f1 >= 0.95, 'F1 >= 0.95')}"
    )
    print(
        f"    {len(sizes)} clusters ({figures['singleton_clusters']:.0f} singletons, "
        f"largest {figures['largest_cluster']:.0f}); joins by relation: "
        f"{dict(relations)}; {fuser.open_count()} clusters open at the end"
    )
    print(
        f"(b) first {len(part)} reports: indexed {slice_seconds:.3f} s, scan of every "
        f"open cluster {scan_seconds:.3f} s (ratio scan/indexed "
        f"{figures['scan_ratio']:.1f}, links identical: {scan_links == slice_links}); "
        f"scan extrapolated to {len(reports)}: "
        f"{figures['scan_extrapolated_seconds']:.1f} s"
    )
    print(
        f"    quadratic scan of every earlier report on {len(naive)} reports: "
        f"{naive_seconds:.2f} s (F1 {naive_scores.f1:.3f}); extrapolated to "
        f"{len(reports)} as n²: {figures['quadratic_extrapolated_seconds']:,.0f} s"
    )
    print(
        f"(c) busier: {len(busy_reports)} reports in {BUSY_DAYS * 24:.0f} h: indexed "
        f"{busy_seconds:.3f} s, scan {busy_scan_seconds:.3f} s (ratio "
        f"{figures['busy_scan_ratio']:.1f}, links identical: "
        f"{busy_scan == busy_links}); F1 {busy_scores.f1:.4f}"
    )
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
