"""Benchmark: nearest facility for every node of a walking network.

Usage::

    python bench/bench_access.py [--nodes N] [--facilities K] [--sample S] [--limit-m M]

Two graphs: (a) the real West Oakland OSM extract (unsimplified walk network) and
(b) a synthetic perturbed grid of about N nodes (default 1,000,000; 50 m spacing, ±15 m
jitter, edge length = straight line × U(1, 1.3)) with K facilities (default 1,000) on
random nodes. For each graph, in the same run:

- qjgeo: ``nearest_from_arrays`` (every node as an origin: snapping + one multi-source
  search + the straight-line nearest facility) and the search core alone
  (``nearest_facility_by_node``: compiled Δ-stepping), with and without a distance limit. Origins exactly on
  the nodes snap to themselves without a KD-tree query (the graph's nodes have distinct
  locations, checked once and cached); one more line times origins moved 0.5 m off their
  nodes in x and y, which takes the KD-tree snapping path every other input takes;
- scipy: the same search by ``qjgeo.dijkstra``'s scipy backend (``csgraph.dijkstra``);
- networkx: ``nx.multi_source_dijkstra_path_length`` on the same graph (the graph build
  is timed separately and not counted);
- per-origin loops, one search per origin, timed on a random sample of ``--sample``
  origins and extrapolated to all nodes (the output says so): with the limit,
  ``nx.single_source_dijkstra_path_length(..., cutoff=limit)`` then the minimum over the
  facilities; without a limit, a pure-Python Dijkstra that stops at the first facility it
  settles (a full networkx search per origin would be a straw man on 1M nodes).

Wall times are the best of ``--repeat`` runs (networkx and the loops: one run on graphs
over 100,000 nodes). Peak
memory is measured in separate runs (so measuring does not slow the timed runs), both as
the tracemalloc peak (Python and NumPy allocations) and as the rise of the process's
resident set during the call (also C allocations, e.g. scipy's Dijkstra heap; Linux
only). Distances are checked against networkx and the loops (agreement printed). The
machines are shared: the load average is printed with the table. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import heapq
import math
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import qjgeo.dijkstra  # noqa: E402
from qjgeo.access import (  # noqa: E402
    distance_matrix_within,
    nearest_facility_by_node,
    nearest_from_arrays,
)
from qjgeo.dijkstra import nearest_source  # noqa: E402
from qjgeo.network import WalkGraph, graph_from_arrays, graph_from_osm_file  # noqa: E402

OAKLAND = REPO.parent / "shared" / "data" / "osm" / "West-Oakland.osm.bz2"

Mem = tuple[float, float | None] | None
Row = tuple[str, str, float, Mem, float | None, float | None]
_NONE3 = (None, None, None)  # a row without memory figures or ratios


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mb(fn: Callable[[], Any]) -> tuple[float, float | None]:
    """Peak memory of one call: (tracemalloc peak, rise of the resident set), in MB.

    tracemalloc sees Python and NumPy allocations only; the resident-set figure (Linux:
    peak RSS reset through /proc/self/clear_refs, minus RSS before the call) also sees
    C-level allocations such as scipy's Dijkstra heap. ``None`` where unavailable.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        base = _status_mb("VmRSS")
    except OSError:
        base = None
    fn()
    hwm = _status_mb("VmHWM")
    rss = hwm - base if base is not None and hwm is not None else None
    gc.collect()
    tracemalloc.start()
    fn()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return traced / 1e6, rss


def synthetic_grid(n_nodes: int, seed: int) -> WalkGraph:
    """A perturbed square grid of about ``n_nodes`` nodes, 50 m spacing."""
    rng = np.random.default_rng(seed)
    side = max(2, round(math.sqrt(n_nodes)))
    ids = np.arange(side * side, dtype=np.int64)
    col, row = ids % side, ids // side
    x = 400_000.0 + col * 50.0 + rng.uniform(-15.0, 15.0, ids.size)
    y = 2_700_000.0 + row * 50.0 + rng.uniform(-15.0, 15.0, ids.size)
    right = ids[col < side - 1]
    up = ids[row < side - 1]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + side])
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.3, u.size)
    return graph_from_arrays(ids, x, y, u, v, length)


def to_networkx(graph: WalkGraph) -> nx.Graph:
    """The same graph as a networkx Graph (node = position, weight = metres)."""
    src = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
    upper = src < graph.indices
    G = nx.Graph()
    G.add_nodes_from(range(graph.n_nodes))
    G.add_weighted_edges_from(
        zip(
            src[upper].tolist(),
            graph.indices[upper].tolist(),
            graph.weights[upper].tolist(),
            strict=True,
        )
    )
    return G


