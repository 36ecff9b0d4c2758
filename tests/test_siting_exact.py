"""Exact siting: the wall-time limit is kept, the reductions keep the optimum, no empty sites.

The big instance is the benchmark's (``bench/bench_siting.py``: 2,000 candidates × 20,000
demand points uniform in a 20 km square, weights 1–100, R = 1 km, seed 7, k = 10). Its
optimum, 99,618, was proved by HiGHS and CBC on the full model and by the reduced model
(``bench/README.md``).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

from qjgeo.siting import (
    EXACT_OVERHEAD_S,
    max_cover_exact,
    max_cover_greedy,
    min_sites_for_target,
)
from qjgeo.siting.reduce import dominated_candidates, unique_rows

BENCH_OPTIMUM = 99_618.0


def _bench_instance() -> tuple[csr_array, np.ndarray]:
    """The benchmark's seeded 2,000 × 20,000 instance (same draws as the bench script)."""
    rng = np.random.default_rng(7)
    side = 20_000.0
    demand = rng.uniform(0, side, (20_000, 2))
    cand = rng.uniform(0, side, (2_000, 2))
    weights = rng.integers(1, 101, 20_000).astype(np.float64)
    pairs = cKDTree(demand).sparse_distance_matrix(cKDTree(cand), 1000.0, output_type="ndarray")
    cov = csr_array(
        (np.ones(len(pairs), dtype=bool), (pairs["i"], pairs["j"])), shape=(20_000, 2_000)
    )
    return cov, weights


@pytest.fixture(scope="module")
def bench_instance() -> tuple[csr_array, np.ndarray]:
    return _bench_instance()


def test_five_second_limit_on_the_big_instance(bench_instance: tuple) -> None:
    """The whole call keeps to 5 s + the documented overhead, with a truthful status."""
    cov, w = bench_instance
    # the full model (no reduction): HiGHS needs far longer than 5 s to prove it
    start = time.perf_counter()
    full = max_cover_exact(cov, w, 10, time_limit_s=5, solver="highs", reduce=False)
    took = time.perf_counter() - start
    assert took <= 5 + EXACT_OVERHEAD_S, took
    assert full.time_s <= 5 + EXACT_OVERHEAD_S
    if full.status == "optimal":  # only if it really proved it (a much faster machine)
        assert full.objective == BENCH_OPTIMUM and full.gap == 0
    else:
        assert full.status == "time_limit" and "5 s time limit" in full.message
        assert full.best_bound >= BENCH_OPTIMUM - 1e-6
        assert full.gap == pytest.approx((full.best_bound - full.objective) / full.best_bound)
    # the reduced model, as every caller gets it: the optimum, proved, well within 5 s
    start = time.perf_counter()
    reduced = max_cover_exact(cov, w, 10, time_limit_s=5)
    assert time.perf_counter() - start <= 5 + EXACT_OVERHEAD_S
    assert reduced.status == "optimal" and reduced.objective == BENCH_OPTIMUM
    assert reduced.gap == 0 and reduced.best_bound == BENCH_OPTIMUM


def test_tiny_limit_returns_greedy_or_better_with_a_bound(bench_instance: tuple) -> None:
    cov, w = bench_instance
    greedy = max_cover_greedy(cov, w, 10)
    # what a tiny limit returns; how long it takes is the 5 s test's business (the one timed
    # assertion the issue asks for): at 0.2 s a loaded CI machine's scheduling dominates
    for solver in ("highs", "cbc"):
        quick = max_cover_exact(cov, w, 10, time_limit_s=0.2, solver=solver, reduce=False)
        assert quick.objective >= greedy.objective
        assert quick.status in ("optimal", "time_limit")
        assert quick.best_bound >= quick.objective and quick.best_bound >= BENCH_OPTIMUM - 1e-6


def _small(seed: int, n: int, m: int, density: float) -> tuple[csr_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    cov = csr_array(rng.random((n, m)) < density)
    return cov, rng.integers(0, 20, n).astype(float)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 40), st.integers(2, 25), st.integers(1, 30))
