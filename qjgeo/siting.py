"""Where to build next: site recommendations that cover the most uncovered children.

Two problems, both on a boolean *coverage* matrix (demand units × candidate sites; ``True``
where the candidate lies within the walking threshold of the demand unit):

- **maximal covering** (MCLP, Church & ReVelle 1974): choose ``k`` new sites maximising the
  weight (children) newly covered;
- **fewest sites to reach a target**: the smallest set of new sites lifting the covered
  share to ``target_share`` (e.g. 70 % of townships with a science venue).

Existing facilities stay: demand they already cover is passed as ``already_covered`` and
counts neither as a gain nor against the objective.

Two methods share each problem:

- ``greedy``: lazy greedy (CELF, Leskovec et al. 2007) with a heap; never below
  (1 − 1/e) ≈ 63 % of the optimum for maximal covering (Nemhauser, Wolsey & Fisher 1978),
  usually within a few per cent;
- ``exact``: a mixed-integer programme (PuLP with HiGHS or CBC), with a time limit; the
  solver's best bound and the optimality gap are reported (``nan`` = unknown).

Array level (benchmarked in ``bench/bench_siting.py``): :func:`max_cover_greedy`,
:func:`max_cover_exact`, :func:`min_sites_for_target`. Dataset level:
:func:`recommend_sites` (villages as demand points weighted by the facility type's age
bands, or townships as demand units) and :func:`recommendation_to_scenario`.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csc_array, csr_array

from qjgeo.catalog import Dataset
from qjgeo.crs import METRIC_CRS, WGS84_CRS

if TYPE_CHECKING:
    from qjgeo.network import WalkGraph
    from qjgeo.scenario import Scenario

__all__ = [
    "DEFAULT_NEW_CAPACITY",
    "Recommendation",
    "SitingResult",
    "candidate_sites",
    "coverage_matrix",
    "max_cover_exact",
    "max_cover_greedy",
    "min_sites_for_target",
    "recommend_sites",
    "recommendation_to_scenario",
    "village_coverage",
]

Method = Literal["greedy", "exact"]
#: Extra HiGHS options: the interior-point LP solver was 2–5× faster than the default
#: simplex on the MCLP relaxations of ``bench/bench_siting.py``.
_HIGHS_OPTIONS: dict[str, Any] = {"mip_lp_solver": "ipm"}
Solver = Literal["highs", "cbc"]
_TOL = 1e-9
#: Chinese names of the data statuses a recommendation can rest on (as the app labels them).
_DATA_STATUS_ZH: dict[str, str] = {
    "sample": "样例",
    "estimated": "估算",
    "osm": "OSM",
    "user": "用户",
    "official": "官方",
}

#: Placeholder capacity written into scenarios made from a recommendation (edit before use):
#: a community childcare point (托育点) ~50 places, a 9-class kindergarten 270, a 36-class
#: primary school 1,620.
DEFAULT_NEW_CAPACITY: dict[str, dict[str, Any]] = {
    "childcare": {"places": 50, "puhui": True},
    "kindergarten": {"places": 270, "puhui": True},
    "primary_school": {"places": 1620},
}


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

    @property
    def share_before(self) -> float:
        """Covered share before the new sites (``nan`` without demand)."""
        return self.covered_before / self.total_weight if self.total_weight else math.nan

    @property
    def share_after(self) -> float:
        """Covered share with the new sites (``nan`` without demand)."""
        return self.covered_after / self.total_weight if self.total_weight else math.nan


# --------------------------------------------------------------------------------------
# Array core


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
    short = len(chosen) < k
    message = (
        f"only {len(chosen)} of {k} sites add coverage; the others would add nothing"
        if short
        else ""
    )
    message_zh = f"{k} 处选址中只有 {len(chosen)} 处能增加覆盖，其余不增加覆盖" if short else ""
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
    )


def _unique_rows(
    cov: csr_array, residual: NDArray[np.float64]
) -> tuple[list[NDArray[np.int32]], NDArray[np.float64]]:
    """Demand rows with positive residual weight, identical rows merged (weights summed)."""
    rows = np.flatnonzero(residual > 0)
    groups: dict[bytes, int] = {}
    cols: list[NDArray[np.int32]] = []
    weights: list[float] = []
    indptr, indices = cov.indptr, cov.indices
    for r in rows:
        cand = np.sort(indices[indptr[r] : indptr[r + 1]])
        if cand.size == 0:
            continue
        key = cand.tobytes()
        slot = groups.get(key)
        if slot is None:
            groups[key] = len(cols)
            cols.append(cand)
            weights.append(float(residual[r]))
        else:
            weights[slot] += float(residual[r])
    return cols, np.asarray(weights, dtype=np.float64)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence solver banners written straight to file descriptor 1 (HiGHS prints one)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


class _HiGHSWithStart(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's HiGHS interface, handing the variables' initial values over as a start."""

    def callSolver(self, lp: pulp.LpProblem) -> None:
        import highspy

        values = [var.varValue for var in lp.variables()]
        if any(v is not None for v in values):
            start = highspy.HighsSolution()
            start.col_value = [float(v or 0.0) for v in values]
            start.value_valid = True
            lp.solverModel.setSolution(start)
        lp.solverModel.run()


