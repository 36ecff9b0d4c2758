"""Benchmark: demand for a county of ≈ 300 k buildings (``qjgeo demand``, issue 19).

Usage::

    python bench/bench_demand.py [--buildings N] [--places P] [--repeat R] [--sample S]

A synthetic county (≈ 60 × 60 km around Qujiang, in lon/lat like an imported dataset):
``P`` named places (default 600: 10 towns, the rest villages and hamlets), ``N`` building
footprints (default 300,000; 8–25 m squares, 1–6 levels, 85 % ``building=yes``, the rest
houses, sheds, shops) clustered around the places, 3,000 residential and 400 industrial
land-use areas. Timed, best of ``--repeat``:

1. ``estimate_from_osm`` with settlement units and with 500 m hexagons — from the dataset's
   WGS84 frames to the finished unit table (projection, areas, the STRtree queries,
   nearest-place assignment, largest-remainder rounding);
2. the baseline: the same building → nearest-place and building-in-land-use steps as a
   per-building Python loop (shapely per feature), timed on ``S`` buildings (default 3,000)
   and extrapolated to ``N``.

Nothing is asserted; the budget (10 s) and the ratio to the baseline are printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qjgeo.catalog import Dataset, DatasetInfo  # noqa: E402
from qjgeo.crs import METRIC_CRS, WGS84_CRS  # noqa: E402
from qjgeo.demand.ages import AgeShares  # noqa: E402
from qjgeo.demand.estimate import UnitOptions, estimate_from_osm  # noqa: E402

BUDGET_S = 10.0
SHARES = AgeShares(
    {"pop_0_2": 0.0365, "pop_3_5": 0.04074, "pop_6_11": 0.08328, "pop_12_14": 0.04068},
    "census 2020",
)
X0, Y0 = 460_000.0, 2_731_000.0  # EPSG:4547 (CM 114°E) near 马坝


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def county(n_buildings: int, n_places: int, seed: int = 19) -> Dataset:
    """The synthetic county as a dataset (frames in WGS84, like an OSM import)."""
    rng = np.random.default_rng(seed)
    place_xy = rng.uniform([X0 - 30_000, Y0 - 30_000], [X0 + 30_000, Y0 + 30_000], (n_places, 2))
    kind = np.where(
        np.arange(n_places) < 10, "town", np.where(rng.random(n_places) < 0.7, "village", "hamlet")
    )
    size = np.where(kind == "town", 4.0, np.where(kind == "village", 1.0, 0.2))
    owner = rng.choice(n_places, n_buildings, p=size / size.sum())
    spread = np.where(kind[owner] == "town", 900.0, 250.0)
    xy = place_xy[owner] + rng.normal(0, 1, (n_buildings, 2)) * spread[:, None]
    side = rng.uniform(8, 25, n_buildings)
    foot = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + side, xy[:, 1] + side)
    btype = rng.choice(["yes", "house", "shed", "retail"], n_buildings, p=[0.85, 0.1, 0.03, 0.02])
    land_c = xy[rng.choice(n_buildings, 3400, replace=False)]
    land = shapely.box(
        land_c[:, 0] - 150, land_c[:, 1] - 150, land_c[:, 0] + 150, land_c[:, 1] + 150
    )
    use = np.where(np.arange(3400) < 3000, "residential", "industrial")

    def frame(cols: dict[str, Any], geoms: Any) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(cols, geometry=geoms, crs=METRIC_CRS).to_crs(WGS84_CRS)

    frames = {
        "district": frame(
            {"code": ["c"], "name": ["c"], "provenance": ["osm"]},
            [shapely.box(X0 - 32_000, Y0 - 32_000, X0 + 32_000, Y0 + 32_000)],
        ),
        "osm_building": frame(
            {
                "id": np.arange(n_buildings).astype(str),
                "building": btype,
                "levels": rng.integers(1, 7, n_buildings).astype(float),
            },
            foot,
        ),
        "osm_landuse": frame({"id": np.arange(3400).astype(str), "landuse": use}, land),
        "osm_place": frame(
            {
                "id": np.arange(n_places).astype(str),
                "name": [f"p{i}" for i in range(n_places)],
                "place": kind,
                "population": np.full(n_places, np.nan),
            },
            shapely.points(place_xy),
        ),
    }
    return Dataset(
        info=DatasetInfo(id="county", title_zh="c", title_en="c"), specs={}, frames=frames
    )


def naive(dataset: Dataset, sample: int) -> float:
    """Seconds per building of a per-building loop: in which land use, nearest place."""
    b = dataset.layer("osm_building").to_crs(METRIC_CRS).iloc[:sample]
    land = list(dataset.layer("osm_landuse").to_crs(METRIC_CRS).geometry)
    places = list(dataset.layer("osm_place").to_crs(METRIC_CRS).geometry)
    t = time.perf_counter()
    for geom in b.geometry:
        c = geom.centroid
        _ = [a for a in land if a.contains(c)]
        _ = min(range(len(places)), key=lambda i: c.distance(places[i]))
    return (time.perf_counter() - t) / sample


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--buildings", type=int, default=300_000)
    ap.add_argument("--places", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", type=int, default=3_000)
    args = ap.parse_args()
    t = time.perf_counter()
    ds = county(args.buildings, args.places)
    print(
        f"synthetic county: {args.buildings} buildings, {args.places} places, 3,400 land-use "
        f"areas (built in {time.perf_counter() - t:.1f} s, not timed below)"
    )
    per_building = naive(ds, args.sample)
    baseline = per_building * args.buildings
    print(f"\n{'task':58s} {'wall s':>8s} {'budget':>8s} {'vs loop':>8s}")
    print("-" * 86)
    for label, options in (
        ("estimate_from_osm, settlement units", UnitOptions()),
        ("estimate_from_osm, 500 m hexagons", UnitOptions(unit="hex")),
    ):
        wall, est = best_of(
            lambda o=options: estimate_from_osm(ds, population=290_455, shares=SHARES, options=o),
            args.repeat,
        )
        assert int(est.units["population"].sum()) == 290_455
        print(
            f"{label:58s} {wall:8.2f} {wall / BUDGET_S:7.2f}x {baseline / wall:7.0f}x   ({len(est.units)} units)"
        )
    print(
        f"{'per-building loop (' + str(args.sample) + ' timed, extrapolated)':58s} {baseline:8.2f} {baseline / BUDGET_S:7.2f}x {1:7.0f}x"
    )


if __name__ == "__main__":
    main()
