"""Candidate sites for new facilities: village points, township seats, a hex grid or a file."""

from __future__ import annotations

import math
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS


def _hex_centres(area_metric: Any, spacing_m: float) -> NDArray[np.float64]:
    minx, miny, maxx, maxy = shapely.bounds(area_metric)
    dy = spacing_m * math.sqrt(3) / 2
    ys = np.arange(miny, maxy + dy, dy)
    xs = np.arange(minx, maxx + spacing_m, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys))[:, None] % 2) * spacing_m / 2
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    inside = shapely.contains_xy(area_metric, pts[:, 0], pts[:, 1])
    return pts[inside]


def _township_of(dataset: Dataset, points: gpd.GeoSeries) -> NDArray[np.object_]:
    out = np.full(len(points), None, dtype=object)
    if not dataset.has("township") or len(points) == 0:
        return out
    town = dataset.layer("township")
    pts = points.to_crs(WGS84_CRS).array
    tree = shapely.STRtree(town.geometry.array)
    p_idx, t_idx = tree.query(pts, predicate="intersects")
    codes = town["code9"].astype(str).to_numpy()
    out[p_idx[::-1]] = codes[t_idx[::-1]]
    return out


def candidate_sites(
    dataset: Dataset,
    candidates: Literal["villages", "seats", "hex"] | gpd.GeoDataFrame = "villages",
    *,
    hex_spacing_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Candidate sites for new facilities: village points, township seats, a hex grid or a file.

    Parameters
    ----------
    dataset
        Supplies villages, township seats and the district outline.
    candidates
        ``"villages"``, ``"seats"``, ``"hex"`` (hexagonal grid of centres inside the
        district, ``hex_spacing_m`` apart) or a GeoDataFrame of points (columns ``id`` and
        ``name`` used when present).
    hex_spacing_m
        Distance between neighbouring hex centres, metres.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with ``candidate_id, name, township_code, source``. Points outside the
        district are dropped.

    Raises
    ------
    ValueError
        For an unknown candidate kind, a missing layer, or non-point geometries.
    """
    if isinstance(candidates, gpd.GeoDataFrame):
        out = _file_candidates(candidates)
    elif candidates == "villages":
        out = _village_candidates(dataset)
    elif candidates == "seats":
        out = _seat_candidates(dataset)
    elif candidates == "hex":
        out = _hex_candidates(dataset, hex_spacing_m)
    else:
        raise ValueError(
            f"candidates must be 'villages', 'seats', 'hex' or a GeoDataFrame, got {candidates!r}"
        )
    if dataset.has("district") and len(out):
        area_wgs = shapely.union_all(dataset.layer("district").geometry.array)
        out = out[shapely.intersects(area_wgs, out.geometry.array)].reset_index(drop=True)
    out["township_code"] = _township_of(dataset, out.geometry)
    return out[["candidate_id", "name", "township_code", "source", "geometry"]]


def _file_candidates(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidates given as points (``id`` and ``name`` used when present)."""
    if candidates.crs is None:
        raise ValueError("candidate sites have no CRS; set one (e.g. EPSG:4326)")
    frame = candidates.to_crs(WGS84_CRS)
    geoms = frame.geometry
    if len(frame) and not (geoms.geom_type == "Point").all():
        bad = int((geoms.geom_type != "Point").to_numpy().nonzero()[0][0])
        raise ValueError(f"candidate row {bad + 1} is a {geoms.geom_type.iloc[bad]}, not a point")
    ids = (
        frame["id"].astype(str).to_numpy()
        if "id" in frame.columns
        else np.array([f"C{i + 1:04d}" for i in range(len(frame))], dtype=object)
    )
    names = frame["name"].astype(str).to_numpy() if "name" in frame.columns else ids
    return gpd.GeoDataFrame(
        {"candidate_id": ids, "name": names, "source": "user file"},
        geometry=geoms.to_numpy(),
        crs=WGS84_CRS,
    )


def _village_candidates(dataset: Dataset) -> gpd.GeoDataFrame:
    """Every village / community point."""
    if not dataset.has("village"):
        raise ValueError("village candidates need a 'village' layer, not available")
    v = dataset.layer("village")
    names = v["short_name"] if "short_name" in v.columns else v["name"]
    return gpd.GeoDataFrame(
        {
            "candidate_id": v["code12"].astype(str).to_numpy(),
            "name": names.astype(str).to_numpy(),
            "source": "village point",
        },
        geometry=v.geometry.to_numpy(),
        crs=WGS84_CRS,
    )


def _seat_candidates(dataset: Dataset) -> gpd.GeoDataFrame:
    """Every township seat (its representative point when the seat is not given)."""
    if not dataset.has("township"):
        raise ValueError("seat candidates need a 'township' layer, not available")
    t = dataset.layer("township")
    if {"seat_lon", "seat_lat"} <= set(t.columns):
        geoms = shapely.points(t["seat_lon"].to_numpy(float), t["seat_lat"].to_numpy(float))
    else:
        geoms = t.representative_point().to_numpy()
    return gpd.GeoDataFrame(
        {
            "candidate_id": t["code9"].astype(str).to_numpy(),
            "name": (t["name"].astype(str) + " seat").to_numpy(),
            "source": "township seat",
        },
        geometry=geoms,
        crs=WGS84_CRS,
    )


def _hex_candidates(dataset: Dataset, hex_spacing_m: float) -> gpd.GeoDataFrame:
    """Centres of a hexagonal grid inside the district, ``hex_spacing_m`` apart."""
    if not dataset.has("district"):
        raise ValueError("hex candidates need a 'district' layer, not available")
    if not _spacing_ok(hex_spacing_m):
        raise ValueError(f"hex_spacing_m must be ≥ 50, got {hex_spacing_m}")
    area = shapely.union_all(dataset.metric("district").geometry.array)
    pts = _hex_centres(area, hex_spacing_m)
    metric = gpd.GeoSeries(shapely.points(pts), crs=dataset.metric_crs)
    ids = np.array([f"HEX{i + 1:05d}" for i in range(len(pts))], dtype=object)
    return gpd.GeoDataFrame(
        {"candidate_id": ids, "name": ids, "source": f"hex grid {hex_spacing_m:g} m"},
        geometry=metric.to_crs(WGS84_CRS).to_numpy(),
        crs=WGS84_CRS,
    )


def _spacing_ok(spacing_m: float) -> bool:
    """Whether a hex spacing is usable (≥ 50 m, finite)."""
    return math.isfinite(spacing_m) and spacing_m >= 50
