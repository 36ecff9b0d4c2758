"""Exact siting within a wall-time limit: maximal covering and the fewest sites to a target.

Each run reduces the model first (:mod:`qjgeo.siting.reduce`: merged demand, dominated
candidates, for maximal covering a Lagrangian bound with the greedy as incumbent), then
hands what is left to HiGHS or CBC (:mod:`qjgeo.siting.milp`) with the time still left.
The whole call — reduction, model build, solve, result — is held to ``time_limit_s``; it
may run over by at most :data:`EXACT_OVERHEAD_S` (the solver noticing the deadline, and
ranking the chosen sites afterwards). Stopped early, it returns the best solution found
(never worse than the greedy one) with a proven bound and gap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array

from qjgeo.siting.milp import SOLVERS, Solver, max_cover_model, min_sites_model, solve
from qjgeo.siting.reduce import TOL, dominated_candidates, lagrangian_bound, unique_rows
from qjgeo.siting.solvers import (
    Method,
    SitingResult,
    _check_k,
    _lazy_greedy,
    _online_bound,
    _prepare,
    _result,
    shortfall_note,
)

#: Seconds the exact methods may run past ``time_limit_s`` (measured ≤ 0.3 s on the
#: 2,000 × 20,000 benchmark instance; ``tests/test_siting_exact.py`` holds it).
EXACT_OVERHEAD_S = 1.0
#: Share of the time limit the Lagrangian step may use before the integer programme.
_LAGRANGIAN_SHARE = 0.5
_SOLVER_NAME = {"highs": "HiGHS", "cbc": "CBC"}


def _check_exact(time_limit_s: float, solver: str) -> None:
    if not (isinstance(time_limit_s, int | float) and math.isfinite(time_limit_s)):
        raise ValueError(f"time_limit_s must be a finite number of seconds, got {time_limit_s!r}")
    if time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s}")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'highs' or 'cbc', got {solver!r}")


def _order_by_gain(
    cov: csr_array, residual: NDArray[np.float64], sites: list[int]
) -> tuple[list[int], list[float]]:
    """Rank a set of sites greedily by marginal gain; sites adding nothing are dropped."""
    if not sites:
        return [], []
    sub = csr_array(cov[:, np.asarray(sites, dtype=np.int64)])
    order, gains = _lazy_greedy(sub, residual, len(sites))
    return [sites[i] for i in order], gains


@dataclass(frozen=True)
class _Search:
    """The outcome of the reduced exact search, in candidate columns of the input."""

    sites: list[int]
    status: str
    bound: float
    how: str
    how_zh: str
    build_s: float = math.nan
    solve_s: float = math.nan


def _search_max_cover(
    rows: csr_array,
    row_w: NDArray[np.float64],
    k: int,
    greedy: list[int],
    solver: Solver,
    start: float,
    time_limit_s: float,
    reduce: bool,
) -> _Search:
    """Reduce, bound, then solve what is left with the solver, all by the deadline."""
    deadline = start + time_limit_s
    m = rows.shape[1]
    free = ~dominated_candidates(rows) if reduce else np.ones(m, dtype=bool)
    n_dom = int(m - free.sum())
    t_reduced = time.perf_counter()
    if int(free.sum()) <= k:  # every useful candidate fits: all coverable demand is reached
        return _Search(
            np.flatnonzero(free).tolist(), "optimal", float(row_w.sum()),
            "every useful candidate fits within the k sites (no solver needed)",
            "全部有效候选点均可布设（无需求解器）",
        )  # fmt: skip
    incumbent = np.asarray(greedy, dtype=np.int64)
    inc_value = _rows_value(rows, row_w, incumbent)
    bound, fixed_n = math.inf, 0
    keep = free
    if reduce:
        lag = lagrangian_bound(
            rows, row_w, k, incumbent, free=free,
            deadline=start + _LAGRANGIAN_SHARE * time_limit_s,
        )  # fmt: skip
        incumbent, inc_value = lag.incumbent, lag.incumbent_value
        bound = max(lag.bound, inc_value)
        keep = free & ~lag.fixed_out
        fixed_n = int(free.sum() - keep.sum())
        if bound <= inc_value + TOL:
            return _Search(
                incumbent.tolist(), "optimal", inc_value,
                f"proved optimal by the Lagrangian bound ({lag.iterations} steps; "
                f"{n_dom} dominated candidates left out)",
                f"由拉格朗日上界证明为最优（{lag.iterations} 步；排除 {n_dom} 个被支配候选点）",
                build_s=t_reduced - start, solve_s=time.perf_counter() - t_reduced,
            )  # fmt: skip
    cols = np.flatnonzero(keep)
    sub = csr_array(rows[:, cols])
    live = np.diff(sub.indptr) > 0
    sub, sub_w = csr_array(sub[live]), row_w[live]
    pos = np.full(m, -1, dtype=np.int64)
    pos[cols] = np.arange(cols.size)
    start_cols = pos[incumbent][pos[incumbent] >= 0]
    t_lag = time.perf_counter()
    model = max_cover_model(sub, sub_w, k)
    t_built = time.perf_counter()
    outcome = solve(model, sub, start_cols, solver, deadline)
    solve_s = (t_lag - t_reduced) + (time.perf_counter() - t_built)
    found = cols[outcome.selected]
    if found.size > k:  # never trust a solver's answer breaking the budget
        found = found[:0]
    value = _rows_value(rows, row_w, found)
    sites = found if value > inc_value + TOL else incumbent
    best = max(value, inc_value)
    if outcome.status == "optimal":
        status, new_bound = "optimal", best
    else:
        status = "time_limit" if outcome.status == "time_limit" else outcome.status
        sub_bound = outcome.bound if math.isfinite(outcome.bound) else math.inf
        new_bound = max(sub_bound, inc_value)
    bound = min(bound, new_bound)
    how, how_zh = _how(solver, reduce, sub.shape[0], cols.size, m, n_dom, fixed_n)
    return _Search(
        sorted(int(j) for j in sites), status, bound, how, how_zh,
        build_s=(t_reduced - start) + (t_built - t_lag), solve_s=solve_s,
    )  # fmt: skip


def _how(
    solver: Solver, reduce: bool, n_rows: int, n_kept: int, m: int, n_dom: int, fixed_n: int
) -> tuple[str, str]:
    """What the solver was given, in English and Chinese."""
    how = (
        f"{_SOLVER_NAME[solver]} on the {'reduced' if reduce else 'full'} model: "
        f"{n_rows:,} demand groups, "
        f"{n_kept:,} of {m:,} candidates ({n_dom} dominated, {fixed_n} ruled out by the "
        "Lagrangian bound)"
    )
    how_zh = (
        f"{_SOLVER_NAME[solver]} 求解{'约简后的' if reduce else '完整'}模型：{n_rows:,} 组需求、{m:,} 个候选点中的 "
        f"{n_kept:,} 个（{n_dom} 个被支配，{fixed_n} 个被拉格朗日上界排除）"
    )
    return how, how_zh


def _rows_value(rows: csr_array, row_w: NDArray[np.float64], sites: NDArray[np.int64]) -> float:
    """Weight of the merged rows reached by ``sites``."""
    if sites.size == 0:
        return 0.0
    reached = np.asarray(rows[:, sites].astype(np.int32).sum(axis=1)).ravel() > 0
    return float(row_w[reached].sum())


def max_cover_exact(
    coverage: object,
    weights: ArrayLike,
    k: int,
    *,
    already_covered: ArrayLike | None = None,
    time_limit_s: float = 30.0,
    solver: Solver = "highs",
    reduce: bool = True,
) -> SitingResult:
    """Choose ``k`` new sites covering the most uncovered weight, proven optimal if time allows.

    Parameters
    ----------
    coverage, weights, k, already_covered
        As for :func:`~qjgeo.siting.max_cover_greedy`.
    time_limit_s
        Wall-time limit of the whole call, seconds (reduction, build, solve, result); it
        may be exceeded by at most :data:`EXACT_OVERHEAD_S`. When hit, the best solution
        found is returned with ``status="time_limit"``, a proven bound and the gap.
    solver
        ``"highs"`` (default: on hard instances it finds better solutions than CBC
        within a limit, and reports its bound when stopped) or ``"cbc"``, for what the
        reduction leaves (``bench/README.md`` compares them).
    reduce
        Leave out dominated candidates and those the Lagrangian bound rules out (``False``
        only to benchmark the full model).

    Returns
    -------
    SitingResult
        Sites ranked by marginal gain; sites adding nothing are never returned (the
        message says how many of ``k`` were useful and why).

    Notes
    -----
    MCLP: maximise Σ wᵢ zᵢ subject to zᵢ ≤ Σ_{j covers i} yⱼ, Σ yⱼ ≤ k, yⱼ ∈ {0, 1},
    0 ≤ zᵢ ≤ 1. The greedy solution is the first incumbent; the bound reported is the
    smallest of the greedy's online bound, the Lagrangian bound and the solver's.
    """
    _check_k(k)
    _check_exact(time_limit_s, solver)
    start = time.perf_counter()
    cov, w, residual, done = _prepare(coverage, weights, already_covered)
    greedy, _ = _lazy_greedy(cov, residual, int(k))
    rows, row_w = unique_rows(cov, residual)
    if rows.shape[0] == 0 or k == 0:
        short, short_zh = shortfall_note(0, int(k))
        return _result(
            cov, w, done, [], [], method="exact", status="optimal", best_bound=0.0, gap=0.0,
            time_s=time.perf_counter() - start,
            message=f"nothing left to cover{'; ' + short if short else ''}",
            message_zh=f"已无可覆盖的需求{'；' + short_zh if short_zh else ''}",
            k_requested=int(k),
        )  # fmt: skip
    found = _search_max_cover(rows, row_w, int(k), greedy, solver, start, time_limit_s, reduce)
    ranked, gains = _order_by_gain(cov, residual, found.sites)
    if len(ranked) < k and found.status != "optimal":  # stopped short: fill greedily
        extra, extra_gains = _lazy_greedy(cov, _left(cov, residual, ranked), int(k) - len(ranked))
        ranked, gains = ranked + extra, gains + extra_gains
    objective = float(np.sum(gains)) if gains else 0.0
    bound = min(found.bound, _online_bound(cov, residual, greedy, int(k)))
    bound = max(bound, objective)
    status = "optimal" if bound <= objective + TOL else found.status
    gap = max(0.0, (bound - objective) / bound) if bound > 0 else 0.0
    message, message_zh = _exact_message(found, status, start, time_limit_s, gap, bound)
    short, short_zh = shortfall_note(len(ranked), int(k))
    if short:
        message, message_zh = f"{message}; {short}", f"{message_zh}；{short_zh}"
    return _result(
        cov, w, done, ranked, gains, method="exact", status=status, best_bound=bound,
        gap=gap, time_s=time.perf_counter() - start, message=message,
        message_zh=message_zh, k_requested=int(k), build_s=found.build_s,
        solve_s=found.solve_s,
    )  # fmt: skip


def _left(cov: csr_array, residual: NDArray[np.float64], sites: list[int]) -> NDArray[np.float64]:
    """Residual weight once ``sites`` are built."""
    if not sites:
        return residual
    reached = np.asarray(cov[:, np.asarray(sites)].astype(np.int32).sum(axis=1)).ravel() > 0
    return np.where(reached, 0.0, residual)


def _exact_message(
    found: _Search, status: str, start: float, time_limit_s: float, gap: float, bound: float
) -> tuple[str, str]:
    """How the exact result was reached, and how far it may be from the optimum."""
    took = time.perf_counter() - start
    message = f"{found.how}; {took:.1f} s in all"
    message_zh = f"{found.how_zh}；共用时 {took:.1f} 秒"
    if status == "time_limit":
        message += (
            f"; stopped at the {time_limit_s:g} s time limit: the best solution found is at "
            f"most {gap:.2%} below the best possible (bound {bound:.6g})"
        )
        message_zh += (
            f"；达到 {time_limit_s:g} 秒时限后停止：所得最好解与最优解的差距不超过 {gap:.2%}"
            f"（上界 {bound:.6g}）"
        )
    elif status != "optimal":
        message += f"; solver ended with status {status}: best solution found returned"
        message_zh += f"；求解器结束状态为 {status}：返回已找到的最好解"
    return message, message_zh


def min_sites_for_target(
    coverage: object,
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
        As for :func:`~qjgeo.siting.max_cover_greedy`.
    target_share
        Share of the total weight to cover, in (0, 1] (existing coverage counts).
    method
        ``"greedy"`` (add the best site until the target is met) or ``"exact"``
        (minimise the number of sites as an integer programme, dominated candidates left
        out, the greedy answer kept if the solver finds nothing better in time).
    time_limit_s, solver
        For ``"exact"``: wall-time limit of the whole call (plus at most
        :data:`EXACT_OVERHEAD_S`), and ``"cbc"`` or ``"highs"``.

    Returns
    -------
    SitingResult
        ``status`` ``"target_met"`` when already met without new sites,
        ``"target_unreachable"`` when even every candidate falls short (then all useful
        sites are returned and ``message`` gives the reachable share).
    """
    if not 0 < target_share <= 1:
        raise ValueError(f"target_share must be in (0, 1], got {target_share!r}")
    if method not in ("greedy", "exact"):
        raise ValueError(f"method must be 'greedy' or 'exact', got {method!r}")
    _check_exact(time_limit_s, solver)
    start = time.perf_counter()
    cov, w, residual, done = _prepare(coverage, weights, already_covered)
    total = float(w.sum())
    need = target_share * total - float(w[done].sum())
    common = {"method": method}
    if need <= TOL * max(total, 1.0):
        return _result(
            cov, w, done, [], [], status="target_met", best_bound=0.0, gap=0.0,
            time_s=time.perf_counter() - start,
            message=f"target {target_share:.0%} already met by existing facilities",
            message_zh=f"现有设施已达到 {target_share:.0%} 的目标", **common,
        )  # fmt: skip
    chosen, gains = _lazy_greedy(cov, residual, cov.shape[1], stop_at=need)
    if sum(gains) < need - TOL * max(total, 1.0):
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
    sites, status, bound = _search_min_sites(
        cov, residual, need, total, chosen, solver, start + time_limit_s
    )
    ranked, gains = _order_by_gain(cov, residual, sites)
    gap = (len(ranked) - bound) / len(ranked) if ranked and math.isfinite(bound) else math.nan
    message = message_zh = ""
    if status == "time_limit":
        message = (
            f"stopped at the {time_limit_s:g} s time limit: {len(ranked)} sites, "
            f"at least {bound:g} needed"
        )
        message_zh = (
            f"达到 {time_limit_s:g} 秒时限后停止：{len(ranked)} 处选址，至少需要 {bound:g} 处"
        )
    return _result(
        cov, w, done, ranked, gains, status=status, best_bound=bound, gap=gap,
        time_s=time.perf_counter() - start, message=message, message_zh=message_zh, **common,
    )  # fmt: skip


