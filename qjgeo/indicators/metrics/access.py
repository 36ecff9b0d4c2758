"""Distance-based metrics: nearest-facility distances and :func:`access_share`.

:func:`nearest_distances` (memoised per evaluation), the villages within their service
distance of a facility, and the children living within walking distance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from qjgeo.indicators.metrics.base import (
    MetricCache,
    MetricResult,
    _codes,
    _count_rows,
    _failing,
    _guard,
    _population,
    _require,
    _selected,
    _share_rows,
)
from qjgeo.indicators.targets import (
    AccessShareParams,
    Selection,
)
from qjgeo.measure import DISTANCE_ATOL_M, DISTANCE_RTOL, NotAvailableError, unit_names

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph


def _thresholds(
    dataset: Dataset,
    layer_id: str,
    urban: NDArray[np.bool_],
    urban_m: float | None,
    rural_m: float | None,
) -> NDArray[np.float64]:
    """Service distance per village: the urban or rural threshold by its 城乡分类."""
    if urban_m is None or rural_m is None:
        try:
            access = dataset.params.facility(layer_id)
        except KeyError as exc:
            raise NotAvailableError(
                f"not available: no service distance for {layer_id!r} "
                "(set urban_distance_m / rural_distance_m in the indicator's params)"
            ) from exc
        urban_m = access.urban_threshold_m if urban_m is None else urban_m
        rural_m = access.rural_threshold_m if rural_m is None else rural_m
    return np.where(urban, float(urban_m), float(rural_m))


def nearest_distances(
    dataset: Dataset,
    facilities: Selection,
    *,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> pd.DataFrame:
    """Walking distance from every village to its nearest selected facility (memoised).

    Parameters
    ----------
    dataset
        Holds the ``village`` layer and the facility layer.
    facilities
        Which facilities (layer and filter).
    graph
        Walking network; ``None`` = straight line × the dataset's detour factor.
    cache
        Memo shared across the metrics of one evaluation.

    Returns
    -------
    pandas.DataFrame
        :func:`qjgeo.access.nearest_facility` output, one row per village (layer order).
    """
    key = ("nearest", facilities.model_dump_json(), id(graph))
    if cache is not None and key in cache:
        return cast(pd.DataFrame, cache[key])
    from qjgeo.access import nearest_facility

    _require(dataset, "village", facilities.layer)
    villages = dataset.metric("village")
    fac = _selected(dataset, facilities, metric=True)
    out = nearest_facility(
        graph,
        villages,
        fac,
        facility_id_col="id" if "id" in fac.columns else None,
        detour_factor=dataset.params.detour_factor,
        snap_limit_m=dataset.params.snap_limit_m,
    )
    if cache is not None:
        cache[key] = out
    return out


def _within(distance: NDArray[np.float64], limit: NDArray[np.float64]) -> NDArray[np.bool_]:
    return np.asarray(distance <= limit * (1 + DISTANCE_RTOL) + DISTANCE_ATOL_M, dtype=bool)


def _methods(nearest: pd.DataFrame) -> str:
    found = sorted(
        {str(m) for m in nearest["method"].dropna().unique() if not str(m).startswith("unreach")}
    )
    return ", ".join(found) if found else "straight_line_x_detour"


def _villages_in_reach(
    dataset: Dataset,
    facilities: Selection,
    *,
    urban_distance_m: float | None,
    rural_distance_m: float | None,
    graph: WalkGraph | None,
    cache: MetricCache | None,
) -> tuple[NDArray[np.bool_], str]:
    """Which villages have a selected facility within their service distance (inclusive).

    Parameters
    ----------
    dataset
        Holds the ``village`` layer and the facility layer.
    facilities
        Which facilities.
    urban_distance_m, rural_distance_m
        Service distances; ``None`` = the dataset's planning parameters for the layer.
    graph, cache
        Walking network and memo (:func:`nearest_distances`).

    Returns
    -------
    tuple
        One flag per village (layer order) and the distance method used.
    """
    nearest = nearest_distances(dataset, facilities, graph=graph, cache=cache)
    limit = _thresholds(
        dataset,
        facilities.layer,
        dataset.layer("village")["urban"].to_numpy(dtype=bool),
        urban_distance_m,
        rural_distance_m,
    )
    return _within(nearest["distance_m"].to_numpy(dtype=float), limit), _methods(nearest)


def _access_layers(params: AccessShareParams) -> tuple[str, ...]:
    return ("village", params.facilities.layer)


def _age_bands(dataset: Dataset, params: AccessShareParams) -> tuple[str, ...]:
    """The age bands counted: the indicator's own, else the facility's planning parameters."""
    if params.age_bands is not None:
        return params.age_bands
    try:
        return tuple(dataset.params.facility(params.facilities.layer).age_bands)
    except KeyError as exc:
        raise NotAvailableError(
            f"not available: no age bands for {params.facilities.layer!r} (set age_bands)"
        ) from exc


@_guard(_access_layers)
def access_share(
    dataset: Dataset,
    *,
    params: AccessShareParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Children living within walking distance of the nearest facility.

    Children are counted at their village point (age bands and urban / rural service
    distances from the dataset's planning parameters unless overridden).

    Parameters
    ----------
    dataset
        The dataset (``village`` layer and the facility layer).
    params
        Facilities, the value reported (``share_within`` % or ``children_beyond``), and
        optional age bands / distances.
    per_township
        Also one row per township (a township without children gets NaN).
    graph
        Walking network; ``None`` = straight line × the detour factor (``method`` says so).
    cache
        Memo of nearest-facility distances shared across indicators.

    Returns
    -------
    MetricResult
        share_within: numerator = children reached, denominator = children, value in %;
        children_beyond: value = numerator = children beyond reach. Failing units = the
        villages beyond reach, most children first.
    """
    _require(dataset, "village", params.facilities.layer)
    villages = dataset.layer("village")
    bands = _age_bands(dataset, params)
    children = _population(villages, bands, "village")
    reached, method = _villages_in_reach(
        dataset,
        params.facilities,
        urban_distance_m=params.urban_distance_m,
        rural_distance_m=params.rural_distance_m,
        graph=graph,
        cache=cache,
    )
    codes = _codes(villages["township_code"])
    order = np.argsort(-children, kind="stable")
    failing = _failing(
        codes.to_numpy(dtype=object)[order],
        unit_names(villages).to_numpy(dtype=object)[order],
        (~reached & (children > 0))[order],
    )
    if params.value == "share_within":
        rows = _share_rows(
            dataset,
            per_township=per_township,
            township_codes=codes,
            weight=children,
            meets=reached,
            failing=failing,
            empty_note="not applicable: no children of this age here",
            method=method,
        )
    else:
        rows = _count_rows(
            dataset,
            per_township=per_township,
            township_codes=codes,
            counted=~reached,
            weight=children,
            failing=failing,
            method=method,
        )
    return MetricResult(
        rows=rows,
        layers_used=_access_layers(params),
        extra={"age_bands": tuple(bands)},
    )
