"""The compiled Δ-stepping kernel behind :func:`qjgeo.dijkstra.nearest_source`.

Imported only when a network search runs (importing numba takes a fraction of a second).
Compiled on first call and cached on disk by numba (``cache=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)  # type: ignore[untyped-decorator]
def delta_stepping(  # pragma: no cover - compiled
    indptr: NDArray[Any],
    indices: NDArray[Any],
    weights: NDArray[np.float64],
    src: NDArray[np.int64],
    off: NDArray[np.float64],
    limit: float,
    delta: float,
    capacity: int,
) -> tuple[NDArray[np.float64], NDArray[np.int64], bool]:
    """Distance to and label of the nearest source for every node (see qjgeo.dijkstra).

    ``capacity`` bounds the bucket entries (one per successful relaxation); when they run
    out the search stops and returns ``False`` as its third value, and the caller runs it
    again with more room. Each node is expanded once when ``delta`` is at most the
    lightest edge, so ``len(indices) + len(src)`` entries always suffice then.
    """
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    label = np.full(n, -1, np.int64)
    expanded = np.zeros(n, np.bool_)
    # every pending distance lies within one turn of the bucket ring from the bucket being
    # expanded: at most the heaviest edge (or the spread of the starting offsets) beyond it
    wmax = 0.0
    for q in range(weights.size):
        wmax = max(wmax, weights[q])
    omin = np.inf
    omax = 0.0
    for s in range(src.size):
        if off[s] <= limit:
            omin = min(omin, off[s])
            omax = max(omax, off[s])
    if omin == np.inf:
        return dist, label, True
    nb = int(max(wmax, omax - omin) / delta) + 3
    head = np.full(nb, -1, np.int64)
    # bucket entries: singly linked lists in one pool, appended in order; stale entries
    # (node expanded already, or lowered into another bucket since) are skipped
    entry_node = np.empty(capacity, np.int64)
    entry_next = np.empty(capacity, np.int64)
    used = 0
    pending = 0
    for s in range(src.size):
        v = src[s]
        d = off[s]
        if d <= limit and d < dist[v]:  # same node: smallest offset, then first, wins
            dist[v] = d
            label[v] = s
            slot = int(d / delta) % nb
            if used == capacity:
                return dist, label, False
            entry_node[used] = v
            entry_next[used] = head[slot]
            head[slot] = used
            used += 1
            pending += 1
    batch = np.empty(n, np.int64)
    current = int(omin / delta)
    while pending > 0:
        slot = current % nb
        while head[slot] != -1:
            # take the whole bucket; edges lighter than delta may refill it
            e = head[slot]
            head[slot] = -1
            m = 0
            while e != -1:
                pending -= 1
                v = entry_node[e]
                e = entry_next[e]
                if expanded[v] or int(dist[v] / delta) != current:
                    continue
                expanded[v] = True
                batch[m] = v
                m += 1
            for j in range(m):
                v = batch[j]
                d = dist[v]
                lab = label[v]
                for q in range(indptr[v], indptr[v + 1]):
                    u = indices[q]
                    nd = d + weights[q]
                    if nd < dist[u] and nd <= limit:
                        dist[u] = nd
                        label[u] = lab
                        expanded[u] = False
                        slot_u = int(nd / delta) % nb
                        if used == capacity:
                            return dist, label, False
                        entry_node[used] = u
                        entry_next[used] = head[slot_u]
                        head[slot_u] = used
                        used += 1
                        pending += 1
        current += 1
    return dist, label, True