def _solver(solver: Solver, time_limit_s: float, msg: bool = False) -> Any:
    if solver == "highs":
        return _HiGHSWithStart(msg=msg, timeLimit=time_limit_s, gapRel=1e-9, **_HIGHS_OPTIONS)
    if solver == "cbc":
        if pulp.COIN_CMD().available():
            return pulp.COIN_CMD(msg=msg, timeLimit=time_limit_s, gapRel=1e-9)
        with warnings.catch_warnings():  # the bundled CBC is deprecated for PuLP 4, still works
            warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=msg, timeLimit=time_limit_s, gapRel=1e-9)
    raise ValueError(f"solver must be 'highs' or 'cbc', got {solver!r}")


def _solve(prob: pulp.LpProblem, solver: Solver, time_limit_s: float) -> tuple[str, float, float]:
    """Solve; return (status, best bound, gap reported by the solver or nan)."""
    if time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s}")
    start = time.perf_counter()
    with _quiet_stdout():
        prob.solve(_solver(solver, time_limit_s))
    elapsed = time.perf_counter() - start
    bound, gap = math.nan, math.nan
    status = "optimal" if pulp.LpStatus[prob.status] == "Optimal" else pulp.LpStatus[prob.status]
    model = getattr(prob, "solverModel", None)
    if solver == "highs" and model is not None:
        import highspy

        info = model.getInfo()
        hstatus = model.getModelStatus()
        if hstatus == highspy.HighsModelStatus.kTimeLimit:
            status = "time_limit"
        elif hstatus != highspy.HighsModelStatus.kOptimal:
            status = model.modelStatusToString(hstatus).lower()
        # PuLP may hand a maximisation to HiGHS as the minimisation of −objective
        ours = pulp.value(prob.objective) or 0.0
        theirs = float(model.getObjectiveValue())
        sign = -1.0 if ours and abs(theirs + ours) < abs(theirs - ours) else 1.0
        if info.mip_node_count >= 0 and math.isfinite(info.mip_dual_bound):
            bound = sign * float(info.mip_dual_bound)
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else math.nan
        elif status == "optimal":
            bound = sign * theirs
            gap = 0.0
    elif status == "optimal" and elapsed < time_limit_s * 0.99:
        gap = 0.0  # CBC proved optimality; its bound equals the objective
    elif status == "optimal":
        status = "time_limit"  # CBC reports a stopped run as "Optimal": gap unknown
    return status, bound, gap


def _order_by_gain(
    cov: csr_array, residual: NDArray[np.float64], sites: list[int]
) -> tuple[list[int], list[float]]:
    """Rank a fixed set of sites greedily by marginal gain (for reporting)."""
    if not sites:
        return [], []
    sub = cov[:, np.asarray(sites, dtype=np.int64)]
    order, gains = _lazy_greedy(csr_array(sub), residual, len(sites))
    ranked = [sites[i] for i in order]
    rest = [s for s in sites if s not in set(ranked)]
    return ranked + rest, gains + [0.0] * len(rest)


def _set_start(
    y: dict[int, Any], z: list[Any], rows: list[NDArray[np.int32]], sites: list[int]
) -> None:
    """Give the solver a feasible start: the greedy sites and the rows they cover."""
    chosen = set(sites)
    for j, var in y.items():
        var.setInitialValue(1.0 if j in chosen else 0.0)
    for var, cand in zip(z, rows, strict=True):
        var.setInitialValue(1.0 if chosen.intersection(cand.tolist()) else 0.0)


