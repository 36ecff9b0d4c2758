"""Benchmark: site recommendations (greedy vs exact MCLP) and scenario apply + compare.

Usage::

    python bench/bench_siting.py [--candidates 2000] [--demand 20000] [--k 10]
                                 [--radius-m 1000] [--side-km 20] [--time-limit 30]
                                 [--seed 7] [--no-spopt] [--arrays-only] [--headline-only]

Part 1, array level: ``--demand`` demand points and ``--candidates`` candidate sites drawn
uniformly (reproducible seed) in a ``--side-km`` square, demand weights 1–100; a candidate
covers a demand point within ``--radius-m`` (``cKDTree.sparse_distance_matrix``). k sites
are chosen by the lazy greedy, by the exact method (reduced model, and the full model for
comparison) with each solver (HiGHS, CBC), and by PySAL spopt's MCLP (PuLP + CBC, built
from a dense cost matrix; headline case only, its build takes minutes), all with the same
time limit. Cases: k = ``--k`` without existing facilities (headline), then with existing
facilities covering a random 30 % of demand points, and k = 50 without and with them.
Printed per method: objective, gap to the best objective found, build time, solve time,
status and bound.

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
from qjgeo.siting import SitingResult, max_cover_exact, max_cover_greedy  # noqa: E402


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


def _row(
    label: str, res_obj: float, best: float, build_s: float, solve_s: float, note: str
) -> None:
    gap = (best - res_obj) / best if best else float("nan")
    print(f"{label:34s} {res_obj:12,.0f} {gap:8.3%} {build_s:9.2f} {solve_s:9.2f}  {note}")


def _spopt(
    cov: csr_array, w: np.ndarray, k: int, time_limit: float
) -> tuple[float, float, float, str]:
    """PySAL spopt's MCLP on the same coverage (cost 0 where covered, 2 elsewhere), CBC."""
    import warnings

    import pulp
    from spopt.locate import MCLP

    start = time.perf_counter()
    cost = np.where(cov.toarray(), 0.0, 2.0).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(cost, w, service_radius=1.0, p_facilities=k)
        build_s = time.perf_counter() - start
        del cost
        t0 = time.perf_counter()
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=0.0))
    solve_s = time.perf_counter() - t0
    obj = float(pulp.value(model.problem.objective))
    return obj, build_s, solve_s, pulp.LpStatus[model.problem.status]


def _exact_runs(
    cov: csr_array, w: np.ndarray, k: int, done: np.ndarray | None, args: argparse.Namespace
) -> list[tuple[str, SitingResult]]:
    runs = []
    for solver in ("highs", "cbc"):
        for reduce in (True, False):
            res = max_cover_exact(
                cov, w, k, already_covered=done, time_limit_s=args.time_limit,
                solver=solver, reduce=reduce,
            )  # fmt: skip
            runs.append((f"exact {solver}, {'reduced' if reduce else 'full'} model", res))
    return runs


def bench_case(
    cov: csr_array, w: np.ndarray, k: int, existing: float, args: argparse.Namespace, spopt: bool
) -> None:
    """Greedy, exact (reduced and full model, each solver) and perhaps spopt on one case."""
    done = None
    if existing > 0:
        done = np.random.default_rng(args.seed + 1).random(cov.shape[0]) < existing
    print(f"\n-- k = {k}, existing facilities covering {existing:.0%} of demand points --")
    greedy_t = []
    for _ in range(3):
        greedy = max_cover_greedy(cov, w, k, already_covered=done)
        greedy_t.append(greedy.time_s)
    runs = _exact_runs(cov, w, k, done, args)
    found = _spopt(cov, w, k, args.time_limit) if spopt else None
    proven = [r.objective for _, r in runs if r.status == "optimal"]
    best = max(proven) if proven else max(r.objective for _, r in runs)
    print(f"best objective: {best:,.0f} ({'proven optimal' if proven else 'not proven'})")
    print(f"{'method':34s} {'objective':>12s} {'gap':>8s} {'build s':>9s} {'solve s':>9s}  status")
    _row(
        "greedy (best of 3)", greedy.objective, best, 0.0, min(greedy_t),
        f"own bound {greedy.best_bound:,.0f} (≤ {greedy.gap:.2%} below optimum)",
    )  # fmt: skip
    for label, res in runs:
        _row(
            label, res.objective, best, res.build_s, res.solve_s,
            f"{res.status}, total {res.time_s:.2f} s of {args.time_limit:g}, bound "
            f"{res.best_bound:,.0f}",
        )  # fmt: skip
    if found is not None:
        _row("spopt MCLP + CBC (PuLP)", found[0], best, found[1], found[2], found[3])
    exact = runs[0][1]
    same = len(set(greedy.selected.tolist()) & set(exact.selected.tolist()))
    print(f"greedy and exact (HiGHS, reduced) sites in common: {same} of {k}")
    print(f"exact (HiGHS, reduced): {exact.message}")


