"""Coverage gaps: which villages' children live beyond walking distance of a facility.

For one facility type (``childcare``, ``kindergarten``, ``primary_school``, ``science_venue``,
``park``...), :func:`compute_gaps` measures, for every village / community, the walking
distance to the nearest facility of that type and compares it with the service distance of
the village's class (城乡分类 1xx urban, 2xx rural). The children counted are the age band
the facility serves (:class:`qjgeo.params.FacilityAccess`, e.g. childcare 0–2, kindergarten
3–5, primary school 6–11, science venue 6–14, park 0–14). Results are given per village, per
township and for the whole district, with the distances used (``params_used``) and the data
status of the layers they rest on (``data_status``, ``weak_layers``).

:func:`gap_surface` paints the same distances on a hexagonal grid over the settled area;
:func:`childcare_accessibility` gives 2SFCA / enhanced 2SFCA childcare places per 1,000
children aged 0–2 per village and township.

Rules
-----
- Coverage is inclusive: a village whose nearest facility is *exactly* the service distance
  away is covered (``distance_m <= threshold_m``, with a relative tolerance of 1e-9 for
  floating-point sums of edge lengths).
- Distances come from :func:`qjgeo.access.nearest_facility`: walking distance on a network
  when one is given, otherwise the straight line × the dataset's detour factor, and the
  ``method`` column says which. A village that cannot reach any facility (empty facility
  layer, off the network, another network component) gets ``distance_m = inf``, is not
  covered, and its ``method`` starts with ``"unreachable"``; it is never given a distance
  of zero.
- A facility layer *absent* from the dataset is not the same as an empty one: it raises
  :class:`GapsUnavailable` ("not available"), while an empty layer gives the stated result
  "no facilities" (every child uncovered, distance ``inf``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from qjgeo.access import (
    METHOD_NETWORK,
    METHOD_STRAIGHT_LINE,
    nearest_from_arrays,
    points_xy,
)
from qjgeo.catalog import Dataset
from qjgeo.crs import METRIC_CRS, WGS84_CRS
from qjgeo.network import WalkGraph
from qjgeo.params import FacilityAccess, PlanningParams

__all__ = [
    "DEFAULT_BAND_MARKS_M",
    "DEFAULT_CELL_SIZE_M",
    "DEFAULT_SETTLED_RADIUS_M",
    "UNREACHABLE_BAND",
    "AccessibilityResult",
    "GapResult",
    "GapsUnavailable",
    "band_edges",
    "band_labels",
    "childcare_accessibility",
    "classify_distance",
    "compute_all_gaps",
    "compute_gaps",
    "gap_surface",
    "gap_types",
    "hex_grid",
    "outline_cell_size",
    "surface_only_result",
    "work_crs",
]

#: Distances (metres) always used as band edges besides the service distances themselves:
#: the 15-minute life circle (1 km) and the rural walking distances (2 km, 3 km).
DEFAULT_BAND_MARKS_M: tuple[float, ...] = (1000.0, 2000.0, 3000.0)
#: Label of the band of points that reach no facility at all.
UNREACHABLE_BAND = "unreachable"
#: Default hexagon size of the gap surface: the circumradius (= edge length), metres.
DEFAULT_CELL_SIZE_M = 500.0
#: Default "settled area" radius around every village / community point, metres.
DEFAULT_SETTLED_RADIUS_M = 1500.0

_RTOL = 1e-9


class GapsUnavailable(ValueError):
    """Gaps cannot be computed for this dataset (a needed layer is absent); says which."""


@dataclass(frozen=True)
class GapResult:
    """Coverage gaps of one facility type.

    Attributes
    ----------
    facility_type
        The facility layer id, e.g. ``"childcare"``.
    villages
        One row per village / community (WGS84 points): ``code12``, ``name``,
        ``township_code``, ``urban``, ``children`` (demand in the age band),
        ``threshold_m``, ``distance_m`` (``inf`` when unreachable), ``facility_id``,
        ``covered``, ``children_uncovered``, ``distance_band``, ``method``.
    townships
        One row per township: ``code9``, ``name``, ``villages``, ``villages_covered``,
        ``children``, ``children_covered``, ``children_uncovered``, ``share_covered``
        (``NaN`` where a township has no children in the band).
    district
        Totals for the whole dataset (same keys as a township row, plus ``method``).
    method
        How distances were measured: ``"network"``, ``"straight_line_x_detour"`` (no
        network: straight line × detour factor) or ``"no facilities"``.
    age_label
        The children counted, e.g. ``"0–2"``.
    data_status
        ``"official"``, ``"estimated"`` or ``"sample"``: the weakest provenance of the
        village, township and facility layers used.
    weak_layers
        Those layers resting on estimated or sample data, with the provenances found.
    params_used
        The distances and options used (thresholds, age bands, detour factor...), so a
        view or an export can say which set of distances it applied.
    """

    facility_type: str
    villages: gpd.GeoDataFrame
    townships: pd.DataFrame
    district: dict[str, Any]
    method: str
    age_label: str
    data_status: str
    weak_layers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    params_used: Mapping[str, Any] = field(default_factory=dict)
    #: False for :func:`surface_only_result`: no village layer, so no children are counted
    has_demand: bool = True


_VILLAGE_COLUMNS: tuple[str, ...] = (
    "code12", "name", "township_code", "township_name", "urban", "children", "threshold_m",
    "distance_m", "facility_id", "covered", "children_uncovered", "distance_band", "band_order",
    "method", "provenance",
)  # fmt: skip
_TOWNSHIP_COLUMNS: tuple[str, ...] = (
    "code9", "name", "villages", "villages_covered", "children", "children_covered",
    "children_uncovered", "share_covered",
)  # fmt: skip


def surface_only_result(
    dataset: Dataset,
    facility_type: str,
    surface: gpd.GeoDataFrame,
    *,
    params: PlanningParams | None = None,
) -> GapResult:
    """The :class:`GapResult` of a dataset without villages: no children, only distances.

    For exports of an OSM import and the like: the village and township tables are empty,
    the district totals are ``NaN`` (not zero: nothing was counted), the method is the
    surface's, and ``has_demand`` is False so a map or report says children were not counted.

    Parameters
    ----------
    dataset
        The dataset (without a village layer).
    facility_type
        The facility layer id.
    surface
        Its :func:`gap_surface` hexagons.
    params
        Planning parameters (default: the dataset's).
    """
    params = params if params is not None else dataset.params
    access = _access_for(params, facility_type, None)
    methods = set(surface["method"].astype(str)) if len(surface) else set()
    n_fac = len(dataset.layer(facility_type)) if dataset.has(facility_type) else 0
    if n_fac == 0:
        method = "no facilities"
    elif METHOD_NETWORK in methods:
        method = METHOD_NETWORK
    else:
        method = METHOD_STRAIGHT_LINE
    layers = [x for x in ("district", facility_type) if dataset.has(x)]
    nan = math.nan
    return GapResult(
        facility_type=facility_type,
        villages=gpd.GeoDataFrame(
            {c: pd.Series([], dtype=object) for c in _VILLAGE_COLUMNS},
            geometry=gpd.GeoSeries([], crs=WGS84_CRS),
            crs=WGS84_CRS,
        ),
        townships=pd.DataFrame({c: pd.Series([], dtype=object) for c in _TOWNSHIP_COLUMNS}),
        district={
            **dict.fromkeys(("villages", "villages_covered", "villages_unreachable"), 0),
            **dict.fromkeys(
                ("children", "children_covered", "children_uncovered", "share_covered"), nan
            ),
            "facilities": n_fac,
            "method": method,
        },
        method=method,
        age_label=access.label,
        data_status=dataset.data_status(layers),
        weak_layers=dataset.weak_layers(layers),
        params_used={"detour_factor": params.detour_factor},
        has_demand=False,
    )


# --------------------------------------------------------------------------------------
# Distance bands


def band_edges(
    access: FacilityAccess,
    *,
    threshold_m: float | None = None,
    marks_m: Sequence[float] = DEFAULT_BAND_MARKS_M,
) -> tuple[float, ...]:
    """Upper edges of the distance bands of a facility type, in metres.

    The edges are the service distances in force (urban and rural, or ``threshold_m``
    when it overrides both) together with ``marks_m`` (1, 2 and 3 km by default), sorted.
    For childcare (300 m urban, 2 km rural) this gives ≤300 m, 300–1000 m, 1–2 km,
    2–3 km and >3 km.

    Parameters
    ----------
    access
        The facility type's access parameters.
    threshold_m
        A single service distance replacing the urban and rural ones.
    marks_m
        Further band edges, metres.

    Returns
    -------
    tuple of float
        Strictly increasing, positive edges.
    """
    thresholds = (
        (threshold_m,)
        if threshold_m is not None
        else (access.urban_threshold_m, access.rural_threshold_m)
    )
    edges = sorted({float(v) for v in (*thresholds, *marks_m) if v > 0 and math.isfinite(v)})
    return tuple(edges)


def _fmt_m(value: float, km: bool) -> str:
    if km:
        text = f"{value / 1000:.1f}".rstrip("0").rstrip(".")
        return text
    return f"{value:.0f}"


def band_labels(edges: Sequence[float]) -> tuple[str, ...]:
    """Planner-readable labels of the bands cut by ``edges`` (one more label than edges).

    Parameters
    ----------
    edges
        Increasing upper band edges in metres, e.g. ``(300, 1000, 2000, 3000)``.

    Returns
    -------
    tuple of str
        E.g. ``("≤300 m", "300–1000 m", "1–2 km", "2–3 km", ">3 km")``.
    """
    if not edges:
        return ("any distance",)
    labels = []
    first = edges[0]
    labels.append(f"≤{_fmt_m(first, first >= 1000)} {'km' if first >= 1000 else 'm'}")
    for lo, hi in itertools.pairwise(edges):
        km = lo >= 1000
        labels.append(f"{_fmt_m(lo, km)}–{_fmt_m(hi, km)} {'km' if km else 'm'}")
    last = edges[-1]
    labels.append(f">{_fmt_m(last, last >= 1000)} {'km' if last >= 1000 else 'm'}")
    return tuple(labels)


def classify_distance(
    distance_m: NDArray[np.float64] | Sequence[float], edges: Sequence[float]
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Put each distance in its band (upper edges inclusive); ``inf`` → "unreachable".

    Parameters
    ----------
    distance_m
        Distances in metres (``inf`` for points that reach no facility).
    edges
        Increasing upper band edges in metres.

    Returns
    -------
    labels : numpy.ndarray of str
        The band label of each distance (see :func:`band_labels`).
    order : numpy.ndarray of int
        The band's position (0 = nearest); ``len(edges) + 1`` for "unreachable".
    """
    d = np.asarray(distance_m, dtype=np.float64)
    edge_arr = np.asarray(edges, dtype=np.float64) * (1.0 + _RTOL)
    order = np.searchsorted(edge_arr, d, side="left").astype(np.int64)
    unreachable = ~np.isfinite(d)
    order[unreachable] = len(edges) + 1
    names = np.array([*band_labels(edges), UNREACHABLE_BAND], dtype=object)
    return names[order], order


# --------------------------------------------------------------------------------------
# Per-village gaps


def gap_types(dataset: Dataset, params: PlanningParams | None = None) -> tuple[str, ...]:
    """Facility types that have access parameters and a layer in the dataset.

    Parameters
    ----------
    dataset
        The dataset.
    params
        Planning parameters (default: the dataset's).
    """
    params = params if params is not None else dataset.params
    return tuple(t for t in params.access if dataset.has(t))


def _access_for(
    params: PlanningParams, facility_type: str, age_bands: Sequence[str] | None
) -> FacilityAccess:
    try:
        access = params.facility(facility_type)
    except KeyError as exc:
        raise GapsUnavailable(str(exc.args[0])) from None
    if age_bands is not None:
        access = FacilityAccess(
            age_bands=tuple(age_bands),
            urban_threshold_m=access.urban_threshold_m,
            rural_threshold_m=access.rural_threshold_m,
        )
    return access


def _require_layers(dataset: Dataset, facility_type: str) -> None:
    if not dataset.has("village"):
        raise GapsUnavailable(
            f"dataset {dataset.info.id!r} has no village layer: gaps need villages / "
            "communities with children as demand (not available)"
        )
    if not dataset.has(facility_type):
        raise GapsUnavailable(
            f"dataset {dataset.info.id!r} has no {facility_type!r} layer "
            f"(not available; has: {', '.join(dataset.layer_ids)})"
        )


def _children(villages: pd.DataFrame, bands: Sequence[str]) -> NDArray[np.float64]:
    missing = [b for b in bands if b not in villages.columns]
    if missing:
        raise GapsUnavailable(f"village layer has no population column(s) {', '.join(missing)}")
    total = np.zeros(len(villages), dtype=np.float64)
    for band in bands:
        column = villages[band]
        try:
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
        total += np.nan_to_num(values, nan=0.0)  # a missing count adds no children
    return total


def _urban_flags(villages: pd.DataFrame) -> NDArray[np.bool_]:
    if "urban" in villages.columns:
        return villages["urban"].fillna(False).to_numpy(dtype=bool)
    if "ur_code" in villages.columns:
        return villages["ur_code"].astype(str).str.startswith("1").to_numpy(dtype=bool)
    return np.zeros(len(villages), dtype=bool)


def work_crs(dataset: Dataset, graph: WalkGraph | None = None) -> str:
    """The metric CRS distances are measured in: the network's, else EPSG:4547 or local UTM.

    Without a network, straight lines are measured in :data:`qjgeo.crs.METRIC_CRS`
    (EPSG:4547, CM 114°E) when the dataset lies in its area of use (Qujiang), and in the
    local UTM zone otherwise (e.g. an OSM extract elsewhere), so distances stay in metres
    without the distortion of a projection centred far away.

    Parameters
    ----------
    dataset
        The dataset (its layers' extent decides).
    graph
        The walking network, if any.
    """
    if graph is not None:
        return graph.crs
    frames = [f for f in dataset.frames.values() if len(f)]
    if not frames:
        return METRIC_CRS
    lon = np.concatenate([f.total_bounds[[0, 2]] for f in frames])
    lat = np.concatenate([f.total_bounds[[1, 3]] for f in frames])
    area = pyproj.CRS.from_user_input(METRIC_CRS).area_of_use
    if area is None or (
        area.west <= lon.min()
        and lon.max() <= area.east
        and area.south <= lat.min()
        and lat.max() <= area.north
    ):
        return METRIC_CRS
    centre = gpd.GeoSeries(
        [shapely.Point(lon.mean(), lat.mean())], crs=WGS84_CRS
    ).estimate_utm_crs()
    return str(centre.to_string())


def _layer_xy(dataset: Dataset, layer_id: str, crs: str) -> NDArray[np.float64]:
    """A layer's point coordinates in ``crs`` (the cached metric frame for EPSG:4547).

    One row per feature; a missing or empty geometry gives a NaN row.
    """
    frame = dataset.metric(layer_id) if crs == METRIC_CRS else dataset.layer(layer_id)
    points_only = (frame.geom_type == "Point").all() and not frame.is_empty.any()
    if len(frame) and crs == METRIC_CRS and points_only:
        return shapely.get_coordinates(frame.geometry.to_numpy())
    return points_xy(frame, layer_id, crs)


def _column_or(frame: pd.DataFrame, name: str, default: Any) -> Any:
    """A column's values, or ``default`` (a scalar or an array) where the frame lacks it."""
    return frame[name].to_numpy() if name in frame.columns else default


def _facility_ids(facilities: pd.DataFrame) -> NDArray[np.object_]:
    if "id" in facilities.columns:
        return facilities["id"].to_numpy(dtype=object)
    return facilities.index.to_numpy(dtype=object)


def _overall_method(n_facilities: int, graph: WalkGraph | None) -> str:
    if n_facilities == 0:
        return "no facilities"
    return METHOD_NETWORK if graph is not None else METHOD_STRAIGHT_LINE


def _township_base(dataset: Dataset, villages: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Township codes and names: the township layer's, else those the villages name."""
    if dataset.has("township"):
        towns = dataset.layer("township")
        return (
            towns["code9"].astype(str).to_numpy(dtype=object),
            towns["name"].astype(str).to_numpy(dtype=object),
        )
    codes = villages["township_code"].astype(str).to_numpy(dtype=object)
    names_col = "township_name" if "township_name" in villages.columns else "township_code"
    names = villages[names_col].astype(str).to_numpy(dtype=object)
    uniq, first = np.unique(codes.astype(str), return_index=True)
    return uniq.astype(object), names[first]


def _sum_by(
    keys: np.ndarray, base_codes: np.ndarray, values: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sum ``values`` by ``keys``; rows for every base code plus codes only in ``keys``."""
    keys = keys.astype(str)
    extra = np.setdiff1d(np.unique(keys), base_codes.astype(str))
    codes = np.concatenate([base_codes.astype(str), extra])
    order = np.argsort(codes, kind="stable")
    pos = order[np.searchsorted(codes[order], keys)]
    sums = {k: np.bincount(pos, weights=v, minlength=codes.size) for k, v in values.items()}
    return codes, sums


def _township_table(dataset: Dataset, villages: pd.DataFrame) -> pd.DataFrame:
    base_codes, base_names = _township_base(dataset, villages)
    children = villages["children"].to_numpy(dtype=np.float64)
    uncovered = villages["children_uncovered"].to_numpy(dtype=np.float64)
    covered = villages["covered"].to_numpy(dtype=bool)
    codes, sums = _sum_by(
        villages["township_code"].to_numpy(dtype=object),
        base_codes,
        {
            "villages": np.ones(len(villages)),
            "villages_covered": covered.astype(np.float64),
            "children": children,
            "children_uncovered": uncovered,
        },
    )
    names = np.concatenate([base_names, codes[len(base_names) :]])
    total = sums["children"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, (total - sums["children_uncovered"]) / total, np.nan)
    return pd.DataFrame(
        {
            "code9": codes.astype(object),
            "name": names.astype(object),
            "villages": sums["villages"].astype(np.int64),
            "villages_covered": sums["villages_covered"].astype(np.int64),
            "children": total,
            "children_covered": total - sums["children_uncovered"],
            "children_uncovered": sums["children_uncovered"],
            "share_covered": share,
        }
    )


def compute_gaps(
    dataset: Dataset,
    facility_type: str,
    *,
    graph: WalkGraph | None = None,
    threshold_m: float | None = None,
    age_bands: Sequence[str] | None = None,
    band_marks_m: Sequence[float] = DEFAULT_BAND_MARKS_M,
    params: PlanningParams | None = None,
) -> GapResult:
    """Children beyond walking distance of a facility type, per village and township.

    Parameters
    ----------
    dataset
        The dataset: needs a ``village`` layer (demand) and the facility layer.
    facility_type
        Facility layer id with access parameters (``childcare``, ``park``...).
    graph
        Walking network; ``None`` estimates walking distance as the straight line × the
        detour factor (and says so in ``method``).
    threshold_m
        One service distance for urban and rural villages alike (overrides both).
    age_bands
        Population columns counted as demand, e.g. ``("pop_0_2",)`` (default: the facility
        type's age bands in ``params``).
    band_marks_m
        Distance-band edges besides the service distances (default 1, 2 and 3 km), see
        :func:`band_edges`.
    params
        Planning parameters (default: the dataset's).

    Returns
    -------
    GapResult
        Per-village, per-township and district figures, with the method, the distances
        used and the data status.

    Raises
    ------
    GapsUnavailable
        If the dataset has no village layer or no layer of this facility type, the type
        has no access parameters, or an age band column is missing.
    """
    params = params if params is not None else dataset.params
    access = _access_for(params, facility_type, age_bands)
    _require_layers(dataset, facility_type)
    if threshold_m is not None and not (threshold_m > 0 and math.isfinite(threshold_m)):
        raise GapsUnavailable(
            f"threshold_m must be a positive distance in metres, got {threshold_m}"
        )

    villages = dataset.layer("village")
    facilities = dataset.layer(facility_type)
    urban = _urban_flags(villages)
    children = _children(villages, access.age_bands)
    if threshold_m is not None:
        thresholds = np.full(len(villages), float(threshold_m))
    else:
        thresholds = np.where(urban, access.urban_threshold_m, access.rural_threshold_m)

    crs = work_crs(dataset, graph)
    nearest = nearest_from_arrays(
        graph,
        _layer_xy(dataset, "village", crs),
        _layer_xy(dataset, facility_type, crs),
        _facility_ids(facilities),
        detour_factor=params.detour_factor,
        snap_limit_m=params.snap_limit_m,
    )
    distance = nearest.distance_m
    covered = np.isfinite(distance) & (distance <= thresholds * (1.0 + _RTOL))
    edges = band_edges(access, threshold_m=threshold_m, marks_m=band_marks_m)
    band, band_order = classify_distance(distance, edges)

    out = gpd.GeoDataFrame(
        {
            "code12": _column_or(villages, "code12", villages.index.astype(str).to_numpy()),
            "name": _column_or(villages, "name", ""),
            "township_code": _column_or(villages, "township_code", ""),
            "township_name": _column_or(villages, "township_name", ""),
            "urban": urban,
            "children": children,
            "threshold_m": thresholds,
            "distance_m": distance,
            "facility_id": nearest.facility_id,
            "covered": covered,
            "children_uncovered": np.where(covered, 0.0, children),
            "distance_band": band,
            "band_order": band_order,
            "method": nearest.method,
            "provenance": _column_or(villages, "provenance", dataset.spec("village").provenance),
        },
        geometry=villages.geometry.to_numpy(),
        crs=villages.crs,
        index=villages.index,
    )

    townships = _township_table(dataset, out)
    total_children = float(out["children"].sum())
    total_uncovered = float(out["children_uncovered"].sum())
    method = _overall_method(len(facilities), graph)
    district = {
        "villages": len(out),
        "villages_covered": int(out["covered"].sum()),
        "villages_unreachable": int((~np.isfinite(distance)).sum()),
        "children": total_children,
        "children_covered": total_children - total_uncovered,
        "children_uncovered": total_uncovered,
        "share_covered": (
            (total_children - total_uncovered) / total_children if total_children > 0 else math.nan
        ),
        "facilities": len(facilities),
        "method": method,
    }
    layers = ["village", "township", facility_type]
    params_used: dict[str, Any] = {
        "age_bands": list(access.age_bands),
        "urban_threshold_m": float(threshold_m)
        if threshold_m is not None
        else access.urban_threshold_m,
        "rural_threshold_m": float(threshold_m)
        if threshold_m is not None
        else access.rural_threshold_m,
        "threshold_override": threshold_m is not None,
        "band_edges_m": list(edges),
        "detour_factor": params.detour_factor if graph is None else None,
        "snap_limit_m": params.snap_limit_m if graph is not None else None,
        "network_crs": graph.crs if graph is not None else None,
        "crs": crs,
        "coverage_rule": "distance_m <= threshold_m",
    }
    return GapResult(
        facility_type=facility_type,
        villages=out,
        townships=townships,
        district=district,
        method=method,
        age_label=access.label,
        data_status=dataset.data_status(layers),
        weak_layers=dataset.weak_layers(layers),
        params_used=params_used,
    )


def compute_all_gaps(
    dataset: Dataset,
    *,
    graph: WalkGraph | None = None,
    threshold_m: float | None = None,
    params: PlanningParams | None = None,
) -> dict[str, GapResult]:
    """Coverage gaps of every facility type the dataset holds (see :func:`compute_gaps`).

    Parameters
    ----------
    dataset
        The dataset; without a village layer the result is empty.
    graph
        Walking network shared by all types (``None``: straight line × detour factor).
    threshold_m
        One service distance for every type and village (overrides the parameters).
    params
        Planning parameters (default: the dataset's).

    Returns
    -------
    dict
        ``{facility_type: GapResult}`` for each type in ``params.access`` whose layer is in
        the dataset, in parameter order.
    """
    if not dataset.has("village"):
        return {}
    return {
        t: compute_gaps(dataset, t, graph=graph, threshold_m=threshold_m, params=params)
        for t in gap_types(dataset, params)
    }


# --------------------------------------------------------------------------------------
# Gap surface


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
    smaller than one cell keeps the cells that touch it. The grid is laid out in :func:`work_crs` (EPSG:4547 for
    Qujiang, the network's CRS or the local UTM zone elsewhere). Every
    hexagon whose centre lies in the settled area is kept whole (so the grid stays a clean
    tessellation; cells may overhang the edge by up to ``cell_size_m``). Each cell is
    classified by the distance from its centre to the nearest facility (same rules and
    method as :func:`compute_gaps`) into bands cut at the service distances and at
    ``band_marks_m`` (:func:`band_edges`). Cells also carry the nearest village's
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
        WGS84 hexagons with ``cell_id``, ``distance_m`` (``inf`` when unreachable),
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
    if threshold_m is not None and not (threshold_m > 0 and math.isfinite(threshold_m)):
        raise GapsUnavailable(
            f"threshold_m must be a positive distance in metres, got {threshold_m}"
        )
    crs = work_crs(dataset, graph)
    outline = None
    if dataset.has("district") and len(dataset.layer("district")):
        outline = shapely.union_all(dataset.layer("district").to_crs(crs).geometry.to_numpy())
    has_villages = dataset.has("village") and len(dataset.layer("village")) > 0
    if has_villages:
        villages = dataset.layer("village")
        vxy = _layer_xy(dataset, "village", crs)
        ok = np.all(np.isfinite(vxy), axis=1)
        settled = shapely.union_all(shapely.buffer(shapely.points(vxy[ok]), settled_radius_m))
        if outline is not None:
            settled = shapely.intersection(settled, outline)
    elif outline is not None:
        settled = outline  # no demand layer: the whole outline, cells carry no class
    else:
        raise GapsUnavailable(
            f"dataset {dataset.info.id!r} has neither a village layer nor a district outline: "
            "no area to cover with a gap surface (not available)"
        )
    if settled.is_empty:
        centres = np.empty((0, 2))
        polygons = np.empty(0, dtype=object)
    else:
        centres, polygons = hex_grid(settled.bounds, cell_size_m, orientation=orientation)
        shapely.prepare(settled)
        inside = shapely.contains_xy(settled, centres[:, 0], centres[:, 1])
        if has_villages and ok.any():
            # the cell holding each village is always kept (the nearest centre's hexagon)
            _, holder = cKDTree(centres).query(vxy[ok])
            inside[holder] = True
        if not inside.any():  # an area smaller than one cell: keep the cells touching it
            inside = shapely.intersects(polygons, settled)
        centres, polygons = centres[inside], polygons[inside]

    facilities = dataset.layer(facility_type)
    nearest = nearest_from_arrays(
        graph,
        centres,
        _layer_xy(dataset, facility_type, crs),
        _facility_ids(facilities),
        detour_factor=params.detour_factor,
        snap_limit_m=params.snap_limit_m,
    )
    edges = band_edges(access, threshold_m=threshold_m, marks_m=band_marks_m)
    band, order = classify_distance(nearest.distance_m, edges)

    n = len(centres)
    children = np.zeros(n)
    if has_villages and n and ok.any():
        # nearest village of each cell: its urban/rural class sets the service distance
        _, near_v = cKDTree(vxy[ok]).query(centres)
        urban: Any = _urban_flags(villages)[ok][near_v]
        thresholds = np.where(urban, access.urban_threshold_m, access.rural_threshold_m)
        # a point lies in the hexagon of the nearest centre: attribute village children
        _, home = cKDTree(centres).query(vxy[ok])
        np.add.at(children, home, _children(villages, access.age_bands)[ok])
    else:
        urban = pd.array([pd.NA] * n, dtype="boolean")  # unknown without villages
        thresholds = np.full(n, np.nan)
    if threshold_m is not None:
        thresholds = np.full(n, float(threshold_m))
    known = np.isfinite(thresholds)
    reached = np.isfinite(nearest.distance_m) & (
        nearest.distance_m <= np.where(known, thresholds, 0.0) * (1.0 + _RTOL)
    )
    covered = pd.array(reached, dtype="boolean")
    covered[~known] = pd.NA

    surface = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(n, dtype=np.int64),
            "distance_m": nearest.distance_m,
            "facility_id": nearest.facility_id,
            "distance_band": band,
            "band_order": order,
            "method": nearest.method,
            "urban": urban,
            "threshold_m": thresholds,
            "covered": covered,
            "children": children,
        },
        geometry=gpd.GeoSeries(polygons, crs=crs),
        crs=crs,
    )
    return surface.to_crs(WGS84_CRS)


# --------------------------------------------------------------------------------------
# Supply and demand: childcare places per 1,000 children (2SFCA)


@dataclass(frozen=True)
class AccessibilityResult:
    """Childcare places per 1,000 children within reach (2SFCA), per village and township.

    Attributes
    ----------
    villages
        One row per village (WGS84 points): ``code12``, ``name``, ``township_code``,
        ``children``, ``facilities_in_reach``, ``places_per_1000_children`` (0 when no
        facility is in reach).
    townships
        One row per township: ``code9``, ``name``, ``children``, ``places`` (places
        located in the township), ``places_per_1000_children`` (children-weighted mean of
        its villages' 2SFCA values; ``NaN`` without children) and
        ``places_in_township_per_1000`` (places located in the township ÷ its children,
        the plain container ratio, for comparison).
    district
        ``children``, ``places``, ``places_per_1000_children`` (2SFCA, children-weighted),
        ``places_per_1000_plain`` (all places ÷ all children) and ``places_unreached``
        (places of facilities with no village in their catchment, which 2SFCA cannot
        share out).
    method
        E.g. ``"2sfca step 2000 m (straight_line_x_detour)"``.
    data_status, weak_layers
        Provenance summary of the village, township and supply layers used.
    params_used
        Catchment, decay, supply columns, distance method.
    """

    villages: gpd.GeoDataFrame
    townships: pd.DataFrame
    district: dict[str, Any]
    method: str
    data_status: str
    weak_layers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    params_used: Mapping[str, Any] = field(default_factory=dict)


def _supply_points(
    dataset: Dataset, include_nursery: bool
) -> tuple[gpd.GeoDataFrame, NDArray[np.float64], NDArray[np.object_], list[str]]:
    """Childcare places: childcare ``places`` (+ kindergarten ``nursery_places``)."""
    frames: list[gpd.GeoDataFrame] = []
    places: list[NDArray[np.float64]] = []
    towns: list[NDArray[np.object_]] = []
    used: list[str] = []
    sources = [("childcare", "places")]
    if include_nursery:
        sources.append(("kindergarten", "nursery_places"))
    for layer_id, column in sources:
        if not dataset.has(layer_id) or column not in dataset.layer(layer_id).columns:
            continue
        frame = dataset.layer(layer_id)
        frames.append(frame[["geometry"]])
        values = pd.to_numeric(frame[column], errors="coerce").fillna(0.0)
        places.append(values.to_numpy(dtype=np.float64))
        town = (
            frame["township_code"]
            if "township_code" in frame.columns
            else pd.Series([""] * len(frame))
        )
        towns.append(town.astype(str).to_numpy(dtype=object))
        used.append(f"{layer_id}.{column}")
    if not frames:
        empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84_CRS), crs=WGS84_CRS)
        return empty, np.zeros(0), np.zeros(0, dtype=object), used
    supply = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84_CRS)
    return supply, np.concatenate(places), np.concatenate(towns), used


def childcare_accessibility(
    dataset: Dataset,
    *,
    method: Literal["2sfca", "e2sfca"] = "2sfca",
    decay: Literal["step", "gaussian"] = "step",
    threshold_m: float | None = None,
    graph: WalkGraph | None = None,
    zones: Sequence[tuple[float, float]] | None = None,
    include_kindergarten_nursery: bool = True,
    params: PlanningParams | None = None,
) -> AccessibilityResult:
    """Childcare places per 1,000 children aged 0–2 within reach (2SFCA / enhanced 2SFCA).

    Supply is the ``places`` of the childcare layer plus, when
    ``include_kindergarten_nursery`` and the column exists, the ``nursery_places`` (托班)
    of kindergartens: the plan counts both as 托位. Demand is the children of the childcare
    age bands (0–2 by default) of every village. Distances are those of
    :func:`compute_gaps` (network, or straight line × detour factor), up to one catchment
    ``threshold_m`` for every facility.

    Decay: ``method="2sfca", decay="step"`` is the classic 2SFCA (weight 1 within the
    catchment); ``method="e2sfca", decay="step"`` is Luo & Qi's enhanced 2SFCA (three
    zones, weights 1, 0.68, 0.22, or ``zones``); ``decay="gaussian"`` applies Dai's
    Gaussian decay (either method). See :mod:`qjgeo.sfca`.

    Parameters
    ----------
    dataset
        Needs a ``village`` layer; the childcare layer (and kindergartens) give supply.
    method
        ``"2sfca"`` or ``"e2sfca"``.
    decay
        ``"step"`` or ``"gaussian"``.
    threshold_m
        Catchment in metres; default the childcare *rural* walking distance (2,000 m), so
        rural villages are not cut off by the 300 m urban distance. Say which in reports.
    graph
        Walking network; ``None`` for straight line × detour factor.
    zones
        ``(upper_bound_m, weight)`` pairs for E2SFCA (default thirds of the catchment).
    include_kindergarten_nursery
        Count kindergarten nursery places as childcare supply.
    params
        Planning parameters (default: the dataset's).

    Returns
    -------
    AccessibilityResult
        Per village, per township and district figures.

    Raises
    ------
    GapsUnavailable
        If the dataset has no village layer or no supply layer, or an argument is invalid.
    """
    from qjgeo.access import distance_matrix_within
    from qjgeo.sfca import places_per_1000, two_step_fca

    params = params if params is not None else dataset.params
    access = _access_for(params, "childcare", None)
    if not dataset.has("village"):
        raise GapsUnavailable(
            f"dataset {dataset.info.id!r} has no village layer: 2SFCA needs children as demand "
            "(not available)"
        )
    if method not in ("2sfca", "e2sfca"):
        raise GapsUnavailable(f"method must be '2sfca' or 'e2sfca', got {method!r}")
    if decay not in ("step", "gaussian"):
        raise GapsUnavailable(f"decay must be 'step' or 'gaussian', got {decay!r}")
    d0 = float(threshold_m) if threshold_m is not None else float(access.rural_threshold_m)
    if not (d0 > 0 and math.isfinite(d0)):
        raise GapsUnavailable(f"threshold_m must be a positive distance in metres, got {d0}")
    supply, places, supply_towns, used = _supply_points(dataset, include_kindergarten_nursery)
    if not used:
        raise GapsUnavailable(
            f"dataset {dataset.info.id!r} has no childcare layer with places (not available)"
        )
    applied: Literal["step", "gaussian", "zones"] = (
        "gaussian" if decay == "gaussian" else ("zones" if method == "e2sfca" else "step")
    )

    villages = dataset.layer("village")
    children = _children(villages, access.age_bands)
    crs = work_crs(dataset, graph)
    dist = distance_matrix_within(
        graph,
        _layer_xy(dataset, "village", crs),
        points_xy(supply, "childcare supply", crs) if len(supply) else np.empty((0, 2)),
        max_distance_m=d0,
        detour_factor=params.detour_factor,
        snap_limit_m=params.snap_limit_m,
    )
    a = two_step_fca(places, children, dist, threshold_m=d0, decay=applied, zones=zones)
    per_1000 = places_per_1000(a)
    reach_counts = np.diff(dist.tocsr().indptr)
    served = np.zeros(len(places), dtype=bool)
    if dist.nnz:
        cols = dist.tocoo().col
        has_demand = np.zeros(len(places))
        np.add.at(has_demand, cols, children[dist.tocoo().row])
        served = has_demand > 0

    out = gpd.GeoDataFrame(
        {
            "code12": _column_or(villages, "code12", villages.index.astype(str).to_numpy()),
            "name": _column_or(villages, "name", ""),
            "township_code": _column_or(villages, "township_code", ""),
            "children": children,
            "facilities_in_reach": reach_counts.astype(np.int64),
            "places_per_1000_children": per_1000,
        },
        geometry=villages.geometry.to_numpy(),
        crs=villages.crs,
        index=villages.index,
    ).to_crs(WGS84_CRS)

    town_codes = out["township_code"].astype(str).to_numpy()
    grouped = (
        pd.DataFrame(
            {"code9": town_codes, "children": children, "_weighted": children * a * 1000.0}
        )
        .groupby("code9", sort=True)
        .sum()
    )
    placed = pd.DataFrame({"code9": supply_towns, "places": places}).groupby("code9").sum()
    if dataset.has("township"):
        towns = dataset.layer("township")
        base = pd.DataFrame(
            {"code9": towns["code9"].astype(str).to_numpy(), "name": towns["name"].to_numpy()}
        )
    else:
        base = pd.DataFrame({"code9": sorted(set(town_codes)), "name": sorted(set(town_codes))})
    table = base.merge(grouped, left_on="code9", right_index=True, how="left").merge(
        placed, left_on="code9", right_index=True, how="left"
    )
    table[["children", "_weighted", "places"]] = table[["children", "_weighted", "places"]].fillna(
        0.0
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["places_per_1000_children"] = np.where(
            table["children"] > 0, table["_weighted"] / table["children"], np.nan
        )
        table["places_in_township_per_1000"] = np.where(
            table["children"] > 0, table["places"] / table["children"] * 1000.0, np.nan
        )
    table = table.drop(columns="_weighted").reset_index(drop=True)

    total_children = float(children.sum())
    total_places = float(places.sum())
    distance_method = METHOD_NETWORK if graph is not None else METHOD_STRAIGHT_LINE
    district = {
        "children": total_children,
        "places": total_places,
        "places_per_1000_children": (
            float((children * a).sum() / total_children * 1000.0)
            if total_children > 0
            else math.nan
        ),
        "places_per_1000_plain": (
            total_places / total_children * 1000.0 if total_children > 0 else math.nan
        ),
        "places_unreached": float(places[~served].sum()),
        "villages_without_places_in_reach": int((reach_counts == 0).sum()),
    }
    layers = ["village", "township", "childcare"] + (
        ["kindergarten"] if "kindergarten.nursery_places" in used else []
    )
    return AccessibilityResult(
        villages=out,
        townships=table,
        district=district,
        method=f"{method} {applied} {d0:.0f} m ({distance_method})",
        data_status=dataset.data_status(layers),
        weak_layers=dataset.weak_layers(layers),
        params_used={
            "method": method,
            "decay": applied,
            "threshold_m": d0,
            "zones": [list(z) for z in zones] if zones is not None else None,
            "supply": used,
            "age_bands": list(access.age_bands),
            "distance_method": distance_method,
            "detour_factor": params.detour_factor if graph is None else None,
        },
    )
