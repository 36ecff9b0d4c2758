"""Array-level solvers: maximal covering (greedy, exact) and the fewest sites to a target.

All work on a boolean *coverage* matrix (demand units × candidate sites) and are
benchmarked in ``bench/bench_siting.py``; see :mod:`qjgeo.siting` for the problems and the
methods.
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
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csc_array, csr_array

Method = Literal["greedy", "exact"]
#: Extra HiGHS options: the interior-point LP solver was 2–5× faster than the default
#: simplex on the MCLP relaxations of ``bench/bench_siting.py``.
_HIGHS_OPTIONS: dict[str, Any] = {"mip_lp_solver": "ipm"}
Solver = Literal["highs", "cbc"]
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
        with open(os.devnull, "w", encoding="utf-8") as devnull:
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
