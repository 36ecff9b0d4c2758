"""Capacity, count and share metrics: :func:`per_capita`, :func:`feature_count`, :func:`attribute_share`.

Places, doctors or beds per residents, flagged features, and the share of features meeting
a condition.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qjgeo.indicators.metrics.base import (
    MetricCache,
    MetricResult,
    _build_rows,
    _codes,
    _count_rows,
    _failing,
    _group_sum,
    _guard,
    _population,
    _require,
    _require_columns,
    _selected,
    _share_rows,
    _township_code_column,
    condition_mask,
)
from qjgeo.indicators.targets import (
    AttributeShareParams,
    FeatureCountParams,
    PerCapitaParams,
)
from qjgeo.measure import NotAvailableError, unit_names

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph


def _per_capita_layers(params: PerCapitaParams) -> tuple[str, ...]:
    return (*dict.fromkeys(s.layer for s in params.sources), "district", "township")


@_guard(_per_capita_layers)
def per_capita(
    dataset: Dataset,
    *,
    params: PerCapitaParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Σ a facility attribute (places, doctors, beds) per ``scale`` residents.

    Parameters
    ----------
    dataset
        The dataset; residents from the district layer (else the sum of townships) and,
        per township, the township layer.
    params
        Sources (layer, column, filter), population columns and scale (1000 = per
        thousand, 100 = percent).
    per_township
        Also one row per township (features assigned by ``township_code``).
    graph, cache
        Unused (uniform signature).

    Returns
    -------
    MetricResult
        numerator = Σ attribute, denominator = residents; NaN when nobody lives there.
    """
    del graph, cache
    used: list[str] = []
    parts: list[pd.Series] = []
    unknown: list[str] = []  # features whose value is missing: counted as 0 (a lower bound)
    total = 0.0
    for src in params.sources:
        if not dataset.has(src.layer):
            if src.optional:
                continue
            _require(dataset, src.layer)
        frame = _selected(dataset, src)
        used.append(src.layer)
        if src.column is None:
            values = np.ones(len(frame))
        elif src.column not in frame.columns:
            if src.optional:
                continue
            _require_columns(frame, src.layer, [src.column])
            values = np.zeros(0)
        else:
            numeric = pd.to_numeric(frame[src.column], errors="coerce")
            missing = int(numeric.isna().sum())
            if missing:
                unknown.append(f"{missing} of {len(frame)} {src.layer} without {src.column}")
            values = numeric.fillna(0).to_numpy(float)
        total += float(values.sum())
        if "township_code" in frame.columns:
            parts.append(_group_sum(_codes(frame["township_code"]), values))
    towns = dataset.layer("township") if dataset.has("township") else None
    if dataset.has("district") and len(dataset.layer("district")):
        den = float(_population(dataset.layer("district"), params.population, "district").sum())
        used.append("district")
    elif towns is not None:
        den = float(_population(towns, params.population, "township").sum())
        used.append("township")
    else:
        _require(dataset, "district")
        den = math.nan
    by_town = None
    if per_township and towns is not None:
        pop = _group_sum(_codes(towns["code9"]), _population(towns, params.population, "township"))
        num = pd.concat(parts).groupby(level=0).sum() if parts else pd.Series(dtype=float)
        by_town = pd.DataFrame({"denominator": pop})
        by_town["numerator"] = num.reindex(by_town.index).fillna(0.0)
        used.append("township")
    rows = _build_rows(
        dataset,
        per_township=per_township and towns is not None,
        district=(total, den),
        by_township=by_town,
        scale=params.scale,
        empty_note="not applicable: no residents of this age",
    )
    if unknown:
        lower_bound = "lower bound: " + "; ".join(unknown) + " (counted as 0)"
        rows["note"] = [f"{n}; {lower_bound}" if n else lower_bound for n in rows["note"]]
    return MetricResult(rows=rows, layers_used=tuple(dict.fromkeys(used)))


def _count_layers(params: FeatureCountParams) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.layer for s in params.sources))


@_guard(_count_layers)
def feature_count(
    dataset: Dataset,
    *,
    params: FeatureCountParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Number of features meeting a condition, over one or more layers.

    Parameters
    ----------
    dataset
        The dataset.
    params
        Sources: layer and filter each (e.g. science venues flagged ``youth_science_base``).
    per_township
        Also one row per township (by ``township_code``; townships by ``code9``).
    graph, cache
        Unused (uniform signature).

    Returns
    -------
    MetricResult
        value = numerator = the count (denominator 1).
    """
    del graph, cache
    codes: list[pd.Series] = []
    for src in params.sources:
        frame = _selected(dataset, src)
        column = _township_code_column(src.layer)
        if column in frame.columns:
            codes.append(_codes(frame[column]))
        else:  # counted for the district only
            codes.append(pd.Series("", index=frame.index, dtype=object))
    township_codes = pd.concat(codes, ignore_index=True)
    rows = _count_rows(
        dataset,
        per_township=per_township,
        township_codes=township_codes,
        counted=np.ones(len(township_codes), dtype=bool),
    )
    return MetricResult(rows=rows, layers_used=_count_layers(params))


def _share_layers(params: AttributeShareParams) -> tuple[str, ...]:
    return (params.layer,)


@_guard(_share_layers)
def attribute_share(
    dataset: Dataset,
    *,
    params: AttributeShareParams,
    per_township: bool = False,
    graph: WalkGraph | None = None,
    cache: MetricCache | None = None,
) -> MetricResult:
    """Share (%) of features meeting a condition (parks with a play area, fenced hazards).

    Parameters
    ----------
    dataset
        The dataset.
    params
        Layer, which features count at all (``base_where``), the condition, and an
        optional weight column (kindergarten ``places``).
    per_township
        Also one row per township (by ``township_code``).
    graph, cache
        Unused (uniform signature).

    Returns
    -------
    MetricResult
        numerator = Σ weight meeting the condition, denominator = Σ weight; failing units =
        names of the features not meeting it.
    """
    del graph, cache
    _require(dataset, params.layer)
    frame = dataset.layer(params.layer)
    base = condition_mask(frame, params.base_where, params.layer)
    meets = condition_mask(frame, params.condition, params.layer) & base
    unknown = np.zeros(len(frame), dtype=bool)
    for cond in params.condition:  # an empty value is unknown (e.g. tap_water of OSM units)
        unknown |= frame[cond.column].isna().to_numpy(dtype=bool)
    if base.any() and (unknown | ~base).all():
        columns = ", ".join(c.column for c in params.condition)
        raise NotAvailableError(
            f"not available: {columns} unknown (empty) for every feature of {params.layer!r}"
        )
    base = base & ~unknown
    if params.weight is None:
        weight = base.astype(float)
    else:
        _require_columns(frame, params.layer, [params.weight])
        weight = pd.to_numeric(frame[params.weight], errors="coerce").fillna(0).to_numpy(float)
        weight = np.where(base, weight, 0.0)
    code_column = _township_code_column(params.layer)
    _require_columns(frame, params.layer, [code_column])
    codes = _codes(frame[code_column])
    rows = _share_rows(
        dataset,
        per_township=per_township,
        township_codes=codes,
        weight=weight,
        meets=meets,
        failing=_failing(codes, unit_names(frame), base & ~meets),
        empty_note="not applicable: no features of this kind here",
    )
    return MetricResult(rows=rows, layers_used=_share_layers(params))
