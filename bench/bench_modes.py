"""Benchmark: the three travel-mode networks of a county, searched for every village and type.

Usage::

    python bench/bench_modes.py [--nodes N] [--big-nodes M] [--villages V] [--repeat R]

A synthetic county (issue 18, item 6): a perturbed grid of about N nodes (default 200,000;
50 m spacing, ±15 m jitter, edge length = straight line × U(1, 1.3)) gives three networks
built with :func:`qjgeo.modes.graph_from_arrays`:

- walk: every edge, two-way, 3.6 km/h;
- bike: 90 % of the edges (footways left out), two-way, 15 km/h;
- drive: 70 % of the edges, speeds drawn from the per-class defaults (20–60 km/h), 10 % of
  them one-way; the search runs on the reversed graph (villages travel *to* facilities).

V villages (default 110, as in Qujiang) and the seven facility types (10–40 facilities each,
on random points) are searched like ``qjgeo gaps`` does (:func:`qjgeo.access.nearest_from_arrays`
on the mode's search graph: snapping, one multi-source search per type, ids, straight lines):
7 types × 3 modes = 21 searches, timed together, against the same 7 searches on the plain
walking ``WalkGraph`` (metres, :func:`qjgeo.network.graph_from_arrays`) of the same run.

Then the 1M-node figure of ``bench_access.py`` per mode: the search core
(:func:`qjgeo.access.nearest_facility_by_node`, 1,000 facilities, every node) on a grid of
about M nodes (default 1,000,000) for each mode, as a ratio of the walking one.

Also timed: building each network from arrays, the drive graph's reversal (once, cached),
and one facility's 5/10/15-minute isochrones by mode. Best of ``--repeat`` runs; the load
average is printed. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qjgeo.access import nearest_facility_by_node, nearest_from_arrays  # noqa: E402
from qjgeo.dijkstra import warm_up  # noqa: E402
from qjgeo.isochrones import isochrones  # noqa: E402
from qjgeo.modes import ModeNetwork, graph_from_arrays  # noqa: E402
from qjgeo.network import graph_from_arrays as walk_graph_from_arrays  # noqa: E402

TYPES = {  # facility type: number of facilities (the bundled Qujiang data's order of size)
    "childcare": 26, "kindergarten": 40, "primary_school": 35, "science_venue": 10,
    "park": 30, "family_edu_station": 20, "children_home": 25,
}  # fmt: skip
DRIVE_SPEEDS = np.array([20.0, 20.0, 30.0, 40.0, 60.0])


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def grid(n_nodes: int, seed: int) -> tuple[np.ndarray, ...]:
    """Node ids, x, y and edges (u, v, length) of a perturbed grid of about ``n_nodes``."""
    rng = np.random.default_rng(seed)
    side = max(2, round(math.sqrt(n_nodes)))
    ids = np.arange(side * side, dtype=np.int64)
    col, row = ids % side, ids // side
    x = 400_000.0 + col * 50.0 + rng.uniform(-15.0, 15.0, ids.size)
    y = 2_700_000.0 + row * 50.0 + rng.uniform(-15.0, 15.0, ids.size)
    right, up = ids[col < side - 1], ids[row < side - 1]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + side])
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.3, u.size)
    return ids, x, y, u, v, length


def networks(n_nodes: int, seed: int) -> tuple[dict[str, ModeNetwork], dict[str, float], Any]:
    """The three mode networks of one grid, their build times, and the plain walking graph."""
    rng = np.random.default_rng(seed + 1)
    ids, x, y, u, v, length = grid(n_nodes, seed)
    keep_bike = rng.random(u.size) < 0.9
    keep_drive = rng.random(u.size) < 0.7
    speed = DRIVE_SPEEDS[rng.integers(0, DRIVE_SPEEDS.size, u.size)]
    oneway = np.where(rng.random(u.size) < 0.1, 1, 0).astype(np.int8)
    built: dict[str, ModeNetwork] = {}
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    built["walk"] = graph_from_arrays(ids, x, y, u, v, length, mode="walk")
    times["walk"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    built["bike"] = graph_from_arrays(
        ids, x, y, u[keep_bike], v[keep_bike], length[keep_bike], mode="bike"
    )
    times["bike"] = time.perf_counter() - t0
    d = keep_drive
    t0 = time.perf_counter()
    built["drive"] = graph_from_arrays(
        ids, x, y, u[d], v[d], length[d], mode="drive", speed_kmh=speed[d], direction=oneway[d]
    )
    times["drive"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    built["drive"].search_graph  # noqa: B018 - the reversal, built once and cached
    times["drive reversal"] = time.perf_counter() - t0
    plain = walk_graph_from_arrays(ids, x, y, u, v, length)
    return built, times, plain


def county_points(graph: Any, n_villages: int, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Villages and each type's facilities at random points of the grid's extent."""
    rng = np.random.default_rng(seed + 2)
    lo = np.array([graph.x.min(), graph.y.min()])
    hi = np.array([graph.x.max(), graph.y.max()])
    villages = rng.uniform(lo, hi, (n_villages, 2))
    facilities = {t: rng.uniform(lo, hi, (k, 2)) for t, k in TYPES.items()}
    return villages, facilities


