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
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from qjgeo.indicators.targets import (
    AccessShareParams,
    AttributeShareParams,
    Condition,
    FeatureCountParams,
    PerCapitaParams,
    ProximityViolationsParams,
    Selection,
    UnitCoverageParams,
    UnprotectedHazardsParams,
)

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph

#: Relative and absolute tolerance of "within distance" tests (threshold inclusive).
DISTANCE_RTOL = 1e-9
DISTANCE_ATOL_M = 1e-6

#: Name of the district scope when the dataset has no district layer.
DEFAULT_DISTRICT_NAME = "曲江区"

ROW_COLUMNS: tuple[str, ...] = (
    "scope",
    "scope_name",
    "value",
    "numerator",
    "denominator",
    "scale",
    "failing_units",
    "method",
    "note",
)


class NotAvailableError(LookupError):
    """The dataset lacks a layer or column an indicator needs (the message says which)."""


@dataclass(frozen=True)
class MetricResult:
    """What one metric measured: a district row and optionally one row per township.

    Attributes
    ----------
    rows
        Columns :data:`ROW_COLUMNS`: ``scope`` (``"district"`` or a 9-digit township code),
        ``scope_name``, ``value`` (= ``scale × numerator / denominator``), ``numerator``,
        ``denominator``, ``scale``, ``failing_units`` (list of names), ``method``
        (distance method or ``""``) and ``note`` (why a value is NaN).
    layers_used
        The layers the numbers rest on (for the data status).
    available
        ``False`` when a layer or column is missing; ``reason`` says which.
    """

    rows: pd.DataFrame
    layers_used: tuple[str, ...]
    available: bool = True
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def district(self) -> pd.Series:
        """The district row."""
        return self.rows.loc[self.rows["scope"] == "district"].iloc[0]

    def township(self, code9: str) -> pd.Series:
        """The row of one township (``KeyError`` if absent)."""
        hit = self.rows.loc[self.rows["scope"] == str(code9)]
        if hit.empty:
            raise KeyError(f"no row for township {code9!r}")
        return hit.iloc[0]


#: Memo shared by the metrics of one evaluation (nearest-facility results per layer).
MetricCache = dict[Hashable, Any]


# --------------------------------------------------------------------------------------
# Helpers


def _require(dataset: Dataset, *layer_ids: str) -> None:
    missing = [lid for lid in layer_ids if not dataset.has(lid)]
    if missing:
        raise NotAvailableError(
            f"not available: dataset {dataset.info.id!r} has no layer {', '.join(missing)}"
        )


