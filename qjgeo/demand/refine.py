"""Existing villages re-estimated from OSM buildings: their points and their share of people.

For Qujiang the 110 village points and populations are estimates (``tools/build_qujiang.py``).
Where OSM buildings are at hand, :func:`refine_villages` improves both:

1. each residential building (the rules of :mod:`qjgeo.demand.weights`) is given to the
   nearest village point *of the township it stands in* (township polygons; the nearest
   village overall without them) — one KD-tree query per township, not per building;
2. a village with buildings moves to their floor-area-weighted centroid;
3. each township's population is split again: villages without buildings keep their
   estimate, the rest of the township's residents go to the villages with buildings in
   proportion to floor area (largest remainder, township totals exact); the township's
   children by band are split over its villages by residents.

One pass, from the estimated points: a village whose buildings lie nearer a neighbour's
estimated point loses them to it. The villages stay ``estimated``; ``location_source`` and
``population_source`` say which ones the buildings moved, and the layer's notes the method.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.demand.ages import CHILD_BANDS
from qjgeo.demand.allocate import apportion_bands, largest_remainder
from qjgeo.demand.estimate import DemandError, DemandEstimate, clip_items, outline_of
from qjgeo.demand.weights import Items, demand_items
from qjgeo.gaps.inputs import work_crs

__all__ = ["refine_villages"]


def _townships_of(items: Items, dataset: Dataset, crs: str) -> tuple[NDArray[np.int64], list[str]]:
    """Each item's township row (−1 outside all), and the townships' codes."""
    if not dataset.has("township") or not len(dataset.layer("township")):
        return np.zeros(len(items), dtype=np.int64), [""]
    towns = dataset.layer("township").to_crs(crs)
    row = np.full(len(items), -1, dtype=np.int64)
    if len(items):
        idx, hit = shapely.STRtree(towns.geometry.to_numpy()).query(
            shapely.points(items.xy), predicate="within"
        )
        row[idx] = hit
    return row, towns["code9"].astype(str).tolist()


def _assign(
    items: Items, item_town: NDArray[np.int64], codes: list[str], villages: gpd.GeoDataFrame
) -> NDArray[np.int64]:
    """Each item's village: the nearest village point of its township (−1: none)."""
    vxy = shapely.get_coordinates(villages.geometry.to_numpy())
    vtown = villages["township_code"].astype(str).to_numpy() if codes != [""] else None
    village = np.full(len(items), -1, dtype=np.int64)
    for t, code in enumerate(codes):  # one KD-tree query per township
        mine = np.flatnonzero(item_town == t)
        candidates = np.arange(len(villages)) if vtown is None else np.flatnonzero(vtown == code)
        if len(mine) and len(candidates):
            village[mine] = candidates[cKDTree(vxy[candidates]).query(items.xy[mine])[1]]
    return village


def _split(
    villages: pd.DataFrame, weight: NDArray[Any], group: NDArray[np.object_]
) -> tuple[NDArray[np.int64], dict[str, NDArray[np.int64]]]:
    """New residents and children by band, township totals kept (see the module notes)."""
    old = villages["population"].to_numpy(dtype=np.int64)
    residents = old.copy()
    bands = {b: villages[b].to_numpy(dtype=np.int64).copy() for b in CHILD_BANDS}
    for code in pd.unique(group):
        rows = np.flatnonzero(group == code)
        moved = rows[weight[rows] > 0]
        if not len(moved):
            continue
        rest = int(old[rows].sum() - old[rows[weight[rows] <= 0]].sum())
        residents[moved] = largest_remainder(rest, weight[moved])
        totals = {b: int(bands[b][rows].sum()) for b in CHILD_BANDS}
        for b, counts in apportion_bands(residents[rows], totals).items():
            bands[b][rows] = counts
    return residents, bands


def refine_villages(
    dataset: Dataset, buildings: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame | None = None
) -> DemandEstimate:
    """Move villages to their buildings and split township populations by floor area.

    Parameters
    ----------
    dataset
        A dataset with a ``village`` layer (``township_code``, population and band columns)
        and, ideally, ``township`` polygons.
    buildings, landuse
        ``osm_building`` and ``osm_landuse`` layers (e.g. of an ``osm-import`` dataset).

    Raises
    ------
    DemandError
        Without a village layer, or when no building lies inside the outline.
    """
    if not dataset.has("village"):
        raise DemandError("数据集没有村（社区）图层 / the dataset has no village layer to refine")
    crs = work_crs(dataset)
    empty = gpd.GeoDataFrame({"place": [], "population": []}, geometry=[], crs=crs)
    land = (
        landuse if landuse is not None else gpd.GeoDataFrame({"landuse": []}, geometry=[], crs=crs)
    )
    items = demand_items(buildings.to_crs(crs), land.to_crs(crs), empty)
    items = clip_items(items, outline_of(dataset, crs))
    if not len(items):
        raise DemandError("范围内没有住宅建筑 / no residential building inside the outline")
    villages = dataset.layer("village").to_crs(crs).reset_index(drop=True)
    item_town, codes = _townships_of(items, dataset, crs)
    village = _assign(items, item_town, codes, villages)
    ok = village >= 0
    n = len(villages)
    weight = np.bincount(village[ok], weights=items.residents[ok], minlength=n)
    count = np.bincount(village[ok], minlength=n)
    wx = np.bincount(village[ok], weights=items.residents[ok] * items.xy[ok, 0], minlength=n)
    wy = np.bincount(village[ok], weights=items.residents[ok] * items.xy[ok, 1], minlength=n)
    group = villages["township_code"].astype(str).to_numpy(dtype=object)
    residents, bands = _split(villages, weight, group)
    moved = weight > 0
    out = villages.copy()
    xy = shapely.get_coordinates(out.geometry.to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        xy[moved] = np.column_stack([wx / weight, wy / weight])[moved]
    out = out.set_geometry(gpd.GeoSeries(shapely.points(xy), crs=crs))
    out["population"] = residents
    for b in CHILD_BANDS:
        out[b] = bands[b]
    out["pop_0_14"] = sum(bands[b] for b in CHILD_BANDS)
    out["location_source"] = np.where(
        moved,
        [f"weighted centroid of {c} OSM buildings" for c in count],
        out.get("location_source", pd.Series([""] * n)).astype(str),
    )
    out["population_source"] = np.where(
        moved, "township population split by OSM floor area", "estimate kept (no OSM building)"
    )
    method = (
        f"Refined by qjgeo demand --refine-villages: {int(moved.sum())} of {n} villages moved to the "
        f"floor-area-weighted centroid of their OSM buildings ({int(count.sum())} buildings, each "
        "given to the nearest village point of its township) and their township's population "
        "split by floor area (township totals and children by band kept exactly)."
    )
    notices = (
        ()
        if moved.all()
        else (f"{int((~moved).sum())} village(s) without OSM buildings keep their estimate",)
    )
    return DemandEstimate(
        out.to_crs(WGS84_CRS),
        None,
        int(residents.sum()),
        {b: int(bands[b].sum()) for b in CHILD_BANDS},
        method,
        "points and population refined from OSM buildings (© OpenStreetMap contributors, ODbL 1.0)",
        notices,
        refines=True,
    )
