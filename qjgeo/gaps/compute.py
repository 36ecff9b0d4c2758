"""Access gaps per village, township and district: :func:`compute_gaps`.

For one facility type, the walking distance from every village / community to the nearest
facility, compared with the service distance of the village's class (urban or rural); the
children of the type's age band beyond it are uncovered. See :mod:`qjgeo.gaps` for the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from qjgeo.access import METHOD_NETWORK, METHOD_STRAIGHT_LINE, NearestResult, nearest_from_arrays
from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.gaps.bands import _RTOL, DEFAULT_BAND_MARKS_M, band_edges, classify_distance
from qjgeo.gaps.inputs import (
    GapsUnavailable,
    _access_for,
    _check_threshold,
    _children,
    _column_or,
    _facility_ids,
    _layer_xy,
    _require_layers,
    _urban_flags,
    gap_types,
    route_metres,
    work_crs,
)
from qjgeo.network import WalkGraph
from qjgeo.params import FacilityAccess, PlanningParams
from qjgeo.travel import TravelError, search_graph

if TYPE_CHECKING:
    from qjgeo.modes import ModeNetwork
from qjgeo.priority import priority_columns, priority_counts


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
        ``threshold_m``, ``distance_m`` (``inf`` when unreachable), ``route_m``,
        ``facility_id``, ``covered``, ``children_uncovered``, ``distance_band``, ``method``,
        ``mode`` (the travel mode), ``time_min`` (travel minutes of the route) and
        ``threshold_min``. ``distance_m`` / ``threshold_m`` are search *costs*: travel time
        expressed in metres at the mode's reference speed (:mod:`qjgeo.modes`), compared
        with each other for coverage and bands; ``route_m`` is the length in metres of the
        route found, the figure to show as a distance. They are the same for walking and
        cycling and for the straight-line estimate; on a drive network ``distance_m`` is
        the time × the reference speed and ``route_m`` the fastest route's real length
        (:func:`qjgeo.routes.route_lengths`). When the
        village layer carries priority-group counts (:mod:`qjgeo.priority`), also
        ``<group>_uncovered`` (e.g. ``left_behind_children_uncovered``: the group's
        children, all ages the ledger counts, in villages not covered).
    townships
        One row per township: ``code9``, ``name``, ``villages``, ``villages_covered``,
        ``children``, ``children_covered``, ``children_uncovered``, ``share_covered``
        (``NaN`` where a township has no children in the band), and the
        ``<group>_uncovered`` sums when present.
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
    "distance_m", "route_m", "facility_id", "covered", "children_uncovered", "distance_band", "band_order",
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
        Its :func:`~qjgeo.gaps.gap_surface` hexagons.
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
    groups = [c for c in villages.columns if c.endswith("_uncovered") and c != "children_uncovered"]
    codes, sums = _sum_by(
        villages["township_code"].to_numpy(dtype=object),
        base_codes,
        {
            "villages": np.ones(len(villages)),
            "villages_covered": covered.astype(np.float64),
            "children": children,
            "children_uncovered": uncovered,
            **{g: villages[g].to_numpy(dtype=np.float64) for g in groups},
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
            **{g: sums[g] for g in groups},
        }
    )


def compute_gaps(
    dataset: Dataset,
    facility_type: str,
    *,
    graph: WalkGraph | ModeNetwork | None = None,
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
        The network of the run's mode (``params.mode``, walking when unset: a
        :class:`~qjgeo.modes.ModeNetwork` or a walking ``WalkGraph``); ``None`` estimates the
        route as the straight line × the mode's detour factor (and says so in ``method``).
    threshold_m
        One service distance for urban and rural villages alike (overrides both).
    age_bands
        Population columns counted as demand, e.g. ``("pop_0_2",)`` (default: the facility
        type's age bands in ``params``).
    band_marks_m
        Distance-band edges besides the service distances (default 1, 2 and 3 km), see
        :func:`~qjgeo.gaps.band_edges`.
    params
        Planning parameters (default: the dataset's); a travel mode is chosen with
        :func:`qjgeo.travel.travel_params`, which sets ``mode`` and the thresholds.

    Returns
    -------
    GapResult
        Per-village, per-township and district figures, with the method, the mode, the
        distances and times used and the data status.

    Raises
    ------
    GapsUnavailable
        If the dataset has no village layer or no layer of this facility type, the type
        has no access parameters, or an age band column is missing.
    """
    params = params if params is not None else dataset.params
    access = _access_for(params, facility_type, age_bands)
    _require_layers(dataset, facility_type)
    _check_threshold(threshold_m)

    villages = dataset.layer("village")
    facilities = dataset.layer(facility_type)
    urban = _urban_flags(villages)
    children = _children(villages, access.age_bands)
    if threshold_m is not None:
        thresholds = np.full(len(villages), float(threshold_m))
    else:
        thresholds = np.where(urban, access.urban_threshold_m, access.rural_threshold_m)

    mode = params.mode or "walk"
    try:
        graph = search_graph(graph, mode)
    except TravelError as exc:
        raise GapsUnavailable(str(exc)) from None
    crs = work_crs(dataset, graph)
    village_xy = _layer_xy(dataset, "village", crs)
    facility_xy = _layer_xy(dataset, facility_type, crs)
    nearest = nearest_from_arrays(
        graph,
        village_xy,
        facility_xy,
        _facility_ids(facilities),
        detour_factor=params.detour_factor,
        snap_limit_m=params.snap_limit_m,
    )
    edges = band_edges(access, threshold_m=threshold_m, marks_m=band_marks_m)
    route = route_metres(graph, nearest, village_xy, facility_xy, params.snap_limit_m)
    out = _village_gaps(dataset, urban, children, thresholds, nearest, edges, route)
    speed = params.travel(mode).speed_m_s
    out["mode"] = mode
    out["time_min"] = out["distance_m"] / speed / 60.0
    out["threshold_min"] = out["threshold_m"] / speed / 60.0
    method = _overall_method(len(facilities), graph)
    layers = ["village", "township", facility_type]
    return GapResult(
        facility_type=facility_type,
        villages=out,
        townships=_township_table(dataset, out),
        district=_district_totals(out, len(facilities), method),
        method=method,
        age_label=access.label,
        data_status=dataset.data_status(layers),
        weak_layers=dataset.weak_layers(layers),
        params_used=_params_used(access, threshold_m, edges, params, graph, crs),
    )


