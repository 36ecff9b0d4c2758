"""Array-level siting results and the lazy greedy for maximal covering.

Work on a boolean *coverage* matrix (demand units × candidate sites), benchmarked in
``bench/bench_siting.py``; the exact methods are in :mod:`qjgeo.siting.exact`. See
:mod:`qjgeo.siting` for the problems and the methods.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csc_array, csr_array

Method = Literal["greedy", "exact"]
_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class SitingResult:
    """The sites chosen by one solver run, in rank order.

    Attributes
    ----------
    selected
        Candidate column indices, in the order of their marginal gain (greedy order).
    gains
        Weight each site adds given the ones ranked before it.
    objective
        Weight newly covered by all selected sites (excludes ``already_covered``).
    covered_before, covered_after
        Covered weight before and after (``already_covered`` included).
    total_weight
        Weight of all demand units.
    method
        ``"greedy"`` or ``"exact"``.
    status
        ``"optimal"``, ``"heuristic"`` (greedy), ``"time_limit"`` (exact, stopped early),
        ``"target_met"``, ``"target_unreachable"`` or ``"no_gain"``.
    best_bound
        Proven upper bound on the best possible objective: the solver's bound, or for
        the greedy the submodularity ("online") bound of its own run; the smaller of the
        two for the exact method. For :func:`min_sites_for_target` a lower bound on the
        number of sites (``nan`` if unknown).
    gap
        Relative optimality gap ``(bound − objective) / bound``: the result is at most
        this far below the optimum (0 when optimal, ``nan`` if unknown).
    time_s
        Wall time of the solve, seconds.
    message, message_zh
        A planner-readable note (why it stopped, what was not reachable), in English and
        in Chinese.
    k_requested
        Number of sites asked for (maximal covering; 0 for the fewest-sites problem). Only
        sites that add coverage are returned, so ``len(selected)`` may be smaller;
        ``message`` then says why.
    build_s, solve_s
        Exact methods: seconds spent reducing and building the model, and solving it
        (Lagrangian steps + integer programme); ``nan`` for the greedy.
    """

    selected: NDArray[np.int64]
    gains: NDArray[np.float64]
    objective: float
    covered_before: float
    covered_after: float
    total_weight: float
    method: str
    status: str
    best_bound: float = math.nan
    gap: float = math.nan
    time_s: float = 0.0
    message: str = ""
    message_zh: str = ""
    k_requested: int = 0
    build_s: float = math.nan
    solve_s: float = math.nan

    @property
    def n_useful(self) -> int:
        """Number of returned sites; each adds coverage (a zero-gain site is never returned)."""
        return int(self.selected.size)

    @property
    def share_before(self) -> float:
        """Covered share before the new sites (``nan`` without demand)."""
        return self.covered_before / self.total_weight if self.total_weight else math.nan

    @property
    def share_after(self) -> float:
        """Covered share with the new sites (``nan`` without demand)."""
        return self.covered_after / self.total_weight if self.total_weight else math.nan


def _prepare(
    coverage: Any, weights: ArrayLike, already_covered: ArrayLike | None
) -> tuple[csr_array, NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    cov = csr_array(coverage, dtype=bool)
    cov.eliminate_zeros()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != cov.shape[0]:
        raise ValueError(
            f"weights has {w.shape[0]} entries but coverage has {cov.shape[0]} demand rows"
        )
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and ≥ 0")
    if already_covered is None:
        done = np.zeros(cov.shape[0], dtype=bool)
    else:
        done = np.asarray(already_covered, dtype=bool).ravel()
        if done.shape[0] != cov.shape[0]:
            raise ValueError(
                f"already_covered has {done.shape[0]} entries, coverage {cov.shape[0]} rows"
            )
    residual = np.where(done, 0.0, w)
    return cov, w, residual, done


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be a whole number ≥ 0, got {k!r}")


def _lazy_greedy(
    cov: csr_array, residual: NDArray[np.float64], k: int, stop_at: float = math.inf
) -> tuple[list[int], list[float]]:
    """CELF: pop the best upper bound, refresh it, take it if it is still the best."""
    csc = csc_array(cov)
    indptr, indices = csc.indptr, csc.indices
    w = residual.copy()
    bounds = np.asarray(cov.T @ w, dtype=np.float64)
    heap = [(-float(g), int(j)) for j, g in enumerate(bounds) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    gained = 0.0
    while heap and len(chosen) < k and gained < stop_at - _TOL:
        _, j = heapq.heappop(heap)
        rows = indices[indptr[j] : indptr[j + 1]]
        gain = float(w[rows].sum())
        if gain <= 0:
            continue
        if heap:
            top_gain, top_j = -heap[0][0], heap[0][1]
            if gain < top_gain - _TOL or (gain <= top_gain + _TOL and j > top_j):
                heapq.heappush(heap, (-gain, j))  # stale: refresh later (ties: lowest index)
                continue
        chosen.append(j)
        gains.append(gain)
        gained += gain
        w[rows] = 0.0
    return chosen, gains


def _online_bound(
    cov: csr_array, residual: NDArray[np.float64], chosen: list[int], k: int
) -> float:
    """An upper bound on the best k-site objective, from the greedy run (submodularity).

    For every greedy prefix S, OPT ≤ f(S) + (sum of the k largest marginal gains given S)
    (Leskovec et al. 2007, "online bound"); the smallest of these is returned.
    """
    if k == 0:
        return 0.0
    csc = csc_array(cov)
    w = residual.copy()
    covered = 0.0
    best = math.inf
    for step in range(len(chosen) + 1):
        gains = np.asarray(cov.T @ w, dtype=np.float64)
        top = np.partition(gains, -k)[-k:].sum() if gains.size > k else gains.sum()
        best = min(best, covered + float(top))
        if step < len(chosen):
            j = chosen[step]
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            covered += float(w[rows].sum())
            w[rows] = 0.0
    return best


def _covered_by(cov: csr_array, selected: ArrayLike) -> NDArray[np.bool_]:
    sel = np.asarray(selected, dtype=np.int64)
    if sel.size == 0:
        return np.zeros(cov.shape[0], dtype=bool)
    return np.asarray(cov[:, sel].sum(axis=1)).ravel() > 0


def _result(
    cov: csr_array,
    w: NDArray[np.float64],
    done: NDArray[np.bool_],
    selected: list[int],
    gains: list[float],
    **kwargs: Any,
) -> SitingResult:
    before = float(w[done].sum())
    objective = float(np.sum(gains)) if gains else 0.0
    return SitingResult(
        selected=np.asarray(selected, dtype=np.int64),
        gains=np.asarray(gains, dtype=np.float64),
        objective=objective,
        covered_before=before,
        covered_after=before + objective,
        total_weight=float(w.sum()),
        **kwargs,
    )


def max_cover_greedy(
    coverage: Any,
    weights: ArrayLike,
    k: int,
    *,
    already_covered: ArrayLike | None = None,
) -> SitingResult:
    """Pick ``k`` new sites one at a time, each covering the most still-uncovered weight.

    Parameters
    ----------
    coverage
        Boolean sparse (or dense) matrix, demand units × candidate sites.
    weights
        Weight of each demand unit (children), ≥ 0.
    k
        Number of new sites.
    already_covered
        Demand units already covered by existing facilities (no gain from covering them).

    Returns
    -------
    SitingResult
        Sites in pick order with their marginal gain. Stops early (``status="no_gain"``)
        when no candidate adds anything.

    Notes
    -----
    Lazy evaluation (CELF): a candidate's gain can only shrink as sites are added, so the
    stored gain is an upper bound; only the top of the heap is refreshed. The result is the
    plain greedy one (ties go to the lowest candidate index), guaranteed ≥ (1 − 1/e) of the
    optimum.
    """
    _check_k(k)
    start = time.perf_counter()
    cov, w, residual, done = _prepare(coverage, weights, already_covered)
    chosen, gains = _lazy_greedy(cov, residual, int(k))
    bound = _online_bound(cov, residual, chosen, int(k))
    objective = float(np.sum(gains)) if gains else 0.0
    gap = max(0.0, (bound - objective) / bound) if bound > 0 else 0.0
    status = "heuristic" if len(chosen) == k else "no_gain"
    message, message_zh = shortfall_note(len(chosen), int(k))
    return _result(
        cov,
        w,
        done,
        chosen,
        gains,
        method="greedy",
        status=status,
        best_bound=bound,
        gap=gap,
        time_s=time.perf_counter() - start,
        message=message,
        message_zh=message_zh,
        k_requested=int(k),
    )


def shortfall_note(n_useful: int, k: int) -> tuple[str, str]:
    """Why fewer than ``k`` sites were placed (empty strings when all ``k`` were useful).

    Only called once every candidate adds nothing: all demand any candidate reaches is
    covered (by existing facilities or the sites placed).
    """
    if n_useful >= k:
        return "", ""
    return (
        f"only {n_useful} of the {k} sites asked for add coverage: with them, all the demand "
        f"any candidate site can reach is covered, so the other {k - n_useful} would cover "
        "nobody and are not placed",
        f"所需 {k} 处选址中只有 {n_useful} 处能增加覆盖：加上它们后，所有候选点可达的需求均已覆盖，"
        f"其余 {k - n_useful} 处不会新增覆盖任何人，因此不予布设",
    )
