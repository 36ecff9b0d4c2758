"""Walking distance from every origin to its nearest facility.

Two layers, as in spopt's "two constructors":

- array level: :func:`nearest_from_arrays` (coordinates in, arrays out; this is what
  ``bench/bench_access.py`` times), :func:`nearest_facility_by_node` (every node of the
  graph) and :func:`distance_matrix_within` (a sparse origin × candidate matrix for siting
  and 2SFCA);
- frame level: :func:`nearest_facility`, which checks and converts CRSs and calls the
  array core.

How a network distance is measured
----------------------------------
An origin and a facility are each *snapped* to their nearest network node (straight line,
KD-tree on the node coordinates; origins given exactly as the graph's nodes, whose
locations are distinct, are their own nearest nodes and skip the query). The distance
reported is

    origin snap + network distance between the two nodes + facility snap,

so the snap legs are never lost. A point farther than ``snap_limit_m`` (default 500 m)
from every node is not snapped: an origin gets distance ``inf`` and the method
``"unreachable: snap"``; a facility is left out of the search with a ``UserWarning``
saying how many were left out.

All facilities are searched at once with ONE multi-source shortest-path search
(:func:`qjgeo.dijkstra.nearest_source`: a compiled Δ-stepping search, or
``scipy.sparse.csgraph.dijkstra(..., min_only=True)`` where numba is missing; both give
the same distances). Each facility starts the search at its network node with its snap
distance already counted, so every node's distance includes the snap leg of whichever
facility is nearest, and the search carries that facility's index along. When several
facilities snap to the same node only the one with the smallest snap distance can ever
be nearest through that node; it is the one kept (ties: the first in input order), which
makes the answer deterministic.

Without a network (``graph=None``) the distance is the straight line × a detour factor
(:data:`DEFAULT_DETOUR_FACTOR` = 1.3: walking routes on urban grids are typically
1.2–1.4 times the straight line, see ``docs/standards.md``; hilly rural areas are
higher), and the method says ``"straight_line_x_detour"`` so the estimate is never
mistaken for a measured route.

Thresholds are inclusive: a facility exactly ``max_distance_m`` away is reached (with a
relative tolerance of 1e-9 for floating-point sums of edge lengths).

Method strings
--------------
``"network"``
    Walking distance over the network.
``"straight_line_x_detour"``
    No network: straight line × detour factor.
``"unreachable: snap"``
    The origin is farther than ``snap_limit_m`` from every network node.
``"unreachable: network"``
    No facility in the origin's part of the network (disconnected component, or every
    facility off the network).
``"unreachable: beyond max_distance"``
    The nearest facility is farther than ``max_distance_m``.
``"unreachable: no facilities"``
    The facility layer is empty.
``"unreachable: missing geometry"``
    The origin has no (or an empty) geometry.

Every ``inf`` distance comes with a method starting with ``"unreachable"``.

Non-point geometries (a park polygon, a school site) are represented by a point on the
geometry (``representative_point``), guaranteed to lie on or inside it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

from qjgeo.crs import METRIC_CRS
from qjgeo.dijkstra import nearest_source, pairs_within
from qjgeo.params import DEFAULT_DETOUR_FACTOR, DEFAULT_SNAP_LIMIT_M

if TYPE_CHECKING:
    import geopandas as gpd

    from qjgeo.network import WalkGraph

__all__ = [
    "DEFAULT_DETOUR_FACTOR",
    "DEFAULT_SNAP_LIMIT_M",
    "METHOD_NETWORK",
    "METHOD_STRAIGHT_LINE",
    "UNREACHABLE_BEYOND_MAX",
    "UNREACHABLE_MISSING_GEOMETRY",
    "UNREACHABLE_NETWORK",
    "UNREACHABLE_NO_FACILITIES",
    "UNREACHABLE_SNAP",
    "NearestResult",
    "distance_matrix_within",
    "nearest_facility",
    "nearest_facility_by_node",
    "nearest_from_arrays",
    "points_xy",
]


METHOD_NETWORK = "network"
METHOD_STRAIGHT_LINE = "straight_line_x_detour"
UNREACHABLE_SNAP = "unreachable: snap"
UNREACHABLE_NETWORK = "unreachable: network"
UNREACHABLE_BEYOND_MAX = "unreachable: beyond max_distance"
UNREACHABLE_NO_FACILITIES = "unreachable: no facilities"
UNREACHABLE_MISSING_GEOMETRY = "unreachable: missing geometry"

_RTOL = 1e-9  # inclusive thresholds tolerate float round-off in sums of edge lengths


@dataclass(frozen=True, eq=False)
class NearestResult:
    """Nearest facility per origin, as arrays (one entry per origin, input order).

    Attributes
    ----------
    distance_m
        Walking distance (or straight line × detour) in metres; ``inf`` when unreachable.
    facility_index
        Position of the nearest facility in the facility arrays; -1 when none.
    facility_id
        Id of the nearest facility (``object`` array); ``None`` when none.
    method
        How the distance was obtained (see the module notes), ``object`` array of str.
    straight_m
        Straight-line distance to the nearest facility by straight line, metres
        (``inf`` without facilities or for a missing origin).
    snap_m
        Distance from the origin to its nearest network node, metres (reported even
        when larger than the snap limit); ``nan`` without a network.
    """

    distance_m: NDArray[np.float64]
    facility_index: NDArray[np.int64]
    facility_id: NDArray[np.object_]
    method: NDArray[np.object_]
    straight_m: NDArray[np.float64]
    snap_m: NDArray[np.float64]

    def to_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """Return the result as a DataFrame with the columns of :func:`nearest_facility`.

        Parameters
        ----------
        index
            Index for the rows (default: a RangeIndex).

        Returns
        -------
        pandas.DataFrame
            Columns ``distance_m``, ``facility_id``, ``method``, ``straight_m``, ``snap_m``.
        """
        return pd.DataFrame(
            {
                "distance_m": self.distance_m,
                "facility_id": pd.Series(self.facility_id, dtype=object, index=index),
                "method": pd.Series(self.method, dtype=object, index=index),
                "straight_m": self.straight_m,
                "snap_m": self.snap_m,
            },
            index=index,
        )


# --------------------------------------------------------------------------------------
# Input checks


def _as_xy(points: ArrayLike, name: str) -> NDArray[np.float64]:
    xy = np.asarray(points, dtype=np.float64)
    if xy.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"{name} must be an (n, 2) array of x, y coordinates")
    return xy


def _check_options(
    max_distance_m: float | None, detour_factor: float, snap_limit_m: float
) -> float:
    if not detour_factor >= 1.0:
        raise ValueError(
            f"detour_factor must be ≥ 1 (a walk is never shorter than the straight line), "
            f"got {detour_factor}"
        )
    if not snap_limit_m >= 0.0:
        raise ValueError(f"snap_limit_m must be ≥ 0, got {snap_limit_m}")
    if max_distance_m is None:
        return np.inf
    if not max_distance_m >= 0.0:
        raise ValueError(f"max_distance_m must be ≥ 0 or None, got {max_distance_m}")
    return float(max_distance_m)


def _loosened(limit: float) -> float:
    """``limit`` widened by the float tolerance of inclusive thresholds (``inf`` stays)."""
    return limit * (1.0 + _RTOL) + 1e-9


def _within(distance: NDArray[np.float64], limit: float) -> NDArray[np.bool_]:
    """Inclusive ``distance <= limit`` with a relative float tolerance."""
    return np.asarray(distance <= _loosened(limit), dtype=bool)


def _labels(*labels: str) -> NDArray[np.object_]:
    """Method labels as an object array, to fill results by code without wide str arrays."""
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return out


def _snap(
    graph: WalkGraph, xy: NDArray[np.float64], snap_limit_m: float
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Nearest node of each point (-1 when farther than the limit) and its distance.

    The distance is returned for every finite point, also beyond the limit.
    """
    n_points = xy.shape[0]
    node = np.full(n_points, -1, dtype=np.int64)
    dist = np.full(n_points, np.inf)
    finite = np.all(np.isfinite(xy), axis=1)
    if graph.n_nodes == 0 or not finite.any():
        return node, dist
    pts = xy[finite]
    bound = np.nextafter(snap_limit_m * (1.0 + _RTOL), np.inf)
    d, i = graph.kdtree.query(pts, k=1, distance_upper_bound=bound, workers=-1)
    far = ~np.isfinite(d)
    if far.any():  # report the true distance of points beyond the limit
        d[far], _ = graph.kdtree.query(pts[far], k=1, workers=-1)
    ok = ~far & (d <= bound)
    node_f = np.where(ok, i, -1)
    node[finite] = node_f
    dist[finite] = d
    return node, dist


