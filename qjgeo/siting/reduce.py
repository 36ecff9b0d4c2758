"""Making a covering model smaller before an exact solve, without losing its optimum.

Three reductions, each keeping at least one optimal solution (see :mod:`qjgeo.siting`):

- demand already covered (by existing facilities) or unreachable is dropped, and demand
  units reaching the same set of candidates are merged, their weights summed
  (:func:`unique_rows`);
- a candidate whose demand is a subset of another candidate's is *dominated*: swapping it
  for the other never covers less (:func:`dominated_candidates`); of identical candidates
  the lowest index stays;
- a Lagrangian bound (coverage constraints relaxed, multipliers by subgradient steps) gives,
  for every candidate, the best objective any solution using it could reach; a candidate
  whose bound is no better than the incumbent (the greedy solution, or a better one found on
  the way) cannot be in a strictly better solution and is left out of the integer programme
  (:func:`lagrangian_bound`). When the bound meets the incumbent, the incumbent is optimal
  and no integer programme is needed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array

#: Tolerance for comparing objective values (weights are children, ≥ 0).
TOL = 1e-6


def unique_rows(
    cov: csr_array, residual: NDArray[np.float64]
) -> tuple[csr_array, NDArray[np.float64]]:
    """Demand rows with positive residual weight and ≥ 1 candidate, identical rows merged.

    Parameters
    ----------
    cov
        Boolean coverage, demand units × candidates (canonical CSR).
    residual
        Weight still to cover per demand unit (0 where already covered).

    Returns
    -------
    rows, weights
        Boolean CSR (merged demand rows × candidates, same columns) and the summed weight
        of each merged row.
    """
    groups: dict[bytes, int] = {}
    starts: list[int] = [0]
    cols: list[NDArray[np.int32]] = []
    weights: list[float] = []
    indptr, indices = cov.indptr, cov.indices
    for r in np.flatnonzero(residual > 0):
        cand = np.sort(indices[indptr[r] : indptr[r + 1]])
        if cand.size == 0:
            continue
        key = cand.tobytes()
        slot = groups.get(key)
        if slot is None:
            groups[key] = len(weights)
            cols.append(cand)
            starts.append(starts[-1] + cand.size)
            weights.append(float(residual[r]))
        else:
            weights[slot] += float(residual[r])
    index = np.concatenate(cols).astype(np.int32) if cols else np.zeros(0, dtype=np.int32)
    rows = csr_array(
        (np.ones(index.size, dtype=bool), index, np.asarray(starts, dtype=np.int64)),
        shape=(len(weights), cov.shape[1]),
    )
    return rows, np.asarray(weights, dtype=np.float64)


def dominated_candidates(rows: csr_array) -> NDArray[np.bool_]:
    """Candidates that reach nothing, or only demand another candidate also reaches.

    Parameters
    ----------
    rows
        Boolean CSR, demand rows × candidates (every row with positive weight).

    Returns
    -------
    numpy.ndarray
        ``True`` for a candidate that can be left out: it reaches no demand row, or its rows
        are a subset of a candidate reaching more rows, or equal to those of a lower-indexed
        candidate. Every left-out candidate has a kept one covering at least as much.
    """
    size = np.asarray(rows.sum(axis=0)).ravel().astype(np.int64)
    out = size == 0
    counts = rows.astype(np.int32)
    overlap = (counts.T @ counts).tocoo()
    j, other, shared = overlap.row, overlap.col, overlap.data
    subset = (j != other) & (shared == size[j])
    bigger = size[other] > size[j]
    tie_lower = (size[other] == size[j]) & (other < j)
    out[j[subset & (bigger | tie_lower)]] = True
    return out


@dataclass(frozen=True)
class LagrangianOutcome:
    """What the Lagrangian step proved and found.

    Attributes
    ----------
    bound
        Upper bound on the best objective (``inf`` when no step was made).
    incumbent, incumbent_value
        The best solution seen (candidate indices) and its objective.
    fixed_out
        Candidates no strictly better solution can use.
    threshold
        The objective the fixing was tested against (an incumbent value).
    iterations
        Subgradient steps made.
    """

    bound: float
    incumbent: NDArray[np.int64]
    incumbent_value: float
    fixed_out: NDArray[np.bool_]
    threshold: float
    iterations: int


def _top_k(costs: NDArray[np.float64], k: int, free: NDArray[np.bool_]) -> NDArray[np.int64]:
    """The ``k`` free candidates of largest Lagrangian cost (fewer if fewer are free)."""
    idx = np.flatnonzero(free)
    if idx.size <= k:
        return idx
    part = np.argpartition(-costs[idx], k - 1)[:k]
    return idx[part]


def lagrangian_bound(
    rows: csr_array,
    weights: NDArray[np.float64],
    k: int,
    incumbent: NDArray[np.int64],
    *,
    free: NDArray[np.bool_],
    deadline: float,
    max_iter: int = 3000,
) -> LagrangianOutcome:
    """Bound the maximal-covering optimum and leave out candidates that cannot improve it.

    Parameters
    ----------
    rows, weights
        Merged demand rows × candidates (boolean CSR) and their weights.
    k
        Number of sites.
    incumbent
        A feasible solution (candidate indices), e.g. the greedy one.
    free
        Candidates still in play (dominated ones already left out).
    deadline
        ``time.perf_counter()`` value at which to stop stepping.
    max_iter
        Most subgradient steps.

    Returns
    -------
    LagrangianOutcome

    Notes
    -----
    Relaxing ``zᵢ ≤ Σ_{j covers i} yⱼ`` with multipliers ``0 ≤ λᵢ ≤ wᵢ`` gives
    ``L(λ) = Σᵢ (wᵢ − λᵢ) + (sum of the k largest cⱼ)``, ``cⱼ = Σ_{i covered by j} λᵢ``,
    an upper bound for every λ. Forcing a candidate outside the top k into the solution
    bounds it by ``L − c₍ₖ₎ + cⱼ``; when that is ≤ the incumbent it is fixed out. Each
    step's top k is also evaluated as a solution (a better incumbent, sometimes).
    """
    fcols = csr_array(rows.T.astype(np.float64))
    frows = _Columns(rows)
    best_sites = np.asarray(incumbent, dtype=np.int64)
    best_value = _value(frows, weights, best_sites)
    lam = weights * 0.5
    bound, theta, stall = math.inf, 2.0, 0
    fixed = ~free.copy()
    threshold = best_value
    steps = 0
    for it in range(1, max_iter + 1):
        steps = it
        costs = np.asarray(fcols @ lam).ravel()
        top = _top_k(costs, k, ~fixed)
        value_l = float((weights - lam).sum() + costs[top].sum())
        if value_l < bound - TOL:
            bound, stall = value_l, 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2, 0
        if top.size == k:
            threshold = best_value
            fixed |= value_l - costs[top].min() + costs <= threshold + TOL
            fixed[top] = False
        value = _value(frows, weights, top)
        if value > best_value + TOL:
            best_sites, best_value = top, value
        if bound <= best_value + TOL or theta < 1e-5 or time.perf_counter() > deadline:
            break
        moved = _step(frows, weights, lam, top, theta * (value_l - best_value))
        if moved is None:
            break
        lam = moved
    return LagrangianOutcome(
        bound=bound,
        incumbent=np.sort(best_sites),
        incumbent_value=best_value,
        fixed_out=fixed,
        threshold=threshold,
        iterations=steps,
    )


class _Columns:
    """The demand rows each candidate reaches, for fast counts over a few candidates."""

    def __init__(self, rows: csr_array) -> None:
        csc = rows.tocsc()
        self.indptr, self.indices, self.n_rows = csc.indptr, csc.indices, rows.shape[0]

    def reached(self, sites: NDArray[np.int64]) -> NDArray[np.float64]:
        """How many of ``sites`` reach each row."""
        parts = [self.indices[self.indptr[j] : self.indptr[j + 1]] for j in sites]
        hit = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return np.bincount(hit, minlength=self.n_rows).astype(np.float64)


def _value(frows: _Columns, weights: NDArray[np.float64], sites: NDArray[np.int64]) -> float:
    """Weight of the merged rows reached by ``sites``."""
    if sites.size == 0:
        return 0.0
    return float(weights[frows.reached(sites) > 0].sum())


def _step(
    frows: _Columns,
    weights: NDArray[np.float64],
    lam: NDArray[np.float64],
    top: NDArray[np.int64],
    scale: float,
) -> NDArray[np.float64] | None:
    """One projected subgradient step (``None`` when the subgradient vanishes)."""
    grad = frows.reached(top) - (lam < weights)
    grad = np.where((lam <= 0) & (grad > 0), 0.0, grad)
    grad = np.where((lam >= weights) & (grad < 0), 0.0, grad)
    norm = float(grad @ grad)
    if norm == 0 or scale <= 0:
        return None
    return np.clip(lam - scale / norm * grad, 0.0, weights)
