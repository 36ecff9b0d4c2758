"""The hexagonal gap surface: distance to the nearest facility over the settled area.

:func:`gap_surface` paints the distances of :func:`qjgeo.gaps.compute_gaps` on a grid of
hexagons (:func:`hex_grid`); :func:`outline_cell_size` sizes the cells of a surface over a
whole outline (a dataset without villages).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from qjgeo.access import nearest_from_arrays
from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.gaps.bands import _RTOL, DEFAULT_BAND_MARKS_M, band_edges, classify_distance
from qjgeo.gaps.inputs import (
    GapsUnavailable,
    _access_for,
    _check_threshold,
    _children,
    _facility_ids,
    _layer_xy,
    _require_layers,
    _urban_flags,
    route_metres,
    work_crs,
)
from qjgeo.network import WalkGraph
from qjgeo.params import FacilityAccess, PlanningParams

#: Default hexagon size of the gap surface: the circumradius (= edge length), metres.
DEFAULT_CELL_SIZE_M = 500.0
#: Default "settled area" radius around every village / community point, metres.
DEFAULT_SETTLED_RADIUS_M = 1500.0


def hex_grid(
    bounds: Sequence[float],
    cell_size_m: float,
    *,
    orientation: Literal["pointy", "flat"] = "pointy",
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Regular hexagons covering a rectangle (metric coordinates).

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in metres.
    cell_size_m
        Hexagon circumradius (= edge length), metres. A cell's area is
        ``3·√3/2 · cell_size_m²`` (≈ 0.65 km² for 500 m).
    orientation
        ``"pointy"`` (a vertex at the top) or ``"flat"`` (an edge at the top).

    Returns
    -------
    centres : numpy.ndarray
        ``(n, 2)`` cell centres.
    polygons : numpy.ndarray of shapely.Polygon
        The hexagons, in the same order.
    """
    if not cell_size_m > 0:
        raise ValueError(f"cell_size_m must be positive, got {cell_size_m}")
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    r = float(cell_size_m)
    w = math.sqrt(3.0) * r
    if orientation == "pointy":
        dx, dy = w, 1.5 * r
        angles = np.deg2rad(np.arange(6) * 60.0 + 30.0)
    elif orientation == "flat":
        dx, dy = 1.5 * r, w
        angles = np.deg2rad(np.arange(6) * 60.0)
    else:
        raise ValueError(f"orientation must be 'pointy' or 'flat', got {orientation!r}")
    cols = np.arange(math.floor((minx - r) / dx), math.ceil((maxx + r) / dx) + 1)
    rows = np.arange(math.floor((miny - r) / dy), math.ceil((maxy + r) / dy) + 1)
    grid_c, grid_r = np.meshgrid(cols, rows)
    ci, ri = grid_c.ravel(), grid_r.ravel()
    if orientation == "pointy":
        cx = ci * dx + (ri % 2) * (dx / 2.0)
        cy = ri * dy
    else:
        cx = ci * dx
        cy = ri * dy + (ci % 2) * (dy / 2.0)
    centres = np.column_stack([cx, cy]).astype(np.float64)
    ring = np.stack([r * np.cos(angles), r * np.sin(angles)], axis=1)
    coords = centres[:, None, :] + ring[None, :, :]
    coords = np.concatenate([coords, coords[:, :1, :]], axis=1)
    polygons = shapely.polygons(coords)
    return centres, np.asarray(polygons, dtype=object)


def outline_cell_size(dataset: Dataset, *, target_cells: int = 1000) -> float:
    """Hexagon size giving about ``target_cells`` cells over the dataset's outline.

    For a surface without villages (an OSM extract), which covers the whole outline: between
    50 m and :data:`DEFAULT_CELL_SIZE_M`, so a small extract still gets a readable surface
    and a large one no more cells than the default. Without an outline: the default.
    """
    if not dataset.has("district") or not len(dataset.layer("district")):
        return DEFAULT_CELL_SIZE_M
    area = float(dataset.metric("district").area.sum())
    # a hexagon of circumradius r covers (3√3 / 2) r² ≈ 2.598 r²
    size = math.sqrt(area / target_cells / (1.5 * math.sqrt(3.0)))
    return float(min(DEFAULT_CELL_SIZE_M, max(50.0, size)))