def bench_arrays(args: argparse.Namespace) -> None:
    """The seeded instance: the headline case (with spopt), then harder ones."""
    start = time.perf_counter()
    cov, w = _coverage(args.demand, args.candidates, args.radius_m, args.seed, args.side_km * 1000)
    build_s = time.perf_counter() - start
    print(
        f"instance: {args.demand:,} demand × {args.candidates:,} candidates uniform in a "
        f"{args.side_km:g} km square, radius {args.radius_m:g} m, seed {args.seed}, "
        f"{cov.nnz:,} coverage pairs ({cov.nnz / args.demand:.1f} candidates per demand "
        f"point); built in {build_s:.2f} s; time limit {args.time_limit:g} s; "
        "gap = below the best objective found"
    )
    bench_case(cov, w, args.k, 0.0, args, spopt=not args.no_spopt)
    if not args.headline_only:
        for k, existing in ((args.k, 0.3), (50, 0.0), (50, 0.3)):
            bench_case(cov, w, k, existing, args, spopt=False)


def bench_scenarios() -> None:
    """apply() + compare() of the example scenarios on the bundled data.

    Three ways to compare a scenario with the baseline, timed in the same run: everything
    recomputed (``compare(dataset, after)``), the cached baseline snapshot with the scenario
    recomputed in full (``compare(base, snapshot(after))``, what the app paid before), and
    the cached baseline with only what the edit touched recomputed (``compare(base, after)``).
    """
    dataset = load_dataset()
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    base = snapshot(dataset)  # warms imports; the app caches this one per dataset
    print(f"\nbundled data; {len(files)} example scenarios (best of 3 runs each, ms):")
    head = ("apply", "all fresh", "base cached", "incremental", "gain")
    print(f"{'scenario':28s} " + " ".join(f"{h:>11s}" for h in head))
    for path in files:
        scenario = load_scenario(path)
        runs: list[list[float]] = [[], [], [], []]
        for _ in range(3):
            t0 = time.perf_counter()
            after = apply(dataset, scenario)
            t1 = time.perf_counter()
            compare(dataset, snapshot(after))
            t2 = time.perf_counter()
            compare(base, snapshot(after))
            t3 = time.perf_counter()
            compare(base, after)
            t4 = time.perf_counter()
            for i, dt in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                runs[i].append(dt * 1000)
        a, fresh, cached, inc = (min(r) for r in runs)
        print(
            f"{path.stem:28s} {a:11.1f} {fresh:11.1f} {cached:11.1f} {inc:11.1f} "
            f"{cached / inc:10.1f}x"
        )
    print(
        "(what the app pays per edit = apply + incremental; gain = base cached / incremental;"
        " an edit of the villages or the parameters recomputes everything)"
    )


def main() -> None:
    """Parse options and run both parts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--demand", type=int, default=20000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--radius-m", type=float, default=1000.0)
    parser.add_argument("--side-km", type=float, default=20.0)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--no-spopt", action="store_true", help="skip spopt (slow build)")
    parser.add_argument("--arrays-only", action="store_true", help="skip the scenario part")
    parser.add_argument("--scenarios-only", action="store_true", help="only the scenario part")
    parser.add_argument("--headline-only", action="store_true", help="only k, no existing")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.scenarios_only:
        bench_arrays(args)
    if not args.arrays_only:
        bench_scenarios()


if __name__ == "__main__":
    main()
