"""Texts shared by every exporter: titles, data status, attribution, scenario and method lines.

These are plain strings (no drawing): the static maps, the brief, the HTML map and the Excel
report all print the same lines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pandas as pd

from qjgeo.catalog import Dataset

#: Chinese names of provenance levels for the data-status line.
_STATUS_ZH = {"sample": "示例数据", "estimated": "估算"}

#: Data statuses from the weakest to the strongest (as :meth:`qjgeo.catalog.Dataset.data_status`).
STATUS_ORDER: tuple[str, ...] = ("sample", "estimated", "osm", "user", "official")


def _strip_brackets(text: str) -> str:
    return re.sub(r"[（(].*?[）)]", "", text).strip()


def facility_titles(dataset: Dataset, facility_type: str) -> tuple[str, str]:
    """Short Chinese and English names of a facility layer (``('托育机构', 'childcare')``)."""
    if not dataset.has(facility_type):
        return facility_type, facility_type.replace("_", " ")
    spec = dataset.spec(facility_type)
    return _strip_brackets(spec.title_zh), _strip_brackets(spec.title_en)


def district_name(dataset: Dataset) -> tuple[str, str]:
    """The district's Chinese and English names (falls back to the dataset title)."""
    if dataset.has("district") and len(dataset.layer("district")):
        row = dataset.layer("district").iloc[0]
        zh = str(row.get("name", "") or dataset.info.title_zh)
        en = str(row.get("name_en", "") or dataset.info.title_en)
        return zh, en
    return dataset.info.title_zh, dataset.info.title_en


def map_layers(facility_type: str) -> tuple[str, ...]:
    """The layer ids a gap map of ``facility_type`` rests on."""
    return ("district", "township", "village", facility_type)


def data_status_texts(dataset: Dataset, layer_ids: Sequence[str]) -> tuple[str, str]:
    """The data-status line in Chinese and in English, naming the layers on weak data.

    Parameters
    ----------
    dataset
        The dataset the map or table was made from.
    layer_ids
        The layers the output uses (missing ones are ignored).

    Returns
    -------
    tuple of str
        E.g. ``("数据状态：托育机构为示例数据；镇（街道）、村（社区）为估算", "Data status:
        childcare = sample; townships, villages = estimated")``, or lines saying all layers
        are official / given data.
    """
    weak = dataset.weak_layers([i for i in layer_ids if dataset.has(i)])
    groups: dict[str, list[str]] = {"sample": [], "estimated": []}
    for layer_id, found in weak.items():
        level = "sample" if "sample" in found else "estimated"
        groups[level].append(layer_id)
    osm = [i for i in layer_ids if dataset.has(i) and "osm" in dataset.provenance_of(i)]
    if not any(groups.values()):
        if osm:
            return (
                "数据状态：含 OpenStreetMap 数据（非官方统计）",
                "Data status: includes OpenStreetMap data (not official statistics)",
            )
        return (
            "数据状态：所用图层均为官方或用户提供数据",
            "Data status: all layers official or user-supplied",
        )
    zh_parts, en_parts = [], []
    for level, ids in groups.items():
        if not ids:
            continue
        zh_names = "、".join(_strip_brackets(dataset.spec(i).title_zh) for i in ids)
        en_names = ", ".join(_strip_brackets(dataset.spec(i).title_en).lower() for i in ids)
        zh_parts.append(f"{zh_names}为{_STATUS_ZH[level]}")
        en_parts.append(f"{en_names} = {level}")
    return f"数据状态：{'；'.join(zh_parts)}", f"Data status: {'; '.join(en_parts)}"


def data_status_line(dataset: Dataset, layer_ids: Sequence[str]) -> str:
    """One line naming the layers that rest on sample or estimated data (zh / en).

    Parameters
    ----------
    dataset
        The dataset the map or table was made from.
    layer_ids
        The layers the output uses (missing ones are ignored).

    Returns
    -------
    str
        E.g. ``"数据状态：托育机构为示例数据；镇（街道）、村（社区）为估算 / Data status:
        childcare = sample; townships, villages = estimated"``, or a line saying all
        layers are official / given data.
    """
    zh, en = data_status_texts(dataset, layer_ids)
    return f"{zh} / {en}"