def _search_min_sites(
    cov: csr_array,
    residual: NDArray[np.float64],
    need: float,
    total: float,
    greedy: list[int],
    solver: Solver,
    deadline: float,
) -> tuple[list[int], str, float]:
    """Fewest sites by integer programme on the reduced model; the greedy kept if not beaten."""
    rows, row_w = unique_rows(cov, residual)
    free = ~dominated_candidates(rows)
    cols = np.flatnonzero(free)
    sub = csr_array(rows[:, cols])
    model = min_sites_model(sub, row_w, need - TOL * max(total, 1.0))
    pos = np.full(rows.shape[1], -1, dtype=np.int64)
    pos[cols] = np.arange(cols.size)
    start_cols = pos[np.asarray(greedy, dtype=np.int64)]
    outcome = solve(model, sub, start_cols[start_cols >= 0], solver, deadline)
    found = cols[outcome.selected].tolist()
    reach = float(row_w[np.asarray(sub[:, outcome.selected].sum(axis=1)).ravel() > 0].sum())
    if reach < need - TOL * max(total, 1.0) * 2:  # never trust an answer short of the target
        found = []
    sites = found if found and len(found) < len(greedy) else list(greedy)
    bound = float(math.ceil(outcome.bound - 1e-6)) if math.isfinite(outcome.bound) else math.nan
    if outcome.status == "optimal":
        return sites, "optimal", float(len(sites))
    status = "time_limit" if outcome.status == "time_limit" else outcome.status
    return sites, status, bound