def per_origin_loop(
    G: nx.Graph, origins: np.ndarray, facility_nodes: set[int], cutoff: float
) -> np.ndarray:
    """Nearest facility per origin: one networkx search (up to ``cutoff``) per origin."""
    out = np.full(origins.size, np.inf)
    for i, origin in enumerate(origins.tolist()):
        reached = nx.single_source_dijkstra_path_length(G, origin, cutoff=cutoff)
        found = [d for node, d in reached.items() if node in facility_nodes]
        if found:
            out[i] = min(found)
    return out


def per_origin_first_facility(
    adjacency: tuple[list[int], list[int], list[float]],
    origins: np.ndarray,
    is_facility: list[bool],
) -> np.ndarray:
    """Nearest facility per origin: a pure-Python Dijkstra per origin, stopping at the first
    facility it settles (the natural loop without a distance limit)."""
    indptr, indices, weights = adjacency
    out = np.full(origins.size, np.inf)
    for i, origin in enumerate(origins.tolist()):
        best = {origin: 0.0}
        heap = [(0.0, origin)]
        done: set[int] = set()
        while heap:
            d, u = heapq.heappop(heap)
            if u in done:
                continue
            if is_facility[u]:
                out[i] = d
                break
            done.add(u)
            for e in range(indptr[u], indptr[u + 1]):
                v, nd = indices[e], d + weights[e]
                if nd < best.get(v, math.inf):
                    best[v] = nd
                    heapq.heappush(heap, (nd, v))
    return out