def _village_gaps(
    dataset: Dataset,
    urban: NDArray[np.bool_],
    children: NDArray[np.float64],
    thresholds: NDArray[np.float64],
    nearest: NearestResult,
    edges: Sequence[float],
    route_m: NDArray[np.float64],
) -> gpd.GeoDataFrame:
    """The per-village table of :class:`GapResult` (the village layer's points and CRS)."""
    villages = dataset.layer("village")
    distance = nearest.distance_m
    covered = np.isfinite(distance) & (distance <= thresholds * (1.0 + _RTOL))
    band, band_order = classify_distance(distance, edges)
    groups = {
        f"{g}_uncovered": np.where(covered, 0.0, priority_counts(villages, [g]))
        for g in priority_columns(villages)
    }
    return gpd.GeoDataFrame(
        {
            "code12": _column_or(villages, "code12", villages.index.astype(str).to_numpy()),
            "name": _column_or(villages, "name", ""),
            "township_code": _column_or(villages, "township_code", ""),
            "township_name": _column_or(villages, "township_name", ""),
            "urban": urban,
            "children": children,
            "threshold_m": thresholds,
            "distance_m": distance,
            "route_m": route_m,
            "facility_id": nearest.facility_id,
            "covered": covered,
            "children_uncovered": np.where(covered, 0.0, children),
            "distance_band": band,
            "band_order": band_order,
            "method": nearest.method,
            "provenance": _column_or(villages, "provenance", dataset.spec("village").provenance),
            **groups,
        },
        geometry=villages.geometry.to_numpy(),
        crs=villages.crs,
        index=villages.index,
    )


def _district_totals(villages: gpd.GeoDataFrame, n_facilities: int, method: str) -> dict[str, Any]:
    """The district figures of :class:`GapResult` from its per-village table."""
    total_children = float(villages["children"].sum())
    total_uncovered = float(villages["children_uncovered"].sum())
    distance = villages["distance_m"].to_numpy()
    return {
        "villages": len(villages),
        "villages_covered": int(villages["covered"].sum()),
        "villages_unreachable": int((~np.isfinite(distance)).sum()),
        "children": total_children,
        "children_covered": total_children - total_uncovered,
        "children_uncovered": total_uncovered,
        "share_covered": (
            (total_children - total_uncovered) / total_children if total_children > 0 else math.nan
        ),
        "facilities": n_facilities,
        "method": method,
    }


def _params_used(
    access: FacilityAccess,
    threshold_m: float | None,
    edges: Sequence[float],
    params: PlanningParams,
    graph: WalkGraph | None,
    crs: str,
) -> dict[str, Any]:
    """The distances and options :func:`compute_gaps` applied (``GapResult.params_used``)."""
    return {
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
        **_mode_used(params, access, threshold_m),
    }


def _mode_used(
    params: PlanningParams, access: FacilityAccess, threshold_m: float | None
) -> dict[str, Any]:
    """The travel mode entries of ``GapResult.params_used``."""
    mode = params.mode or "walk"
    travel = params.travel(mode)
    per_min = travel.speed_m_s * 60.0
    urban = threshold_m if threshold_m is not None else access.urban_threshold_m
    rural = threshold_m if threshold_m is not None else access.rural_threshold_m
    return {
        "urban_threshold_min": urban / per_min,
        "rural_threshold_min": rural / per_min,
        "mode": mode,
        "mode_title_en": travel.title_en,
        "mode_title_zh": travel.title_zh,
        "speed_kmh": travel.speed_kmh,
        "threshold_unit": "min" if params.mode is not None and threshold_m is None else "m",
        "minutes": params.minutes,
    }


def compute_all_gaps(
    dataset: Dataset,
    *,
    graph: WalkGraph | ModeNetwork | None = None,
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
