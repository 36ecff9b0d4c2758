"""The generic metric kinds every plan indicator is an instance of.

One function per kind, ``f(dataset, *, params, per_township=False, ...) -> MetricResult``:

=========================== =====================================================================
kind                        what it measures
=========================== =====================================================================
:func:`unit_coverage`       share (%) of townships / communities / villages with ≥ 1 facility
                            inside, named by code, or within the service distance
:func:`per_capita`          Σ a facility attribute per ``scale`` residents of some age bands
:func:`feature_count`       number of flagged features (bases, centres, demo towns)
:func:`attribute_share`     share (%) of features meeting a condition, optionally weighted
:func:`proximity_violations` features within a distance of others (internet cafés near schools)
:func:`access_share`        children within walking distance of the nearest facility
:func:`supply_demand_share` children aged 0–2 in villages whose 2SFCA childcare places per
                            1,000 children fall below the plan's ratio
:func:`unprotected_hazards` water hazards near children lacking a protection
=========================== =====================================================================

A :class:`MetricResult` holds one row for the district and, with ``per_township=True``, one
row per township: ``value = scale × numerator / denominator`` (counts: denominator 1,
scale 1), so a shortfall can be stated in the numerator's own units (places, towns,
children). A scope with nothing to measure (no rural villages, no residents) has value NaN
and a ``note`` saying why, never a fake 100 %.

Features are assigned to townships by their ``township_code`` attribute; "inside" coverage
of townships is a point-in-polygon test. Distances are inclusive (a facility exactly at the
threshold counts). A dataset lacking a layer or column gives a result with
``available=False`` and a reason, never an exception.

The kinds live in submodules by what they measure: :mod:`~qjgeo.indicators.metrics.coverage`
(unit coverage), :mod:`~qjgeo.indicators.metrics.access` (distances, access share),
:mod:`~qjgeo.indicators.metrics.capacity` (per capita, counts, shares) and
:mod:`~qjgeo.indicators.metrics.safety` (proximity violations, unprotected hazards) and
:mod:`~qjgeo.indicators.metrics.supply` (childcare supply–demand), on the
shared rows and helpers of :mod:`~qjgeo.indicators.metrics.base`. This module holds the
registry :data:`METRICS` and re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Callable

from qjgeo.indicators.metrics.access import access_share, nearest_distances
from qjgeo.indicators.metrics.base import (
    DEFAULT_DISTRICT_NAME,
    ROW_COLUMNS,
    MetricCache,
    MetricResult,
    condition_mask,
    district_name,
)
from qjgeo.indicators.metrics.capacity import attribute_share, feature_count, per_capita
from qjgeo.indicators.metrics.coverage import unit_coverage
from qjgeo.indicators.metrics.safety import proximity_violations, unprotected_hazards
from qjgeo.indicators.metrics.supply import supply_demand_share
from qjgeo.measure import DISTANCE_ATOL_M, DISTANCE_RTOL, NotAvailableError, unit_names

__all__ = [
    "DEFAULT_DISTRICT_NAME",
    "DISTANCE_ATOL_M",
    "DISTANCE_RTOL",
    "METRICS",
    "ROW_COLUMNS",
    "MetricCache",
    "MetricResult",
    "NotAvailableError",
    "access_share",
    "attribute_share",
    "condition_mask",
    "district_name",
    "feature_count",
    "nearest_distances",
    "per_capita",
    "proximity_violations",
    "supply_demand_share",
    "unit_coverage",
    "unit_names",
    "unprotected_hazards",
]

#: The function computing each metric kind.
METRICS: dict[str, Callable[..., MetricResult]] = {
    "unit_coverage": unit_coverage,
    "per_capita": per_capita,
    "feature_count": feature_count,
    "attribute_share": attribute_share,
    "proximity_violations": proximity_violations,
    "access_share": access_share,
    "supply_demand_share": supply_demand_share,
    "unprotected_hazards": unprotected_hazards,
}
