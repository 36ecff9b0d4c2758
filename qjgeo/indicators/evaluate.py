"""Which targets do we meet, where, and by how much do we miss: :func:`evaluate`.

One row per indicator and scope (the district, and each township where the indicator is
per-township) with the value, the target, whether it is met and the shortfall in the
planner's units ("3 more townships need a children's science venue: 罗坑镇, …",
"412 more childcare places").

Shortfall columns
-----------------
``shortfall``
    The English planner text (``shortfall_en``), unit names in Chinese as in the data.
``shortfall_zh`` / ``shortfall_en``
    The same in Chinese and English. Empty when met; ``"not applicable: …"`` when there is
    nothing to measure in that scope (a township without rural villages); ``"not
    available: …"`` when the dataset lacks a layer.
``shortfall_n``
    The amount missing in the numerator's units (places, townships, children), ``0`` when
    met, NaN when not applicable.

Two-number targets are two indicators sharing ``plan_id`` (``paediatric_capacity`` doctors
and ``paediatric_beds_per_1000``; ``family_edu_centres`` district and
``family_edu_centres_town``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from qjgeo.indicators.metrics import METRICS, MetricCache, MetricResult
from qjgeo.indicators.targets import (
    AnyIndicator,
    TargetsFile,
    apply_overrides,
    attributes_read,
    load_targets,
)

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph

#: Columns of :func:`evaluate`'s result, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "id",
    "plan_id",
    "part",
    "section",
    "title_zh",
    "title_en",
    "kind",
    "scope",
    "scope_name",
    "value",
    "unit",
    "op",
    "target",
    "met",
    "shortfall",
    "shortfall_zh",
    "shortfall_en",
    "shortfall_n",
    "failing_units",
    "n_failing",
    "numerator",
    "denominator",
    "data_status",
    "weak_layers",
    "layers_used",
    "method",
    "note",
    "scenario",
    "failing_townships",
)

#: How many failing units a shortfall text names before "…".
UNITS_SHOWN = 5


def compare(value: float, op: str, target: float) -> bool | None:
    """Whether ``value <op> target`` holds (``None`` when value is NaN)."""
    if value is None or math.isnan(value):
        return None
    eps = 1e-9 * max(1.0, abs(target))
    if op == ">=":
        return value >= target - eps
    if op == ">":
        return value > target + eps
    if op == "<=":
        return value <= target + eps
    if op == "<":
        return value < target - eps
    return abs(value - target) <= eps


def shortfall_amount(
    numerator: float, denominator: float, scale: float, op: str, target: float
) -> float:
    """How much the numerator must change to meet the target, in its own units (≥ 0).

    ``value = scale × numerator / denominator``; the result is rounded up to a whole unit
    (a place, a township, a child), e.g. 6 places per 1,000 of 290,455 residents with
    1,331 places → ``ceil(6 × 290.455 − 1331) = 412``.
    """
    needed = target * denominator / scale
    eps = 1e-9 * max(1.0, abs(needed))
    if op in (">=", ">"):
        gap = needed - numerator
        if op == ">=":
            return float(max(0, math.ceil(gap - eps)))
        return float(max(0, math.floor(gap + eps) + 1))
    if op in ("<=", "<"):
        gap = numerator - needed
        if op == "<=":
            return float(max(0, math.ceil(gap - eps)))
        return float(max(0, math.floor(gap + eps) + 1))
    return float(math.ceil(abs(numerator - needed) - eps))


def _units_text(units: list[str] | None, lang: str, choose: int | None = None) -> str:
    """The failing units after a shortfall text.

    ``choose``: when the shortfall counts units and fewer than all of the listed ones must
    change, say so ("any 1 of these 2: …") instead of implying every one must.
    """
    if not units:
        return ""
    shown = units[:UNITS_SHOWN]
    more = len(units) - len(shown)
    if lang == "zh":
        tail = f"等{len(units)}个" if more else ""
        if choose is not None:
            return f"（可从以下{len(units)}个中任选{choose}个：" + "、".join(shown) + tail + "）"
        return "：" + "、".join(shown) + tail
    tail = f", … (+{more} more)" if more else ""
    if choose is not None:
        return f" (any {choose} of these {len(units)}: " + ", ".join(shown) + tail + ")"
    return ": " + ", ".join(shown) + tail


def _shortfall_texts(
    ind: AnyIndicator, row: dict[Hashable, Any], met: bool | None, amount: float, available: bool
) -> tuple[str, str]:
    if not available:
        reason = str(row["note"])
        layer_hint = reason.split("no layer ")[-1] if "no layer " in reason else ""
        zh = f"无法计算：数据集缺少图层 {layer_hint}" if layer_hint else f"无法计算：{reason}"
        return zh, reason
    if met is None:
        note = str(row["note"]) or "not applicable"
        return "不适用：该范围内无可计算对象", note
    if met:
        return "", ""
    n = f"{int(amount):,}" if math.isfinite(amount) else "?"
    units = row["failing_units"] if isinstance(row["failing_units"], list) else None
    # unit coverage counts the units themselves: "1 more township" may leave a choice
    choose = (
        int(amount)
        if ind.kind == "unit_coverage" and units and math.isfinite(amount) and amount < len(units)
        else None
    )
    zh_units, en_units = _units_text(units, "zh", choose), _units_text(units, "en", choose)
    if ind.shortfall is not None:
        zh = ind.shortfall.zh.format(n=n, units=zh_units)
        en = ind.shortfall.english(amount).format(n=n, units=en_units)
    elif ind.target.op in (">=", ">"):  # n is in the numerator's units, not the indicator's unit
        zh, en = f"距达标还差{n}{zh_units}", f"{n} more needed to meet the target{en_units}"
    else:
        zh, en = f"还需减少{n}方可达标{zh_units}", f"{n} fewer needed to meet the target{en_units}"
    return zh, en


def _indicator_rows(
    dataset: Dataset, ind: AnyIndicator, result: MetricResult
) -> list[dict[str, Any]]:
    layers = tuple(lid for lid in dict.fromkeys(result.layers_used) if dataset.has(lid))
    if result.available:  # the layers *and* the attributes read (an invented flag says sample)
        attributes = attributes_read(ind)
        status = dataset.data_status(layers, attributes)
        weak = sorted(dataset.weak_layers(layers, attributes))
    else:
        status, weak = "not available", []
    rows: list[dict[str, Any]] = []
    for row in result.rows.to_dict(orient="records"):
        value = float(row["value"])
        met = compare(value, ind.target.op, ind.target.value) if result.available else None
        if met is None:
            amount = math.nan
        elif met:
            amount = 0.0
        else:
            amount = shortfall_amount(
                float(row["numerator"]),
                float(row["denominator"]),
                float(row["scale"]),
                ind.target.op,
                ind.target.value,
            )
        zh, en = _shortfall_texts(ind, row, met, amount, result.available)
        units = row["failing_units"]
        rows.append(
            {
                "id": ind.id,
                "plan_id": ind.plan_id or ind.id,
                "part": ind.part,
                "section": ind.section,
                "title_zh": ind.title_zh,
                "title_en": ind.title_en,
                "kind": ind.kind,
                "scope": row["scope"],
                "scope_name": row["scope_name"],
                "value": value,
                "unit": ind.unit,
                "op": ind.target.op,
                "target": ind.target.value,
                "met": met,
                "shortfall": en,
                "shortfall_zh": zh,
                "shortfall_en": en,
                "shortfall_n": amount,
                "failing_units": list(units) if isinstance(units, list) else [],
                "n_failing": len(units) if isinstance(units, list) else 0,
                "numerator": float(row["numerator"]),
                "denominator": float(row["denominator"]),
                "data_status": status,
                "weak_layers": weak,
                "layers_used": list(layers),
                "method": row["method"],
                "note": row["note"],
                "scenario": dataset.scenario_name,
                "failing_townships": list(row["failing_townships"])
                if isinstance(units, list)
                else [],
            }
        )
    # district row of a per-township indicator without unit list: name failing townships
    if ind.per_township and rows and rows[0]["scope"] == "district" and result.available:
        kind_lists_units = ind.kind in ("per_capita", "feature_count")
        if kind_lists_units:
            rows[0]["failing_units"] = [r["scope_name"] for r in rows[1:] if r["met"] is False]
            rows[0]["failing_townships"] = [r["scope"] for r in rows[1:] if r["met"] is False]
            rows[0]["n_failing"] = len(rows[0]["failing_units"])
    return rows


def resolve_targets(dataset: Dataset, targets: TargetsFile | str | Path | None) -> TargetsFile:
    """The targets to evaluate: a file / object / the bundled one, with the dataset's overrides.

    Parameters
    ----------
    dataset
        Its ``params.target_overrides`` are applied over the targets.
    targets
        A :class:`TargetsFile`, a path to a targets YAML, or ``None`` for the bundled file.

    Raises
    ------
    TargetsError
        For a bad file or override (names file, indicator and key).
    """
    base = targets if isinstance(targets, TargetsFile) else load_targets(targets)
    return apply_overrides(base, dataset.params.target_overrides)


def evaluate(
    dataset: Dataset,
    targets: TargetsFile | str | Path | None = None,
    *,
    graph: WalkGraph | None = None,
    indicators: list[str] | None = None,
) -> pd.DataFrame:
    """Evaluate every plan indicator: value, target, met, shortfall, per district and township.

    Parameters
    ----------
    dataset
        The dataset (bundled, imported, or already scenario-applied: apply a scenario
        first with ``qjgeo.scenario.apply``, or use ``qjgeo.scenario.evaluate``).
    targets
        Targets file (object or path); ``None`` = the bundled ``targets.yaml``. The
        dataset's ``params.target_overrides`` are applied over it.
    graph
        Walking network for the access-based indicators; ``None`` = straight line × the
        detour factor (the ``method`` column says which).
    indicators
        Only these indicator ids (default: all).

    Returns
    -------
    pandas.DataFrame
        One row per indicator and scope, columns :data:`RESULT_COLUMNS`. ``scope`` is
        ``"district"`` or a township's 9-digit code; ``met`` is ``None`` where nothing can
        be measured; ``data_status`` says whether the number rests on estimated or sample
        data (``weak_layers`` names those layers).

    Raises
    ------
    TargetsError
        If the targets file or an override is invalid.
    KeyError
        If ``indicators`` names an unknown id.
    """
    resolved = resolve_targets(dataset, targets)
    chosen = (
        resolved.indicators if indicators is None else tuple(resolved.get(i) for i in indicators)
    )
    cache: MetricCache = {}
    rows: list[dict[str, Any]] = []
    for ind in chosen:
        result = METRICS[ind.kind](
            dataset, params=ind.params, per_township=ind.per_township, graph=graph, cache=cache
        )
        rows.extend(_indicator_rows(dataset, ind, result))
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    frame["met"] = frame["met"].astype(object)
    frame.attrs["demand_source"] = dataset.demand_source()  # the children counted rest on it
    return frame


def township_view(frame: pd.DataFrame, code9: str) -> pd.DataFrame:
    """One township's indicators: its own rows and every district row that names it failing.

    A district-scope indicator (a share of townships with a centre, of health centres with
    their doctors …) has no township row, yet its failing units may be this township or lie
    in it. Those district rows are kept, their failing units narrowed to the township's, and
    the shortfall says which of them are here: "罗坑镇卫生院" fails the child-doctor minimum
    and shows up in 罗坑镇's view.

    Parameters
    ----------
    frame
        The :func:`evaluate` result.
    code9
        The township's 9-digit code.

    Returns
    -------
    pandas.DataFrame
        The township's own rows (``scope == code9``) first, then the district rows that
        name it (``scope == "district"``, value and target of the district), same columns.
    """
    code = str(code9)
    own = frame.loc[frame["scope"].astype(str) == code]
    with_rows = set(own["id"])
    picked = []
    for _, row in frame.loc[frame["scope"].astype(str) == "district"].iterrows():
        towns = row.get("failing_townships")
        if row["id"] in with_rows or not isinstance(towns, list) or code not in towns:
            continue
        names = row["failing_units"] if isinstance(row["failing_units"], list) else []
        here = [str(n) for n, t in zip(names, towns, strict=False) if str(t) == code]
        row = row.copy()
        row["failing_units"], row["failing_townships"] = here, [code] * len(here)
        row["n_failing"] = len(here)
        row["shortfall_zh"] = f"{row['shortfall_zh']}（本镇（街道）：{'、'.join(here)}）"
        row["shortfall_en"] = f"{row['shortfall_en']} (in this township: {', '.join(here)})"
        row["shortfall"] = row["shortfall_en"]
        picked.append(row)
    extra = pd.DataFrame(picked, columns=frame.columns)
    out = pd.concat([own, extra], ignore_index=True) if picked else own.reset_index(drop=True)
    out["met"] = out["met"].astype(object)
    return out