def test_no_zero_gain_site_is_ever_returned(seed: int, n: int, m: int, k: int) -> None:
    """Greedy and exact (both solvers): every returned site adds coverage; k asked is kept."""
    cov, w = _small(seed, n, m, 0.15)
    done = np.random.default_rng(seed + 1).random(n) < 0.3
    results = [max_cover_greedy(cov, w, k, already_covered=done)]
    for solver in ("highs", "cbc"):
        results.append(max_cover_exact(cov, w, k, already_covered=done, solver=solver))
    for res in results:
        assert np.all(res.gains > 0), (res.method, res.gains)
        assert res.k_requested == k and res.n_useful == len(res.selected) <= k
        if res.n_useful < k:
            assert f"only {res.n_useful} of the {k}" in res.message
            assert f"只有 {res.n_useful} 处" in res.message_zh
    assert results[1].objective == pytest.approx(results[2].objective)


def test_more_sites_than_useful_returns_only_useful() -> None:
    """k larger than the useful sites (the issue's --k 100 case): the same useful count."""
    cov = csr_array(np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=bool))
    w = np.array([5.0, 3.0, 2.0])
    greedy = max_cover_greedy(cov, w, 4)
    exact = max_cover_exact(cov, w, 4)
    assert sorted(greedy.selected.tolist()) == sorted(exact.selected.tolist()) == [1, 2]
    assert exact.status == "optimal" and exact.objective == 10
    fewest = min_sites_for_target(cov, w, 1.0, method="exact")
    assert fewest.n_useful == 2 and np.all(fewest.gains > 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(10, 60), st.integers(5, 30), st.integers(1, 6))
def test_reductions_keep_the_optimum(seed: int, n: int, m: int, k: int) -> None:
    """The reduced model reaches the same optimum as the full one."""
    cov, w = _small(seed, n, m, 0.2)
    full = max_cover_exact(cov, w, k, reduce=False)
    reduced = max_cover_exact(cov, w, k)
    assert full.status == reduced.status == "optimal"
    assert reduced.objective == pytest.approx(full.objective)


def test_dominated_candidates() -> None:
    """A subset of another's demand, an identical copy, and an empty column are left out."""
    cov = csr_array(np.array([[1, 1, 0, 1, 0], [1, 0, 0, 1, 0], [0, 0, 1, 0, 0]], dtype=bool))
    rows, weights = unique_rows(cov, np.ones(3))
    assert rows.shape == (3, 5) and weights.tolist() == [1.0, 1.0, 1.0]
    # column 1 ⊂ column 0; column 3 == column 0 (higher index); column 4 reaches nothing
    assert dominated_candidates(rows).tolist() == [False, True, False, True, True]


def test_min_sites_exact_keeps_its_limit(bench_instance: tuple) -> None:
    cov, w = bench_instance
    start = time.perf_counter()
    res = min_sites_for_target(cov, w, 0.3, method="exact", time_limit_s=2, solver="highs")
    assert time.perf_counter() - start <= 2 + EXACT_OVERHEAD_S
    assert res.status in ("optimal", "time_limit") and np.all(res.gains > 0)
    assert res.covered_after >= 0.3 * res.total_weight - 1e-6


def test_bad_exact_arguments() -> None:
    cov, w = _small(0, 10, 5, 0.3)
    with pytest.raises(ValueError, match="time_limit_s"):
        max_cover_exact(cov, w, 2, time_limit_s=0)
    with pytest.raises(ValueError, match="solver"):
        max_cover_exact(cov, w, 2, solver="gurobi")  # type: ignore[arg-type]


def test_cbc_stopped_inside_the_lp_gives_no_solution() -> None:
    """CBC stopped in its root LP writes fractional, out-of-bound values: none are taken.

    (Found on the 2,000 × 20,000 instance with k = 100: the LP values read as 406 sites
    covering more than the proven bound.)
    """
    from qjgeo.siting.milp import _read_cbc

    text = (
        "Stopped on iterations - objective value -799526.82031768\n"
        "**       0 c0            -6.8650187                       0\n"
        "      3 c3                     1                       0\n"
        "      4 c4                     0.6                     0\n"
    )
    out = _read_cbc(text, "", n_y=5, sign=-1.0)
    assert out.selected.size == 0 and out.status == "time_limit"
    good = "Optimal - objective value -5.00000000\n      1 c1   1   0\n      3 c3   1   0\n"
    assert _read_cbc(good, "", n_y=3, sign=-1.0).selected.tolist() == [1]
