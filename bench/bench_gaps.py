"""Benchmark: recomputing every coverage gap after one facility changes.

Usage::

    python bench/bench_gaps.py [--repeat R] [--spacing-m S]

On the bundled Qujiang dataset (110 villages, 7 facility types):

1. ``compute_all_gaps`` without a network (straight line × detour factor), then after one
   childcare centre is moved 2 km and after one is added (``Dataset.with_layer``), and the
   single changed type alone (``compute_gaps``): the figure the app needs when a planner
   drags a facility;
2. the same on a synthetic walking grid covering the whole district (``--spacing-m``
   apart, default 150 m, edge length = straight line × U(1, 1.3)), to show the cost with
   a district-sized network;
3. the hexagonal gap surface and the 2SFCA childcare figures;
4. gaps on the real West Oakland OSM extract (``qjgeo osm-import`` → ``network.npz``) with
   a demand point on every network node.

Times are the best of ``--repeat`` runs; nothing is asserted. The target ("well under a
second" for a full recompute) is printed next to each figure as a ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qjgeo import load_dataset  # noqa: E402
from qjgeo.catalog import Dataset  # noqa: E402
from qjgeo.crs import METRIC_CRS  # noqa: E402
from qjgeo.gaps import (  # noqa: E402
    childcare_accessibility,
    compute_all_gaps,
    compute_gaps,
    gap_surface,
)
from qjgeo.network import WalkGraph, graph_from_arrays, load_walk_graph  # noqa: E402
from qjgeo.osm_import import NETWORK_FILE, import_osm  # noqa: E402

OAKLAND = REPO.parent / "shared" / "data" / "osm" / "West-Oakland.osm.bz2"
BUDGET_S = 1.0


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def report(label: str, seconds: float) -> None:
    """Print one timing with its share of the one-second budget."""
    print(f"  {label:<58} {seconds * 1000:9.1f} ms   ({seconds / BUDGET_S:6.1%} of 1 s)")


def moved_one(dataset: Dataset) -> Dataset:
    """The dataset with its first childcare centre moved 2 km east."""
    frame = dataset.metric("childcare").copy()
    first = frame.index[0]
    frame.loc[first, "geometry"] = shapely.affinity.translate(frame.geometry.loc[first], 2000.0)
    return dataset.with_layer("childcare", frame)


def added_one(dataset: Dataset) -> Dataset:
    """The dataset with one childcare centre added beside the first village of 罗坑镇."""
    frame = dataset.layer("childcare")
    village = dataset.layer("village")
    spot = village[village["township_code"] == "440205109"].geometry.iloc[0]
    row = frame.iloc[[0]].copy()
    row["id"] = "BENCH001"
    row["name"] = "bench"
    row["geometry"] = [spot]
    import pandas as pd

    return dataset.with_layer("childcare", gpd.GeoDataFrame(pd.concat([frame, row]), crs=frame.crs))


def district_grid(dataset: Dataset, spacing_m: float, seed: int = 0) -> WalkGraph:
    """A perturbed square walking grid over the district's bounding box."""
    minx, miny, maxx, maxy = dataset.metric("district").total_bounds
    xs = np.arange(minx, maxx + spacing_m, spacing_m)
    ys = np.arange(miny, maxy + spacing_m, spacing_m)
    nx_, ny_ = xs.size, ys.size
    gx, gy = np.meshgrid(xs, ys)
    rng = np.random.default_rng(seed)
    x = gx.ravel() + rng.uniform(-0.1, 0.1, gx.size) * spacing_m
    y = gy.ravel() + rng.uniform(-0.1, 0.1, gy.size) * spacing_m
    ids = np.arange(x.size)
    grid = ids.reshape(ny_, nx_)
    u = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    v = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.3, u.size)
    return graph_from_arrays(ids, x, y, u, v, length, crs=METRIC_CRS)


