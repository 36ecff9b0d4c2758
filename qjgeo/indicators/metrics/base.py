"""What every metric kind shares: results, rows, feature selection, the "not available" guard.

:class:`MetricResult` and the district / township rows (:func:`_build_rows`,
:func:`_share_rows`, :func:`_count_rows`), selecting features by condition
(:func:`condition_mask`), administrative codes and names, and :func:`_guard`, which turns a
missing layer or column into a "not available" result.
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
from numpy.typing import NDArray

from qjgeo.indicators.targets import (
    Condition,
    Selection,
)
from qjgeo.measure import NotAvailableError

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset

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
    "failing_townships",
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
        (distance method or ``""``), ``note`` (why a value is NaN) and
        ``failing_townships`` (the township code of each failing unit, in the same order).
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
# Helpers shared by the metric kinds


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

    def add_row(
        scope: str, name: str, num: float, den: float, units: list[str] | None, codes: list[str]
    ) -> None:
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
                "failing_townships": codes if units is not None else [],
            }
        )

    add_row(
        "district",
        district_name(dataset),
        *district,
        None if failing is None else [str(n) for n in fail_names],
        [str(c) for c in fail_codes],
    )
    if per_township:
        towns = _townships(dataset)
        for code, name in zip(towns["code9"], towns["name"], strict=True):
            if by_township is not None and code in by_township.index:
                num = float(cast(float, by_township.at[code, "numerator"]))
                den = float(cast(float, by_township.at[code, "denominator"]))
            else:
                num, den = 0.0, (1.0 if is_count else 0.0)
            here = fail_codes == code
            units = None if failing is None else [str(n) for n in fail_names[here]]
            add_row(code, name, num, den, units, [str(code)] * int(here.sum()))
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
