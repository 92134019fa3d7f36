"""Benchmark the sharing policy decision point (Cedar via cedarpy) and list filtering.

Setup (no database: the decision point and the read core are measured on their own;
the access-log append is the unit of work's, measured by bench/eventlog.py): the
Lanjiang datasets' facts, 40 agreements (every department consuming something), 20
active scenario grants (10 km circles around incidents), and 50 users across 13
departments. The policy set is compiled and validated once (as the read service does
per policy version).

(a) decision: ``DecisionPoint.decide`` for one request (one user, one dataset slice,
    a purpose, the clock), over a rotating mix of 2,000 distinct (user, dataset,
    purpose) requests, 20,000 decisions; p50 and p99 in ms, warm (the decision cache
    has seen the request in this policy version and clock era, as a server that has
    run a while has) and cold (the cache emptied before each decision: Cedar runs).
    Beside it, interleaved in the same run, cedarpy's bare ``is_authorized_batch``
    on the same requests with pre-parsed Entities, (i) with the whole pre-parsed
    policy set, and (ii) with the dataset's pre-parsed policy subset that our
    decision point passes (Cedar's own cost of the same evaluation); ratios = bare /
    ours.
(b) list filtering: ``reads.decide_rows`` for 10,000 records of the vulnerable-
    residents register read by the fire brigade for "evacuation" while 20 flood
    incidents have switched the evacuation agreement on: Cedar is asked about the
    dataset and about each grant circle (one batched call per action), every record
    is placed in the circles that hold it (``sharing.areas``: one numpy product of
    unit vectors), released records are masked
    and the rest counted per community; median ms. Beside it: bare
    ``is_authorized_batch`` on the same requests, and on one request per record
    (what per-record decisions would cost).

Usage:  python bench/policy.py [--records 10000]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cedarpy
import yaml

from muster.sharing.domain.agreements import (
    Agreement,
    DatasetFacts,
    FieldFacts,
    parse_agreement,
)
from muster.sharing.domain.grants import Grant
from muster.sharing.domain.policies import (
    READ_AGGREGATE,
    READ_RECORDS,
    compile_policies,
)
from muster.sharing.pdp import Context, DecisionPoint, Principal, Slice, entity_list
from muster.sharing.reads import Row, decide_rows

PACK = Path(__file__).resolve().parents[1] / "src/muster/examples/lanjiang"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DEPARTMENTS = (
    "LJ_GOV",
    "EMB",
    "FIRE",
    "PSB",
    "HEALTH",
    "TRANSPORT",
    "WATER",
    "MET",
    "NATRES",
    "ECOENV",
    "HOTLINE",
    "POWER",
    "REDCROSS",
)
PURPOSES = ("evacuation", "response", "planning", "coordination", "flood_control")


def dataset_facts() -> dict[str, DatasetFacts]:
    """Return the demo pack's datasets as the sharing part sees them."""
    data = yaml.safe_load((PACK / "datasets.yaml").read_text(encoding="utf-8"))
    return {
        item["code"]: DatasetFacts(
            code=item["code"],
            owner=item["owner_department"],
            sharing_class=item["sharing_class"],
            grade=item["data_grade"],
            format=item["format"],
            fields=tuple(
                FieldFacts(f["name"], f["type"], f.get("sensitivity", "none"))
                for f in item["fields"]
            ),
        )
        for item in data["datasets"]
    }


def agreements(facts: dict[str, DatasetFacts], rng: random.Random) -> list[Agreement]:
    """Return 40 agreements: the evacuation scenario's two plus 38 generated ones."""
    departments = frozenset(DEPARTMENTS)
    psb = facts["PSB_VULNERABLE_RESIDENTS"]
    found = [
        parse_agreement(
            {
                "code": "PSB_VR_COUNTS",
                "dataset": psb.code,
                "consumers": ["*"],
                "mode": "aggregate",
                "aggregate_by": "community",
                "purposes": ["evacuation", "planning", "response"],
            },
            psb,
            departments=departments,
        ),
        parse_agreement(
            {
                "code": "PSB_VR_EVACUATION",
                "dataset": psb.code,
                "consumers": ["FIRE", "EMB"],
                "fields": [
                    "resident_id",
                    "name",
                    "mobility",
                    "contact_phone",
                    "community",
                    "location",
                ],
                "masks": {"name": "name", "contact_phone": "none"},
                "purposes": ["evacuation"],
                "legal_basis": "EMERGENCY",
                "conditions": {
                    "incident": {
                        "categories": ["11A"],
                        "min_level": "L2",
                        "within_km": 10,
                    }
                },
            },
            psb,
            departments=departments,
        ),
    ]
    shareable = [f for f in facts.values() if f.sharing_class != "NOT_SHARED"]
    while len(found) < 40:
        dataset = rng.choice(shareable)
        consumers = [d for d in rng.sample(DEPARTMENTS, 4) if d != dataset.owner]
        found.append(
            parse_agreement(
                {
                    "code": f"GEN_{len(found):03d}",
                    "dataset": dataset.code,
                    "consumers": consumers,
                    "purposes": list(rng.sample(PURPOSES, 2)),
                    "legal_basis": "STATUTORY_DUTY",
                    "valid_until": "2027-12-31T00:00:00Z",
                },
                dataset,
                departments=departments,
            )
        )
    return found


