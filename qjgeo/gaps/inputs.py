"""What the gap computations read from a dataset: parameters, demand, points, the work CRS.

Shared by :mod:`qjgeo.gaps.compute`, :mod:`qjgeo.gaps.surface` and
:mod:`qjgeo.gaps.supply_demand`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from qjgeo.access import NearestResult, points_xy
from qjgeo.catalog import Dataset
from qjgeo.network import WalkGraph
from qjgeo.params import FacilityAccess, PlanningParams


class GapsUnavailable(ValueError):
    """Gaps cannot be computed for this dataset (a needed layer is absent); says which."""


class GapsOptionError(GapsUnavailable):
    """An option of a gaps request is invalid (the message names the command-line option)."""


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
        access = access.model_copy(
            update={
                "age_bands": FacilityAccess(
                    age_bands=tuple(age_bands), urban_threshold_m=1, rural_threshold_m=1
                ).age_bands
            }
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


def _check_threshold(threshold_m: float | None) -> None:
    """Refuse a service distance that is not a positive, finite number of metres."""
    if threshold_m is not None and not (threshold_m > 0 and math.isfinite(threshold_m)):
        raise GapsUnavailable(
            f"threshold_m must be a positive distance in metres, got {threshold_m}"
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
    """The metric CRS distances are measured in: the network's, else the dataset's.

    Without a network, straight lines are measured in the dataset's
    :attr:`~qjgeo.catalog.Dataset.metric_crs`: EPSG:4547 (CM 114°E) for Qujiang, the local
    UTM zone elsewhere (e.g. an OSM extract abroad), so distances stay in metres without the
    distortion of a projection centred far away.

    Parameters
    ----------
    dataset
        The dataset (its extent decides).
    graph
        The walking network, if any.
    """
    return graph.crs if graph is not None else dataset.metric_crs


def _layer_xy(dataset: Dataset, layer_id: str, crs: str) -> NDArray[np.float64]:
    """A layer's point coordinates in ``crs`` (the cached metric frame for EPSG:4547).

    One row per feature; a missing or empty geometry gives a NaN row.
    """
    metric = crs == dataset.metric_crs
    frame = dataset.metric(layer_id) if metric else dataset.layer(layer_id)
    points_only = (frame.geom_type == "Point").all() and not frame.is_empty.any()
    if len(frame) and metric and points_only:
        return shapely.get_coordinates(frame.geometry.to_numpy())
    return points_xy(frame, layer_id, crs)


def _column_or(frame: pd.DataFrame, name: str, default: Any) -> Any:
    """A column's values, or ``default`` (a scalar or an array) where the frame lacks it."""
    return frame[name].to_numpy() if name in frame.columns else default


def _facility_ids(facilities: pd.DataFrame) -> NDArray[np.object_]:
    if "id" in facilities.columns:
        return facilities["id"].to_numpy(dtype=object)
    return facilities.index.to_numpy(dtype=object)


def route_metres(
    graph: WalkGraph | None,
    nearest: NearestResult,
    origin_xy: NDArray[np.float64],
    facility_xy: NDArray[np.float64],
    snap_limit_m: float,
) -> NDArray[np.float64]:
    """The ``route_m`` column of a search's origins: its ``distance_m``, or the route's length
    in metres where the costs are times (a drive network's :class:`~qjgeo.modes.SearchGraph`,
    :func:`qjgeo.routes.route_lengths`)."""
    from qjgeo.modes import SearchGraph
    from qjgeo.routes import route_lengths

    distance = nearest.distance_m
    if not isinstance(graph, SearchGraph) or not len(facility_xy):
        return distance.copy()
    route = route_lengths(graph, origin_xy, facility_xy, snap_limit_m=snap_limit_m)
    return np.where(np.isfinite(distance), route, np.inf)
