"""Safety metrics: features too near schools, water hazards near children.

:func:`proximity_violations` (internet cafés near schools) and :func:`unprotected_hazards`
(water hazards near villages and schools lacking a protection, :mod:`qjgeo.hazards`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from qjgeo.indicators.metrics.access import (
    _within,
)
from qjgeo.indicators.metrics.base import (
    MetricCache,
    MetricResult,
    _codes,
    _count_rows,
    _failing,
    _guard,
    _require,
    _require_columns,
    _selected,
)
from qjgeo.indicators.targets import (
    ProximityViolationsParams,
    UnprotectedHazardsParams,
)

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph


def _proximity_layers(params: ProximityViolationsParams) -> tuple[str, ...]:
    return tuple(dict.fromkeys([params.features.layer, *(s.layer for s in params.near)]))


@_guard(_proximity_layers)
def proximity_violations(
    dataset: Dataset,
    *,
    params: ProximityViolationsParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Features within a straight-line distance of others (internet cafés near schools).

    Parameters
    ----------
    dataset
        The dataset.
    params
        The features checked, the layers they must keep away from, and the distance
        (inclusive: exactly ``distance_m`` away is a violation).
    per_township
        Also one row per township (by the checked feature's ``township_code``).
    graph, cache
        Unused: legal distances are straight lines.

    Returns
    -------
    MetricResult
        value = numerator = violating features; failing units = "name → school d m" (reads
        the same in Chinese and English).
    """
    del graph, cache
    feats = _selected(dataset, params.features, metric=True)
    near = [_selected(dataset, s, metric=True) for s in params.near]
    near_geoms = np.concatenate(
        [n.geometry.to_numpy() for n in near] or [np.array([], dtype=object)]
    )
    near_names = np.concatenate(
        [n["name"].astype(str).to_numpy(dtype=object) for n in near] or [np.array([], dtype=object)]
    )
    violating = np.zeros(len(feats), dtype=bool)
    labels = feats["name"].astype(str).to_numpy(dtype=object).copy()
    if len(near_geoms) and len(feats):
        tree = shapely.STRtree(near_geoms)
        idx, dist = tree.query_nearest(
            feats.geometry.to_numpy(), return_distance=True, all_matches=False
        )
        nearest_d = np.full(len(feats), np.inf)
        nearest_j = np.zeros(len(feats), dtype=int)
        nearest_d[idx[0]] = dist
        nearest_j[idx[0]] = idx[1]
        limit = np.full(len(feats), params.distance_m)
        violating = _within(nearest_d, limit)
        labels = np.array(
            [
                f"{n} → {near_names[j]} {d:.0f} m"
                for n, d, j in zip(labels, nearest_d, nearest_j, strict=True)
            ],
            dtype=object,
        )
    _require_columns(feats, params.features.layer, ["township_code"])
    codes = _codes(feats["township_code"])
    rows = _count_rows(
        dataset,
        per_township=per_township,
        township_codes=codes,
        counted=violating,
        failing=_failing(codes, labels, violating),
        method="straight_line",
    )
    return MetricResult(rows=rows, layers_used=_proximity_layers(params))


def _hazard_layers(params: UnprotectedHazardsParams) -> tuple[str, ...]:
    return ("water_hazard", *params.near_layers)


@_guard(_hazard_layers)
def unprotected_hazards(
    dataset: Dataset,
    *,
    params: UnprotectedHazardsParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Water hazards near villages / schools / kindergartens lacking a protection.

    Parameters
    ----------
    dataset
        The dataset (``water_hazard`` and the layers children are near).
    params
        Distance, the protections required and the layers that make a hazard "near
        children"; see :func:`qjgeo.hazards.rank_hazards`.
    per_township
        Also one row per township: every hazard near its villages, schools or
        kindergartens, or lying in it (a hazard spanning townships counts in each; the
        district counts it once).
    graph, cache
        Unused (straight-line distances).

    Returns
    -------
    MetricResult
        value = numerator = hazards to fix; failing units = their names, most children
        nearby first.
    """
    del graph, cache
    from qjgeo.hazards import rank_hazards

    # without villages nobody's children can be counted: "0 hazards" would be a false comfort
    _require(dataset, "water_hazard", "village")
    ranked = rank_hazards(
        dataset,
        distance_m=params.distance_m,
        protections=params.protections,
        near_layers=params.near_layers,
    )
    # a hazard counts in every township whose villages / schools it is near (北江 runs along
    # 樟市镇 and 白土镇): one entry per (hazard, township); the district counts it once
    spans = ranked[["name", "townships_nearby"]].explode("townships_nearby")
    spans = spans.loc[spans["townships_nearby"].notna()]
    codes = _codes(spans["townships_nearby"].astype(str))
    rows = _count_rows(
        dataset,
        per_township=per_township,
        township_codes=codes,
        counted=np.ones(len(spans), dtype=bool),
        failing=_failing(codes, spans["name"].astype(str)),
        method="straight_line",
    )
    own = _codes(ranked["township_code"])
    whole = (rows["scope"] == "district").to_numpy()
    rows.loc[whole, ["value", "numerator"]] = float(len(ranked))
    for column, values in (
        ("failing_units", ranked["name"].astype(str)),
        ("failing_townships", own),
    ):
        cells = rows[column].tolist()
        cells[int(whole.argmax())] = values.tolist()
        rows[column] = pd.Series(cells, index=rows.index, dtype=object)
    used = tuple(lid for lid in _hazard_layers(params) if dataset.has(lid))
    return MetricResult(rows=rows, layers_used=used)