def all_types(graph: Any, villages: np.ndarray, facilities: dict[str, Any]) -> float:
    """Every type's nearest facility for every village on one graph; the total distance."""
    total = 0.0
    for fxy in facilities.values():
        res = nearest_from_arrays(graph, villages, fxy, snap_limit_m=500.0)
        total += float(np.nansum(np.where(np.isfinite(res.distance_m), res.distance_m, 0.0)))
    return total


def county(args: argparse.Namespace) -> None:
    nets, build, plain = networks(args.nodes, args.seed)
    villages, facilities = county_points(plain, args.villages, args.seed)
    g = nets["walk"].graph
    print(f"county grid: {g.n_nodes:,} nodes; edges (directed CSR entries): "
          + ", ".join(f"{m} {n.graph.indices.size:,}" for m, n in nets.items())
          + f"; {args.villages} villages, {sum(TYPES.values())} facilities of 7 types")  # fmt: skip
    print("build from arrays: " + ", ".join(f"{k} {v:.3f} s" for k, v in build.items()))
    for net in (*nets.values(), plain):  # KD-trees and caches built once, as the app does
        net.search_graph.kdtree if isinstance(net, ModeNetwork) else net.kdtree
    base, _ = best_of(lambda: all_types(plain, villages, facilities), args.repeat)
    rows = [("plain walking WalkGraph (metres), 7 types", base)]
    per_mode = {}
    for mode, net in nets.items():
        per_mode[mode], _ = best_of(
            lambda net=net: all_types(net.search_graph, villages, facilities), args.repeat
        )
        rows.append((f"{mode} network, 7 types", per_mode[mode]))
    together, _ = best_of(
        lambda: [all_types(n.search_graph, villages, facilities) for n in nets.values()],
        args.repeat,
    )
    rows.append(("all three modes × 7 types, together", together))
    print(
        f"\n{'every village × every type (nearest_from_arrays)':<52} {'wall s':>8} {'vs walk':>8}"
    )
    for label, t in rows:
        print(f"{label:<52} {t:8.3f} {t / base:7.2f}x")
    centre = _lonlat_of(nets["walk"], (float(np.median(g.x)), float(np.median(g.y))))
    for mode, net in nets.items():
        t, frame = best_of(lambda net=net: isochrones(net, centre, mode=net.mode), 1)
        print(f"isochrones 5/10/15 min, {mode}: {t:.3f} s, nodes reached "
              + "/".join(str(int(n)) for n in frame["nodes_reached"]))  # fmt: skip


def _lonlat_of(net: ModeNetwork, xy: tuple[float, float]) -> tuple[float, float]:
    import pyproj

    to_ll = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(*xy)
    return float(lon), float(lat)


def big(args: argparse.Namespace) -> None:
    if args.big_nodes <= 0:
        return
    nets, _, _ = networks(args.big_nodes, args.seed)
    rng = np.random.default_rng(args.seed + 3)
    n = nets["walk"].n_nodes
    fac = nets["walk"].graph.xy[rng.choice(n, 1000, replace=False)]
    print(f"\n1M-node figure per mode ({n:,} nodes, 1,000 facilities, every node; search core)")
    base = None
    for mode, net in nets.items():
        graph = net.search_graph
        t, (dist, _) = best_of(lambda g=graph: nearest_facility_by_node(g, fac), args.repeat)
        base = base or t
        reached = np.isfinite(dist).mean()
        print(f"  {mode:<6} {t:7.3f} s  {t / base:5.2f}x walk   nodes reached {reached:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--big-nodes", type=int, default=1_000_000)
    parser.add_argument("--villages", type=int, default=110)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    t0 = time.perf_counter()
    warm_up()
    print(f"search kernel ready in {time.perf_counter() - t0:.2f} s (numba compile or cache)")
    county(args)
    big(args)
    load = os.getloadavg()
    print(f"load average during the run (1/5/15 min): {load[0]:.1f}, {load[1]:.1f}, "
          f"{load[2]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip


if __name__ == "__main__":
    main()