def bench_graph(
    label: str,
    graph: WalkGraph,
    n_facilities: int,
    limit_m: float,
    sample: int,
    repeat: int,
    seed: int,
) -> list[Row]:
    rng = np.random.default_rng(seed)
    n = graph.n_nodes
    fac_nodes = np.sort(rng.choice(n, size=min(n_facilities, n), replace=False))
    fac_xy = graph.xy[fac_nodes]
    origin_xy = graph.xy
    rows: list[Row] = []
    info = f"{n:,} nodes, {graph.n_edges:,} edges, {fac_nodes.size:,} facilities"
    print(f"\n[{label}] {info}", flush=True)

    t_tree, _ = best_of(lambda: graph.kdtree, 1)
    rows.append((label, "KD-tree on nodes (built once, cached)", t_tree, None, None, None))
    t_distinct, _ = best_of(lambda: graph.distinct_locations, 1)
    rows.append((label, "node locations distinct? (checked once, cached)", t_distinct, *_NONE3))

    t_full, res = best_of(lambda: nearest_from_arrays(graph, origin_xy, fac_xy), repeat)
    m_full = peak_mb(lambda: nearest_from_arrays(graph, origin_xy, fac_xy))
    off_xy = origin_xy + 0.5  # off the nodes: every origin is snapped by the KD-tree
    t_off, _ = best_of(lambda: nearest_from_arrays(graph, off_xy, fac_xy), repeat)
    t_core, (core_d, _) = best_of(lambda: nearest_facility_by_node(graph, fac_xy), repeat)
    m_core = peak_mb(lambda: nearest_facility_by_node(graph, fac_xy))
    t_full_lim, res_lim = best_of(
        lambda: nearest_from_arrays(graph, origin_xy, fac_xy, max_distance_m=limit_m), repeat
    )
    t_core_lim, _ = best_of(
        lambda: nearest_facility_by_node(graph, fac_xy, max_distance_m=limit_m), repeat
    )
    zero = np.zeros(fac_nodes.size)
    csr = (graph.indptr, graph.indices, graph.weights)
    t_scipy, (scipy_d, _) = best_of(
        lambda: nearest_source(*csr, fac_nodes, zero, backend="scipy"), repeat
    )
    t_scipy_lim, _ = best_of(
        lambda: nearest_source(*csr, fac_nodes, zero, limit=limit_m, backend="scipy"), repeat
    )
    m_scipy = peak_mb(lambda: nearest_source(*csr, fac_nodes, zero, backend="scipy"))
    m_core_lim = peak_mb(lambda: nearest_facility_by_node(graph, fac_xy, max_distance_m=limit_m))
    m_full_lim = peak_mb(
        lambda: nearest_from_arrays(graph, origin_xy, fac_xy, max_distance_m=limit_m)
    )

    t_build, G = best_of(lambda: to_networkx(graph), 1)
    m_build = peak_mb(lambda: to_networkx(graph))
    sources = fac_nodes.tolist()
    nx_repeat = repeat if n <= 100_000 else 1  # small graphs: best of R for networkx too
    t_nx, nx_d = best_of(
        lambda: nx.multi_source_dijkstra_path_length(G, sources, weight="weight"), nx_repeat
    )
    t_nx_lim, nx_d_lim = best_of(
        lambda: nx.multi_source_dijkstra_path_length(G, sources, cutoff=limit_m, weight="weight"),
        nx_repeat,
    )
    m_nx = peak_mb(lambda: nx.multi_source_dijkstra_path_length(G, sources, weight="weight"))
    m_nx_lim = peak_mb(
        lambda: nx.multi_source_dijkstra_path_length(G, sources, cutoff=limit_m, weight="weight")
    )

    nx_arr = np.full(n, np.inf)
    nx_arr[list(nx_d.keys())] = list(nx_d.values())
    nx_arr_lim = np.full(n, np.inf)
    nx_arr_lim[list(nx_d_lim.keys())] = list(nx_d_lim.values())
    both = np.isfinite(nx_arr) & np.isfinite(res.distance_m)
    diff = float(np.max(np.abs(res.distance_m[both] - nx_arr[both]), initial=0.0))
    same_reach = bool(np.array_equal(np.isfinite(nx_arr), np.isfinite(res.distance_m)))
    same_reach_lim = bool(np.array_equal(np.isfinite(nx_arr_lim), np.isfinite(res_lim.distance_m)))
    np.testing.assert_allclose(res.distance_m, core_d)  # origins on nodes: snap 0
    np.testing.assert_allclose(scipy_d, core_d, rtol=1e-12)  # both backends agree

    fac_set = set(sources)
    loop_sample = rng.choice(n, size=min(sample, n), replace=False)
    t_loop_lim, loop_lim = best_of(
        lambda: per_origin_loop(G, loop_sample, fac_set, limit_m), nx_repeat
    )
    adjacency = (graph.indptr.tolist(), graph.indices.tolist(), graph.weights.tolist())
    is_facility = np.isin(np.arange(n), fac_nodes).tolist()
    t_loop, loop_full = best_of(
        lambda: per_origin_first_facility(adjacency, loop_sample, is_facility), nx_repeat
    )
    loop_ok = np.allclose(loop_full, res.distance_m[loop_sample]) and np.allclose(
        loop_lim, res_lim.distance_m[loop_sample]
    )
    t_loop_all = t_loop / loop_sample.size * n
    t_loop_lim_all = t_loop_lim / loop_sample.size * n

    lim = f"{limit_m:g} m"
    rows += [
        (label, "qjgeo nearest_from_arrays, no limit", t_full, m_full, t_full, t_core),
        (
            label,
            "qjgeo nearest_from_arrays, origins 0.5 m off the nodes, no limit",
            t_off,
            None,
            t_full,
            t_core,
        ),
        (label, "qjgeo search core (by node), no limit", t_core, m_core, t_full, t_core),
        (label, "scipy csgraph.dijkstra backend, no limit", t_scipy, m_scipy, t_full, t_core),
        (label, "networkx multi-source Dijkstra, no limit", t_nx, m_nx, t_full, t_core),
        (
            label,
            f"per-origin loop, stop at 1st facility ({loop_sample.size} timed, extrapolated)",
            t_loop_all,
            None,
            t_full,
            t_core,
        ),
        (
            label,
            f"qjgeo nearest_from_arrays, {lim} limit",
            t_full_lim,
            m_full_lim,
            t_full_lim,
            t_core_lim,
        ),
        (
            label,
            f"qjgeo search core (by node), {lim} limit",
            t_core_lim,
            m_core_lim,
            t_full_lim,
            t_core_lim,
        ),
        (
            label,
            f"scipy csgraph.dijkstra backend, {lim} limit",
            t_scipy_lim,
            None,
            t_full_lim,
            t_core_lim,
        ),
        (label, f"networkx multi-source, {lim} cutoff", t_nx_lim, m_nx_lim, t_full_lim, t_core_lim),
        (
            label,
            f"per-origin nx loop, {lim} cutoff ({loop_sample.size} timed, extrapolated)",
            t_loop_lim_all,
            None,
            t_full_lim,
            t_core_lim,
        ),
        (label, "(networkx graph build, not counted above)", t_build, m_build, None, None),
    ]
    print(
        f"  check vs networkx: max |diff| = {diff:.2e} m, same reachable set: {same_reach} "
        f"(limit: {same_reach_lim}); per-origin loop agrees: {loop_ok}",
        flush=True,
    )
    return rows


