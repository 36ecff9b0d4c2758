"""Benchmark: site recommendations (greedy vs exact MCLP) and scenario apply + compare.

Usage::

    python bench/bench_siting.py [--candidates 2000] [--demand 20000] [--k 10]
                                 [--radius-m 1500] [--time-limit 60] [--seed 7]

Part 1, array level: ``--demand`` demand points and ``--candidates`` candidate sites drawn
uniformly (reproducible seed) in a 40 km × 40 km square, demand weights 1–100; a candidate
covers a demand point within ``--radius-m`` (``cKDTree.sparse_distance_matrix``). k sites
are chosen by the lazy greedy and by the exact MILP (PuLP + HiGHS, time limit), and the run
prints both times, both objectives, the greedy/exact ratio, and the solver's bound and gap.

Part 2, dataset level: ``apply()`` of each example scenario in ``scenarios/`` to the
bundled data and ``compare()`` with the baseline (indicators + coverage of every facility
type, straight line × detour factor), both from scratch and against a cached baseline
``snapshot()`` (what the app does), best of 3 runs each.

Nothing is asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qjgeo import load_dataset  # noqa: E402
from qjgeo.scenario import apply, compare, load_scenario, snapshot  # noqa: E402
from qjgeo.siting import max_cover_exact, max_cover_greedy  # noqa: E402


def _coverage(
    n_demand: int, n_cand: int, radius_m: float, seed: int, side_m: float = 20_000.0
) -> tuple[csr_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    side = side_m
    demand = rng.uniform(0, side, (n_demand, 2))
    cand = rng.uniform(0, side, (n_cand, 2))
    weights = rng.integers(1, 101, n_demand).astype(np.float64)
    pairs = cKDTree(demand).sparse_distance_matrix(cKDTree(cand), radius_m, output_type="ndarray")
    cov = csr_array(
        (np.ones(len(pairs), dtype=bool), (pairs["i"], pairs["j"])), shape=(n_demand, n_cand)
    )
    return cov, weights


def bench_arrays(args: argparse.Namespace) -> None:
    """Greedy vs exact on one random instance."""
    start = time.perf_counter()
    cov, w = _coverage(args.demand, args.candidates, args.radius_m, args.seed)
    build_s = time.perf_counter() - start
    print(
        f"instance: {args.demand:,} demand × {args.candidates:,} candidates, radius "
        f"{args.radius_m:g} m, {cov.nnz:,} coverage pairs "
        f"({cov.nnz / args.demand:.1f} candidates per demand point), k = {args.k}; "
        f"built in {build_s:.2f} s"
    )
    greedy_t = []
    for _ in range(3):
        greedy = max_cover_greedy(cov, w, args.k)
        greedy_t.append(greedy.time_s)
    exact = max_cover_exact(cov, w, args.k, time_limit_s=args.time_limit)
    total = float(w.sum())
    print(
        f"greedy: {min(greedy_t) * 1000:8.1f} ms (best of 3)   objective {greedy.objective:,.0f} "
        f"({greedy.objective / total:.2%} of demand); its own bound "
        f"{greedy.best_bound:,.1f} proves it ≤ {greedy.gap:.2%} below the optimum"
    )
    print(
        f"exact : {exact.time_s * 1000:8.1f} ms (status {exact.status}, limit "
        f"{args.time_limit:g} s)   objective {exact.objective:,.0f}   best bound "
        f"{exact.best_bound:,.1f}   gap {exact.gap:.4%}\n        ({exact.message})"
    )
    ratio = greedy.objective / exact.objective if exact.objective else float("nan")
    print(
        f"greedy / exact objective = {ratio:.4f}  (gap {1 - ratio:.2%}; guarantee ≥ 0.6321); "
        f"exact time / greedy time = {exact.time_s / min(greedy_t):,.0f}×"
    )
    same = len(set(greedy.selected.tolist()) & set(exact.selected.tolist()))
    print(f"sites in common: {same} of {args.k}")


def bench_scenarios() -> None:
    """apply() + compare() of the example scenarios on the bundled data."""
    dataset = load_dataset()
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    base = snapshot(dataset)  # warms imports; the app caches this one per dataset
    print(f"\nbundled data; {len(files)} example scenarios (best of 3 runs each, ms):")
    print(f"{'scenario':28s} {'apply':>7s} {'compare':>8s} {'cached base':>12s} {'total':>7s}")
    for path in files:
        scenario = load_scenario(path)
        apply_t, cmp_t, cached_t = [], [], []
        for _ in range(3):
            t0 = time.perf_counter()
            after = apply(dataset, scenario)
            t1 = time.perf_counter()
            compare(dataset, after)
            t2 = time.perf_counter()
            compare(base, after)
            t3 = time.perf_counter()
            apply_t.append(t1 - t0)
            cmp_t.append(t2 - t1)
            cached_t.append(t3 - t2)
        a, c, cc = min(apply_t) * 1000, min(cmp_t) * 1000, min(cached_t) * 1000
        print(f"{path.stem:28s} {a:7.1f} {c:8.1f} {cc:12.1f} {a + cc:7.1f}")
    print("(total = apply + compare against the cached baseline snapshot, what the app pays)")


def main() -> None:
    """Parse options and run both parts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--demand", type=int, default=20000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--radius-m", type=float, default=1500.0)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    bench_arrays(args)
    bench_scenarios()


if __name__ == "__main__":
    main()