def _require_columns(frame: pd.DataFrame, layer_id: str, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise NotAvailableError(f"not available: layer {layer_id!r} has no column {missing[0]!r}")


def condition_mask(
    frame: pd.DataFrame, conditions: Sequence[Condition], layer_id: str
) -> NDArray[np.bool_]:
    """Rows of ``frame`` meeting every condition (missing values never match).

    Parameters
    ----------
    frame
        The features.
    conditions
        Tests on columns; all must hold.
    layer_id
        Named in the error when a column is missing.

    Raises
    ------
    NotAvailableError
        If a condition names a column the layer lacks.
    """
    mask = np.ones(len(frame), dtype=bool)
    _require_columns(frame, layer_id, (c.column for c in conditions))
    for cond in conditions:
        col = frame[cond.column]
        values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
        if cond.op in ("in", "not_in"):
            hit = col.isin(list(values)).to_numpy(dtype=bool)
            if cond.op == "not_in":
                hit = ~hit & col.notna().to_numpy(dtype=bool)
        elif cond.op in ("==", "!="):
            # compare as text unless both sides are numbers / booleans
            target = cond.value
            if isinstance(target, str):
                eq = (col.astype("string") == target).fillna(False).to_numpy(dtype=bool)
            else:
                eq = (col == target).fillna(False).to_numpy(dtype=bool)
            hit = eq if cond.op == "==" else ~eq & col.notna().to_numpy(dtype=bool)
        else:
            num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            ref = float(cast(float, cond.value))
            with np.errstate(invalid="ignore"):
                hit = {
                    ">=": num >= ref,
                    ">": num > ref,
                    "<=": num <= ref,
                    "<": num < ref,
                }[cond.op]
            hit = hit & ~np.isnan(num)
        mask &= hit
    return mask


def _selected(dataset: Dataset, sel: Selection, metric: bool = False) -> gpd.GeoDataFrame:
    _require(dataset, sel.layer)
    frame = dataset.metric(sel.layer) if metric else dataset.layer(sel.layer)
    if not sel.where:
        return frame
    return frame.loc[condition_mask(frame, sel.where, sel.layer)]


def _codes(series: pd.Series) -> pd.Series:
    """Administrative codes as plain text (``440205001``), whatever the stored dtype."""
    if pd.api.types.is_float_dtype(series):
        values = np.array(
            ["" if np.isnan(v) else str(int(v)) for v in series.to_numpy(dtype=float)],
            dtype=object,
        )
    elif pd.api.types.is_integer_dtype(series):
        values = series.to_numpy().astype(str).astype(object)
    else:
        values = series.to_numpy(dtype=object, na_value="")
        values = np.array([str(v).strip() for v in values], dtype=object)
    return pd.Series(values, index=series.index, dtype=object)


#: Committee suffixes dropped from village names (群星村村民委员会 → 群星村).
_COMMITTEE_SUFFIX = r"(村民委员会|居民委员会|居委会|村委会)$"


def unit_names(frame: pd.DataFrame) -> pd.Series:
    """Short display names of features (village committee suffixes dropped)."""
    names = frame["name"].astype("string").fillna("")
    short = names.str.replace(_COMMITTEE_SUFFIX, "", regex=True)
    return short.where(short.str.len() > 0, names).astype(object)


def district_name(dataset: Dataset) -> str:
    """The district's name (from the district layer, else 曲江区)."""
    if dataset.has("district") and len(dataset.layer("district")):
        return str(dataset.layer("district")["name"].iloc[0])
    return DEFAULT_DISTRICT_NAME


def _townships(dataset: Dataset) -> pd.DataFrame:
    """Township codes and names in layer order (empty when the layer is missing)."""
    if not dataset.has("township"):
        return pd.DataFrame({"code9": pd.Series(dtype=object), "name": pd.Series(dtype=object)})
    t = dataset.layer("township")
    return pd.DataFrame(
        {"code9": _codes(t["code9"]).to_numpy(), "name": t["name"].astype(str).to_numpy()}
    )


def _ratio(num: float, den: float, scale: float) -> float:
    if not den or math.isnan(den):
        return math.nan
    return scale * num / den


def _build_rows(
    dataset: Dataset,
    *,
    per_township: bool,
    district: tuple[float, float],
    by_township: pd.DataFrame | None,
    scale: float,
    failing: pd.DataFrame | None = None,
    method: str = "",
    empty_note: str = "nothing to measure",
    ratio: bool = True,
) -> pd.DataFrame:
    """Assemble the district row and township rows.

    ``by_township`` is indexed by code9 with ``numerator``/``denominator`` columns;
    ``failing`` has ``township_code`` and ``name`` of failing units (in display order).
    """
    rows: list[dict[str, Any]] = []
    fail_codes = (
        failing["township_code"].to_numpy(dtype=object)
        if failing is not None
        else np.array([], dtype=object)
    )
    fail_names = (
        failing["name"].to_numpy(dtype=object)
        if failing is not None
        else np.array([], dtype=object)
    )

    def row(scope: str, name: str, num: float, den: float, units: list[str] | None) -> None:
        value = _ratio(num, den, scale) if ratio else float(num)
        note = "" if not math.isnan(value) else empty_note
        rows.append(
            {
                "scope": scope,
                "scope_name": name,
                "value": value,
                "numerator": float(num),
                "denominator": float(den),
                "scale": float(scale),
                "failing_units": units,
                "method": method,
                "note": note,
            }
        )

    d_num, d_den = district
    row(
        "district",
        district_name(dataset),
        d_num,
        d_den,
        [str(n) for n in fail_names] if failing is not None else None,
    )
    if per_township:
        towns = _townships(dataset)
        for code, name in zip(towns["code9"], towns["name"], strict=True):
            if by_township is not None and code in by_township.index:
                num = float(cast(float, by_township.at[code, "numerator"]))
                den = float(cast(float, by_township.at[code, "denominator"]))
            else:
                num, den = 0.0, (0.0 if ratio else 1.0)
            units = (
                [str(n) for n in fail_names[fail_codes == code]] if failing is not None else None
            )
            row(code, name, num, den, units)
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def _not_available(
    dataset: Dataset, reason: str, per_township: bool, layers: tuple[str, ...]
) -> MetricResult:
    rows = _build_rows(
        dataset,
        per_township=per_township,
        district=(math.nan, math.nan),
        by_township=None,
        scale=1.0,
        empty_note=reason,
    )
    rows["value"] = math.nan
    rows["note"] = reason
    return MetricResult(rows=rows, layers_used=layers, available=False, reason=reason)


P = ParamSpec("P")


def _guard(
    layers_of: Callable[[Any], tuple[str, ...]],
) -> Callable[[Callable[P, MetricResult]], Callable[P, MetricResult]]:
    """Turn a :class:`NotAvailableError` into a "not available" result."""

    def wrap(func: Callable[P, MetricResult]) -> Callable[P, MetricResult]:
        @functools.wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> MetricResult:
            try:
                return func(*args, **kwargs)
            except NotAvailableError as exc:
                dataset = cast("Dataset", args[0])
                return _not_available(
                    dataset,
                    str(exc),
                    bool(kwargs.get("per_township", False)),
                    layers_of(kwargs["params"]),
                )

        return inner

    return wrap


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


def _population(frame: pd.DataFrame, columns: Sequence[str], layer_id: str) -> NDArray[np.float64]:
    _require_columns(frame, layer_id, columns)
    total = np.zeros(len(frame), dtype=float)
    for col in columns:
        total += pd.to_numeric(frame[col], errors="coerce").fillna(0).to_numpy(dtype=float)
    return total


def _group_sum(codes: pd.Series, values: NDArray[np.float64]) -> pd.Series:
    """Sum ``values`` by code (a small Series indexed by the codes present)."""
    keys, inverse = np.unique(codes.to_numpy(dtype=object).astype(str), return_inverse=True)
    sums = np.bincount(inverse, weights=np.asarray(values, dtype=float), minlength=len(keys))
    return pd.Series(sums, index=pd.Index(keys.astype(object)))


# --------------------------------------------------------------------------------------
# Metric kinds


def _coverage_layers(params: UnitCoverageParams) -> tuple[str, ...]:
    return (params.units, params.facilities.layer)


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
    keep = condition_mask(units, params.unit_where, params.units)
    fac = _selected(dataset, params.facilities)
    method = ""
    if params.units == "township":
        codes = _codes(units["code9"])
        if params.match == "inside":
            tree = shapely.STRtree(units.geometry.to_numpy())
            pairs = tree.query(fac.geometry.to_numpy(), predicate="intersects")
            covered = np.zeros(len(units), dtype=bool)
            covered[np.unique(pairs[1])] = True
        elif params.match == "code":
            _require_columns(fac, params.facilities.layer, ["township_code"])
            covered = codes.isin(set(_codes(fac["township_code"]))).to_numpy(dtype=bool)
        else:
            raise NotAvailableError(
                f"not available: match {params.match!r} is not defined for township units "
                "(use inside or code)"
            )
        town_of_unit = codes
    else:
        codes = _codes(units["code12"])
        covered = np.zeros(len(units), dtype=bool)
        if params.match == "inside":
            raise NotAvailableError(
                "not available: villages are points; use match code, distance or code_or_distance"
            )
        if params.match in ("code", "code_or_distance"):
            if "village_code" in fac.columns:
                covered |= codes.isin(set(_codes(fac["village_code"]))).to_numpy(dtype=bool)
            elif params.match == "code":
                _require_columns(fac, params.facilities.layer, ["village_code"])
        if params.match in ("distance", "code_or_distance"):
            nearest = nearest_distances(dataset, params.facilities, graph=graph, cache=cache)
            limit = _thresholds(
                dataset,
                params.facilities.layer,
                units["urban"].to_numpy(dtype=bool),
                params.urban_distance_m,
                params.rural_distance_m,
            )
            covered |= _within(nearest["distance_m"].to_numpy(dtype=float), limit)
            method = _methods(nearest)
        town_of_unit = _codes(units["township_code"])
    names = unit_names(units)
    sel_town = town_of_unit[keep]
    sel_cov = covered[keep].astype(float)
    by_town = pd.DataFrame(
        {
            "numerator": _group_sum(sel_town, sel_cov),
            "denominator": _group_sum(sel_town, np.ones(len(sel_cov))),
        }
    )
    failing_mask = keep & ~covered
    failing = pd.DataFrame(
        {
            "township_code": town_of_unit[failing_mask].to_numpy(dtype=object),
            "name": names[failing_mask].to_numpy(dtype=object),
        }
    )
    rows = _build_rows(
        dataset,
        per_township=per_township and params.units == "village",
        district=(float(sel_cov.sum()), float(len(sel_cov))),
        by_township=by_town,
        scale=100.0,
        failing=failing,
        method=method,
        empty_note="not applicable: no units of this kind here",
    )
    return MetricResult(rows=rows, layers_used=_coverage_layers(params))


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
    total = 0.0
    parts: list[pd.Series] = []
    for src in params.sources:
        frame = _selected(dataset, src)
        total += len(frame)
        code_col = "code9" if src.layer == "township" else "township_code"
        if code_col in frame.columns:
            parts.append(_group_sum(_codes(frame[code_col]), np.ones(len(frame))))
    by_town = None
    if per_township:
        num = pd.concat(parts).groupby(level=0).sum() if parts else pd.Series(dtype=float)
        by_town = pd.DataFrame({"numerator": num, "denominator": 1.0})
    rows = _build_rows(
        dataset,
        per_township=per_township,
        district=(total, 1.0),
        by_township=by_town,
        scale=1.0,
        ratio=False,
    )
    rows["denominator"] = 1.0
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
    hit = condition_mask(frame, params.condition, params.layer) & base
    if params.weight is None:
        weight = base.astype(float)
    else:
        _require_columns(frame, params.layer, [params.weight])
        weight = pd.to_numeric(frame[params.weight], errors="coerce").fillna(0).to_numpy(float)
        weight = np.where(base, weight, 0.0)
    code_col = "code9" if params.layer == "township" else "township_code"
    _require_columns(frame, params.layer, [code_col])
    codes = _codes(frame[code_col])
    by_town = pd.DataFrame(
        {
            "numerator": _group_sum(codes, np.where(hit, weight, 0.0)),
            "denominator": _group_sum(codes, weight),
        }
    )
    fail_mask = base & ~hit
    failing = pd.DataFrame(
        {
            "township_code": codes[fail_mask].to_numpy(dtype=object),
            "name": unit_names(frame)[fail_mask].to_numpy(dtype=object),
        }
    )
    rows = _build_rows(
        dataset,
        per_township=per_township,
        district=(float(weight[hit].sum()), float(weight.sum())),
        by_township=by_town,
        scale=100.0,
        failing=failing,
        empty_note="not applicable: no features of this kind here",
    )
    return MetricResult(rows=rows, layers_used=_share_layers(params))


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
        value = numerator = violating features; failing units = "name (d m to school)".
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
                f"{n} ({d:.0f} m to {near_names[j]})"
                for n, d, j in zip(labels, nearest_d, nearest_j, strict=True)
            ],
            dtype=object,
        )
    _require_columns(feats, params.features.layer, ["township_code"])
    codes = _codes(feats["township_code"])
    by_town = pd.DataFrame(
        {"numerator": _group_sum(codes, violating.astype(float)), "denominator": 1.0}
    )
    failing = pd.DataFrame(
        {"township_code": codes[violating].to_numpy(dtype=object), "name": labels[violating]}
    )
    rows = _build_rows(
        dataset,
        per_township=per_township,
        district=(float(violating.sum()), 1.0),
        by_township=by_town,
        scale=1.0,
        failing=failing,
        ratio=False,
        method="straight_line",
    )
    rows["denominator"] = 1.0
    return MetricResult(rows=rows, layers_used=_proximity_layers(params))