def gap_surface(
    dataset: Dataset,
    facility_type: str,
    *,
    cell_size_m: float = DEFAULT_CELL_SIZE_M,
    settled_radius_m: float = DEFAULT_SETTLED_RADIUS_M,
    graph: WalkGraph | None = None,
    threshold_m: float | None = None,
    band_marks_m: Sequence[float] = DEFAULT_BAND_MARKS_M,
    orientation: Literal["pointy", "flat"] = "pointy",
    params: PlanningParams | None = None,
) -> gpd.GeoDataFrame:
    """Hexagonal map of the distance to the nearest facility over the settled area.

    The *settled area* is the union of discs of ``settled_radius_m`` around every village /
    community point, clipped to the district outline when the dataset has one; a dataset
    without villages (e.g. an OSM import) is covered over its whole district outline, and
    its cells have no urban/rural class, service distance or coverage (``NA``) unless
    ``threshold_m`` is given. The cell holding each village is always kept, and an area
    smaller than one cell keeps the cells that touch it. The grid is laid out in :func:`~qjgeo.gaps.work_crs` (EPSG:4547 for
    Qujiang, the network's CRS or the local UTM zone elsewhere). Every
    hexagon whose centre lies in the settled area is kept whole (so the grid stays a clean
    tessellation; cells may overhang the edge by up to ``cell_size_m``). Each cell is
    classified by the distance from its centre to the nearest facility (same rules and
    method as :func:`~qjgeo.gaps.compute_gaps`) into bands cut at the service distances and at
    ``band_marks_m`` (:func:`~qjgeo.gaps.band_edges`). Cells also carry the nearest village's
    urban/rural class and service distance (``covered`` against it), and the children of
    the villages whose point falls in the cell.

    Parameters
    ----------
    dataset
        Needs a ``village`` layer and the facility layer.
    facility_type
        Facility layer id with access parameters.
    cell_size_m
        Hexagon circumradius (= edge length), metres (default 500 m).
    settled_radius_m
        Radius of the settled area around each village point, metres (default 1,500 m).
    graph
        Walking network; ``None`` for straight line × detour factor.
    threshold_m
        One service distance overriding the urban and rural ones.
    band_marks_m
        Band edges besides the service distances (default 1, 2, 3 km).
    orientation
        ``"pointy"`` or ``"flat"`` hexagons.
    params
        Planning parameters (default: the dataset's).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 hexagons with ``cell_id``, ``distance_m`` (``inf`` when unreachable; the
        search cost, see :class:`~qjgeo.gaps.GapResult`), ``route_m`` (the route's metres),
        ``facility_id``, ``distance_band``, ``band_order``, ``method``, ``urban``,
        ``threshold_m``, ``covered``, ``children`` (in the facility's age band).

    Raises
    ------
    GapsUnavailable
        If the facility layer is absent, or there is neither a village layer nor a
        district outline.
    """
    params = params if params is not None else dataset.params
    access = _access_for(params, facility_type, None)
    if not dataset.has(facility_type):
        _require_layers(dataset, facility_type)
    if not settled_radius_m > 0:
        raise ValueError(f"settled_radius_m must be positive, got {settled_radius_m}")
    _check_threshold(threshold_m)
    crs = work_crs(dataset, graph)
    settled, homes = _settled_area(dataset, crs, settled_radius_m)
    centres, polygons = _cells(settled, cell_size_m, orientation, homes)

    facilities = dataset.layer(facility_type)
    facility_xy = _layer_xy(dataset, facility_type, crs)
    nearest = nearest_from_arrays(
        graph,
        centres,
        facility_xy,
        _facility_ids(facilities),
        detour_factor=params.detour_factor,
        snap_limit_m=params.snap_limit_m,
    )
    edges = band_edges(access, threshold_m=threshold_m, marks_m=band_marks_m)
    band, order = classify_distance(nearest.distance_m, edges)
    urban, thresholds, children = _cell_demand(homes, centres, access, threshold_m)

    surface = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(len(centres), dtype=np.int64),
            "distance_m": nearest.distance_m,
            "route_m": route_metres(graph, nearest, centres, facility_xy, params.snap_limit_m),
            "facility_id": nearest.facility_id,
            "distance_band": band,
            "band_order": order,
            "method": nearest.method,
            "urban": urban,
            "threshold_m": thresholds,
            "covered": _cell_coverage(nearest.distance_m, thresholds),
            "children": children,
        },
        geometry=gpd.GeoSeries(polygons, crs=crs),
        crs=crs,
    )
    return surface.to_crs(WGS84_CRS)