def max_cover_exact(
    coverage: Any,
    weights: ArrayLike,
    k: int,
    *,
    already_covered: ArrayLike | None = None,
    time_limit_s: float = 30.0,
    solver: Solver = "highs",
) -> SitingResult:
    """Choose ``k`` new sites covering the most uncovered weight, solved as an integer programme.

    Parameters
    ----------
    coverage, weights, k, already_covered
        As for :func:`max_cover_greedy`.
    time_limit_s
        Solver time limit, seconds; when hit, the best solution found is returned with
        ``status="time_limit"`` and the gap (HiGHS) or an unknown gap (CBC).
    solver
        ``"highs"`` (highspy through PuLP) or ``"cbc"``.

    Returns
    -------
    SitingResult
        Sites ranked by marginal gain; ``objective`` recomputed from the coverage matrix.

    Notes
    -----
    MCLP: maximise Σ wᵢ zᵢ subject to zᵢ ≤ Σ_{j covers i} yⱼ, Σ yⱼ ≤ k, yⱼ ∈ {0, 1},
    0 ≤ zᵢ ≤ 1 (integral at the optimum). Demand units with identical candidate sets are
    merged first, and the greedy solution is the starting incumbent lower bound.
    """
    _check_k(k)
    start = time.perf_counter()
    cov, w, residual, done = _prepare(coverage, weights, already_covered)
    rows, row_w = _unique_rows(cov, residual)
    greedy, _ = _lazy_greedy(cov, residual, int(k))
    if not rows or k == 0:
        return _result(
            cov, w, done, [], [], method="exact", status="optimal", best_bound=0.0, gap=0.0,
            time_s=time.perf_counter() - start, message="nothing left to cover",
            message_zh="已无可覆盖的需求",
        )  # fmt: skip
    used = np.unique(np.concatenate(rows))
    prob = pulp.LpProblem("max_cover", pulp.LpMaximize)
    y = {int(j): prob.add_variable(f"y{j}", cat="Binary") for j in used}
    z = [prob.add_variable(f"z{i}", lowBound=0, upBound=1) for i in range(len(rows))]
    prob += pulp.LpAffineExpression(zip(z, row_w.tolist(), strict=True))
    prob += pulp.LpAffineExpression([(y[j], 1.0) for j in y]) <= int(k), "k_sites"
    for i, cand in enumerate(rows):
        expr = pulp.LpAffineExpression([(z[i], 1.0), *((y[int(j)], -1.0) for j in cand)])
        prob += expr <= 0, f"c{i}"
    _set_start(y, z, rows, greedy)
    build_s = time.perf_counter() - start
    status, bound, gap = _solve(prob, solver, time_limit_s)
    solve_s = time.perf_counter() - start - build_s
    online = _online_bound(cov, residual, greedy, int(k))
    bound = online if not math.isfinite(bound) else min(bound, online)
    values = {j: (var.value() or 0.0) for j, var in y.items()}
    picked = [j for j, v in values.items() if v > 0.5]
    if not picked and status != "optimal":
        picked = greedy  # no incumbent within the time limit: fall back, say so
        status = f"{status}: no solution, greedy returned"
    ranked, gains = _order_by_gain(cov, residual, picked)
    objective = float(np.sum(gains))
    g_ranked, g_gains = _order_by_gain(cov, residual, greedy)
    if float(np.sum(g_gains)) > objective + _TOL:  # the solver ended below its start
        ranked, gains, objective = g_ranked, g_gains, float(np.sum(g_gains))
        status = status if status.startswith("time_limit") else f"{status}: greedy start kept"
    if status == "optimal":
        bound = min(bound, objective)  # optimality proven (CBC gives no bound of its own)
    gap = max(0.0, (bound - objective) / bound) if bound > 0 else 0.0
    message = f"model built in {build_s:.1f} s, solved in {solve_s:.1f} s"
    message_zh = f"建模用时 {build_s:.1f} 秒，求解用时 {solve_s:.1f} 秒"
    if status.startswith("time_limit"):
        message += (
            f"; stopped at the {time_limit_s:g} s time limit: at most {gap:.2%} below the "
            f"best possible (bound {bound:.6g})"
        )
        message_zh += (
            f"；达到 {time_limit_s:g} 秒时限后停止：与最优解的差距不超过 {gap:.2%}"
            f"（上界 {bound:.6g}）"
        )
    return _result(
        cov, w, done, ranked, gains, method="exact", status=status, best_bound=bound,
        gap=gap, time_s=time.perf_counter() - start, message=message,
        message_zh=message_zh,
    )  # fmt: skip