def weakest_status(statuses: Iterable[str]) -> str:
    """The weakest of several data statuses, in the order of :data:`STATUS_ORDER`.

    A status not in that order counts as ``"official"``; no status at all gives
    ``"official"``.
    """
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    official = rank["official"]
    return min((str(s) for s in statuses), key=lambda s: rank.get(s, official), default="official")


def township_data_status(
    indicators: pd.DataFrame, codes: Iterable[str], *, default: str
) -> pd.Series:
    """The weakest data status of each township's plan indicators.

    Parameters
    ----------
    indicators
        The frame of :func:`qjgeo.indicators.evaluate` (rows with a 9-digit ``scope``).
    codes
        The townships' 9-digit codes, in the order wanted.
    default
        Status of a township without indicator rows (e.g. that of the township layer).

    Returns
    -------
    pandas.Series
        One status per code, indexed by code.
    """
    index = pd.Index([str(c) for c in codes], name="code9")
    rows = indicators[indicators["scope"].astype(str) != "district"]
    if rows.empty or "data_status" not in rows.columns:
        return pd.Series(default, index=index, name="data_status", dtype=object)
    status = rows.groupby(rows["scope"].astype(str))["data_status"].agg(weakest_status)
    return status.reindex(index).fillna(default).rename("data_status")


def uses_osm(dataset: Dataset, layer_ids: Sequence[str]) -> bool:
    """Whether any of the layers holds OpenStreetMap data (provenance ``osm`` or source)."""
    for layer_id in layer_ids:
        if not dataset.has(layer_id):
            continue
        spec = dataset.spec(layer_id)
        if "osm" in dataset.provenance_of(layer_id) or "openstreetmap" in spec.source.lower():
            return True
    return False


def attribution_line(dataset: Dataset, layer_ids: Sequence[str]) -> str:
    """Source and licence attribution for an output (ODbL notice when OSM data is used).

    Parameters
    ----------
    dataset
        The dataset the output was made from.
    layer_ids
        The layers the output uses.

    Returns
    -------
    str
        E.g. ``"来源 Sources: 天地图; NBS; ...; 托育机构 childcare: CC0 (sample data)"``.
    """
    parts: list[str] = []
    if dataset.info.attribution:
        parts.append(dataset.info.attribution)
    for layer_id in layer_ids:
        if dataset.has(layer_id) and dataset.spec(layer_id).kind != "admin":
            spec = dataset.spec(layer_id)
            parts.append(f"{_strip_brackets(spec.title_zh)}: {spec.licence}")
    if uses_osm(dataset, layer_ids):
        parts.append("© OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)")
    return "来源 Sources: " + "; ".join(dict.fromkeys(parts))


def scenario_line(dataset: Dataset, date: dt.date | None = None) -> str:
    """Scenario name and the date the output was made."""
    name = dataset.scenario_name or "基线 baseline"
    day = (date or dt.date.today()).isoformat()
    return f"情景 Scenario: {name}  ·  制图日期 Date: {day}"


#: How each travel mode is named in map titles and method lines (Chinese, English).
MODE_WORDS: Final[dict[str, tuple[str, str]]] = {
    "walk": ("步行", "walking"),
    "bike": ("骑行（电动自行车）", "e-bike"),
    "drive": ("驾车", "driving"),
}


def mode_words(gaps: Any) -> tuple[str, str]:
    """The travel mode of a gap result in Chinese and English (walking when unsaid)."""
    params = getattr(gaps, "params_used", None) or {}
    return MODE_WORDS.get(str(params.get("mode", "walk")), MODE_WORDS["walk"])


