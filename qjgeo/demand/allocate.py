"""Whole persons from shares: largest-remainder rounding that keeps every total exact.

The array-level core of the demand estimate: a known resident total is split over units in
proportion to weights, and each age band's total over the units in proportion to their
residents, so that no person is gained or lost to rounding (Hamilton's method).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["apportion_bands", "largest_remainder"]


def largest_remainder(
    total: int, weights: ArrayLike, *, capacity: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Split a whole number of persons in proportion to weights, the sum kept exact.

    Parameters
    ----------
    total
        Persons to split (≥ 0).
    weights
        One non-negative weight per unit.
    capacity
        Optional upper bound per unit: the units that receive the left-over persons are
        chosen, largest remainder first, among those still below their bound (when too few
        are, the bound gives way so the total stays exact).

    Returns
    -------
    numpy.ndarray
        Integers, one per unit, summing to ``total`` (all zero when every weight is zero
        and ``total`` is zero).

    Raises
    ------
    ValueError
        If ``total`` is negative, a weight is negative or not finite, or ``total`` > 0 has
        nothing to go to (every weight zero).
    """
    w = np.asarray(weights, dtype=np.float64)
    if total < 0:
        raise ValueError(f"the total must be ≥ 0, got {total}")
    if w.size and (not np.isfinite(w).all() or (w < 0).any()):
        raise ValueError("weights must be finite and ≥ 0")
    wsum = float(w.sum()) if w.size else 0.0
    if total == 0:
        return np.zeros(w.shape, dtype=np.int64)
    if wsum <= 0:
        raise ValueError(f"{total} persons to place but every weight is zero")
    raw = (w / wsum) * total  # w / wsum ≤ 1: no overflow for tiny weights
    base = np.floor(raw).astype(np.int64)
    rest = int(total - base.sum())
    if rest > 0:
        frac = raw - base
        if capacity is not None:
            room = np.asarray(capacity, dtype=np.float64) - base >= 1
            frac = np.where(room, frac, frac - 2.0)  # full units come last
        order = np.argsort(-frac, kind="stable")
        base[order[:rest]] += 1
    return base


def apportion_bands(
    residents: ArrayLike, band_totals: Mapping[str, int]
) -> dict[str, NDArray[np.int64]]:
    """Split each age band's total over units in proportion to their residents.

    Parameters
    ----------
    residents
        Residents per unit (integers).
    band_totals
        Persons per band (disjoint bands, e.g. ``pop_0_2`` … ``pop_12_14``), each ≤ the
        sum of ``residents`` and together ≤ it.

    Returns
    -------
    dict
        Band → persons per unit; every band sums to its total exactly. A unit never holds
        more children than residents while any other unit has room.
    """
    res = np.asarray(residents, dtype=np.int64)
    left = res.astype(np.float64)
    out: dict[str, NDArray[np.int64]] = {}
    for band, total in band_totals.items():
        counts = largest_remainder(int(total), res, capacity=left)
        out[band] = counts
        left = left - counts
    return out
