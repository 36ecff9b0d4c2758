"""Isochrones: the area within 5 / 10 / 15 minutes (or any chosen times) of a point, by mode.

On a network (:class:`qjgeo.modes.ModeNetwork`) one search from the point gives the travel
time of every node; the catchment of ``T`` minutes is the union of

- every node reached within ``T`` and every edge travelled within ``T`` (an edge whose far
  end is beyond ``T`` up to the point where the time runs out), buffered by ``buffer_m``
  (the walk from a house to its street);
- minus a small disk around each node *not* reached that the buffer would otherwise cover
  (a node across a river, or on a one-way street leading away),

so the polygon holds exactly the nodes reached within ``T``. ``direction="to"`` (default)
times the trips *to* the point (a facility's catchment: on the drive network the search
runs on the reversed graph, so one-way streets count in the direction driven); ``"from"``
the trips leaving it.

Without a network the catchment is a circle of radius ``T`` × speed ÷ the mode's detour
factor, and ``method`` says ``"straight_line_x_detour"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from qjgeo.crs import WGS84_CRS
from qjgeo.dijkstra import nearest_source
from qjgeo.params import DEFAULT_PARAMS, DEFAULT_SNAP_LIMIT_M, PlanningParams

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.modes import ModeNetwork

__all__ = [
    "DEFAULT_MINUTES",
    "ISO_COLOURS",
    "IsochroneError",
    "catchment_colours",
    "facility_point",
    "isochrones",
    "node_minutes",
    "parse_lonlat",
    "parse_minutes",
]

#: The catchments drawn by default (minutes): the life circles of GB 50180-2018.
DEFAULT_MINUTES: tuple[float, ...] = (5.0, 10.0, 15.0)
#: Half-width of the band drawn along the streets reached (metres).
DEFAULT_BUFFER_M = 50.0
_RTOL = 1e-9
#: Colours of the catchments, nearest first (green → yellow → red): the app's Gaps page and
#: the HTML / GIS exports draw them alike.
ISO_COLOURS: tuple[str, ...] = ("#1a9850", "#fee08b", "#d73027")


class IsochroneError(ValueError):
    """An isochrone request cannot be answered (message in Chinese and English)."""


def _check_minutes(minutes: Sequence[float]) -> list[float]:
    values = sorted({float(m) for m in minutes})
    if not values or not all(np.isfinite(m) and m > 0 for m in values):
        raise IsochroneError(
            f"时间必须是正数（分钟），收到 {list(minutes)}；"
            f"minutes must be positive numbers, got {list(minutes)}"
        )
    return values


def node_minutes(
    network: ModeNetwork,
    xy: tuple[float, float],
    *,
    direction: Literal["to", "from"] = "to",
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
    limit_minutes: float = np.inf,
) -> tuple[NDArray[np.float64], float]:
    """Travel minutes between a point and every node of a mode's network.

    Parameters
    ----------
    network
        The mode's network.
    xy
        The point in ``network.crs``.
    direction
        ``"to"``: trips to the point; ``"from"``: trips leaving it.
    snap_limit_m
        Largest distance from the point to its network node.
    limit_minutes
        Stop the search at this time.

    Returns
    -------
    minutes : numpy.ndarray
        Per node (``inf`` beyond ``limit_minutes``); the snap leg at the mode's speed included.
    snap_m : float
        Distance from the point to its node.

    Raises
    ------
    IsochroneError
        If the point is farther than ``snap_limit_m`` from the network.
    """
    graph = network.search_graph if direction == "to" else network.graph
    snap_m, node = graph.kdtree.query([xy[0], xy[1]])
    if not snap_m <= snap_limit_m:
        raise IsochroneError(
            f"该点距{network.mode}路网 {snap_m:,.0f} 米，超过 {snap_limit_m:,.0f} 米；"
            f"the point is {snap_m:,.0f} m from the {network.mode} network "
            f"(more than {snap_limit_m:,.0f} m)"
        )
    per_min = network.speed_m_s * 60.0
    cost, _ = nearest_source(
        graph.indptr,
        graph.indices,
        graph.weights,
        np.array([node]),
        np.array([float(snap_m)]),
        limit=limit_minutes * per_min * (1 + _RTOL),
    )
    return cost / per_min, float(snap_m)


def _network_polygon(
    network: ModeNetwork,
    minutes_at: NDArray[np.float64],
    limit: float,
    buffer_m: float,
    direction: Literal["to", "from"],
) -> tuple[shapely.Geometry, int]:
    """The catchment of ``limit`` minutes (metric CRS) and the number of nodes it holds."""
    graph = network.search_graph if direction == "to" else network.graph
    per_min = network.speed_m_s * 60.0
    reached = minutes_at <= limit * (1 + _RTOL)
    xy = graph.xy
    src = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
    dst = graph.indices
    start = minutes_at[src]
    ok = np.isfinite(start) & reached[src]
    w_min = graph.weights / per_min
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(w_min > 0, (limit - start) / w_min, 1.0)
    frac = np.clip(np.nan_to_num(frac, nan=0.0), 0.0, 1.0)
    a = xy[src[ok]]
    b = a + (xy[dst[ok]] - a) * frac[ok, None]
    if not reached.any():
        return shapely.Polygon(), 0
    # a union of one buffer per piece: ≈ 20× faster than buffering them as one collection
    parts = shapely.points(xy[reached])
    if ok.any():
        parts = np.concatenate([parts, shapely.linestrings(np.stack([a, b], axis=1))])
    area = shapely.union_all(shapely.buffer(parts, buffer_m, quad_segs=4))
    area = _cut_unreached(area, xy, reached)
    return area, int(reached.sum())


def _cut_unreached(
    area: shapely.Geometry, xy: NDArray[np.float64], reached: NDArray[np.bool_]
) -> shapely.Geometry:
    """Remove from ``area`` a small disk around every node not reached that it covers."""
    out = np.flatnonzero(~reached)
    if out.size == 0 or not reached.any():
        return area
    x0, y0, x1, y1 = area.bounds
    near = (xy[out, 0] >= x0) & (xy[out, 0] <= x1) & (xy[out, 1] >= y0) & (xy[out, 1] <= y1)
    out = out[near]
    shapely.prepare(area)
    inside = out[shapely.covers(area, shapely.points(xy[out]))]
    if inside.size == 0:
        return area
    gap, _ = cKDTree(xy[reached]).query(xy[inside])
    radius = np.minimum(1.0, gap / 2.0)
    keep = radius > 0  # a node at the very place of a reached one cannot be told apart
    holes = shapely.buffer(shapely.points(xy[inside[keep]]), radius[keep], quad_segs=4)
    return shapely.difference(area, shapely.union_all(holes))


def isochrones(
    network: ModeNetwork | None,
    point: tuple[float, float],
    *,
    mode: str = "walk",
    minutes: Sequence[float] = DEFAULT_MINUTES,
    crs: str | None = None,
    direction: Literal["to", "from"] = "to",
    params: PlanningParams = DEFAULT_PARAMS,
    buffer_m: float = DEFAULT_BUFFER_M,
    snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
) -> gpd.GeoDataFrame:
    """Catchments of a point for each time, as polygons (WGS84).

    Parameters
    ----------
    network
        The mode's network, or ``None`` for the straight-line estimate.
    point
        Longitude and latitude (WGS84) of the facility or clicked point.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"`` (must be the network's).
    minutes
        The times, e.g. ``(5, 10, 15)``.
    crs
        Metric CRS of the straight-line estimate (default :data:`qjgeo.crs.METRIC_CRS`);
        the network's own otherwise.
    direction
        ``"to"`` (trips to the point) or ``"from"``.
    params
        Planning parameters (the mode's speed and detour factor).
    buffer_m
        Half-width of the band along the streets reached.
    snap_limit_m
        Largest distance from the point to the network.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per time, smallest first: ``minutes``, ``mode``, ``speed_kmh``, ``method``
        (``"network"`` or ``"straight_line_x_detour"``), ``nodes_reached`` (``NaN`` without
        a network), ``area_km2``, ``radius_m`` (straight line only), ``geometry``.

    Raises
    ------
    IsochroneError
        For bad times, a network of another mode, or a point off the network.
    """
    from qjgeo.crs import METRIC_CRS

    times = _check_minutes(minutes)
    travel = params.travel(mode)
    if network is not None and network.mode != mode:
        raise IsochroneError(
            f"路网是 {network.mode}，不是 {mode}；the network is {network.mode}, not {mode}"
        )
    work = network.crs if network is not None else (crs or METRIC_CRS)
    xy = gpd.GeoSeries([shapely.Point(point)], crs=WGS84_CRS).to_crs(work).iloc[0]
    rows: list[dict[str, object]] = []
    if network is None:
        detour = params.detour_of(mode)
        for t in times:
            radius = t * 60.0 * travel.speed_m_s / detour
            geom = xy.buffer(radius, quad_segs=32)
            rows.append({"minutes": t, "method": "straight_line_x_detour", "nodes_reached": np.nan,
                         "radius_m": radius, "geometry": geom})  # fmt: skip
    else:
        at, _ = node_minutes(
            network, (xy.x, xy.y), direction=direction, snap_limit_m=snap_limit_m,
            limit_minutes=times[-1],
        )  # fmt: skip
        for t in times:
            geom, n = _network_polygon(network, at, t, buffer_m, direction)
            rows.append({"minutes": t, "method": "network", "nodes_reached": n,
                         "radius_m": np.nan, "geometry": geom})  # fmt: skip
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=work)
    frame.insert(1, "mode", mode)
    frame.insert(2, "speed_kmh", travel.speed_kmh)
    frame["area_km2"] = frame.geometry.area / 1e6
    return frame.to_crs(WGS84_CRS)


def _mix(a: str, b: str, f: float) -> str:
    """The colour ``f`` of the way from ``a`` to ``b`` (``#rrggbb``)."""
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(ca, cb, strict=True))


def catchment_colours(n: int) -> list[str]:
    """Colours of ``n`` catchments, nearest first: :data:`ISO_COLOURS` for up to three,
    evenly between its colours for more."""
    if n <= len(ISO_COLOURS):
        return list(ISO_COLOURS[:n])
    out = []
    for i in range(n):
        pos = i / (n - 1) * (len(ISO_COLOURS) - 1)
        j = min(int(pos), len(ISO_COLOURS) - 2)
        out.append(_mix(ISO_COLOURS[j], ISO_COLOURS[j + 1], pos - j))
    return out


def parse_minutes(text: str) -> list[float]:
    """``"5,10,15"`` → ``[5.0, 10.0, 15.0]``.

    Raises
    ------
    IsochroneError
        Naming the text when it is not comma-separated positive numbers.
    """
    try:
        values = [float(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or not all(np.isfinite(v) and v > 0 for v in values):
        raise IsochroneError(
            f"分钟数应为逗号分隔的正数，如 5,10,15，收到 {text!r}；"
            f"minutes must be like 5,10,15, got {text!r}"
        )
    return values


def parse_lonlat(text: str) -> tuple[float, float]:
    """``"113.6,24.68"`` → ``(113.6, 24.68)`` (WGS84 longitude, latitude).

    Raises
    ------
    IsochroneError
        Naming the text when it is not two numbers in range.
    """
    try:
        lon, lat = (float(v) for v in str(text).split(","))
    except ValueError:
        raise IsochroneError(
            f"应为 经度,纬度（WGS84），收到 {text!r}；must be LON,LAT (WGS84), got {text!r}"
        ) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise IsochroneError(
            f"{text!r}：经纬度超出范围；longitude/latitude out of range in {text!r}"
        )
    return lon, lat


def facility_point(
    dataset: Dataset, facility_type: str, facility_id: str
) -> tuple[tuple[float, float], str]:
    """Longitude and latitude (WGS84) of one facility (a point inside it if it is an area),
    and its name (``""`` when the layer has none).

    Raises
    ------
    IsochroneError
        Naming the layer or the id when the dataset has no such layer or facility.
    """
    if not dataset.has(facility_type):
        raise IsochroneError(
            f"数据集 {dataset.info.id!r} 中没有图层 {facility_type!r}；"
            f"no layer {facility_type!r} in dataset {dataset.info.id!r}"
        )
    frame = dataset.layer(facility_type)
    ids = frame["id"].astype(str) if "id" in frame.columns else frame.index.astype(str)
    hit = frame[(ids == str(facility_id)).to_numpy()]
    if hit.empty:
        raise IsochroneError(
            f"{facility_type} 中没有编号 {facility_id!r}；"
            f"no facility {facility_id!r} in {facility_type}"
        )
    pt = hit.to_crs(WGS84_CRS).geometry.iloc[0].representative_point()
    name = str(hit["name"].iloc[0]) if "name" in hit.columns else ""
    return (pt.x, pt.y), name