def _ratio(t: float, ref: float | None) -> str:
    if ref is None:
        return ""
    r = t / ref
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def print_table(rows: list[Row]) -> None:
    """Print the results; ratios are wall time / qjgeo's time for the same limit."""
    head = ("graph", "task", "wall s", "traced MB", "RSS+ MB", "vs full", "vs core")
    w_task = max(len(r[1]) for r in rows)
    w_graph = max(len(r[0]) for r in rows)
    print(
        f"\n{head[0]:<{w_graph}}  {head[1]:<{w_task}}  {head[2]:>10}  {head[3]:>9}  "
        f"{head[4]:>8}  {head[5]:>9}  {head[6]:>9}"
    )
    print("-" * (w_graph + w_task + 58))
    for graph, task, secs, mem, ref_full, ref_core in rows:
        traced = f"{mem[0]:9.1f}" if mem is not None else f"{'':9}"
        rss = f"{mem[1]:8.1f}" if mem is not None and mem[1] is not None else f"{'':8}"
        print(
            f"{graph:<{w_graph}}  {task:<{w_task}}  {secs:10.4f}  {traced}  {rss}  "
            f"{_ratio(secs, ref_full):>9}  {_ratio(secs, ref_core):>9}"
        )
    print(
        "vs full: time / qjgeo nearest_from_arrays (snapping + search + ids); "
        "vs core: time / qjgeo search core (Δ-stepping); same limit in both."
    )


def bench_matrix(graph: WalkGraph, repeat: int, seed: int) -> None:
    """distance_matrix_within (siting, 2SFCA): compiled bounded searches vs scipy blocks."""
    rng = np.random.default_rng(seed)
    n = graph.n_nodes
    cands = graph.xy[rng.choice(n, size=min(1000, n), replace=False)] + 3.0
    origins = graph.xy[rng.choice(n, size=min(5000, n), replace=False)] + 2.0
    print(
        f"\ndistance_matrix_within on the synthetic grid: {len(origins):,} origins × "
        f"{len(cands):,} candidates, 3 m / 2 m off the nodes (best of {repeat})"
    )
    available = qjgeo.dijkstra._numba_available
    for limit in (500.0, 2000.0):
        times, results = {}, {}
        for backend in ("delta", "scipy"):
            qjgeo.dijkstra._numba_available = lambda b=backend: b == "delta"  # type: ignore[assignment]
            try:
                times[backend], results[backend] = best_of(
                    lambda lim=limit: distance_matrix_within(
                        graph, origins, cands, max_distance_m=lim
                    ),
                    repeat,
                )
            finally:
                qjgeo.dijkstra._numba_available = available  # type: ignore[assignment]
        a, b = results["delta"], results["scipy"]
        same = a.nnz == b.nnz and (a != b).nnz == 0
        print(
            f"  {limit:>6g} m: compiled {times['delta']:.3f} s, scipy backend "
            f"{times['scipy']:.3f} s ({times['scipy'] / times['delta']:.1f}x); "
            f"{a.nnz:,} pairs, identical: {same}"
        )


_FIRST_CALL = """
import time
t0 = time.perf_counter()
import numpy as np
from qjgeo.dijkstra import nearest_source
nearest_source(np.array([0, 1, 2]), np.array([1, 0]), np.array([1.0, 1.0]),
               np.array([0]), np.array([0.0]), backend="delta")
print(time.perf_counter() - t0)
"""


def print_first_call() -> None:
    """Time the first search of a fresh process: numba compile, then load from its cache."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(REPO))
        times = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True
            )
            times.append(float(out.stdout.strip()) if out.returncode == 0 else math.nan)
    print(
        f"first search in a fresh process (import numba + compile the kernel): {times[0]:.2f} s; "
        f"with the kernel in numba's on-disk cache: {times[1]:.2f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="synthetic graph size")
    parser.add_argument("--facilities", type=int, default=1_000, help="facilities (synthetic)")
    parser.add_argument("--sample", type=int, default=200, help="per-origin loop sample")
    parser.add_argument("--limit-m", type=float, default=1000.0, help="distance limit (m)")
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs for qjgeo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--osm", type=Path, default=OAKLAND, help="OSM extract for (a)")
    args = parser.parse_args(argv)

    print_first_call()
    rows: list[Row] = []
    if args.osm.is_file():
        t0 = time.perf_counter()
        oakland = graph_from_osm_file(args.osm, crs=None, simplify=False)
        print(f"West Oakland walk graph read in {time.perf_counter() - t0:.2f} s")
        n_fac = max(1, oakland.n_nodes // 25)
        rows += bench_graph(
            "(a) West Oakland",
            oakland,
            n_fac,
            args.limit_m,
            args.sample,
            args.repeat,
            args.seed,
        )
    else:
        print(f"skipping (a): {args.osm} not found")
    t0 = time.perf_counter()
    grid = synthetic_grid(args.nodes, args.seed)
    print(f"synthetic grid built in {time.perf_counter() - t0:.2f} s")
    rows += bench_graph(
        "(b) synthetic grid",
        grid,
        args.facilities,
        args.limit_m,
        args.sample,
        args.repeat,
        args.seed,
    )
    print_table(rows)
    bench_matrix(grid, args.repeat, args.seed)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average during the run (1/5/15 min): {load} on {os.cpu_count()} CPUs")
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (everything, networkx graphs included): {maxrss_mb:,.0f} MB")


if __name__ == "__main__":
    main()
