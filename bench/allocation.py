"""Benchmark the allocation optimiser: 1,000 requests × 300 supplies, in one run.

Setup (seeded, not timed): a synthetic road grid over the example region's bounding
box (112.6–113.2° E, 27.9–28.5° N; a line every 0.03°, about 3 km; every fifth line
an arterial, the rest streets; each block side its own road id, 5 % of them closed),
300 supplies of six resource types held by six departments (1–5 units each, a
capability in the type's measure) and 1,000 requests (1–3 units, a minimum
capability on about half, priority 1–5), 70 % around eight hotspots, 30 % spread
out, so that demand (≈ 2,000 units) outstrips supply (≈ 900) and requests compete.
The travel matrix comes from ``RoadNetwork.travel_matrix`` with the closures (timed
apart, as ``travel_matrix_seconds``: it is cached between proposals).

(a) ours: ``optimiser.propose`` end to end: usable pairs, model build, HiGHS solve,
    reading the solution, explanations of every assignment and shortfall.
(b) bare HiGHS: the very ``HighsLp`` our build produced, passed to a fresh
    ``highspy.Highs`` with the same options and solved; no Python model building.
    Each of (a) and (b) runs ``--repeat`` times, alternating; medians are reported.
    ratio = ours / bare; the objectives must be identical.
(c) greedy nearest-first baseline (requests by priority, each from its nearest
    supplies; the optimiser's fallback): its priority-weighted unmet demand against
    ours; beside it the plainest rule, every usable pair by road time, shortest
    first, blind to priority.

Usage:  PYTHONPATH=src python bench/allocation.py [--requests 1000] [--supplies 300]
        [--seed 20261126] [--repeat 3]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from muster.resources.domain.allocation import (
    AllocationProblem,
    Location,
    Pair,
    Request,
    Supply,
    Units,
    compatible_pairs,
    evaluate,
)
from muster.resources.domain.allocation_baselines import greedy_nearest_first
from muster.resources.optimiser import build_model, new_highs, propose
from muster.resources.roads import RoadNetwork

WEST, EAST, SOUTH, NORTH, STEP = 112.6, 113.2, 27.9, 28.5, 0.03
DEPARTMENTS = ("FIRE", "WATER", "POWER", "HEALTH", "EMB", "TRANSPORT")
TYPES = {  # resource type -> capability levels (in the type's measure)
    "PUMP_DRAINAGE": (100.0, 300.0, 1000.0),
    "GENERATOR": (50.0, 200.0, 500.0),
    "RESCUE_BOAT": (4.0, 8.0),
    "AMBULANCE": (1.0, 2.0),
    "RESCUE_TEAM": (10.0, 20.0, 40.0),
    "LIGHT_TOWER": (1.0,),
}
TIME_LIMIT = 60.0


def grid_layer(rng: random.Random) -> tuple[dict[str, object], list[str]]:
    """Return a grid road layer as GeoJSON and the ids of its closed block sides."""
    lons = [WEST + STEP * i for i in range(round((EAST - WEST) / STEP) + 1)]
    lats = [SOUTH + STEP * i for i in range(round((NORTH - SOUTH) / STEP) + 1)]
    features: list[dict[str, object]] = []

    def add(
        road_id: str, a: tuple[float, float], b: tuple[float, float], k: int
    ) -> None:
        road_class = "urban_arterial" if k % 5 == 0 else "urban_street"
        features.append(
            {
                "type": "Feature",
                "id": road_id,
                "properties": {"segment_id": road_id, "road_class": road_class},
                "geometry": {"type": "LineString", "coordinates": [a, b]},
            }
        )

    for j, lat in enumerate(lats):
        for i in range(len(lons) - 1):
            add(f"H{j}-{i}", (lons[i], lat), (lons[i + 1], lat), j)
    for i, lon in enumerate(lons):
        for j in range(len(lats) - 1):
            add(f"V{i}-{j}", (lon, lats[j]), (lon, lats[j + 1]), i)
    ids = [str(f["id"]) for f in features]
    closed = rng.sample(ids, len(ids) // 20)
    return {"type": "FeatureCollection", "features": features}, closed


def place(rng: random.Random, hotspots: list[Location]) -> Location:
    """Return a request position: near a hotspot (70 %) or anywhere."""
    if rng.random() < 0.7:
        spot = rng.choice(hotspots)
        lat = min(NORTH, max(SOUTH, rng.gauss(spot.lat, 0.04)))
        return Location(lat, min(EAST, max(WEST, rng.gauss(spot.lon, 0.04))))
    return Location(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST))


def instance(
    rng: random.Random, n_requests: int, n_supplies: int
) -> tuple[list[Request], list[Supply]]:
    """Return seeded requests and supplies over the region."""
    types = list(TYPES)
    supplies = []
    for k in range(n_supplies):
        kind = rng.choice(types)
        supplies.append(
            Supply(
                f"S{k:03d}",
                rng.choice(DEPARTMENTS),
                kind,
                rng.randint(1, 5),
                Location(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)),
                capability=rng.choice(TYPES[kind]),
            )
        )
    hotspots = [
        Location(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)) for _ in range(8)
    ]
    requests = []
    for k in range(n_requests):
        kind = rng.choice(types)
        requests.append(
            Request(
                f"Q{k:04d}",
                kind,
                rng.randint(1, 3),
                place(rng, hotspots),
                priority=rng.randint(1, 5),
                min_capability=rng.choice(TYPES[kind]) if rng.random() < 0.5 else None,
            )
        )
    return requests, supplies


def nearest_pairs_first(problem: AllocationProblem, pairs: list[Pair]) -> Units:
    """Allocate pair by pair, shortest road time first, blind to priority."""
    left = [s.quantity for s in problem.supplies]
    need = [r.quantity for r in problem.requests]
    units: Units = {}
    for pair in sorted(pairs, key=lambda p: (p.minutes, p.supply, p.request)):
        take = min(left[pair.supply], need[pair.request])
        if take > 0:
            units[(pair.supply, pair.request)] = take
            left[pair.supply] -= take
            need[pair.request] -= take
    return units


def bare_highs(problem: AllocationProblem) -> tuple[float, float, str]:
    """Solve our model's LP with a fresh HiGHS; return seconds, objective, status."""
    model = build_model(problem, compatible_pairs(problem))
    highs = new_highs(TIME_LIMIT)
    start = time.perf_counter()
    highs.passModel(model.lp)
    highs.run()
    seconds = time.perf_counter() - start
    status = highs.modelStatusToString(highs.getModelStatus())
    return seconds, float(highs.getInfo().objective_function_value), status


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--supplies", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    layer, closed = grid_layer(rng)
    requests, supplies = instance(rng, args.requests, args.supplies)

    start = time.perf_counter()
    network = RoadNetwork.from_geojson(layer)
    network.set_closures(closed)
    build_seconds = time.perf_counter() - start
    start = time.perf_counter()
    matrix = network.travel_matrix(
        [(s.id, s.location) for s in supplies], [(r.id, r.location) for r in requests]
    )
    matrix_seconds = time.perf_counter() - start
    problem = AllocationProblem(tuple(requests), tuple(supplies), matrix)
    pairs = list(compatible_pairs(problem))

    ours, bare, proposal, bare_objective, bare_status = [], [], None, 0.0, ""
    for _ in range(args.repeat):
        start = time.perf_counter()
        proposal = propose(problem, time_limit_seconds=TIME_LIMIT)
        ours.append(time.perf_counter() - start)
        seconds, bare_objective, bare_status = bare_highs(problem)
        bare.append(seconds)
    assert proposal is not None
    start = time.perf_counter()
    greedy = greedy_nearest_first(problem, pairs)
    greedy_seconds = time.perf_counter() - start
    greedy_score = evaluate(problem, pairs, greedy)
    blind = evaluate(problem, pairs, nearest_pairs_first(problem, pairs))
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    gap = abs(proposal.objective - bare_objective)
    demand = sum(r.quantity for r in requests)

    figures: dict[str, float | str | bool] = {
        "requests": len(requests),
        "supplies": len(supplies),
        "demand_units": demand,
        "supply_units": sum(s.quantity for s in supplies),
        "usable_pairs": len(pairs),
        "road_junctions": network.junctions,
        "closed_roads": len(closed),
        "network_build_seconds": build_seconds,
        "travel_matrix_seconds": matrix_seconds,
        "proposal_seconds": ours_s,
        "bare_highs_seconds": bare_s,
        "ratio": ours_s / bare_s,
        "objective": proposal.objective,
        "bare_objective": bare_objective,
        "objective_identical": gap <= 1e-9 * max(1.0, abs(bare_objective)),
        "method": proposal.method,
        "solver_status": proposal.solver_status,
        "bare_status": bare_status,
        "unmet_ours": proposal.score.weighted_unmet,
        "unmet_greedy": greedy_score.weighted_unmet,
        "unmet_units_ours": proposal.score.unmet_units,
        "unmet_units_greedy": greedy_score.unmet_units,
        "unmet_nearest_pairs": blind.weighted_unmet,
        "unmet_units_nearest_pairs": blind.unmet_units,
        "travel_ours": proposal.score.travel_minutes,
        "travel_greedy": greedy_score.travel_minutes,
        "greedy_seconds": greedy_seconds,
        "assignments": len(proposal.assignments),
        "shortfalls": len(proposal.shortfalls),
    }

    def verdict(ok: bool, target: str) -> str:
        return f"target {target}: {'met' if ok else 'NOT met'}"

    print(
        f"instance: {len(requests)} requests ({demand} units), {len(supplies)} "
        f"supplies ({figures['supply_units']} units), {len(pairs)} usable pairs; "
        f"road grid of {network.junctions} junctions, {len(closed)} roads closed "
        f"(built in {build_seconds:.2f} s; travel matrix {matrix_seconds:.2f} s, "
        "not in the proposal time: it is cached between proposals)"
    )
    print(
        f"(a) proposal (pairs + build + solve + explanations): {ours_s:.3f} s "
        f"(median of {args.repeat}: {', '.join(f'{s:.3f}' for s in ours)}); "
        f"{proposal.method}, {proposal.solver_status}; "
        f"{verdict(ours_s <= 2.0, '<= 2 s')}"
    )
    print(
        f"(b) bare HiGHS on the same LP: {bare_s:.3f} s (median of "
        f"{', '.join(f'{s:.3f}' for s in bare)}); ratio ours/bare "
        f"{ours_s / bare_s:.2f}; {verdict(ours_s <= 2 * bare_s, '<= 2x bare')}; "
        f"objective {proposal.objective:.6f} vs bare {bare_objective:.6f} "
        f"(identical: {figures['objective_identical']})"
    )
    print(
        f"(c) priority-weighted unmet demand: ours {proposal.score.weighted_unmet} "
        f"({proposal.score.unmet_units} units, travel "
        f"{proposal.score.travel_minutes:,.0f} unit-min) vs greedy nearest-first "
        f"{greedy_score.weighted_unmet} ({greedy_score.unmet_units} units, travel "
        f"{greedy_score.travel_minutes:,.0f} unit-min); nearest pairs first, "
        f"blind to priority: {blind.weighted_unmet} ({blind.unmet_units} units)"
    )
    print(
        json.dumps(
            {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}
        )
    )


if __name__ == "__main__":
    main()
