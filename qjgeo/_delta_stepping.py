"""The compiled Δ-stepping kernel behind :func:`qjgeo.dijkstra.nearest_source`.

Imported only when a network search runs (importing numba takes a fraction of a second).
Compiled on first call and cached on disk by numba (``cache=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True, inline="always")  # type: ignore[untyped-decorator]
def _append(  # pragma: no cover - compiled
    entry_node: NDArray[np.int64],
    entry_next: NDArray[np.int64],
    head: NDArray[np.int64],
    used: int,
    node: int,
    slot: int,
) -> None:
    """Put ``node`` at the front of bucket ``slot``, in entry ``used`` of the pool."""
    entry_node[used] = node
    entry_next[used] = head[slot]
    head[slot] = used


@njit(cache=True, nogil=True, inline="always")  # type: ignore[untyped-decorator]
def _heap_push(  # pragma: no cover - compiled
    heap_key: NDArray[np.float64],
    heap_node: NDArray[np.int64],
    size: int,
    key: float,
    node: int,
) -> None:
    """Add ``(key, node)`` to the binary heap of ``size`` entries (the caller counts it)."""
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if heap_key[p] <= key:
            break
        heap_key[i] = heap_key[p]
        heap_node[i] = heap_node[p]
        i = p
    heap_key[i] = key
    heap_node[i] = node


@njit(cache=True, nogil=True)  # type: ignore[untyped-decorator]
def delta_stepping(  # pragma: no cover - compiled
    indptr: NDArray[Any],
    indices: NDArray[Any],
    weights: NDArray[np.float64],
    src: NDArray[np.int64],
    off: NDArray[np.float64],
    limit: float,
    delta: float,
    wmax: float,
    capacity: int,
) -> tuple[NDArray[np.float64], NDArray[np.int64], bool]:
    """Distance to and label of the nearest source for every node (see qjgeo.dijkstra).

    ``wmax`` is the heaviest edge weight. ``capacity`` bounds the bucket entries (one per successful relaxation); when they run
    out the search stops and returns ``False`` as its third value, and the caller runs it
    again with more room. Each node is expanded once when ``delta`` is at most the
    lightest edge, so ``len(indices) + len(src)`` entries always suffice then.
    """
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    label = np.full(n, -1, np.int64)
    expanded = np.zeros(n, np.bool_)
    # every pending distance lies within one turn of the bucket ring from the bucket being
    # expanded: at most the heaviest edge ``wmax`` (or the spread of the starting offsets)
    # beyond it
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
            if used == capacity:
                return dist, label, False
            _append(entry_node, entry_next, head, used, v, int(d / delta) % nb)
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
                        if used == capacity:
                            return dist, label, False
                        _append(entry_node, entry_next, head, used, u, int(nd / delta) % nb)
                        used += 1
                        pending += 1
        current += 1
    return dist, label, True


@njit(cache=True, nogil=True)  # type: ignore[untyped-decorator]
def bounded_searches(  # pragma: no cover - compiled
    indptr: NDArray[Any],
    indices: NDArray[Any],
    weights: NDArray[np.float64],
    sources: NDArray[np.int64],
    is_target: NDArray[np.bool_],
    limit: float,
    first: int,
    capacity: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], int, int]:
    """One Dijkstra per source, each stopped at ``limit``; the target nodes it reaches.

    Searches ``sources[first:]`` in turn (binary heap; a node's distance is reset only
    where the previous search touched it, so a search costs what it reaches, not the
    graph's size). Returns ``(source position, node, distance)`` triples for every target
    node within ``limit`` of a source, how many triples were written, and the position of
    the first source not searched: ``len(sources)`` when done, else the output ran out
    of room (``capacity``) and the caller continues from there with a new buffer.
    """
    n = indptr.size - 1
    out_src = np.empty(capacity, np.int64)
    out_node = np.empty(capacity, np.int64)
    out_dist = np.empty(capacity, np.float64)
    used = 0
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    heap_key = np.empty(max(indices.size, 1) + 1, np.float64)
    heap_node = np.empty(max(indices.size, 1) + 1, np.int64)
    for s in range(first, sources.size):
        start = used
        n_touched = 0
        v0 = sources[s]
        dist[v0] = 0.0
        touched[0] = v0
        n_touched = 1
        heap_key[0] = 0.0
        heap_node[0] = v0
        size = 1
        while size > 0:
            d = heap_key[0]
            v = heap_node[0]
            size -= 1
            last_k = heap_key[size]
            last_v = heap_node[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                if c + 1 < size and heap_key[c + 1] < heap_key[c]:
                    c += 1
                if heap_key[c] >= last_k:
                    break
                heap_key[i] = heap_key[c]
                heap_node[i] = heap_node[c]
                i = c
            heap_key[i] = last_k
            heap_node[i] = last_v
            if d > dist[v]:
                continue  # stale entry
            if is_target[v]:
                if used == capacity:  # no room: redo this source with the next buffer
                    for t in range(n_touched):
                        dist[touched[t]] = np.inf
                    return out_src, out_node, out_dist, start, s
                out_src[used] = s
                out_node[used] = v
                out_dist[used] = d
                used += 1
            for q in range(indptr[v], indptr[v + 1]):
                u = indices[q]
                nd = d + weights[q]
                if nd < dist[u] and nd <= limit:
                    if dist[u] == np.inf:
                        touched[n_touched] = u
                        n_touched += 1
                    dist[u] = nd
                    _heap_push(heap_key, heap_node, size, nd, u)
                    size += 1
        for t in range(n_touched):
            dist[touched[t]] = np.inf
    return out_src, out_node, out_dist, used, sources.size