def grants(rng: random.Random) -> list[Grant]:
    """Return 20 active grants of the evacuation agreement around flood incidents."""
    return [
        Grant(
            grant_id=f"PSB_VR_EVACUATION@INC-{index}",
            agreement_code="PSB_VR_EVACUATION",
            dataset="PSB_VULNERABLE_RESIDENTS",
            incident_id=f"INC-{index}",
            level="L2",
            latitude=28.2 + rng.uniform(-0.3, 0.3)
            if index > 1
            else 28.2 + index * 0.05,
            longitude=112.9 + rng.uniform(-0.3, 0.3) if index > 1 else 112.9,
            radius_km=10.0,
        )
        for index in range(20)
    ]


def principals(rng: random.Random) -> list[Principal]:
    """Return 50 users across the departments."""
    roles = ("duty_officer", "head", "analyst", "commander")
    return [
        Principal(
            user_id=f"user-{index}",
            department=DEPARTMENTS[index % len(DEPARTMENTS)],
            roles=frozenset({rng.choice(roles)}),
            kind="user",
        )
        for index in range(50)
    ]


def percentile(values: list[float], share: float) -> float:
    """Return the share-quantile of values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_decisions(
    pdp: DecisionPoint,
    compiled: Any,
    facts: dict[str, DatasetFacts],
    rng: random.Random,
) -> dict[str, float]:
    """(a) one decision at a time through the decision point, and bare cedarpy."""
    users = principals(rng)
    datasets = list(facts.values())
    mix = [
        (rng.choice(users), Slice(rng.choice(datasets)), rng.choice(PURPOSES))
        for _ in range(2000)
    ]
    for principal, piece, purpose in mix:  # warm the entity cache (as a server does)
        pdp.decide(compiled, principal, READ_RECORDS, [piece], Context(NOW, purpose))
    parsed = [
        (
            {
                "principal": {"type": "User", "id": principal.user_id},
                "action": {"type": "Action", "id": READ_RECORDS},
                "resource": {"type": "Records", "id": piece.key},
                "context": Context(NOW, purpose).to_cedar(),
            },
            cedarpy.Entities.from_json_str(json.dumps(entity_list(principal, [piece]))),
            compiled.for_dataset(piece.dataset.code)[0],
        )
        for principal, piece, purpose in mix
    ]
    times: dict[str, list[float]] = {
        "ours": [], "ours_cold": [], "bare_full": [], "bare_subset": [],
        "bare_empty": [],
    }  # fmt: skip
    allowed = 0

    def ours(index: int) -> None:
        nonlocal allowed
        principal, piece, purpose = mix[index]
        decision = pdp.decide(
            compiled, principal, READ_RECORDS, [piece], Context(NOW, purpose)
        )
        allowed += decision[0].allowed

    cold_pdp = DecisionPoint()  # its own compiled set: clearing it spares the warm one
    cold = cold_pdp.compiled(1, compiled.entries)
    assert cold is not None

    def ours_cold(index: int) -> None:
        principal, piece, purpose = mix[index]
        cold.decisions.clear()  # a decision the cache has not seen: Cedar runs
        cold_pdp.decide(cold, principal, READ_RECORDS, [piece], Context(NOW, purpose))

    def bare_full(index: int) -> None:
        request, entities, _ = parsed[index]
        cedarpy.is_authorized_batch([request], compiled.policy_set, entities)

    def bare_subset(index: int) -> None:
        request, entities, subset = parsed[index]
        cedarpy.is_authorized_batch([request], subset, entities)

    empty = cedarpy.PolicySet.from_str("")

    def bare_empty(index: int) -> None:
        request, entities, _ = parsed[index]
        cedarpy.is_authorized_batch([request], empty, entities)

    runs = {
        "ours": ours, "ours_cold": ours_cold, "bare_full": bare_full,
        "bare_subset": bare_subset, "bare_empty": bare_empty,
    }  # fmt: skip
    order = list(runs)
    for round_ in range(10):
        for index in range(len(mix)):
            turn = (index + round_) % len(order)
            for name in order[turn:] + order[:turn]:
                start = time.perf_counter()
                runs[name](index)
                times[name].append(time.perf_counter() - start)
    p50 = {name: percentile(values, 0.5) * 1000 for name, values in times.items()}
    p99 = {name: percentile(values, 0.99) * 1000 for name, values in times.items()}
    return {
        "decision_p50_ms": p50["ours"],
        "decision_p99_ms": p99["ours"],
        "decision_cold_p50_ms": p50["ours_cold"],
        "decision_cold_p99_ms": p99["ours_cold"],
        "bare_decision_p50_ms": p50["bare_full"],
        "bare_decision_p99_ms": p99["bare_full"],
        "bare_subset_decision_p50_ms": p50["bare_subset"],
        "bare_subset_decision_p99_ms": p99["bare_subset"],
        "cedar_call_floor_p50_ms": p50["bare_empty"],
        "cedar_call_floor_p99_ms": p99["bare_empty"],
        "decision_ratio": p50["bare_full"] / p50["ours"],
        "decision_overhead_ratio": p50["bare_subset"] / p50["ours_cold"],
        "decisions_allowed_share": allowed / len(times["ours"]),
    }


def residents(count: int, rng: random.Random) -> list[Row]:
    """Return stored-looking resident records spread over the city."""
    communities = (
        "青山社区",
        "滨江社区",
        "东湖社区",
        "白沙社区",
        "丰禾社区",
        "石桥社区",
    )
    rows = []
    for index in range(count):
        lat = 28.2 + rng.uniform(-0.35, 0.35)
        lon = 112.9 + rng.uniform(-0.35, 0.35)
        values = {
            "resident_id": f"R{index:06d}",
            "name": rng.choice("王李张刘陈杨赵黄周吴")
            + rng.choice(("秀英", "建国", "桂兰", "志强")),
            "id_number": f"430102{1930 + index % 60}0101{index % 10000:04d}",
            "health_condition": "高血压，需药物",
            "mobility": rng.choice(("walks_unaided", "needs_assistance", "wheelchair")),
            "contact_phone": f"138{index:08d}",
            "community": rng.choice(communities),
            "address": f"澜江路{index}号",
            "location": [round(lat, 6), round(lon, 6)],
        }
        rows.append(
            Row(
                values=values,
                geometry=None,
                received_at="2026-11-25T00:00:00Z",
                position=(lat, lon),
            )
        )
    return rows


def bench_filter(
    pdp: DecisionPoint,
    compiled: Any,
    facts: dict[str, DatasetFacts],
    count: int,
    found: list[Agreement],
    rng: random.Random,
) -> dict[str, float]:
    """(b) filter and mask a list of records through the read core."""
    rows = residents(count, rng)
    fire = Principal(
        user_id="fire.duty",
        department="FIRE",
        roles=frozenset({"duty_officer"}),
        kind="user",
    )
    psb = facts["PSB_VULNERABLE_RESIDENTS"]
    context = Context(NOW, "evacuation")
    times: list[float] = []
    result = None
    for _ in range(7):
        start = time.perf_counter()
        result = decide_rows(
            pdp, compiled, fire, psb, context, agreements=found, rows=lambda: rows
        )
        times.append(time.perf_counter() - start)
    assert result is not None
    index = compiled.area_index(psb.code)
    probes = [Slice(psb)] + [Slice(psb, frozenset({g})) for g in index.grant_ids]
    placing: list[float] = []
    for _ in range(7):  # the part that decides which records may leave, and how
        start = time.perf_counter()
        pdp.decide(compiled, fire, READ_RECORDS, probes, context)
        index.group(rows)
        placing.append(time.perf_counter() - start)
    entities = cedarpy.Entities.from_json_str(json.dumps(entity_list(fire, probes)))

    def request(piece: Slice, action: str) -> dict[str, Any]:
        return {
            "principal": {"type": "User", "id": "fire.duty"},
            "action": {"type": "Action", "id": action},
            "resource": {"type": "Records", "id": piece.key},
            "context": context.to_cedar(),
        }

    policy_set, _ = compiled.for_dataset(psb.code)
    same = [request(piece, READ_RECORDS) for piece in probes]
    same += [request(piece, READ_AGGREGATE) for piece in probes[:1]]
    bare_probes = []
    for _ in range(7):
        start = time.perf_counter()
        cedarpy.is_authorized_batch(same, policy_set, entities)
        bare_probes.append(time.perf_counter() - start)
    by_areas = {piece.areas: piece for piece in probes}
    per_record = [
        request(by_areas.get(index.covering(r.position), probes[0]), READ_RECORDS)
        for r in rows
    ]
    start = time.perf_counter()
    cedarpy.is_authorized_batch(per_record, policy_set, entities)
    bare_per_record = time.perf_counter() - start
    return {
        "filter_ms": statistics.median(times) * 1000,
        "filter_decide_place_ms": statistics.median(placing) * 1000,
        "filter_records_released": len(result.records),
        "filter_records_counted": sum(n for _, n in result.aggregates),
        "filter_cedar_requests": len(same),
        "bare_batch_same_requests_ms": statistics.median(bare_probes) * 1000,
        "bare_batch_per_record_ms": bare_per_record * 1000,
    }


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(20261125)
    facts = dataset_facts()
    found = agreements(facts, rng)
    active = grants(rng)
    pdp = DecisionPoint()
    start = time.perf_counter()
    compiled = pdp.compiled(1, compile_policies(found, active, []))
    compile_ms = (time.perf_counter() - start) * 1000
    assert compiled is not None
    figures: dict[str, float] = {
        "policies": len(compiled.entries),
        "compile_ms": compile_ms,
    }
    figures.update(bench_decisions(pdp, compiled, facts, rng))
    figures.update(bench_filter(pdp, compiled, facts, args.records, found, rng))

    def verdict(value: float, target: float) -> str:
        return f"target <= {target:g} ms: {'met' if value <= target else 'NOT met'}"

    print(
        f"policy set: {figures['policies']:.0f} policies, compiled and validated "
        f"in {compile_ms:.1f} ms"
    )
    print(
        f"(a) decision through the decision point (warm: the request seen before "
        f"in this policy version and clock era): p50 "
        f"{figures['decision_p50_ms']:.3f} ms, "
        f"p99 {figures['decision_p99_ms']:.3f} ms; "
        f"{verdict(figures['decision_p99_ms'], 0.2)}"
    )
    print(
        f"    cold (not in the decision cache: Cedar evaluates): p50 "
        f"{figures['decision_cold_p50_ms']:.3f} ms, "
        f"p99 {figures['decision_cold_p99_ms']:.3f} ms; "
        f"{verdict(figures['decision_cold_p99_ms'], 0.2)}"
    )
    print(
        f"    bare cedarpy is_authorized_batch, same requests, whole policy set: p50 "
        f"{figures['bare_decision_p50_ms']:.3f} ms, p99 "
        f"{figures['bare_decision_p99_ms']:.3f} ms; ratio bare/ours "
        f"{figures['decision_ratio']:.2f}"
    )
    print(
        f"    bare is_authorized_batch with the dataset's policy subset (Cedar's own "
        f"cost of our request): p50 {figures['bare_subset_decision_p50_ms']:.3f} ms, "
        f"p99 {figures['bare_subset_decision_p99_ms']:.3f} ms; ratio bare/ours-cold "
        f"{figures['decision_overhead_ratio']:.2f}"
    )
    print(
        f"    cedarpy's floor: one call, same request and entities, no policies: "
        f"p50 {figures['cedar_call_floor_p50_ms']:.3f} ms, "
        f"p99 {figures['cedar_call_floor_p99_ms']:.3f} ms"
    )
    print(
        f"(b) filtering {args.records} records: {figures['filter_ms']:.1f} ms median "
        f"({figures['filter_records_released']:.0f} released masked, "
        f"{figures['filter_records_counted']:.0f} counted only, "
        f"{figures['filter_cedar_requests']:.0f} Cedar requests); "
        f"{verdict(figures['filter_ms'], 50)}"
    )
    print(
        f"    of which deciding and placing (which records may leave, under which "
        f"policies; no masking or counting): {figures['filter_decide_place_ms']:.1f} ms"
    )
    print(
        f"    bare is_authorized_batch: the same "
        f"{figures['filter_cedar_requests']:.0f} requests "
        f"{figures['bare_batch_same_requests_ms']:.2f} ms; one request per record "
        f"{figures['bare_batch_per_record_ms']:.0f} ms"
    )
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