def method_line(dataset: Dataset, facility_type: str, gaps: Any) -> str:
    """Mode, distances and times, and method: urban / rural thresholds in metres and minutes,
    network or straight line × detour."""
    params = getattr(gaps, "params_used", None) or {}
    try:
        access = dataset.params.facility(facility_type)
        urban_m = float(params.get("urban_threshold_m", access.urban_threshold_m))
        rural_m = float(params.get("rural_threshold_m", access.rural_threshold_m))
    except KeyError:
        urban_m = rural_m = float("nan")
    detour = float(params.get("detour_factor", dataset.params.detour_factor))
    mode_zh, mode_en = mode_words(gaps)
    speed = float(params.get("speed_kmh", dataset.params.travel("walk").speed_kmh))
    urban_min, rural_min = urban_m / speed * 0.06, rural_m / speed * 0.06
    methods = _methods(gaps)
    if methods and all("network" in m for m in methods):
        how_zh, how_en = f"{mode_zh}路网距离", f"{mode_en}-network distance"
    elif any("network" in m for m in methods):
        how_zh = f"{mode_zh}路网，部分为直线×{detour:g}"
        how_en = f"{mode_en} network, some straight line × {detour:g}"
    else:
        how_zh = f"直线距离×绕行系数{detour:g}（未载入路网）"
        how_en = f"straight line × {detour:g} detour (no network)"
    age = getattr(gaps, "age_label", "") if getattr(gaps, "has_demand", True) else ""
    zh_age = f"儿童 {age} 岁；" if age else ""
    en_age = f"children aged {age}; " if age else ""
    return (
        f"{zh_age}{mode_zh}距离 城镇 {urban_m:,.0f} m、农村 {rural_m:,.0f} m"
        f"（{urban_min:,.0f}、{rural_min:,.0f} 分钟，{speed:g} 公里/小时）；{how_zh} / "
        f"{en_age}{mode_en} distance urban {urban_m:,.0f} m, rural {rural_m:,.0f} m "
        f"({urban_min:,.0f} min, {rural_min:,.0f} min at {speed:g} km/h); {how_en}"
    )


def _methods(gaps: Any) -> list[str]:
    villages = getattr(gaps, "villages", None)
    if villages is not None and "method" in villages.columns and len(villages):
        return [str(m) for m in villages["method"].dropna().unique()]
    method = getattr(gaps, "method", None)
    return [str(method)] if method else []


#: What a gap map without villages says where the township table would be.
NO_DEMAND_LINES: Final[tuple[str, ...]] = (
    "无村（社区）图层：未统计儿童，",
    "只显示到最近设施的步行距离。",
    "No village layer: children are not counted;",
    "the map shows walking distance only.",
)

#: Data statuses that put a warning badge on a map or brief (user data needs none).
BADGE_STATUSES: Final[tuple[str, ...]] = ("sample", "estimated", "osm")


def gap_subtitle(district_en: str, facility_en: str, gaps: Any) -> str:
    """The English subtitle of a gap map (saying when children could not be counted)."""
    if not getattr(gaps, "has_demand", True):
        return (
            f"{district_en}: walking distance to the nearest {facility_en.lower()} "
            "(no village layer: children not counted)"
        )
    mode_en = mode_words(gaps)[1]
    return f"{district_en}: {mode_en}-access gaps to {facility_en.lower()} (children aged {gaps.age_label})"


def status_badge_lines(status: str) -> list[str]:
    """The warning printed on outputs resting on sample, estimated or OpenStreetMap data."""
    if status == "sample":
        return ["示例/估算数据 — 非正式成果", "Sample/estimated data — not an official result"]
    if status == "osm":
        return ["OpenStreetMap 数据 — 非官方统计", "OpenStreetMap data — not official statistics"]
    return ["含估算数据", "Includes estimated data"]


def crs_date_line(dataset: Dataset, layer_ids: Sequence[str], crs_label: str) -> str:
    """The map's coordinate system and the date each layer's data stands for.

    E.g. ``"坐标系 CRS: CGCS2000 / … (EPSG:4547), 经纬度为 CGCS2000 · 数据时点 Data as of:
    区界 2020-11-01；镇（街道）、村（社区） 2023-06-30；托育机构 2026-11-28"``.
    """
    by_date: dict[str, list[str]] = {}
    for layer_id in layer_ids:
        if not dataset.has(layer_id):
            continue
        spec = dataset.spec(layer_id)
        as_of = str(getattr(spec, "as_of", "") or "—")
        by_date.setdefault(as_of, []).append(_strip_brackets(spec.title_zh))
    dates = "；".join(f"{'、'.join(names)} {day}" for day, names in by_date.items())
    return (
        f"坐标系 CRS: {crs_label}，经纬度注记为 CGCS2000 / degree labels CGCS2000  ·  "
        f"数据时点 Data as of: {dates or '—'}"
    )
