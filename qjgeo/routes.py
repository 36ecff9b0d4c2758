"""The length in metres of the routes a search finds, where its costs are not lengths.

The drive network's search costs are travel times expressed in metres at the reference speed
(:mod:`qjgeo.modes`), so a search's ``distance_m`` is not how long the route is.
:func:`route_lengths` runs the search of :func:`qjgeo.access.nearest_from_arrays` once more
with predecessors (``scipy.sparse.csgraph.dijkstra`` from one super source joined to every
facility node by its snap leg) and sums the edge lengths of each origin's route instead of
its costs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array

from qjgeo.modes import ModeNetwork, SearchGraph
from qjgeo.network import WalkGraph
from qjgeo.params import DEFAULT_SNAP_LIMIT_M

__all__ = ["route_lengths"]


def _super_source_graph(
    g: WalkGraph,
    length_m: NDArray[np.float64],
    fac_node: NDArray[np.int64],
    fac_snap: NDArray[np.float64],
) -> tuple[csr_array, NDArray[np.float64]]:
    """The search graph plus one node (the last) joined to each facility node by its snap leg.

    Returns the graph (costs) and the length of each of its edges in CSR order; a node
    several facilities snap to gets the smallest snap leg.
    """
    n = g.n_nodes
    snap = np.full(n, np.inf)
    np.minimum.at(snap, fac_node, fac_snap)
    starts = np.flatnonzero(np.isfinite(snap))
    indptr = np.concatenate([g.indptr.astype(np.int64), [g.indptr[-1] + starts.size]])
    indices = np.concatenate([g.indices.astype(np.int64), starts])
    weights = np.concatenate([g.weights, snap[starts]])
    lengths = np.concatenate([length_m, snap[starts]])
    return csr_array((weights, indices, indptr), shape=(n + 1, n + 1)), lengths


def _tree_lengths(
    graph: csr_array, lengths: NDArray[np.float64], pred: NDArray[np.int32]
) -> NDArray[np.float64]:
    """Length of every node's path up its shortest-path tree (``pred``) to the root.

    Each node's last edge is looked up (of parallel edges, the cheapest), then the path
    lengths are summed by pointer jumping: log₂(depth) vectorised steps.
    """
    m = graph.shape[0]
    src = np.repeat(np.arange(m, dtype=np.int64), np.diff(graph.indptr))
    keys = src * m + graph.indices
    order = np.lexsort((graph.data, keys))
    node = np.flatnonzero(pred >= 0)
    at = order[np.searchsorted(keys[order], pred[node].astype(np.int64) * m + node)]
    total = np.zeros(m)
    total[node] = lengths[at]
    up = np.where(pred >= 0, pred, -1).astype(np.int64)
    while np.any(up >= 0):
        has = up >= 0
        total = total + np.where(has, total[np.maximum(up, 0)], 0.0)
        up = np.where(has, up[np.maximum(up, 0)], -1)
    return total


def route_lengths(
    network: ModeNetwork | WalkGraph,
    origin_xy: ArrayLike,
    facility_xy: ArrayLike,
    *,
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
) -> NDArray[np.float64]:
    """Length in metres of each origin's fastest route to its nearest facility.

    The search is the one of :func:`qjgeo.access.nearest_from_arrays` (facilities and
    origins snapped to their nearest nodes, facilities' snap legs counted from the start,
    trips *to* the facilities on a directed network), run once from all facilities with
    ``scipy.sparse.csgraph.dijkstra`` over :attr:`ModeNetwork.search_graph`; the route's
    edge lengths are summed instead of its costs. The length is

        origin snap + length of the fastest network route + facility snap,

    the snap legs as :func:`~qjgeo.access.nearest_from_arrays` counts them. On a network
    whose costs are its lengths (walking, cycling) it equals that function's
    ``distance_m``; on the drive network it is the real length of the fastest route, which
    ``distance_m`` (time × reference speed) is not. Of equally fast routes, either may be
    measured.

    Parameters
    ----------
    network
        The mode's network, or its search graph (a :class:`SearchGraph` keeps the lengths;
        a plain graph's costs are taken as its lengths).
    origin_xy, facility_xy
        ``(n, 2)`` and ``(k, 2)`` coordinates in ``network.crs``.
    snap_limit_m
        Largest distance from a point to the node it is snapped to.

    Returns
    -------
    numpy.ndarray
        Per origin, the route length in metres; ``inf`` where no facility is reachable
        (origin or every facility beyond the snap limit, another component).
    """
    from scipy.sparse.csgraph import dijkstra

    from qjgeo.access import _as_xy, _snap, _snap_origins

    oxy = _as_xy(origin_xy, "origin_xy")
    fxy = _as_xy(facility_xy, "facility_xy")
    if isinstance(network, ModeNetwork):
        g, length_m = network.search_graph, network.search_length_m
    else:
        g = network
        length_m = network.length_m if isinstance(network, SearchGraph) else network.weights
    route = np.full(oxy.shape[0], np.inf)
    origin_node, origin_snap = _snap_origins(g, oxy, snap_limit_m)
    fac_node, fac_snap = _snap(g, fxy, snap_limit_m)
    on = fac_node >= 0
    if not on.any() or not np.any(origin_node >= 0):
        return route
    graph, lengths = _super_source_graph(g, length_m, fac_node[on], fac_snap[on])
    cost, pred = dijkstra(graph, directed=True, indices=g.n_nodes, return_predecessors=True)
    along = _tree_lengths(graph, lengths, pred)
    rows = np.flatnonzero(origin_node >= 0)
    nodes = origin_node[rows]
    reached = np.isfinite(cost[nodes])
    route[rows[reached]] = origin_snap[rows[reached]] + along[nodes[reached]]
    return route
