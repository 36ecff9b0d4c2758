"""Unit coverage: share of townships / communities / villages with a facility.

:func:`unit_coverage` matches units and facilities inside a polygon, by code or by distance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from qjgeo.indicators.metrics.access import (
    _villages_in_reach,
)
from qjgeo.indicators.metrics.base import (
    MetricCache,
    MetricResult,
    _codes,
    _failing,
    _guard,
    _require,
    _require_columns,
    _selected,
    _share_rows,
    _township_code_column,
    condition_mask,
)
from qjgeo.indicators.targets import (
    UnitCoverageParams,
)
from qjgeo.measure import NotAvailableError, unit_names

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph


def _coverage_layers(params: UnitCoverageParams) -> tuple[str, ...]:
    return (params.units, params.facilities.layer)


def _townships_covered(
    dataset: Dataset, params: UnitCoverageParams, facilities: gpd.GeoDataFrame
) -> NDArray[np.bool_]:
    """Which townships hold a facility (point in polygon) or are named by one (code)."""
    towns = dataset.layer("township")
    if params.match == "inside":
        tree = shapely.STRtree(towns.geometry.to_numpy())
        pairs = tree.query(facilities.geometry.to_numpy(), predicate="intersects")
        covered = np.zeros(len(towns), dtype=bool)
        covered[np.unique(pairs[1])] = True
        return covered
    if params.match == "code":
        _require_columns(facilities, params.facilities.layer, ["township_code"])
        named = set(_codes(facilities["township_code"]))
        return _codes(towns["code9"]).isin(named).to_numpy(dtype=bool)
    raise NotAvailableError(
        f"not available: match {params.match!r} is not defined for township units "
        "(use inside or code)"
    )


def _villages_covered(
    dataset: Dataset,
    params: UnitCoverageParams,
    facilities: gpd.GeoDataFrame,
    graph: WalkGraph | None,
    cache: MetricCache | None,
) -> tuple[NDArray[np.bool_], str]:
    """Which villages are named by a facility's ``village_code`` or have one within reach.

    Returns the flags (layer order) and the distance method (``""`` when none was measured).
    """
    if params.match == "inside":
        raise NotAvailableError(
            "not available: villages are points; use match code, distance or code_or_distance"
        )
    villages = dataset.layer("village")
    covered = np.zeros(len(villages), dtype=bool)
    method = ""
    if params.match in ("code", "code_or_distance"):
        if "village_code" in facilities.columns:
            named = set(_codes(facilities["village_code"]))
            covered |= _codes(villages["code12"]).isin(named).to_numpy(dtype=bool)
        elif params.match == "code":
            _require_columns(facilities, params.facilities.layer, ["village_code"])
    if params.match in ("distance", "code_or_distance"):
        in_reach, method = _villages_in_reach(
            dataset,
            params.facilities,
            urban_distance_m=params.urban_distance_m,
            rural_distance_m=params.rural_distance_m,
            graph=graph,
            cache=cache,
        )
        covered |= in_reach
    return covered, method


@_guard(_coverage_layers)
def unit_coverage(
    dataset: Dataset,
    *,
    params: UnitCoverageParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Share (%) of townships / communities / villages with at least one facility.

    Parameters
    ----------
    dataset
        The dataset.
    params
        Units, facilities and how a facility covers a unit (``inside`` the township
        polygon, named by ``code``, within the service ``distance``, or either).
    per_township
        Also one row per township (village units only; a township with no units of the
        kind gets NaN and a note).
    graph, cache
        Walking network and memo for distance matches.

    Returns
    -------
    MetricResult
        numerator = covered units, denominator = units, value in %; failing units = the
        uncovered units' names.
    """
    _require(dataset, params.units, params.facilities.layer)
    units = dataset.layer(params.units)
    counts = condition_mask(units, params.unit_where, params.units)
    facilities = _selected(dataset, params.facilities)
    if params.units == "township":
        covered, method = _townships_covered(dataset, params, facilities), ""
    else:
        covered, method = _villages_covered(dataset, params, facilities, graph, cache)
    codes = _codes(units[_township_code_column(params.units)])
    rows = _share_rows(
        dataset,
        per_township=per_township and params.units == "village",
        township_codes=codes,
        weight=counts.astype(float),
        meets=covered & counts,
        failing=_failing(codes, unit_names(units), counts & ~covered),
        empty_note="not applicable: no units of this kind here",
        method=method,
    )
    return MetricResult(rows=rows, layers_used=_coverage_layers(params))
