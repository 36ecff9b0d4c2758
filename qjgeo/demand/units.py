"""Demand units: items grouped into settlements or hexagons, residents and children counted.

* **settlement** units: each item joins its nearest *named* place (``osm_place``), i.e. a
  Voronoi partition of the items by place — one KD-tree query (scipy) for all items.
* **hex** units: pointy-top hexagons ``cell_size_m`` apart (centre to centre); an item's cell
  comes from its coordinates by arithmetic (axial coordinates, cube rounding), no search.

A unit's point is the resident-weighted centroid of its items (where its people live, not the
place node), its residents the known total split by largest remainder over the units' weights,
its children per band the band totals split over the units by residents (exact totals; see
:mod:`qjgeo.demand.allocate`).

Urban or rural (the gaps' service distance depends on it): a settlement is urban when its
place type is in ``urban_places`` (city, town, suburb, quarter, neighbourhood by default) or it
has ≥ 5,000 residents at ≥ ``urban_density_per_km2`` over its built area (its items' convex hull
grown by 100 m); a hexagon is urban at ≥ ``urban_density_per_km2`` (1,500 per km², the
density of an urban-centre cell in the EU/GHSL *degree of urbanisation*). Both are options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from qjgeo.demand.allocate import apportion_bands, largest_remainder
from qjgeo.demand.weights import KIND_BUILDING, KIND_LANDUSE, KIND_PLACE, Items
from qjgeo.schema import AGE_BANDS

__all__ = [
    "URBAN_DENSITY_PER_KM2",
    "URBAN_PLACES",
    "UnitAssignment",
    "assign_hexagons",
    "assign_settlements",
    "hexagon_polygons",
    "unit_table",
]

URBAN_PLACES: tuple[str, ...] = ("city", "town", "suburb", "quarter", "neighbourhood")
URBAN_DENSITY_PER_KM2 = 1500.0
_URBAN_MIN_RESIDENTS = 5000
_SQRT3 = float(np.sqrt(3.0))


@dataclass(frozen=True)
class UnitAssignment:
    """Which unit each item belongs to, and the units' labels.

    ``unit`` holds, per item, a row of the unit arrays (``ids``, ``names``, ``place``, and
    ``area_m2``, the hexagon area or NaN for settlements).
    """

    unit: NDArray[np.int64]
    ids: NDArray[np.object_]
    names: NDArray[np.object_]
    place: NDArray[np.object_]
    area_m2: NDArray[np.float64]
    kind: str


def assign_settlements(
    items: Items,
    place_xy: NDArray[np.float64],
    place_ids: Sequence[str],
    place_names: Sequence[str],
    place_types: Sequence[str],
) -> UnitAssignment:
    """Each item to its nearest place (metric CRS); the places should be the named ones."""
    if not len(place_xy):
        raise ValueError("no named places to form settlement units")
    unit = np.zeros(len(items), dtype=np.int64)
    if len(items):  # nearest place of every item: one KD-tree query on coordinates
        unit = cKDTree(place_xy).query(items.xy)[1].astype(np.int64)
    n = len(place_xy)
    return UnitAssignment(
        unit,
        np.asarray([f"osm:{i}" for i in place_ids], dtype=object),
        np.asarray(place_names, dtype=object),
        np.asarray(place_types, dtype=object),
        np.full(n, np.nan),
        "settlement",
    )


def _axial(xy: NDArray[np.float64], size: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Axial (q, r) of the pointy-top hexagon holding each point (cube rounding)."""
    qf = (_SQRT3 / 3 * xy[:, 0] - xy[:, 1] / 3) / size
    rf = (2 / 3 * xy[:, 1]) / size
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def assign_hexagons(items: Items, cell_size_m: float) -> UnitAssignment:
    """Each item to its hexagon; only hexagons holding an item become units."""
    if not cell_size_m > 0:
        raise ValueError(f"cell size must be > 0 m, got {cell_size_m}")
    size = cell_size_m / _SQRT3  # centre to vertex
    q, r = _axial(items.xy, size) if len(items) else (np.zeros(0, int), np.zeros(0, int))
    keys, unit = np.unique(np.column_stack([q, r]), axis=0, return_inverse=True)
    ids = np.asarray([f"hex:{int(a)}:{int(b)}" for a, b in keys], dtype=object)  # per cell
    names = np.asarray([f"六边形 Hex {int(a)},{int(b)}" for a, b in keys], dtype=object)
    area = 1.5 * _SQRT3 * size**2
    return UnitAssignment(
        unit.reshape(-1).astype(np.int64),
        ids,
        names,
        np.full(len(keys), "", dtype=object),
        np.full(len(keys), area),
        f"hex {cell_size_m:g} m",
    )


def hexagon_polygons(ids: Sequence[str], cell_size_m: float) -> NDArray[np.object_]:
    """The polygons of hexagon units (metric CRS) from their ``hex:q:r`` ids."""
    size = cell_size_m / _SQRT3
    qr = np.asarray([[int(p) for p in str(i).split(":")[1:3]] for i in ids], dtype=float)
    qr = qr.reshape(-1, 2)
    cx = size * (_SQRT3 * qr[:, 0] + _SQRT3 / 2 * qr[:, 1])
    cy = size * 1.5 * qr[:, 1]
    angles = np.deg2rad(30 + 60 * np.arange(7))
    ring = np.stack([cx[:, None] + size * np.cos(angles), cy[:, None] + size * np.sin(angles)], -1)
    return shapely.polygons(ring)