def min_sites_for_target(
    coverage: Any,
    weights: ArrayLike,
    target_share: float,
    *,
    already_covered: ArrayLike | None = None,
    method: Method = "greedy",
    time_limit_s: float = 30.0,
    solver: Solver = "highs",
) -> SitingResult:
    """The fewest new sites that bring the covered share up to ``target_share``.

    Parameters
    ----------
    coverage, weights, already_covered
        As for :func:`max_cover_greedy`.
    target_share
        Share of the total weight to cover, in (0, 1] (existing coverage counts).
    method
        ``"greedy"`` (add the best site until the target is met) or ``"exact"``
        (minimise the number of sites as an integer programme).
    time_limit_s, solver
        For ``"exact"``.

    Returns
    -------
    SitingResult
        ``status`` ``"target_met"`` when already met without new sites,
        ``"target_unreachable"`` when even every candidate falls short (then all useful
        sites are returned and ``message`` gives the reachable share).
    """
    if not 0 < target_share <= 1:
        raise ValueError(f"target_share must be in (0, 1], got {target_share!r}")
    start = time.perf_counter()
    cov, w, residual, done = _prepare(coverage, weights, already_covered)
    total = float(w.sum())
    need = target_share * total - float(w[done].sum())
    common = {"method": method}
    if need <= _TOL * max(total, 1.0):
        return _result(
            cov, w, done, [], [], status="target_met", best_bound=0.0, gap=0.0,
            time_s=time.perf_counter() - start,
            message=f"target {target_share:.0%} already met by existing facilities",
            message_zh=f"现有设施已达到 {target_share:.0%} 的目标", **common,
        )  # fmt: skip
    chosen, gains = _lazy_greedy(cov, residual, cov.shape[1], stop_at=need)
    if sum(gains) < need - _TOL * max(total, 1.0):
        reach = (float(w[done].sum()) + sum(gains)) / total if total else math.nan
        return _result(
            cov, w, done, chosen, gains, status="target_unreachable",
            time_s=time.perf_counter() - start,
            message=f"target {target_share:.0%} cannot be reached with these candidates; "
            f"all {len(chosen)} useful sites reach {reach:.1%}",
            message_zh=f"现有候选点无法达到 {target_share:.0%} 的目标；"
            f"全部 {len(chosen)} 处有效选址只能达到 {reach:.1%}", **common,
        )  # fmt: skip
    if method == "greedy":
        return _result(
            cov, w, done, chosen, gains, status="heuristic",
            time_s=time.perf_counter() - start, **common,
        )  # fmt: skip
    if method != "exact":
        raise ValueError(f"method must be 'greedy' or 'exact', got {method!r}")
    rows, row_w = _unique_rows(cov, residual)
    used = np.unique(np.concatenate(rows))
    prob = pulp.LpProblem("min_sites", pulp.LpMinimize)
    y = {int(j): prob.add_variable(f"y{j}", cat="Binary") for j in used}
    z = [prob.add_variable(f"z{i}", lowBound=0, upBound=1) for i in range(len(rows))]
    prob += pulp.LpAffineExpression([(y[j], 1.0) for j in y])
    prob += (
        pulp.LpAffineExpression(zip(z, row_w.tolist(), strict=True))
        >= need - _TOL * max(total, 1.0),
        "target",
    )
    for i, cand in enumerate(rows):
        expr = pulp.LpAffineExpression([(z[i], 1.0), *((y[int(j)], -1.0) for j in cand)])
        prob += expr <= 0, f"c{i}"
    status, bound, gap = _solve(prob, solver, time_limit_s)
    picked = [j for j, var in y.items() if (var.value() or 0.0) > 0.5]
    if not picked:
        picked, status = chosen, f"{status}: no solution, greedy returned"
    ranked, gains = _order_by_gain(cov, residual, picked)
    if math.isfinite(bound):
        bound = float(math.ceil(bound - 1e-6))
        gap = (len(ranked) - bound) / len(ranked) if ranked else 0.0
    elif gap == 0.0:
        bound = float(len(ranked))
    return _result(
        cov, w, done, ranked, gains, status=status, best_bound=bound, gap=gap,
        time_s=time.perf_counter() - start, **common,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Dataset level


def _demand_villages(
    dataset: Dataset, facility_type: str
) -> tuple[gpd.GeoDataFrame, NDArray[np.float64], NDArray[np.float64]]:
    """Villages (metric), children per village and walking threshold per village (m)."""
    access = dataset.params.facility(facility_type)
    villages = dataset.metric("village")
    children = np.zeros(len(villages), dtype=np.float64)
    for band in access.age_bands:
        children += villages[band].to_numpy(dtype=np.float64)
    urban = villages["urban"].fillna(False).astype(bool).to_numpy()
    threshold = np.where(urban, access.urban_threshold_m, access.rural_threshold_m).astype(float)
    return villages, children, threshold


def coverage_matrix(
    dataset: Dataset,
    facility_type: str,
    sites: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    graph: WalkGraph | None = None,
) -> csr_array:
    """Which sites each village can reach within its threshold (villages × sites, bool).

    Parameters
    ----------
    dataset
        Supplies the villages (demand points), the thresholds of the facility type
        (urban or rural per village) and the detour factor.
    facility_type
        Facility layer id whose access parameters apply.
    sites
        Points in any CRS (facilities or candidates).
    graph
        Walking network; without one, straight line × the detour factor.

    Returns
    -------
    scipy.sparse.csr_array
        Boolean, shape (villages, sites).
    """
    from qjgeo.access import distance_matrix_within

    villages, _, threshold = _demand_villages(dataset, facility_type)
    if len(villages) == 0 or len(sites) == 0:
        return csr_array((len(villages), len(sites)), dtype=bool)
    dist = csr_array(
        distance_matrix_within(
            graph,
            villages,
            sites,
            max_distance_m=float(threshold.max()),
            detour_factor=dataset.params.detour_factor,
            snap_limit_m=dataset.params.snap_limit_m,
        )
    )
    row = np.repeat(np.arange(dist.shape[0]), np.diff(dist.indptr))
    keep = dist.data <= threshold[row] * (1 + 1e-9)
    return csr_array(
        (np.ones(int(keep.sum()), dtype=bool), (row[keep], dist.indices[keep])),
        shape=dist.shape,
    )


def village_coverage(
    dataset: Dataset, facility_type: str, *, graph: WalkGraph | None = None
) -> pd.DataFrame:
    """Whether each village reaches an existing facility of a type within its threshold.

    Returns
    -------
    pandas.DataFrame
        ``code12, name, township_code, children, covered``, one row per village.
    """
    villages, children, _ = _demand_villages(dataset, facility_type)
    facilities = dataset.layer(facility_type)
    covered = (
        _covered_by(
            coverage_matrix(dataset, facility_type, facilities, graph=graph),
            np.arange(len(facilities)),
        )
        if len(facilities)
        else np.zeros(len(villages), dtype=bool)
    )
    return pd.DataFrame(
        {
            "code12": villages["code12"].astype(str).to_numpy(),
            "name": villages["name"].astype(str).to_numpy(),
            "township_code": villages["township_code"].astype(str).to_numpy(),
            "children": children,
            "covered": covered,
        }
    )


def _hex_centres(area_metric: Any, spacing_m: float) -> NDArray[np.float64]:
    minx, miny, maxx, maxy = shapely.bounds(area_metric)
    dy = spacing_m * math.sqrt(3) / 2
    ys = np.arange(miny, maxy + dy, dy)
    xs = np.arange(minx, maxx + spacing_m, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys))[:, None] % 2) * spacing_m / 2
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    inside = shapely.contains_xy(area_metric, pts[:, 0], pts[:, 1])
    return pts[inside]