def _access_layers(params: AccessShareParams) -> tuple[str, ...]:
    return ("village", params.facilities.layer)


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
    bands = params.age_bands
    if bands is None:
        try:
            bands = dataset.params.facility(params.facilities.layer).age_bands
        except KeyError as exc:
            raise NotAvailableError(
                f"not available: no age bands for {params.facilities.layer!r} (set age_bands)"
            ) from exc
    children = _population(villages, bands, "village")
    nearest = nearest_distances(dataset, params.facilities, graph=graph, cache=cache)
    limit = _thresholds(
        dataset,
        params.facilities.layer,
        villages["urban"].to_numpy(dtype=bool),
        params.urban_distance_m,
        params.rural_distance_m,
    )
    reached = _within(nearest["distance_m"].to_numpy(dtype=float), limit)
    codes = _codes(villages["township_code"])
    order = np.argsort(-children, kind="stable")
    fail_mask = (~reached & (children > 0))[order]
    names = unit_names(villages).to_numpy(dtype=object)[order]
    failing = pd.DataFrame(
        {
            "township_code": codes.to_numpy(dtype=object)[order][fail_mask],
            "name": names[fail_mask],
        }
    )
    if params.value == "share_within":
        by_town = pd.DataFrame(
            {
                "numerator": _group_sum(codes, np.where(reached, children, 0.0)),
                "denominator": _group_sum(codes, children),
            }
        )
        district = (float(children[reached].sum()), float(children.sum()))
        scale, ratio = 100.0, True
    else:
        by_town = pd.DataFrame(
            {"numerator": _group_sum(codes, np.where(reached, 0.0, children)), "denominator": 1.0}
        )
        district = (float(children[~reached].sum()), 1.0)
        scale, ratio = 1.0, False
    rows = _build_rows(
        dataset,
        per_township=per_township,
        district=district,
        by_township=by_town,
        scale=scale,
        failing=failing,
        method=_methods(nearest),
        empty_note="not applicable: no children of this age here",
        ratio=ratio,
    )
    if not ratio:
        rows["denominator"] = 1.0
    return MetricResult(
        rows=rows,
        layers_used=_access_layers(params),
        extra={"age_bands": tuple(bands)},
    )


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
        Also one row per township (by the hazard's ``township_code``).
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
    codes = _codes(ranked["township_code"])
    by_town = pd.DataFrame(
        {"numerator": _group_sum(codes, np.ones(len(ranked))), "denominator": 1.0}
    )
    failing = pd.DataFrame(
        {
            "township_code": codes.to_numpy(dtype=object),
            "name": ranked["name"].astype(str).to_numpy(dtype=object),
        }
    )
    rows = _build_rows(
        dataset,
        per_township=per_township,
        district=(float(len(ranked)), 1.0),
        by_township=by_town,
        scale=1.0,
        failing=failing,
        ratio=False,
        method="straight_line",
    )
    rows["denominator"] = 1.0
    used = tuple(lid for lid in _hazard_layers(params) if dataset.has(lid))
    return MetricResult(rows=rows, layers_used=used)


#: The function computing each metric kind.
METRICS: dict[str, Callable[..., MetricResult]] = {
    "unit_coverage": unit_coverage,
    "per_capita": per_capita,
    "feature_count": feature_count,
    "attribute_share": attribute_share,
    "proximity_violations": proximity_violations,
    "access_share": access_share,
    "unprotected_hazards": unprotected_hazards,
}
