"""Supply and demand: childcare places per 1,000 children within reach (2SFCA).

:func:`childcare_accessibility` wires :mod:`qjgeo.sfca` to a dataset: childcare places (and
kindergarten nursery places) as supply, children aged 0–2 of every village as demand, the
distances of :func:`qjgeo.gaps.compute_gaps` up to one catchment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_array

from qjgeo.access import METHOD_NETWORK, METHOD_STRAIGHT_LINE, points_xy
from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.gaps.inputs import (
    GapsUnavailable,
    _access_for,
    _children,
    _column_or,
    _layer_xy,
    work_crs,
)
from qjgeo.network import WalkGraph
from qjgeo.params import FacilityAccess, PlanningParams


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
    :func:`~qjgeo.gaps.compute_gaps` (network, or straight line × detour factor), up to one catchment
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
    d0 = _catchment(dataset, access, method, decay, threshold_m)
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
    reach_counts = np.diff(dist.tocsr().indptr)
    out = _village_places(villages, children, reach_counts, places_per_1000(a))
    served = _served_supply(dist, children, len(places))
    distance_method = METHOD_NETWORK if graph is not None else METHOD_STRAIGHT_LINE
    layers = ["village", "township", "childcare"] + (
        ["kindergarten"] if "kindergarten.nursery_places" in used else []
    )
    return AccessibilityResult(
        villages=out,
        townships=_township_places(dataset, out, children, a, supply_towns, places),
        district=_district_places(children, a, places, served, reach_counts),
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


def _catchment(
    dataset: Dataset,
    access: FacilityAccess,
    method: str,
    decay: str,
    threshold_m: float | None,
) -> float:
    """Check the 2SFCA options; the catchment in metres (default the rural distance)."""
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
    return d0


def _served_supply(dist: csr_array, children: NDArray[np.float64], n_places: int) -> Any:
    """Which supply points have children within their catchment (2SFCA can share theirs)."""
    served = np.zeros(n_places, dtype=bool)
    if dist.nnz:
        cols = dist.tocoo().col
        has_demand = np.zeros(n_places)
        np.add.at(has_demand, cols, children[dist.tocoo().row])
        served = has_demand > 0
    return served


def _village_places(
    villages: gpd.GeoDataFrame,
    children: NDArray[np.float64],
    reach_counts: NDArray[np.int64],
    per_1000: NDArray[np.float64],
) -> gpd.GeoDataFrame:
    """The per-village table of :class:`AccessibilityResult` (WGS84 points)."""
    return gpd.GeoDataFrame(
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


def _township_places(
    dataset: Dataset,
    villages: gpd.GeoDataFrame,
    children: NDArray[np.float64],
    a: NDArray[np.float64],
    supply_towns: NDArray[np.object_],
    places: NDArray[np.float64],
) -> pd.DataFrame:
    """The per-township table of :class:`AccessibilityResult`."""
    town_codes = villages["township_code"].astype(str).to_numpy()
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
    return table.drop(columns="_weighted").reset_index(drop=True)


def _district_places(
    children: NDArray[np.float64],
    a: NDArray[np.float64],
    places: NDArray[np.float64],
    served: NDArray[np.bool_],
    reach_counts: NDArray[np.int64],
) -> dict[str, Any]:
    """The district figures of :class:`AccessibilityResult`."""
    total_children = float(children.sum())
    total_places = float(places.sum())
    return {
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