def _weighted_centres(
    items: Items, unit: NDArray[np.int64], n: int, fallback: NDArray[np.float64]
) -> NDArray[np.float64]:
    w = items.residents
    wsum = np.bincount(unit, weights=w, minlength=n)
    cx = np.bincount(unit, weights=w * items.xy[:, 0], minlength=n)
    cy = np.bincount(unit, weights=w * items.xy[:, 1], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.column_stack([cx / wsum, cy / wsum])
    return np.where((wsum > 0)[:, None], centre, fallback)


def _built_area_m2(items: Items, unit: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """Area of each unit's items' convex hull grown by 100 m (settlement density)."""
    if not len(items):
        return np.full(n, np.nan)
    order = np.argsort(unit, kind="stable")
    hulls = shapely.multipoints(items.xy[order], indices=unit[order])
    present = np.unique(unit)
    area = np.full(n, np.nan)
    area[present] = shapely.area(shapely.buffer(shapely.convex_hull(hulls), 100.0))
    return area


def unit_table(
    items: Items,
    units: UnitAssignment,
    population: int,
    band_totals: Mapping[str, int],
    *,
    fallback_xy: NDArray[np.float64] | None = None,
    urban_places: Sequence[str] = URBAN_PLACES,
    urban_density_per_km2: float = URBAN_DENSITY_PER_KM2,
    item_bands: Mapping[str, NDArray[np.float64]] | None = None,
) -> tuple[pd.DataFrame, NDArray[np.float64]]:
    """Residents, children by band and urban class per unit, and each unit's point.

    Units no item reaches are dropped (no one is estimated to live there).

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        ``item_bands`` (children per item and band, from age rasters) splits each band by
        its own counts instead of by residents.
        One row per inhabited unit (``code12``, ``name``, ``unit_type``, ``place``,
        ``urban``, ``ur_code``, ``population``, the age bands, ``homes``, ``floor_area_m2``,
        ``density_per_km2``, ``weight_from``) and its point (metric CRS).
    """
    n = len(units.ids)
    weight = np.bincount(units.unit, weights=items.residents, minlength=n)
    residents = largest_remainder(int(population), weight)
    if item_bands is None:
        bands = apportion_bands(residents, band_totals)
    else:  # children counted per item (age rasters): each band split by its own weights
        bands = {
            b: largest_remainder(
                int(band_totals[b]), np.bincount(units.unit, weights=item_bands[b], minlength=n)
            )
            for b in band_totals
        }
    fallback = fallback_xy if fallback_xy is not None else np.full((n, 2), np.nan)
    xy = _weighted_centres(items, units.unit, n, fallback)
    by_kind = {
        k: np.bincount(units.unit, weights=items.residents * (items.kind == k), minlength=n)
        for k in (KIND_BUILDING, KIND_LANDUSE, KIND_PLACE)
    }
    area = units.area_m2 if units.kind != "settlement" else _built_area_m2(items, units.unit, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        density = residents / (area / 1e6)
    dense = np.nan_to_num(density) >= urban_density_per_km2
    if units.kind == "settlement":
        urban = np.isin(units.place.astype(str), list(urban_places)) | (
            dense & (residents >= _URBAN_MIN_RESIDENTS)
        )
    else:
        urban = dense
    frame = pd.DataFrame(
        {
            "code12": units.ids,
            "name": units.names,
            "township_code": "",
            "unit_type": units.kind,
            "place": units.place,
            "ur_code": np.where(urban, 111, 220).astype(np.int32),
            "urban": urban,
            "tap_water": pd.array([pd.NA] * n, dtype="boolean"),
            "population": residents,
            **{b: bands[b] for b in bands},
        }
    )
    frame["pop_0_14"] = sum(bands[b] for b in AGE_BANDS if b != "pop_0_14")
    frame["homes"] = np.bincount(units.unit, weights=items.kind == KIND_BUILDING, minlength=n)
    frame["homes"] = frame["homes"].astype(np.int64)
    frame["floor_area_m2"] = np.round(np.bincount(units.unit, weights=items.floor_m2, minlength=n))
    frame["density_per_km2"] = np.round(density, 1)
    frame["weight_from"] = _weight_from(by_kind, weight)
    keep = weight > 0
    return frame[keep].reset_index(drop=True), xy[keep]


def _weight_from(by_kind: Mapping[int, NDArray[Any]], weight: NDArray[Any]) -> list[str]:
    labels = {KIND_BUILDING: "buildings", KIND_LANDUSE: "residential land", KIND_PLACE: "place"}
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {k: v / weight for k, v in by_kind.items()}
    return [
        ", ".join(f"{labels[k]} {shares[k][i]:.0%}" for k in labels if shares[k][i] > 0)
        for i in range(len(weight))
    ]