def _township_of(dataset: Dataset, points: gpd.GeoSeries) -> NDArray[np.object_]:
    out = np.full(len(points), None, dtype=object)
    if not dataset.has("township") or len(points) == 0:
        return out
    town = dataset.layer("township")
    pts = points.to_crs(WGS84_CRS).array
    tree = shapely.STRtree(town.geometry.array)
    p_idx, t_idx = tree.query(pts, predicate="intersects")
    codes = town["code9"].astype(str).to_numpy()
    out[p_idx[::-1]] = codes[t_idx[::-1]]
    return out


def candidate_sites(
    dataset: Dataset,
    candidates: Literal["villages", "seats", "hex"] | gpd.GeoDataFrame = "villages",
    *,
    hex_spacing_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Candidate sites for new facilities: village points, township seats, a hex grid or a file.

    Parameters
    ----------
    dataset
        Supplies villages, township seats and the district outline.
    candidates
        ``"villages"``, ``"seats"``, ``"hex"`` (hexagonal grid of centres inside the
        district, ``hex_spacing_m`` apart) or a GeoDataFrame of points (columns ``id`` and
        ``name`` used when present).
    hex_spacing_m
        Distance between neighbouring hex centres, metres.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with ``candidate_id, name, township_code, source``. Points outside the
        district are dropped.

    Raises
    ------
    ValueError
        For an unknown candidate kind, a missing layer, or non-point geometries.
    """
    if isinstance(candidates, gpd.GeoDataFrame):
        if candidates.crs is None:
            raise ValueError("candidate sites have no CRS; set one (e.g. EPSG:4326)")
        frame = candidates.to_crs(WGS84_CRS)
        geoms = frame.geometry
        if len(frame) and not (geoms.geom_type == "Point").all():
            bad = int((geoms.geom_type != "Point").to_numpy().nonzero()[0][0])
            raise ValueError(
                f"candidate row {bad + 1} is a {geoms.geom_type.iloc[bad]}, not a point"
            )
        ids = (
            frame["id"].astype(str).to_numpy()
            if "id" in frame.columns
            else np.array([f"C{i + 1:04d}" for i in range(len(frame))], dtype=object)
        )
        names = frame["name"].astype(str).to_numpy() if "name" in frame.columns else ids
        out = gpd.GeoDataFrame(
            {"candidate_id": ids, "name": names, "source": "user file"},
            geometry=geoms.to_numpy(),
            crs=WGS84_CRS,
        )
    elif candidates == "villages":
        if not dataset.has("village"):
            raise ValueError("village candidates need a 'village' layer, not available")
        v = dataset.layer("village")
        names = v["short_name"] if "short_name" in v.columns else v["name"]
        out = gpd.GeoDataFrame(
            {
                "candidate_id": v["code12"].astype(str).to_numpy(),
                "name": names.astype(str).to_numpy(),
                "source": "village point",
            },
            geometry=v.geometry.to_numpy(),
            crs=WGS84_CRS,
        )
    elif candidates == "seats":
        if not dataset.has("township"):
            raise ValueError("seat candidates need a 'township' layer, not available")
        t = dataset.layer("township")
        if {"seat_lon", "seat_lat"} <= set(t.columns):
            geoms = shapely.points(t["seat_lon"].to_numpy(float), t["seat_lat"].to_numpy(float))
        else:
            geoms = t.representative_point().to_numpy()
        out = gpd.GeoDataFrame(
            {
                "candidate_id": t["code9"].astype(str).to_numpy(),
                "name": (t["name"].astype(str) + " seat").to_numpy(),
                "source": "township seat",
            },
            geometry=geoms,
            crs=WGS84_CRS,
        )
    elif candidates == "hex":
        if not dataset.has("district"):
            raise ValueError("hex candidates need a 'district' layer, not available")
        if not _spacing_ok(hex_spacing_m):
            raise ValueError(f"hex_spacing_m must be ≥ 50, got {hex_spacing_m}")
        area = shapely.union_all(dataset.metric("district").geometry.array)
        pts = _hex_centres(area, hex_spacing_m)
        metric = gpd.GeoSeries(shapely.points(pts), crs=METRIC_CRS)
        ids = np.array([f"HEX{i + 1:05d}" for i in range(len(pts))], dtype=object)
        out = gpd.GeoDataFrame(
            {"candidate_id": ids, "name": ids, "source": f"hex grid {hex_spacing_m:g} m"},
            geometry=metric.to_crs(WGS84_CRS).to_numpy(),
            crs=WGS84_CRS,
        )
    else:
        raise ValueError(
            f"candidates must be 'villages', 'seats', 'hex' or a GeoDataFrame, got {candidates!r}"
        )
    if dataset.has("district") and len(out):
        area_wgs = shapely.union_all(dataset.layer("district").geometry.array)
        out = out[shapely.intersects(area_wgs, out.geometry.array)].reset_index(drop=True)
    out["township_code"] = _township_of(dataset, out.geometry)
    return out[["candidate_id", "name", "township_code", "source", "geometry"]]


def _spacing_ok(spacing_m: float) -> bool:
    """Whether a hex spacing is usable (≥ 50 m, finite)."""
    return math.isfinite(spacing_m) and spacing_m >= 50


@dataclass(frozen=True, eq=False)
class Recommendation:
    """Ranked new sites for one facility type, with coverage before and after.

    Attributes
    ----------
    facility_type
        Facility layer id.
    demand
        ``"children"`` (villages weighted by the type's age bands) or ``"townships"``
        (a township is covered when it holds ≥ 1 facility).
    sites
        WGS84 GeoDataFrame, one row per new site in rank order: ``rank, candidate_id,
        name, township_code, lon, lat, marginal_gain, cumulative_covered,
        share_after_site`` and ``marginal_children`` or ``marginal_townships``.
    result
        The array-level :class:`SitingResult` (status, objective, bound, gap, time).
    unit
        What the weights count: ``"children"`` or ``"townships"``.
    candidates
        How the candidates were made (``"villages"``, ``"seats"``, ``"hex"``, ``"file"``).
    n_candidates
        Number of candidate sites considered.
    data_status
        ``official``/``estimated``/``sample``: the weakest data the result rests on.
    notes, notes_zh
        Planner-readable caveats (thresholds used, distance method, target reached...), in
        English and, one for one, in Chinese.
    """

    facility_type: str
    demand: str
    sites: gpd.GeoDataFrame
    result: SitingResult
    unit: str
    candidates: str
    n_candidates: int
    data_status: str
    notes: tuple[str, ...] = field(default=())
    notes_zh: tuple[str, ...] = field(default=())

    @property
    def method(self) -> str:
        """``"greedy"`` or ``"exact"``."""
        return self.result.method

    @property
    def gap(self) -> float:
        """Relative optimality gap (``nan`` when unknown or greedy)."""
        return self.result.gap

    def summary(self) -> pd.DataFrame:
        """One-row table: coverage before/after, sites, method, status, gap, data status."""
        r = self.result
        return pd.DataFrame(
            [
                {
                    "facility_type": self.facility_type,
                    "demand": self.demand,
                    "sites": len(self.sites),
                    "covered_before": r.covered_before,
                    "covered_after": r.covered_after,
                    "total": r.total_weight,
                    "share_before": r.share_before,
                    "share_after": r.share_after,
                    "method": r.method,
                    "status": r.status,
                    "gap": r.gap,
                    "time_s": round(r.time_s, 3),
                    "candidates": f"{self.candidates} ({self.n_candidates})",
                    "data_status": self.data_status,
                }
            ]
        )


def _town_demand(
    dataset: Dataset, facility_type: str, cands: gpd.GeoDataFrame
) -> tuple[csr_array, NDArray[np.float64], NDArray[np.bool_]]:
    towns = dataset.layer("township")
    codes = towns["code9"].astype(str).to_numpy()
    pos = {c: i for i, c in enumerate(codes)}
    cand_town = np.array([pos.get(str(c), -1) for c in cands["township_code"]], dtype=np.int64)
    ok = cand_town >= 0
    cov = csr_array(
        (np.ones(int(ok.sum()), dtype=bool), (cand_town[ok], np.flatnonzero(ok))),
        shape=(len(codes), len(cands)),
    )
    facilities = dataset.layer(facility_type)
    if "township_code" in facilities.columns:
        have = set(facilities["township_code"].dropna().astype(str))
    else:
        have = set(_township_of(dataset, facilities.geometry).tolist())
    done = np.isin(codes, list(have))
    return cov, np.ones(len(codes), dtype=np.float64), done


def recommend_sites(
    dataset: Dataset,
    facility_type: str,
    *,
    k: int | None = None,
    target_share: float | None = None,
    method: Method = "greedy",
    candidates: Literal["villages", "seats", "hex"] | gpd.GeoDataFrame = "villages",
    demand: Literal["children", "townships"] = "children",
    graph: WalkGraph | None = None,
    time_limit_s: float = 30.0,
    solver: Solver = "highs",
    hex_spacing_m: float = 1000.0,
) -> Recommendation:
    """Recommend new sites for a facility type, keeping every existing facility.

    Parameters
    ----------
    dataset
        The (possibly scenario-applied) data.
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    k
        Number of new sites (maximal covering). Give ``k`` or ``target_share``.
    target_share
        Share of children (or of townships) to reach with the fewest new sites.
    method
        ``"greedy"`` or ``"exact"``.
    candidates
        ``"villages"``, ``"seats"``, ``"hex"`` or a GeoDataFrame of candidate points.
    demand
        ``"children"``: villages weighted by the children of the type's age bands, covered
        within the urban/rural walking threshold; ``"townships"``: a township is covered
        when it holds at least one facility (e.g. 70 % of townships with a science venue).
    graph
        Walking network; without one, straight line × the detour factor.
    time_limit_s, solver
        For ``method="exact"``.
    hex_spacing_m
        Spacing of the ``"hex"`` candidate grid, metres.

    Returns
    -------
    Recommendation
        Ranked sites with marginal gain and coverage before/after.

    Raises
    ------
    ValueError
        For a missing layer, an unknown facility type, or neither/both of ``k`` and
        ``target_share``.
    """
    if (k is None) == (target_share is None):
        raise ValueError("give either k (number of new sites) or target_share, not both")
    if not dataset.has(facility_type):
        raise ValueError(f"facility layer {facility_type!r} is not available in this dataset")
    needed = ["village"] if demand == "children" else ["township"]
    for layer in needed:
        if not dataset.has(layer):
            raise ValueError(f"demand layer {layer!r} is not available in this dataset")
    if demand not in ("children", "townships"):
        raise ValueError(f"demand must be 'children' or 'townships', got {demand!r}")
    cands = candidate_sites(dataset, candidates, hex_spacing_m=hex_spacing_m)
    label = candidates if isinstance(candidates, str) else "file"
    notes: list[str] = []
    notes_zh: list[str] = []
    if demand == "children":
        access = dataset.params.facility(facility_type)
        _, weights, _ = _demand_villages(dataset, facility_type)
        cov = coverage_matrix(dataset, facility_type, cands, graph=graph)
        existing = dataset.layer(facility_type)
        done = _covered_by(
            coverage_matrix(dataset, facility_type, existing, graph=graph),
            np.arange(len(existing)),
        )
        unit = "children"
        how = (
            "walking network"
            if graph is not None
            else (f"straight line × {dataset.params.detour_factor:g} (no network loaded)")
        )
        how_zh = (
            "步行路网"
            if graph is not None
            else f"直线距离 × {dataset.params.detour_factor:g}（未加载路网）"
        )
        ages_zh = "全部年龄" if access.label == "all ages" else f"{access.label} 岁"
        notes.append(
            f"children aged {access.label} per village; covered within "
            f"{access.urban_threshold_m:g} m (urban) / {access.rural_threshold_m:g} m (rural), "
            f"distance by {how}"
        )
        notes_zh.append(
            f"按村统计 {ages_zh}儿童；城镇 {access.urban_threshold_m:g} 米、农村 "
            f"{access.rural_threshold_m:g} 米以内算作覆盖，距离按{how_zh}计算"
        )
        layers = ["village", facility_type]
    else:
        cov, weights, done = _town_demand(dataset, facility_type, cands)
        unit = "townships"
        notes.append("a township counts as covered when it holds at least one facility")
        notes_zh.append("镇街内至少有一处设施即算作覆盖")
        layers = ["township", facility_type]
    if target_share is not None:
        result = min_sites_for_target(
            cov, weights, target_share, already_covered=done, method=method,
            time_limit_s=time_limit_s, solver=solver,
        )  # fmt: skip
    else:
        assert k is not None
        if method == "greedy":
            result = max_cover_greedy(cov, weights, k, already_covered=done)
        elif method == "exact":
            result = max_cover_exact(
                cov, weights, k, already_covered=done, time_limit_s=time_limit_s, solver=solver
            )
        else:
            raise ValueError(f"method must be 'greedy' or 'exact', got {method!r}")
    if result.message:
        notes.append(result.message)
        notes_zh.append(result.message_zh)
    chosen = cands.iloc[result.selected].reset_index(drop=True)
    cumulative = result.covered_before + np.cumsum(result.gains)
    sites = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(chosen) + 1),
            "candidate_id": chosen["candidate_id"].to_numpy(),
            "name": chosen["name"].to_numpy(),
            "township_code": chosen["township_code"].to_numpy(),
            "lon": chosen.geometry.x.round(6).to_numpy(),
            "lat": chosen.geometry.y.round(6).to_numpy(),
            "marginal_gain": result.gains,
            f"marginal_{unit}": result.gains,
            "cumulative_covered": cumulative,
            "share_after_site": cumulative / result.total_weight
            if result.total_weight
            else np.full(len(chosen), np.nan),
        },
        geometry=chosen.geometry.to_numpy(),
        crs=WGS84_CRS,
    )
    status = dataset.data_status([x for x in layers if dataset.has(x)])
    if status != "official":
        notes.append(f"rests on {status} data: check the sites on the ground before use")
        status_zh = _DATA_STATUS_ZH.get(status, status)
        notes_zh.append(f"基于{status_zh}数据：使用前请实地核查选址")
    return Recommendation(
        facility_type=facility_type,
        demand=demand,
        sites=sites,
        result=result,
        unit=unit,
        candidates=label,
        n_candidates=len(cands),
        data_status=status,
        notes=tuple(notes),
        notes_zh=tuple(notes_zh),
    )


def recommendation_to_scenario(
    rec: Recommendation,
    name: str,
    description: str = "",
    *,
    attributes: dict[str, Any] | None = None,
    base: str | None = None,
) -> Scenario:
    """Turn recommended sites into a scenario that adds them (one step to a scenario file).

    Parameters
    ----------
    rec
        The recommendation.
    name
        Scenario name.
    description
        Free text; a summary of the recommendation is used when empty.
    attributes
        Attributes of every new facility; default :data:`DEFAULT_NEW_CAPACITY` for types
        that need a capacity (placeholder figures: edit them before using the numbers).
    base
        Base scenario (``None`` = baseline).

    Returns
    -------
    Scenario
        ``add`` holds one facility per site, in rank order, in WGS84.
    """
    from qjgeo.scenario import FacilityAdd, Scenario

    attrs = dict(DEFAULT_NEW_CAPACITY.get(rec.facility_type, {}))
    attrs.update(attributes or {})
    r = rec.result
    if not description:
        description = (
            f"{len(rec.sites)} new {rec.facility_type} site(s) recommended by the {r.method} "
            f"method ({rec.candidates} candidates, {rec.demand} demand): covered "
            f"{r.covered_before:,.0f} → {r.covered_after:,.0f} of {r.total_weight:,.0f} "
            f"{rec.unit}; data {rec.data_status}"
        )
    adds = [
        FacilityAdd(
            type=rec.facility_type,
            lon=float(row.lon),
            lat=float(row.lat),
            crs="wgs84",
            name=f"{name} #{int(row.rank)} ({row.name})",
            attributes=attrs,
        )
        for row in rec.sites.itertuples()
    ]
    return Scenario(name=name, description=description, base=base, add=adds)