def _snap_origins(
    graph: WalkGraph, origin_xy: NDArray[np.float64], snap_limit_m: float
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """:func:`_snap` for origins; origins that are exactly the graph's nodes snap to themselves.

    The shortcut gives what the KD-tree would (each node at distance 0) only when no two
    nodes share a location, so it is taken only then.
    """
    n = graph.n_nodes
    if (
        origin_xy.shape == (n, 2)
        and np.array_equal(origin_xy[:, 0], graph.x)
        and np.array_equal(origin_xy[:, 1], graph.y)
        and graph.distinct_locations
    ):
        return np.arange(n, dtype=np.int64), np.zeros(n)
    return _snap(graph, origin_xy, snap_limit_m)


# --------------------------------------------------------------------------------------
# Array core


def _multi_source(
    graph: WalkGraph,
    fac_node: NDArray[np.int64],
    fac_offset: NDArray[np.float64],
    limit: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """One multi-source search from facilities that sit ``fac_offset`` off their nodes.

    Returns, for every graph node, the distance to the nearest facility (facility snap
    included) and that facility's position in ``fac_node`` (-1 when none within
    ``limit``).
    """
    return nearest_source(
        graph.indptr,
        graph.indices,
        graph.weights,
        fac_node,
        fac_offset,
        limit=_loosened(limit),
    )


def _snap_facilities(
    graph: WalkGraph, facility_xy: NDArray[np.float64], snap_limit_m: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Snap facilities; warn about and leave out those beyond the snap limit."""
    node, snap = _snap(graph, facility_xy, snap_limit_m)
    on_network = np.flatnonzero(node >= 0)
    n_off = facility_xy.shape[0] - on_network.size
    if n_off:
        warnings.warn(
            f"{n_off} of {facility_xy.shape[0]} facilities are farther than "
            f"{snap_limit_m:g} m from the walking network (or have no location) and "
            f"cannot be reached over it",
            UserWarning,
            stacklevel=3,
        )
    return node[on_network], snap[on_network], on_network


def nearest_facility_by_node(
    graph: WalkGraph,
    facility_xy: ArrayLike,
    *,
    max_distance_m: float | None = None,
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Walking distance from every network node to its nearest facility.

    Parameters
    ----------
    graph
        The walking network.
    facility_xy
        ``(k, 2)`` facility coordinates in ``graph.crs``.
    max_distance_m
        Stop the search at this distance (inclusive); ``None`` for no limit.
    snap_limit_m
        Facilities farther than this from every node are left out (with a warning).

    Returns
    -------
    distance_m : numpy.ndarray
        Per node, distance to the nearest facility including its snap leg; ``inf`` when
        none is reachable within ``max_distance_m``.
    facility_index : numpy.ndarray
        Per node, position of that facility in ``facility_xy``; -1 when none.
    """
    limit = _check_options(max_distance_m, 1.0, snap_limit_m)
    fxy = _as_xy(facility_xy, "facility_xy")
    fac_node, fac_snap, fac_pos = _snap_facilities(graph, fxy, snap_limit_m)
    dist, local = _multi_source(graph, fac_node, fac_snap, limit)
    facility_index = np.where(local >= 0, fac_pos[np.maximum(local, 0)], -1)
    return dist, facility_index


def _network_part(
    graph: WalkGraph,
    oxy: NDArray[np.float64],
    fxy: NDArray[np.float64],
    present: NDArray[np.bool_],
    limit: float,
    snap_limit_m: float,
    distance: NDArray[np.float64],
    facility_index: NDArray[np.int64],
    method: NDArray[np.object_],
) -> NDArray[np.float64]:
    """Network distances of :func:`nearest_from_arrays`, filled into its arrays; snap legs."""
    k = fxy.shape[0]
    origin_node, snap_m = _snap_origins(graph, oxy, snap_limit_m)
    snap_m[~present] = np.nan
    method[present] = UNREACHABLE_SNAP
    snapped = origin_node >= 0
    if k and snapped.any():
        fac_node, fac_snap, fac_pos = _snap_facilities(graph, fxy, snap_limit_m)
        node_dist, node_fac = _multi_source(graph, fac_node, fac_snap, limit)
        rows = np.flatnonzero(snapped)
        nodes = origin_node[rows]
        total = node_dist[nodes] + snap_m[rows]
        ok = (node_fac[nodes] >= 0) & _within(total, limit)
        distance[rows[ok]] = total[ok]
        facility_index[rows[ok]] = fac_pos[node_fac[nodes[ok]]]
        # why not reached: no facility in the component, or too far
        if fac_node.size:
            has_facility = np.zeros(int(graph.component_labels.max()) + 1, dtype=bool)
            has_facility[graph.component_labels[fac_node]] = True
            same_component = has_facility[graph.component_labels[nodes]]
        else:
            same_component = np.zeros(rows.size, dtype=bool)
        code = np.where(ok, 0, np.where(same_component, 1, 2))
        labels = _labels(METHOD_NETWORK, UNREACHABLE_BEYOND_MAX, UNREACHABLE_NETWORK)
        method[rows] = labels[code]
    return snap_m


def nearest_from_arrays(
    graph: WalkGraph | None,
    origin_xy: ArrayLike,
    facility_xy: ArrayLike,
    facility_ids: ArrayLike | None = None,
    *,
    max_distance_m: float | None = None,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
) -> NearestResult:
    """Nearest facility of every origin, from coordinate arrays.

    Parameters
    ----------
    graph
        The walking network, or ``None`` for straight line × ``detour_factor``.
    origin_xy
        ``(n, 2)`` origin coordinates in the graph's CRS (metres); rows with NaN are
        reported as ``"unreachable: missing geometry"``.
    facility_xy
        ``(k, 2)`` facility coordinates in the same CRS; must be finite.
    facility_ids
        ``k`` facility ids (default: positions ``0..k-1``).
    max_distance_m
        Facilities farther than this (inclusive) count as not reached; ``None``: no limit.
    detour_factor
        Straight line → walking distance factor, used only when ``graph`` is None (≥ 1).
    snap_limit_m
        Largest distance from a point to the network node it is snapped to.

    Returns
    -------
    NearestResult
        Arrays ``distance_m``, ``facility_index``, ``facility_id``, ``method``,
        ``straight_m`` and ``snap_m``, one entry per origin, in input order.
    """
    limit = _check_options(max_distance_m, detour_factor, snap_limit_m)
    oxy = _as_xy(origin_xy, "origin_xy")
    fxy = _as_xy(facility_xy, "facility_xy")
    if not np.all(np.isfinite(fxy)):
        raise ValueError("facility_xy must be finite (facilities need a location)")
    k = fxy.shape[0]
    ids = np.arange(k) if facility_ids is None else np.asarray(facility_ids, dtype=object)
    if ids.shape != (k,):
        raise ValueError(f"facility_ids must have one id per facility ({k}), got {ids.shape}")
    n = oxy.shape[0]
    present = np.all(np.isfinite(oxy), axis=1)

    distance = np.full(n, np.inf)
    facility_index = np.full(n, -1, dtype=np.int64)
    straight = np.full(n, np.inf)
    method = np.empty(n, dtype=object)
    snap_m = np.full(n, np.nan)

    if graph is None:
        if k and present.any():
            straight[present], nearest_straight = cKDTree(fxy).query(oxy[present], workers=-1)
            est = straight[present] * detour_factor
            ok = _within(est, limit)
            rows = np.flatnonzero(present)
            distance[rows[ok]] = est[ok]
            facility_index[rows[ok]] = nearest_straight[ok]
            method[rows] = _labels(METHOD_STRAIGHT_LINE, UNREACHABLE_BEYOND_MAX)[
                (~ok).view(np.int8)
            ]
    else:
        # the straight-line nearest facility is reported too; its KD-tree query runs in a
        # second thread while the network search (which releases the GIL) runs in this one
        with ThreadPoolExecutor(max_workers=1) as pool:
            straight_job = (
                pool.submit(cKDTree(fxy).query, oxy[present]) if k and present.any() else None
            )
            snap_m = _network_part(
                graph, oxy, fxy, present, limit, snap_limit_m, distance, facility_index, method
            )
            if straight_job is not None:
                straight[present] = straight_job.result()[0]
    if k == 0:
        method[present] = UNREACHABLE_NO_FACILITIES
    method[~present] = UNREACHABLE_MISSING_GEOMETRY

    facility_id = np.full(n, None, dtype=object)
    found = facility_index >= 0
    facility_id[found] = ids[facility_index[found]]
    return NearestResult(
        distance_m=distance,
        facility_index=facility_index,
        facility_id=facility_id,
        method=method,
        straight_m=straight,
        snap_m=snap_m,
    )


# --------------------------------------------------------------------------------------
# Frame level


def points_xy(frame: gpd.GeoDataFrame | gpd.GeoSeries, name: str, crs: str) -> NDArray[np.float64]:
    """Coordinates of a layer's points in ``crs`` (NaN rows for missing geometries).

    Parameters
    ----------
    frame
        GeoDataFrame or GeoSeries in any CRS; non-point geometries are represented by
        ``representative_point()`` (a point on or inside the geometry).
    name
        Layer name, used in error messages.
    crs
        Target projected CRS.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` array of x, y in ``crs``, one row per feature in input order.

    Raises
    ------
    ValueError
        If the layer has no CRS.
    """
    geoms = frame.geometry if hasattr(frame, "geometry") else frame
    if geoms.crs is None:
        raise ValueError(f"{name} has no CRS; set it (e.g. .set_crs('EPSG:4326')) first")
    geoms = geoms.to_crs(crs)
    xy = np.full((len(geoms), 2), np.nan)
    usable = np.asarray(~(geoms.isna() | geoms.is_empty), dtype=bool)
    if usable.any():
        pts = geoms[usable].representative_point()
        xy[usable, 0] = pts.x.to_numpy()
        xy[usable, 1] = pts.y.to_numpy()
    return xy


def _straight_line_crs(origins: gpd.GeoDataFrame) -> str:
    """Where straight lines are measured without a network: the origins' own metric CRS
    (a dataset's :meth:`~qjgeo.catalog.Dataset.metric` frame: EPSG:4547 in Qujiang, local
    UTM abroad), else :data:`qjgeo.crs.METRIC_CRS`."""
    crs = origins.crs
    if crs is not None and crs.is_projected:
        return str(crs.to_string())
    return METRIC_CRS


def nearest_facility(
    graph: WalkGraph | None,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    facility_id_col: str | None = "id",
    max_distance_m: float | None = None,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
) -> pd.DataFrame:
    """Walking distance from every origin to its nearest facility.

    Parameters
    ----------
    graph
        The walking network; ``None`` to estimate with straight line × ``detour_factor``.
    origins
        Where children live (villages, residential blocks...), any CRS.
    facilities
        The facilities (kindergartens, parks...), any CRS; polygons are represented by a
        point inside them.
    facility_id_col
        Column with the facility ids; ``None`` to use the facilities' index.
    max_distance_m
        Service distance: facilities farther than this (inclusive) count as not reached.
    detour_factor
        Straight line → walking factor used only without a network (default 1.3).
    snap_limit_m
        Largest distance from a point to the network node it is snapped to (500 m).

    Returns
    -------
    pandas.DataFrame
        One row per origin (same index, same order) with ``distance_m`` (``inf`` when
        not reached), ``facility_id`` (``None`` when not reached), ``method`` (see the
        module notes), ``straight_m`` and ``snap_m``.

    Raises
    ------
    ValueError
        If a layer has no CRS, the id column is missing or a facility has no location.
    """
    crs = graph.crs if graph is not None else _straight_line_crs(origins)
    oxy = points_xy(origins, "origins", crs)
    fxy = points_xy(facilities, "facilities", crs)
    if not np.all(np.isfinite(fxy)):
        raise ValueError("facilities: some features have no (or an empty) geometry")
    if facility_id_col is None:
        ids: Sequence[Any] = facilities.index.to_numpy(dtype=object)
    elif facility_id_col in facilities.columns:
        ids = facilities[facility_id_col].to_numpy(dtype=object)
    else:
        raise ValueError(f"facilities has no column {facility_id_col!r} (facility_id_col)")
    result = nearest_from_arrays(
        graph,
        oxy,
        fxy,
        ids,
        max_distance_m=max_distance_m,
        detour_factor=detour_factor,
        snap_limit_m=snap_limit_m,
    )
    return result.to_frame(origins.index)


# --------------------------------------------------------------------------------------
# Sparse distance matrix


def _coords(
    points: ArrayLike | gpd.GeoDataFrame | gpd.GeoSeries, name: str, crs: str
) -> NDArray[np.float64]:
    if hasattr(points, "crs") and hasattr(points, "to_crs"):
        return points_xy(points, name, crs)
    return _as_xy(points, name)


def _group(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.intp], NDArray[np.intp]]:
    """Unique keys, members sorted by key, and CSR-style pointers into the members."""
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    members = np.argsort(inverse, kind="stable")
    ptr = np.zeros(uniq.size + 1, dtype=np.intp)
    np.cumsum(counts, out=ptr[1:])
    return uniq, members, ptr


def _expand(
    group: NDArray[np.intp], members: NDArray[np.intp], ptr: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """For each entry's group, repeat the entry once per member: (entry, member) pairs."""
    counts = ptr[group + 1] - ptr[group]
    entry = np.repeat(np.arange(group.size), counts)
    start = np.repeat(ptr[group], counts)
    offset = np.arange(entry.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return entry, members[start + offset]


def distance_matrix_within(
    graph: WalkGraph | None,
    origins: ArrayLike | gpd.GeoDataFrame | gpd.GeoSeries,
    candidates: ArrayLike | gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_distance_m: float,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
) -> csr_array:
    """Sparse matrix of origin → candidate distances up to ``max_distance_m``.

    Parameters
    ----------
    graph
        The walking network, or ``None`` for straight line × ``detour_factor``.
    origins, candidates
        ``(n, 2)`` / ``(m, 2)`` coordinates in the graph's CRS (``METRIC_CRS`` without a
        graph), or GeoDataFrames/GeoSeries in any CRS (converted).
    max_distance_m
        Largest distance kept (inclusive), metres.
    detour_factor
        Used only without a network (≥ 1).
    snap_limit_m
        Points farther than this from the network get an empty row/column.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(n, m)``; a stored entry is a distance ≤ ``max_distance_m`` (snap legs
        included on the network). A distance of 0 is stored as an explicit zero, so use
        the sparsity structure, not ``== 0``, to tell "within reach" apart.

    Notes
    -----
    On the network, one search per distinct candidate node, stopped at
    ``max_distance_m`` (:func:`qjgeo.dijkstra.pairs_within`).
    """
    limit = _check_options(max_distance_m, detour_factor, snap_limit_m)
    crs = graph.crs if graph is not None else METRIC_CRS
    oxy = _coords(origins, "origins", crs)
    cxy = _coords(candidates, "candidates", crs)
    n, m = oxy.shape[0], cxy.shape[0]
    o_ok = np.flatnonzero(np.all(np.isfinite(oxy), axis=1))
    c_ok = np.flatnonzero(np.all(np.isfinite(cxy), axis=1))
    empty = csr_array((n, m), dtype=np.float64)
    if o_ok.size == 0 or c_ok.size == 0:
        return empty

    if graph is None:
        radius = limit / detour_factor
        tree_o, tree_c = cKDTree(oxy[o_ok]), cKDTree(cxy[c_ok])
        pairs = tree_o.sparse_distance_matrix(tree_c, _loosened(radius), output_type="ndarray")
        d = pairs["v"] * detour_factor
        keep = _within(d, limit)
        rows, cols, vals = o_ok[pairs["i"][keep]], c_ok[pairs["j"][keep]], d[keep]
        return csr_array((vals, (rows, cols)), shape=(n, m))

    o_node, o_snap = _snap(graph, oxy, snap_limit_m)
    c_node, c_snap = _snap(graph, cxy, snap_limit_m)
    o_ok = np.flatnonzero(o_node >= 0)
    c_ok = np.flatnonzero(c_node >= 0)
    if o_ok.size == 0 or c_ok.size == 0:
        return empty
    o_nodes, o_members, o_ptr = _group(o_node[o_ok])
    c_nodes, c_members, c_ptr = _group(c_node[c_ok])
    ci, reached, net = pairs_within(
        graph.indptr, graph.indices, graph.weights, c_nodes, o_nodes, _loosened(limit)
    )
    position = np.full(graph.n_nodes, -1, dtype=np.intp)
    position[o_nodes] = np.arange(o_nodes.size)
    oi = position[reached]
    # distinct node pair -> every origin on that node -> every candidate on that node
    e1, origin_pos = _expand(oi, o_members, o_ptr)
    e2, cand_pos = _expand(ci[e1], c_members, c_ptr)
    origin_idx = o_ok[origin_pos[e2]]
    cand_idx = c_ok[cand_pos]
    total = net[e1][e2] + o_snap[origin_idx] + c_snap[cand_idx]
    keep = _within(total, limit)
    return csr_array((total[keep], (origin_idx[keep], cand_idx[keep])), shape=(n, m))
