"""Distance bands of the gap tables and the gap surface: edges, labels and classification."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from qjgeo.params import FacilityAccess

#: Distances (metres) always used as band edges besides the service distances themselves:
#: the 15-minute life circle (1 km) and the rural walking distances (2 km, 3 km).
DEFAULT_BAND_MARKS_M: tuple[float, ...] = (1000.0, 2000.0, 3000.0)
#: Label of the band of points that reach no facility at all.
UNREACHABLE_BAND = "unreachable"

#: Relative tolerance of the coverage rule and the band edges (floating-point sums of edge
#: lengths): ``distance_m <= threshold_m * (1 + _RTOL)``.
_RTOL = 1e-9


def band_edges(
    access: FacilityAccess,
    *,
    threshold_m: float | None = None,
    marks_m: Sequence[float] = DEFAULT_BAND_MARKS_M,
) -> tuple[float, ...]:
    """Upper edges of the distance bands of a facility type, in metres.

    The edges are the service distances in force (urban and rural, or ``threshold_m``
    when it overrides both) together with ``marks_m`` (1, 2 and 3 km by default), sorted.
    For childcare (300 m urban, 2 km rural) this gives ≤300 m, 300–1000 m, 1–2 km,
    2–3 km and >3 km.

    Parameters
    ----------
    access
        The facility type's access parameters.
    threshold_m
        A single service distance replacing the urban and rural ones.
    marks_m
        Further band edges, metres.

    Returns
    -------
    tuple of float
        Strictly increasing, positive edges.
    """
    thresholds = (
        (threshold_m,)
        if threshold_m is not None
        else (access.urban_threshold_m, access.rural_threshold_m)
    )
    edges = sorted({float(v) for v in (*thresholds, *marks_m) if v > 0 and math.isfinite(v)})
    return tuple(edges)


def _fmt_m(value: float, km: bool) -> str:
    if km:
        text = f"{value / 1000:.1f}".rstrip("0").rstrip(".")
        return text
    return f"{value:.0f}"


def band_labels(edges: Sequence[float]) -> tuple[str, ...]:
    """Planner-readable labels of the bands cut by ``edges`` (one more label than edges).

    Parameters
    ----------
    edges
        Increasing upper band edges in metres, e.g. ``(300, 1000, 2000, 3000)``.

    Returns
    -------
    tuple of str
        E.g. ``("≤300 m", "300–1000 m", "1–2 km", "2–3 km", ">3 km")``.
    """
    if not edges:
        return ("any distance",)
    labels = []
    first = edges[0]
    labels.append(f"≤{_fmt_m(first, first >= 1000)} {'km' if first >= 1000 else 'm'}")
    for lo, hi in itertools.pairwise(edges):
        km = lo >= 1000
        labels.append(f"{_fmt_m(lo, km)}–{_fmt_m(hi, km)} {'km' if km else 'm'}")
    last = edges[-1]
    labels.append(f">{_fmt_m(last, last >= 1000)} {'km' if last >= 1000 else 'm'}")
    return tuple(labels)


def classify_distance(
    distance_m: NDArray[np.float64] | Sequence[float], edges: Sequence[float]
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Put each distance in its band (upper edges inclusive); ``inf`` → "unreachable".

    Parameters
    ----------
    distance_m
        Distances in metres (``inf`` for points that reach no facility).
    edges
        Increasing upper band edges in metres.

    Returns
    -------
    labels : numpy.ndarray of str
        The band label of each distance (see :func:`band_labels`).
    order : numpy.ndarray of int
        The band's position (0 = nearest); ``len(edges) + 1`` for "unreachable".
    """
    d = np.asarray(distance_m, dtype=np.float64)
    edge_arr = np.asarray(edges, dtype=np.float64) * (1.0 + _RTOL)
    order = np.searchsorted(edge_arr, d, side="left").astype(np.int64)
    unreachable = ~np.isfinite(d)
    order[unreachable] = len(edges) + 1
    names = np.array([*band_labels(edges), UNREACHABLE_BAND], dtype=object)
    return names[order], order