class _Homes(NamedTuple):
    """The village points a surface is laid over (in the work CRS)."""

    #: the village layer
    villages: gpd.GeoDataFrame
    #: which villages have a location (finite coordinates)
    ok: NDArray[np.bool_]
    #: the coordinates of those villages, ``(n_ok, 2)``
    xy: NDArray[np.float64]


def _settled_area(dataset: Dataset, crs: str, settled_radius_m: float) -> tuple[Any, _Homes | None]:
    """The area a surface covers (in ``crs``) and the village points, if any.

    Discs of ``settled_radius_m`` around the villages clipped to the district outline, or
    the whole outline of a dataset without villages.
    """
    outline = None
    if dataset.has("district") and len(dataset.layer("district")):
        outline = shapely.union_all(dataset.layer("district").to_crs(crs).geometry.to_numpy())
    if dataset.has("village") and len(dataset.layer("village")) > 0:
        vxy = _layer_xy(dataset, "village", crs)
        ok = np.all(np.isfinite(vxy), axis=1)
        homes = _Homes(dataset.layer("village"), ok, vxy[ok])
        settled = shapely.union_all(shapely.buffer(shapely.points(homes.xy), settled_radius_m))
        if outline is not None:
            settled = shapely.intersection(settled, outline)
        return settled, homes
    if outline is not None:
        return outline, None  # no demand layer: the whole outline, cells carry no class
    raise GapsUnavailable(
        f"dataset {dataset.info.id!r} has neither a village layer nor a district outline: "
        "no area to cover with a gap surface (not available)"
    )


def _cells(
    settled: Any,
    cell_size_m: float,
    orientation: Literal["pointy", "flat"],
    homes: _Homes | None,
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Centres and hexagons of the cells kept over the settled area."""
    if settled.is_empty:
        return np.empty((0, 2)), np.empty(0, dtype=object)
    centres, polygons = hex_grid(settled.bounds, cell_size_m, orientation=orientation)
    shapely.prepare(settled)
    inside = shapely.contains_xy(settled, centres[:, 0], centres[:, 1])
    if homes is not None and len(homes.xy):
        # the cell holding each village is always kept (the nearest centre's hexagon)
        _, holder = cKDTree(centres).query(homes.xy)
        inside[holder] = True
    if not inside.any():  # an area smaller than one cell: keep the cells touching it
        inside = shapely.intersects(polygons, settled)
    return centres[inside], polygons[inside]


def _cell_demand(
    homes: _Homes | None,
    centres: NDArray[np.float64],
    access: FacilityAccess,
    threshold_m: float | None,
) -> tuple[Any, NDArray[np.float64], NDArray[np.float64]]:
    """Each cell's urban/rural class, service distance and children (from the villages)."""
    n = len(centres)
    children = np.zeros(n)
    if homes is not None and n and len(homes.xy):
        # nearest village of each cell: its urban/rural class sets the service distance
        _, near_v = cKDTree(homes.xy).query(centres)
        urban: Any = _urban_flags(homes.villages)[homes.ok][near_v]
        thresholds = np.where(urban, access.urban_threshold_m, access.rural_threshold_m)
        # a point lies in the hexagon of the nearest centre: attribute village children
        _, home = cKDTree(centres).query(homes.xy)
        np.add.at(children, home, _children(homes.villages, access.age_bands)[homes.ok])
    else:
        urban = pd.array([pd.NA] * n, dtype="boolean")  # unknown without villages
        thresholds = np.full(n, np.nan)
    if threshold_m is not None:
        thresholds = np.full(n, float(threshold_m))
    return urban, thresholds, children


def _cell_coverage(distance: NDArray[np.float64], thresholds: NDArray[np.float64]) -> Any:
    """Whether each cell is within its service distance (``NA`` where it has none)."""
    known = np.isfinite(thresholds)
    reached = np.isfinite(distance) & (distance <= np.where(known, thresholds, 0.0) * (1.0 + _RTOL))
    covered = pd.array(reached, dtype="boolean")
    covered[~known] = pd.NA
    return covered