def section_bundled(dataset: Dataset, repeat: int, graph: WalkGraph | None, label: str) -> None:
    """Full and single-type recompute timings on the bundled data."""
    print(f"\n{label}")
    t_all, results = best_of(lambda: compute_all_gaps(dataset, graph=graph), repeat)
    report(f"compute_all_gaps ({len(results)} types), baseline", t_all)
    moved = moved_one(dataset)
    t_moved, after = best_of(lambda: compute_all_gaps(moved, graph=graph), repeat)
    report("compute_all_gaps after moving one childcare centre", t_moved)
    t_one, _ = best_of(lambda: compute_gaps(moved, "childcare", graph=graph), repeat)
    report("compute_gaps('childcare') only, after the move", t_one)
    added = added_one(dataset)
    t_added, after_add = best_of(lambda: compute_all_gaps(added, graph=graph), repeat)
    report("compute_all_gaps after adding one childcare centre", t_added)
    before = results["childcare"].district
    print(
        f"  childcare children uncovered: baseline {before['children_uncovered']:,.0f}, "
        f"moved {after['childcare'].district['children_uncovered']:,.0f}, "
        f"added {after_add['childcare'].district['children_uncovered']:,.0f} "
        f"(method {results['childcare'].method}, data status {results['childcare'].data_status})"
    )


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--spacing-m", type=float, default=150.0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    dataset = load_dataset()
    print(f"load bundled dataset: {(time.perf_counter() - t0) * 1000:.0f} ms (not counted)")
    dataset.metric("village")  # warm the metric cache the app keeps too

    section_bundled(
        dataset, args.repeat, None, "1. bundled Qujiang, no network (straight line × 1.3)"
    )

    t0 = time.perf_counter()
    grid = district_grid(dataset, args.spacing_m)
    print(
        f"\n(synthetic district grid: {grid.n_nodes:,} nodes, {grid.n_edges:,} edges, "
        f"{args.spacing_m:g} m spacing, built in {time.perf_counter() - t0:.1f} s, not counted)"
    )
    section_bundled(dataset, args.repeat, grid, "2. bundled Qujiang on the synthetic walking grid")

    print("\n3. surface and supply-demand (no network)")
    t_hex, cells = best_of(lambda: gap_surface(dataset, "childcare"), args.repeat)
    report(f"gap_surface('childcare'), {len(cells)} hexagons of 500 m", t_hex)
    t_hex_g, _ = best_of(lambda: gap_surface(dataset, "childcare", graph=grid), args.repeat)
    report("gap_surface('childcare') on the district grid", t_hex_g)
    t_sfca, acc = best_of(lambda: childcare_accessibility(dataset), args.repeat)
    report("childcare_accessibility (2SFCA, 2 km)", t_sfca)
    t_sfca_g, _ = best_of(lambda: childcare_accessibility(dataset, graph=grid), args.repeat)
    report("childcare_accessibility (2SFCA, 2 km) on the district grid", t_sfca_g)
    print(
        f"  district: {acc.district['places_per_1000_children']:.1f} places per 1,000 children "
        f"aged 0–2 in reach ({acc.data_status} data)"
    )

    print("\n4. West Oakland OSM extract (real network)")
    if not OAKLAND.is_file():
        print(f"  skipped: {OAKLAND} not found")
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = import_osm(OAKLAND, Path(tmp) / "oak")
        print(f"  osm-import: {(time.perf_counter() - t0) * 1000:.0f} ms")
        oak = load_dataset(out)
        graph = load_walk_graph(out / NETWORK_FILE)
    lonlat = gpd.GeoSeries(shapely.points(graph.xy), crs=graph.crs).to_crs(4326)
    n = len(lonlat)
    villages = gpd.GeoDataFrame(
        {
            "code12": [str(i) for i in range(n)],
            "name": [f"node {i}" for i in range(n)],
            "township_code": ["t"] * n,
            "ur_code": ["111"] * n,
            "urban": [True] * n,
            "tap_water": [True] * n,
            "provenance": ["user"] * n,
            **{c: [10] * n for c in ("population", "pop_0_2", "pop_3_5", "pop_6_11")},
            **{c: [10] * n for c in ("pop_12_14", "pop_0_14")},
        },
        geometry=lonlat.to_numpy(),
        crs=4326,
    )
    spec = oak.spec("park").model_copy(update={"id": "village", "kind": "admin"})
    oak = oak.with_layer("village", villages, spec)
    t_oak, res = best_of(lambda: compute_all_gaps(oak, graph=graph), args.repeat)
    report(f"compute_all_gaps, {n} demand points, {graph.n_nodes} nodes", t_oak)
    for name, r in res.items():
        d = r.district
        print(
            f"  {name:<16} facilities {d['facilities']}, villages covered "
            f"{d['villages_covered']}/{d['villages']}, unreachable {d['villages_unreachable']} "
            f"({r.method})"
        )


if __name__ == "__main__":
    main()
