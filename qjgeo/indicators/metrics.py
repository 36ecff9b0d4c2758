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
from qjgeo.measure import DISTANCE_ATOL_M, DISTANCE_RTOL, NotAvailableError, unit_names

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph

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


def _failing(
    township_codes: pd.Series | NDArray[np.object_],
    names: pd.Series | NDArray[np.object_],
    mask: NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """The units missing a target: ``township_code`` and display ``name``, in display order.

    Parameters
    ----------
    township_codes, names
        One entry per unit, in the order the units are to be listed.
    mask
        Which of them miss the target (default: all).
    """
    codes = np.asarray(township_codes, dtype=object)
    labels = np.asarray(names, dtype=object)
    if mask is not None:
        codes, labels = codes[mask], labels[mask]
    return pd.DataFrame({"township_code": codes, "name": labels})


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
    is_count: bool = False,
) -> pd.DataFrame:
    """The district row and, with ``per_township``, one row per township (layer order).

    Parameters
    ----------
    dataset
        Gives the district's name and the townships.
    per_township
        Add the township rows.
    district
        ``(numerator, denominator)`` of the whole district.
    by_township
        Indexed by township code, columns ``numerator`` and ``denominator``. A township
        absent from it had nothing to measure: a count of 0, or a share of nothing (NaN).
    scale
        ``value = scale × numerator / denominator``.
    failing
        From :func:`_failing`; ``None`` when the metric kind lists no units.
    method
        The distance method, the same in every row.
    empty_note
        The note of a row whose value is NaN.
    is_count
        ``value = numerator`` (denominator 1) instead of the ratio.
    """
    no_units = np.array([], dtype=object)
    fail_codes = no_units if failing is None else failing["township_code"].to_numpy(dtype=object)
    fail_names = no_units if failing is None else failing["name"].to_numpy(dtype=object)
    rows: list[dict[str, Any]] = []

    def add_row(scope: str, name: str, num: float, den: float, units: list[str] | None) -> None:
        value = float(num) if is_count else _ratio(num, den, scale)
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
                "note": empty_note if math.isnan(value) else "",
            }
        )

    add_row(
        "district",
        district_name(dataset),
        *district,
        None if failing is None else [str(n) for n in fail_names],
    )
    if per_township:
        towns = _townships(dataset)
        for code, name in zip(towns["code9"], towns["name"], strict=True):
            if by_township is not None and code in by_township.index:
                num = float(cast(float, by_township.at[code, "numerator"]))
                den = float(cast(float, by_township.at[code, "denominator"]))
            else:
                num, den = 0.0, (1.0 if is_count else 0.0)
            units = None if failing is None else [str(n) for n in fail_names[fail_codes == code]]
            add_row(code, name, num, den, units)
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def _share_rows(
    dataset: Dataset,
    *,
    per_township: bool,
    township_codes: pd.Series,
    weight: NDArray[np.float64],
    meets: NDArray[np.bool_],
    failing: pd.DataFrame,
    empty_note: str,
    method: str = "",
) -> pd.DataFrame:
    """Rows of a share in percent: ``100 × Σ weight of the units meeting it / Σ weight``.

    Parameters
    ----------
    dataset
        Gives the district's name and the townships.
    per_township
        Add the township rows.
    township_codes
        Township of each unit.
    weight
        Weight of each unit: 1 (a unit counts once), its places or its children; 0 for a
        unit that does not count at all.
    meets
        Which units meet the condition.
    failing
        The units missing it (:func:`_failing`).
    empty_note
        The note of a scope without any weight (nothing to measure).
    method
        The distance method, if distances were measured.
    """
    by_township = pd.DataFrame(
        {
            "numerator": _group_sum(township_codes, np.where(meets, weight, 0.0)),
            "denominator": _group_sum(township_codes, weight),
        }
    )
    return _build_rows(
        dataset,
        per_township=per_township,
        district=(float(weight[meets].sum()), float(weight.sum())),
        by_township=by_township,
        scale=100.0,
        failing=failing,
        method=method,
        empty_note=empty_note,
    )


def _count_rows(
    dataset: Dataset,
    *,
    per_township: bool,
    township_codes: pd.Series,
    counted: NDArray[np.bool_],
    weight: NDArray[np.float64] | None = None,
    failing: pd.DataFrame | None = None,
    method: str = "",
) -> pd.DataFrame:
    """Rows of a count (denominator 1): the counted features, or Σ their ``weight``.

    Parameters
    ----------
    dataset
        Gives the district's name and the townships.
    per_township
        Add the township rows.
    township_codes
        Township of each feature ("" when unknown: counted for the district only).
    counted
        Which features are counted.
    weight
        What each counts for (e.g. its children); ``None`` = 1 each.
    failing
        The features to name (:func:`_failing`); ``None`` lists none.
    method
        The distance method, if distances were measured.
    """
    amount = np.ones(len(counted)) if weight is None else weight
    by_township = pd.DataFrame(
        {
            "numerator": _group_sum(township_codes, np.where(counted, amount, 0.0)),
            "denominator": 1.0,
        }
    )
    return _build_rows(
        dataset,
        per_township=per_township,
        district=(float(amount[counted].sum()), 1.0),
        by_township=by_township,
        scale=1.0,
        failing=failing,
        method=method,
        is_count=True,
    )


def _not_available(
    dataset: Dataset, reason: str, per_township: bool, layers: tuple[str, ...]
) -> MetricResult:
    """A result that measured nothing: every value NaN, every note the reason."""
    rows = _build_rows(
        dataset,
        per_township=per_township,
        district=(math.nan, math.nan),
        by_township=None,
        scale=1.0,
        empty_note=reason,
    )
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


def _township_code_column(layer_id: str) -> str:
    """The column naming a feature's township: a township's own ``code9``, else ``township_code``."""
    return "code9" if layer_id == "township" else "township_code"


# --------------------------------------------------------------------------------------
# Metric kinds


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
    rows = _count_rows(
        dataset,
        per_township=per_township,
        township_codes=codes,
        counted=np.ones(len(ranked), dtype=bool),
        failing=_failing(codes, ranked["name"].astype(str)),
        method="straight_line",
    )
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
