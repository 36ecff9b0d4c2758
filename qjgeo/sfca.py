"""Two-step floating catchment area (2SFCA) accessibility, at array level.

Given supply ``S_j`` at facility ``j`` (e.g. childcare places), demand ``P_i`` at location
``i`` (e.g. children aged 0–3) and walking distances ``d_ij``, with a catchment threshold
``d0`` and a distance-decay weight ``W(d)`` (``W = 0`` beyond ``d0``):

Step 1, supply-to-demand ratio of each facility over its catchment::

    R_j = S_j / sum_i W(d_ij) * P_i

Step 2, accessibility of each demand location, summing over facilities in reach::

    A_i = sum_j W(d_ij) * R_j

``A_i`` is supply per unit of demand (places per child); :func:`places_per_1000` turns
it into places per 1,000 children. Whenever every facility has some demand in reach,
``sum_i P_i * A_i == sum_j S_j``: the method shares out the supply, it never creates any.

Decay functions (``decay=``):

``"step"``
    Classic 2SFCA (Luo & Wang 2003): ``W = 1`` for ``d <= d0``.
``"zones"``
    Enhanced 2SFCA (Luo & Qi 2009): the catchment is cut into zones with one weight
    each; ``zones`` is a list of ``(upper_bound_m, weight)``, an upper bound being
    inclusive. The default cuts ``d0`` into thirds with Luo & Qi's weights 1, 0.68 and
    0.22 (from a Gaussian with β = 100 for 10/20/30-minute zones).
``"gaussian"``
    Gaussian decay as in Dai (2010), ``W(d) = (exp(-½ (d/d0)²) - exp(-½)) / (1 - exp(-½))``
    for ``d <= d0``: 1 at the facility, falling smoothly to 0 at the threshold.
callable
    Any vectorised ``f(distance_m) -> weight`` (applied within ``d0``).

The same weight is applied in both steps, as in the papers above and in PySAL ``access``.
A facility with no demand in its catchment gets ``R_j = 0`` (its supply serves nobody);
a demand location with no facility in reach gets ``A_i = 0``.

Distances: a dense ``(n_demand, n_supply)`` array with ``inf`` (or NaN) for "not
reachable", or a scipy sparse matrix whose *stored* entries are the reachable pairs (an
explicit zero is a distance of 0), such as :func:`qjgeo.access.distance_matrix_within`
returns.

References
----------
Luo, W. & Wang, F. (2003). Measures of spatial accessibility to health care in a GIS
environment. Environment and Planning B 30(6), 865–884.
Luo, W. & Qi, Y. (2009). An enhanced two-step floating catchment area (E2SFCA) method for
measuring spatial accessibility to primary care physicians. Health & Place 15(4), 1100–1107.
Dai, D. (2010). Black residential segregation, disparities in spatial access to health
care facilities, and late-stage breast cancer diagnosis in metropolitan Detroit.
Health & Place 16(5), 1038–1052.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LUO_QI_ZONE_WEIGHTS",
    "Decay",
    "decay_weights",
    "enhanced_two_step_fca",
    "places_per_1000",
    "two_step_fca",
]

LUO_QI_ZONE_WEIGHTS = (1.0, 0.68, 0.22)
"""E2SFCA weights of the three travel zones in Luo & Qi (2009)."""

Decay = Literal["step", "gaussian", "zones"] | Callable[[NDArray[np.float64]], ArrayLike]


def _zones_or_default(
    zones: Sequence[tuple[float, float]] | None, threshold_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if zones is None:
        bounds = threshold_m * np.array([1.0, 2.0, 3.0]) / 3.0
        bounds[-1] = threshold_m
        weights = np.array(LUO_QI_ZONE_WEIGHTS)
    else:
        if len(zones) == 0:
            raise ValueError("zones must hold at least one (upper_bound_m, weight) pair")
        bounds = np.array([float(b) for b, _ in zones])
        weights = np.array([float(w) for _, w in zones])
    if np.any(np.diff(bounds) <= 0):
        raise ValueError(f"zone upper bounds must increase, got {bounds.tolist()}")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"zone weights must be finite and ≥ 0, got {weights.tolist()}")
    return bounds, weights


def decay_weights(
    distance_m: ArrayLike,
    *,
    threshold_m: float,
    decay: Decay = "step",
    zones: Sequence[tuple[float, float]] | None = None,
) -> NDArray[np.float64]:
    """Distance-decay weight of each distance (0 beyond the threshold).

    Parameters
    ----------
    distance_m
        Distances in metres.
    threshold_m
        Catchment size ``d0`` (inclusive).
    decay
        ``"step"``, ``"gaussian"``, ``"zones"`` or a vectorised callable (see the module
        notes).
    zones
        For ``decay="zones"``: ``(upper_bound_m, weight)`` pairs, bounds inclusive and
        increasing; default: thirds of ``threshold_m`` weighted 1, 0.68, 0.22.

    Returns
    -------
    numpy.ndarray
        Weights, same shape as ``distance_m``.
    """
    d = np.asarray(distance_m, dtype=np.float64)
    if not threshold_m > 0:
        raise ValueError(f"threshold_m must be > 0, got {threshold_m}")
    if zones is not None and decay != "zones":
        raise ValueError("zones are only used with decay='zones'")
    inside = d <= threshold_m  # False for inf / NaN
    if callable(decay):
        w = np.asarray(decay(d), dtype=np.float64)
        if w.shape != d.shape:
            raise ValueError("a decay callable must return one weight per distance")
    elif decay == "step":
        w = np.ones_like(d)
    elif decay == "gaussian":
        floor = np.exp(-0.5)
        w = (np.exp(-0.5 * (d / threshold_m) ** 2) - floor) / (1.0 - floor)
    elif decay == "zones":
        bounds, zone_w = _zones_or_default(zones, threshold_m)
        pos = np.searchsorted(bounds, np.where(inside, d, 0.0), side="left")
        padded = np.append(zone_w, 0.0)  # beyond the last zone: 0
        w = padded[np.minimum(pos, zone_w.size)]
    else:
        raise ValueError(f"unknown decay {decay!r}; use 'step', 'gaussian', 'zones' or a callable")
    return np.where(inside, w, 0.0)


def _weight_matrix(
    dist: ArrayLike | sp.sparray | sp.spmatrix,
    threshold_m: float,
    decay: Decay,
    zones: Sequence[tuple[float, float]] | None,
) -> sp.csr_array:
    """Sparse (demand × supply) matrix of weights for the pairs within the threshold."""
    if sp.issparse(dist):
        coo = sp.coo_array(dist)
        rows, cols, d = coo.row, coo.col, np.asarray(coo.data, dtype=np.float64)
        shape = coo.shape
    else:
        dense = np.asarray(dist, dtype=np.float64)
        if dense.ndim != 2:
            raise ValueError("dist must be a 2-D (demand × supply) matrix")
        rows, cols = np.nonzero(dense <= threshold_m)
        d = dense[rows, cols]
        shape = dense.shape
    if np.any(d < 0):
        raise ValueError("distances must be ≥ 0")
    keep = d <= threshold_m
    w = decay_weights(d[keep], threshold_m=threshold_m, decay=decay, zones=zones)
    return sp.csr_array((w, (rows[keep], cols[keep])), shape=shape)


def _as_amounts(values: ArrayLike, name: str) -> NDArray[np.float64]:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and ≥ 0")
    return a


def two_step_fca(
    supply: ArrayLike,
    demand: ArrayLike,
    dist: ArrayLike | sp.sparray | sp.spmatrix,
    *,
    threshold_m: float,
    decay: Decay = "step",
    zones: Sequence[tuple[float, float]] | None = None,
) -> NDArray[np.float64]:
    """Accessibility of each demand location: supply in reach per unit of demand (2SFCA).

    Parameters
    ----------
    supply
        Supply at each facility (e.g. childcare places), length ``n_supply``.
    demand
        Demand at each location (e.g. children), length ``n_demand``.
    dist
        ``(n_demand, n_supply)`` distances in metres: dense with ``inf`` for "not
        reachable", or sparse with the reachable pairs stored.
    threshold_m
        Catchment size ``d0`` in metres (inclusive).
    decay
        ``"step"`` (classic 2SFCA), ``"zones"`` (E2SFCA), ``"gaussian"`` (Dai 2010) or a
        vectorised callable; see the module notes.
    zones
        ``(upper_bound_m, weight)`` pairs for ``decay="zones"``.

    Returns
    -------
    numpy.ndarray
        ``A_i`` for each demand location (supply per unit of demand; 0 when nothing is
        in reach).

    Examples
    --------
    >>> two_step_fca([10.0], [100.0, 400.0], [[200.0], [900.0]], threshold_m=1000.0)
    array([0.02, 0.02])
    """
    s = _as_amounts(supply, "supply")
    p = _as_amounts(demand, "demand")
    W = _weight_matrix(dist, threshold_m, decay, zones)
    if W.shape != (p.size, s.size):
        raise ValueError(f"dist must be (n_demand, n_supply) = ({p.size}, {s.size}), got {W.shape}")
    weighted_demand = W.T @ p  # per facility: sum_i W_ij P_i
    ratio = np.divide(s, weighted_demand, out=np.zeros_like(s), where=weighted_demand > 0)
    return np.asarray(W @ ratio, dtype=np.float64)


def enhanced_two_step_fca(
    supply: ArrayLike,
    demand: ArrayLike,
    dist: ArrayLike | sp.sparray | sp.spmatrix,
    *,
    threshold_m: float,
    zones: Sequence[tuple[float, float]] | None = None,
) -> NDArray[np.float64]:
    """Enhanced 2SFCA (Luo & Qi 2009): 2SFCA with stepped zone weights.

    Parameters
    ----------
    supply, demand, dist, threshold_m
        As in :func:`two_step_fca`.
    zones
        ``(upper_bound_m, weight)`` pairs; default: thirds of ``threshold_m`` weighted
        1, 0.68 and 0.22.

    Returns
    -------
    numpy.ndarray
        ``A_i`` for each demand location.
    """
    return two_step_fca(supply, demand, dist, threshold_m=threshold_m, decay="zones", zones=zones)


def places_per_1000(accessibility: ArrayLike) -> NDArray[np.float64]:
    """Express 2SFCA accessibility (places per child) as places per 1,000 children.

    Parameters
    ----------
    accessibility
        Output of :func:`two_step_fca` with supply in places and demand in children.

    Returns
    -------
    numpy.ndarray
        Places per 1,000 children, comparable with the plan's "≥ 6 places per 1,000"
        type of target (mind whether the target counts residents or children).
    """
    return np.asarray(accessibility, dtype=np.float64) * 1000.0
