"""Static gap maps (PNG at 300 dpi, PDF on A4 / A3) drawn with matplotlib.

A gap map shows, for one facility type, which villages lie beyond the planning walking
distance: the district outline, township boundaries with their Chinese names, villages coloured
by distance band, the facilities, and (when available) a hexagon surface of distance bands. Every
map carries a title (Chinese first, English subtitle), a legend, a scale bar, a north arrow,
the scenario name and date, the distances and method used, a data-status line naming the
layers that rest on estimated or sample data, and source / licence attribution (ODbL when any
layer comes from OpenStreetMap).

The map is drawn in the metric CRS (EPSG:4547, CGCS2000 Gauss-Krüger CM 114°E), so axis units
are metres and the scale bar is exact (grid north differs from true north by < 0.2° here).
No web basemap is needed; ``basemap=True`` adds one only when the optional ``contextily``
package and a network connection are available.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch, Polygon, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from qjgeo.catalog import Dataset
from qjgeo.crs import METRIC_CRS
from qjgeo.export.fonts import cjk_font_family, pdf_rc

Paper = Literal["A4", "A3"]
Orientation = Literal["landscape", "portrait"]

#: Paper sizes in inches, landscape (width, height).
PAPER_IN: dict[str, tuple[float, float]] = {"A4": (11.69, 8.27), "A3": (16.54, 11.69)}

#: Colours for distance bands, nearest first (green → red); unreachable is grey.
BAND_COLOURS: tuple[str, ...] = ("#1a9850", "#a6d96a", "#fee08b", "#fc8d59", "#d73027", "#a50026")
UNREACHABLE_COLOUR = "#8c8c8c"
FACILITY_COLOUR = "#1f3a93"

#: Chinese names of provenance levels for the data-status line.
_STATUS_ZH = {"sample": "示例数据", "estimated": "估算"}

#: Data statuses from the weakest to the strongest (as :meth:`qjgeo.catalog.Dataset.data_status`).
STATUS_ORDER: tuple[str, ...] = ("sample", "estimated", "osm", "user", "official")


class ExportError(ValueError):
    """An export cannot be produced; the message says why (missing layer, bad option)."""


# --------------------------------------------------------------------------------------
# Texts shared by every exporter


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


def method_line(dataset: Dataset, facility_type: str, gaps: Any) -> str:
    """Distances and method used: urban / rural thresholds, network or straight line × detour."""
    params = getattr(gaps, "params_used", None) or {}
    try:
        access = dataset.params.facility(facility_type)
        urban_m = float(params.get("urban_threshold_m", access.urban_threshold_m))
        rural_m = float(params.get("rural_threshold_m", access.rural_threshold_m))
    except KeyError:
        urban_m = rural_m = float("nan")
    detour = float(params.get("detour_factor", dataset.params.detour_factor))
    methods = _methods(gaps)
    if methods and all("network" in m for m in methods):
        how_zh, how_en = "步行路网距离", "walking-network distance"
    elif any("network" in m for m in methods):
        how_zh = f"步行路网，部分为直线×{detour:g}"
        how_en = f"walking network, some straight line × {detour:g}"
    else:
        how_zh = f"直线距离×绕行系数{detour:g}（未载入路网）"
        how_en = f"straight line × {detour:g} detour (no network)"
    age = getattr(gaps, "age_label", "") if getattr(gaps, "has_demand", True) else ""
    zh_age = f"儿童 {age} 岁；" if age else ""
    en_age = f"children aged {age}; " if age else ""
    return (
        f"{zh_age}步行距离 城镇 {urban_m:,.0f} m、农村 {rural_m:,.0f} m；{how_zh} / "
        f"{en_age}walking distance urban {urban_m:,.0f} m, rural {rural_m:,.0f} m; {how_en}"
    )


def _methods(gaps: Any) -> list[str]:
    villages = getattr(gaps, "villages", None)
    if villages is not None and "method" in villages.columns and len(villages):
        return [str(m) for m in villages["method"].dropna().unique()]
    method = getattr(gaps, "method", None)
    return [str(method)] if method else []


# --------------------------------------------------------------------------------------
# Distance bands


def band_order(frame: pd.DataFrame) -> list[str]:
    """Distance bands of a frame, nearest first (categorical order when the column has one).

    Bands are ordered by the ``band_order`` column when present (:mod:`qjgeo.gaps`), else by
    their mean ``distance_m / threshold_m`` (or ``distance_m``) when the
    column is plain text; bands whose distances are all infinite (unreachable) come last.
    """
    column = frame["distance_band"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories]
    bands = [str(b) for b in pd.unique(column.dropna())]
    if "band_order" in frame.columns:
        rank = frame.groupby(column.astype(str).to_numpy())["band_order"].min()
        return sorted(bands, key=lambda b: (float(rank.get(b, np.inf)), b))
    if "distance_m" not in frame.columns:
        return sorted(bands)
    dist = frame["distance_m"].to_numpy(dtype=float)
    if "threshold_m" in frame.columns:
        dist = dist / frame["threshold_m"].to_numpy(dtype=float)
    key = pd.Series(np.where(np.isfinite(dist), dist, np.inf)).groupby(
        column.astype(str).to_numpy()
    )
    finite_mean = key.apply(
        lambda s: float(s[np.isfinite(s)].mean()) if np.isfinite(s).any() else np.inf
    )
    return sorted(bands, key=lambda b: (float(finite_mean.get(b, np.inf)), b))


def band_colours(bands: Sequence[str], unreachable: Sequence[str] = ()) -> dict[str, str]:
    """Colours for ordered bands: green for the nearest, red for the farthest, grey unreachable."""
    reach = [b for b in bands if b not in set(unreachable)]
    n = len(reach)
    if n <= 1:
        picks = [BAND_COLOURS[0]] * n
    else:
        cmap = matplotlib.colormaps["RdYlGn_r"]
        picks = [matplotlib.colors.to_hex(cmap(v)) for v in np.linspace(0.05, 0.95, n)]
    colours = dict(zip(reach, picks, strict=True))
    colours.update({b: UNREACHABLE_COLOUR for b in bands if b in set(unreachable)})
    return colours


def _unreachable_bands(frames: Sequence[pd.DataFrame]) -> list[str]:
    out: list[str] = []
    for frame in frames:
        if "distance_m" not in frame.columns or not len(frame):
            continue
        finite = pd.Series(np.isfinite(frame["distance_m"].to_numpy(dtype=float)))
        any_finite = finite.groupby(frame["distance_band"].astype(str).to_numpy()).any()
        out.extend(str(b) for b, ok in any_finite.items() if not ok)
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------------
# Map furniture


def nice_length_m(span_m: float, fraction: float = 0.25) -> float:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ m) no longer than ``fraction`` of ``span_m``."""
    if not span_m > 0 or not math.isfinite(span_m):
        raise ValueError(f"span_m must be a positive finite number of metres, got {span_m!r}")
    target = span_m * fraction
    exp = math.floor(math.log10(target))
    for step in (5, 2, 1):
        length = step * 10.0**exp
        if length <= target:
            return length
    return 10.0**exp


@dataclass(frozen=True)
class ScaleBar:
    """Where a scale bar was drawn, in map units (metres), and what its label says."""

    x0_m: float
    y_m: float
    length_m: float
    label: str


def draw_scale_bar(
    ax: Axes, *, family: str, fraction: float = 0.25, fontsize: float = 7
) -> ScaleBar:
    """Draw a two-segment scale bar in the lower-left corner of a metric-CRS map.

    The axes' data units must be metres (EPSG:4547 here), so the bar is exactly as long as
    its label says.

    Returns
    -------
    ScaleBar
        The bar's start, length (metres) and label, for checking.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length_m(x1 - x0, fraction)
    bx = x0 + 0.04 * (x1 - x0)
    by = y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    half = length / 2
    ax.add_patch(
        Rectangle((bx, by), half, h, facecolor="black", edgecolor="black", lw=0.6, zorder=20)
    )
    ax.add_patch(
        Rectangle((bx + half, by), half, h, facecolor="white", edgecolor="black", lw=0.6, zorder=20)
    )
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    km = length >= 1000
    unit = "km" if km else "m"

    def fmt(v: float) -> str:
        return f"{v / 1000:g}" if km else f"{v:g}"

    for pos, value in ((0.0, 0.0), (half, half), (length, length)):
        text = fmt(value) + (f" {unit}" if pos == length else "")
        ax.text(
            bx + pos,
            by + h * 1.6,
            text,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            fontfamily=family,
            zorder=21,
            path_effects=halo,
        )
    label = f"{fmt(length)} {unit}"
    return ScaleBar(x0_m=bx, y_m=by, length_m=length, label=label)


def draw_north_arrow(ax: Axes, *, family: str, size: float = 0.07) -> None:
    """Draw a north arrow (grid north ≈ true north here) in the upper-right of the map."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w = x1 - x0
    hgt = y1 - y0
    cx = x1 - 0.06 * w
    top = y1 - 0.04 * hgt
    length = size * hgt
    half_w = 0.35 * length
    base = top - length
    ax.add_patch(
        Polygon(
            [(cx, top), (cx - half_w, base), (cx, base + 0.3 * length)],
            closed=True,
            facecolor="black",
            edgecolor="black",
            lw=0.6,
            zorder=20,
        )
    )
    ax.add_patch(
        Polygon(
            [(cx, top), (cx + half_w, base), (cx, base + 0.3 * length)],
            closed=True,
            facecolor="white",
            edgecolor="black",
            lw=0.6,
            zorder=20,
        )
    )
    ax.text(
        cx,
        base - 0.01 * hgt,
        "N 北",
        ha="center",
        va="top",
        fontsize=8,
        fontweight="bold",
        fontfamily=family,
        zorder=21,
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
    )


# --------------------------------------------------------------------------------------
# The map itself


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ExportError("a layer has no CRS; cannot place it on the map")
    return frame.to_crs(METRIC_CRS)


def draw_gap_axes(
    ax: Axes,
    dataset: Dataset,
    facility_type: str,
    gaps: Any,
    *,
    family: str,
    surface: gpd.GeoDataFrame | None = None,
    township: str | None = None,
    label_size: float = 9.0,
    marker_scale: float = 1.0,
) -> dict[str, Any]:
    """Draw the gap map contents on metric-CRS axes and return legend handles.

    Parameters
    ----------
    ax
        Empty matplotlib axes.
    dataset
        The dataset (district, township and facility layers are read from it).
    facility_type
        The facility layer id, e.g. ``"childcare"``.
    gaps
        A :class:`qjgeo.gaps.GapResult` (``villages`` and ``townships`` frames).
    family
        The CJK font family (from :func:`~qjgeo.export.fonts.cjk_font_family`).
    surface
        Optional gap hexagons (WGS84, with ``distance_band``) drawn under the villages.
    township
        A 9-digit township code to zoom the map to (its neighbours stay faint).
    label_size
        Font size of township names, points.
    marker_scale
        Multiplies the marker sizes (smaller maps use < 1).

    Returns
    -------
    dict
        ``{"handles": [...], "labels": [...]}`` for a legend, and ``"bands"``.
    """
    villages = _metric(gaps.villages)
    frames = [villages] + ([surface] if surface is not None and len(surface) else [])
    cols = ["distance_band", "band_order", "distance_m", "threshold_m"]
    both = pd.concat(
        [pd.DataFrame(f)[[c for c in cols if c in f.columns]] for f in frames], ignore_index=True
    )
    bands: list[str] = band_order(both) if len(both) else []
    colours = band_colours(bands, _unreachable_bands(frames))
    handles: list[Any] = []
    labels: list[str] = []

    focus = None
    if dataset.has("township"):
        townships = _metric(dataset.layer("township"))
        if township is not None:
            focus = townships[townships["code9"].astype(str) == str(township)]
            if focus.empty:
                raise ExportError(f"no township with code {township!r} in the dataset")
    if dataset.has("district"):
        district = _metric(dataset.layer("district"))
        ax.add_collection(_lines(district, color="#222222", linewidth=1.4, zorder=6))
        handles.append(Line2D([], [], color="#222222", lw=1.4))
        labels.append("区界 District boundary")
    if surface is not None and len(surface):
        hexes = _metric(surface)
        fill = hexes["distance_band"].astype(str).map(colours).fillna(UNREACHABLE_COLOUR)
        alpha = 0.22 if len(villages) else 0.55  # alone, the surface is the map's message
        ax.add_collection(_polygons(hexes, fill.to_list(), alpha=alpha, linewidth=0, zorder=2))
        if len(villages):
            handles.append(Patch(facecolor="#fc8d59", alpha=alpha, edgecolor="none"))
            labels.append("缺口面（六边形）Gap surface (hexagons)")
        else:  # no villages: the hexagons carry the distance bands
            fzh, _ = facility_titles(dataset, facility_type)
            handles.append(Line2D([], [], ls="", marker=""))
            labels.append(f"到最近{fzh}的距离 / distance to nearest")
            for band in bands:
                handles.append(Patch(facecolor=colours[band], alpha=alpha, edgecolor="none"))
                labels.append(f"    {band}")
    if dataset.has("township"):
        townships = _metric(dataset.layer("township"))
        ax.add_collection(
            _lines(townships, color="#555555", linewidth=0.7, linestyle="--", zorder=5)
        )
        handles.append(Line2D([], [], color="#555555", lw=0.7, ls="--"))
        labels.append("镇街界（估算）Township boundary (est.)")
        if focus is not None:
            ax.add_collection(
                _polygons(focus, ["#fff7bc"] * len(focus), alpha=0.45, linewidth=0, zorder=1)
            )
            ax.add_collection(_lines(focus, color="#b35806", linewidth=1.8, zorder=6))
            handles.append(Patch(facecolor="#fff7bc", edgecolor="#b35806", lw=1.5))
            labels.append("本镇街 This township")
    if len(villages):
        colour = villages["distance_band"].astype(str).map(colours).fillna(UNREACHABLE_COLOUR)
        size = 22 * marker_scale
        xy = np.column_stack([villages.geometry.x, villages.geometry.y])
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=size,
            c=colour.to_list(),
            edgecolors="#333333",
            linewidths=0.4,
            zorder=8,
        )
        fzh, _ = facility_titles(dataset, facility_type)
        handles.append(Line2D([], [], ls="", marker=""))
        labels.append(f"村（社区）到最近{fzh}的距离 / village: distance to nearest")
        for band in bands:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    markersize=5.5,
                    markerfacecolor=colours[band],
                    markeredgecolor="#333333",
                    markeredgewidth=0.4,
                )
            )
            labels.append(f"    {band}")
    if dataset.has(facility_type) and len(dataset.layer(facility_type)):
        fac = _metric(dataset.layer(facility_type))
        pts = fac.geometry.representative_point()
        ax.scatter(
            pts.x,
            pts.y,
            marker="^",
            s=30 * marker_scale,
            c=FACILITY_COLOUR,
            edgecolors="white",
            linewidths=0.5,
            zorder=9,
        )
        zh, en = facility_titles(dataset, facility_type)
        handles.append(
            Line2D(
                [],
                [],
                marker="^",
                ls="",
                markersize=6.5,
                markerfacecolor=FACILITY_COLOUR,
                markeredgecolor="white",
            )
        )
        labels.append(f"{zh} {en}")

    # Extent: the district (or the township in focus) with a margin.
    if focus is not None:
        extent = focus.total_bounds
    elif dataset.has("district"):
        extent = _metric(dataset.layer("district")).total_bounds
    else:
        extent = villages.total_bounds
    _set_extent(ax, extent)

    if dataset.has("township"):
        townships = _metric(dataset.layer("township"))
        anchors = townships.geometry.representative_point()
        halo = [patheffects.withStroke(linewidth=3, foreground="white")]
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        order = np.argsort(townships.area.to_numpy())  # small townships keep their spot
        texts: list[Text] = []
        for i in order:
            pt = anchors.iloc[i]
            if not (x0 <= pt.x <= x1 and y0 <= pt.y <= y1):
                continue
            code = townships["code9"].iloc[i]
            strong = focus is None or str(code) == str(township)
            texts.append(
                ax.text(
                    pt.x,
                    pt.y,
                    str(townships["name"].iloc[i]),
                    ha="center",
                    va="center",
                    fontsize=label_size,
                    fontfamily=family,
                    fontweight="bold" if strong else "normal",
                    color="#111111" if strong else "#777777",
                    zorder=12,
                    path_effects=halo,
                    clip_on=True,
                )
            )
        declutter_labels(ax, texts)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
    return {"handles": handles, "labels": labels, "bands": bands, "colours": colours}


def declutter_labels(ax: Axes, texts: Sequence[Text]) -> int:
    """Nudge labels that overlap an earlier one to the nearest free spot; return moves made.

    Labels are placed in the given order; each later label that overlaps one already placed
    is tried below, above, left and right of its anchor (one and two label heights away).
    """
    fig = ax.figure
    if not texts:
        return 0
    renderer = _renderer(fig)
    placed: list[Bbox] = []
    moves = 0
    to_data = ax.transData.inverted()
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.08, 1.15)
        if not any(box.overlaps(other) for other in placed):
            placed.append(box)
            continue
        w, h = box.width, box.height
        x_disp, y_disp = ax.transData.transform(text.get_position())
        for dx, dy in (
            (0, -h),
            (0, h),
            (-0.6 * w, 0),
            (0.6 * w, 0),
            (0, -2 * h),
            (0, 2 * h),
            (-w, -h),
            (w, -h),
            (-w, h),
            (w, h),
        ):
            trial = box.translated(dx, dy)
            if not any(trial.overlaps(other) for other in placed):
                text.set_position(tuple(to_data.transform((x_disp + dx, y_disp + dy))))
                placed.append(trial)
                moves += 1
                break
        else:
            placed.append(box)
    return moves


def _lines(frame: gpd.GeoDataFrame, **style: Any) -> LineCollection:
    """Polygon outlines (or lines) of a frame as one matplotlib collection."""
    geoms = frame.geometry.array
    boundary = shapely.boundary(geoms)
    lines = shapely.get_parts(
        np.where(np.isin(shapely.get_type_id(geoms), (3, 6)), boundary, geoms)  # polygon → rings
    )
    lines = shapely.get_parts(lines)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    return LineCollection(np.split(coords, splits), **style)


def _polygons(frame: gpd.GeoDataFrame, colours: Sequence[str], **style: Any) -> PolyCollection:
    """Polygon exteriors of a frame as one filled collection (holes ignored; hexagons have none)."""
    parts, which = shapely.get_parts(frame.geometry.array, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    coords, index = shapely.get_coordinates(rings, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    face = [colours[i] for i in which]
    return PolyCollection(np.split(coords, splits), facecolors=face, **style)


def _set_extent(ax: Axes, bounds: Sequence[float], margin: float = 0.04) -> None:
    """Fit the bounds into the axes box with equal x/y scale (metres stay square)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    w = max(maxx - minx, 1.0)
    h = max(maxy - miny, 1.0)
    minx, maxx = minx - margin * w, maxx + margin * w
    miny, maxy = miny - margin * h, maxy + margin * h
    bbox = ax.get_position(original=True)
    fig_w, fig_h = ax.get_figure(root=True).get_size_inches()  # type: ignore[union-attr]
    box_ratio = (bbox.height * fig_h) / (bbox.width * fig_w)
    data_ratio = (maxy - miny) / (maxx - minx)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    if data_ratio > box_ratio:
        half_w = (maxy - miny) / box_ratio / 2
        minx, maxx = cx - half_w, cx + half_w
    else:
        half_h = (maxx - minx) * box_ratio / 2
        miny, maxy = cy - half_h, cy + half_h
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal", adjustable="box")


def check_facility_type(
    dataset: Dataset, facility_type: str, *, need_villages: bool = True
) -> None:
    """Refuse a facility type the dataset lacks or has no walking distance for (and a
    dataset without villages when ``need_villages``)."""
    if not dataset.has(facility_type):
        raise ExportError(
            f"dataset {dataset.info.id!r} has no layer {facility_type!r}: not available "
            f"(has: {', '.join(dataset.layer_ids)})"
        )
    try:
        dataset.params.facility(facility_type)
    except KeyError as exc:
        raise ExportError(str(exc.args[0])) from None
    if need_villages and not dataset.has("village"):
        raise ExportError(
            f"dataset {dataset.info.id!r} has no village layer: children beyond reach cannot be "
            f"counted, so there is no gap map or report to export; the distance surface alone is "
            f"on the app's Gaps page, or `qjgeo gaps --type {facility_type} --surface FILE.gpkg`"
        )


def prepare_gap_results(
    dataset: Dataset,
    facility_type: str,
    *,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    graph: Any = None,
) -> tuple[Any, gpd.GeoDataFrame | None]:
    """The gaps and gap hexagons a map or data export shows, computed when not given.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    gaps
        A precomputed :class:`qjgeo.gaps.GapResult`; computed when ``None``.
    surface
        Precomputed gap hexagons; computed with :func:`qjgeo.gaps.gap_surface` when ``None``;
        left out when ``False``.
    graph
        Walking network for what is computed (straight line × detour factor when ``None``).

    Returns
    -------
    tuple
        The :class:`qjgeo.gaps.GapResult` and the hexagons (``None`` when left out).

    Raises
    ------
    ExportError
        If the facility layer is missing (:func:`check_facility_type`). A dataset without
        villages gets the surface alone (always computed) and
        :func:`qjgeo.gaps.surface_only_result`.
    """
    check_facility_type(dataset, facility_type, need_villages=False)
    from qjgeo.gaps import gap_surface

    if not dataset.has("village"):
        # no demand (an OSM import): the distance surface over the outline, no children
        from qjgeo.gaps import outline_cell_size, surface_only_result

        if surface is None or surface is False:
            surface = gap_surface(
                dataset, facility_type, graph=graph, cell_size_m=outline_cell_size(dataset)
            )
        if gaps is None:
            gaps = surface_only_result(dataset, facility_type, surface)
        return gaps, surface
    if gaps is None:
        from qjgeo.gaps import compute_gaps

        gaps = compute_gaps(dataset, facility_type, graph=graph)
    if surface is None:
        surface = gap_surface(dataset, facility_type, graph=graph)
    return gaps, (None if surface is False else surface)


def gaps_by_facility_type(
    dataset: Dataset, facility_types: Iterable[str], *, graph: Any = None
) -> dict[str, Any]:
    """Gap results of several facility types, skipping those whose gaps cannot be computed.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_types
        Facility layer ids, in the order wanted.
    graph
        Walking network for the distances (straight line × detour factor when ``None``).

    Returns
    -------
    dict
        ``{facility_type: GapResult}`` for each type with gaps (no layer or no walking
        distance: left out).
    """
    from qjgeo.gaps import GapsUnavailable, compute_gaps

    out: dict[str, Any] = {}
    for ft in facility_types:
        try:
            out[ft] = compute_gaps(dataset, ft, graph=graph)
        except (GapsUnavailable, KeyError):
            continue
    return out


def default_facility_types(dataset: Dataset) -> tuple[str, ...]:
    """Facility types the dataset holds and has walking distances for."""
    return tuple(ft for ft in dataset.params.access if dataset.has(ft))


def _renderer(fig: Figure | SubFigure) -> Any:
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)  # type: ignore[arg-type]
    return canvas.get_renderer()


def text_lines(
    fig: Figure,
    x: float,
    y: float,
    lines: Sequence[str],
    *,
    fontsize: float,
    linespacing: float = 1.5,
    max_width: float | None = None,
    **style: Any,
) -> list[Text]:
    """Place lines of text one below another, each line its own single-line text.

    matplotlib shapes a multi-line text without its language and font features (Chinese
    glyph forms, no ligatures), so every exported text is kept to one line. A line wider than
    ``max_width`` (figure fraction) is split in two (:func:`_split_line`) until it fits.

    Returns
    -------
    list of matplotlib.text.Text
        The texts placed, top first.
    """
    renderer = _renderer(fig)
    step = fontsize * linespacing / 72 / fig.get_figheight()
    fig_w_px = fig.dpi * fig.get_figwidth()
    placed: list[Text] = []
    pending = list(lines)
    while pending:
        line = pending.pop(0)
        text = fig.text(x, y, line, fontsize=fontsize, va="top", **style)
        too_wide = (
            max_width is not None and text.get_window_extent(renderer).width / fig_w_px > max_width
        )
        parts = _split_line(line) if too_wide else None
        if parts is not None:
            text.remove()
            pending[0:0] = [parts[0], "    " + parts[1]]
            continue
        placed.append(text)
        y -= step
    return placed


def _split_line(line: str) -> tuple[str, str] | None:
    """Split a long line in two at the separator nearest its middle.

    Tries the Chinese / English separator ``" / "`` first, then ``"; "``, then ``", "``;
    ``None`` when the line has none of them.
    """
    middle = len(line) / 2
    for sep in (" / ", "; ", "；", ", "):
        cuts = [i for i in range(len(line)) if line.startswith(sep, i)]
        if cuts:
            cut = min(cuts, key=lambda i: abs(i - middle))
            head = line[:cut] + sep.rstrip()  # keep the separator: nothing is lost
            return head.rstrip(), line[cut + len(sep) :].lstrip()
    return None


def draw_badge(
    fig: Figure, x: float, y: float, lines: Sequence[str], *, fontsize: float, family: str
) -> None:
    """A red warning box in the top-right corner (e.g. "sample data — not official")."""
    texts = text_lines(fig, x, y, lines, fontsize=fontsize, linespacing=1.35, ha="right",
                       color="#b2182b", fontfamily=family)  # fmt: skip
    renderer = _renderer(fig)
    box = Bbox.union([t.get_window_extent(renderer) for t in texts])
    inv = fig.transFigure.inverted()
    (x0, y0), (x1, y1) = inv.transform([(box.x0, box.y0), (box.x1, box.y1)])
    pad_x = 0.008
    pad_y = 0.006 * fig.get_figwidth() / fig.get_figheight()
    fig.add_artist(
        FancyBboxPatch(
            (x0 - pad_x, y0 - pad_y), x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y,
            boxstyle="round,pad=0,rounding_size=0.004", transform=fig.transFigure,
            facecolor="#fff5f0", edgecolor="#b2182b", linewidth=0.8, zorder=-1,
        )
    )  # fmt: skip


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
    return f"{district_en}: walking-access gaps to {facility_en.lower()} (children aged {gaps.age_label})"


def status_badge_lines(status: str) -> list[str]:
    """The warning printed on outputs resting on sample, estimated or OpenStreetMap data."""
    if status == "sample":
        return ["示例/估算数据 — 非正式成果", "Sample/estimated data — not an official result"]
    if status == "osm":
        return ["OpenStreetMap 数据 — 非官方统计", "OpenStreetMap data — not official statistics"]
    return ["含估算数据", "Includes estimated data"]


def _figsize(paper: str, orientation: str) -> tuple[float, float]:
    if paper not in PAPER_IN:
        raise ExportError(f"paper must be one of {', '.join(PAPER_IN)}, got {paper!r}")
    if orientation not in ("landscape", "portrait"):
        raise ExportError(f"orientation must be landscape or portrait, got {orientation!r}")
    w, h = PAPER_IN[paper]
    return (w, h) if orientation == "landscape" else (h, w)


def _summary_rows(gaps: Any) -> pd.DataFrame:
    t = pd.DataFrame(gaps.townships).copy()
    t = t.sort_values("share_covered", ascending=True, na_position="last")
    return t


def gap_map_figure(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    title: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> Figure:
    """Lay out a full gap map page as a matplotlib figure.

    Parameters
    ----------
    dataset
        The dataset (with a scenario applied, if any: its ``scenario_name`` is printed).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    paper, orientation
        Page size (``"A4"`` / ``"A3"``) and orientation.
    title
        Main (Chinese) title; default ``"曲江区 托育机构 步行可达缺口"``.
    gaps
        A precomputed :class:`qjgeo.gaps.GapResult`; computed when ``None``.
    surface
        Gap hexagons; computed with :func:`qjgeo.gaps.gap_surface` when ``None``, left out
        when ``False``.
    date
        Date printed in the footer (today by default).
    basemap
        Add a web basemap under the map (needs ``contextily`` and a network connection).

    Returns
    -------
    matplotlib.figure.Figure
        The page, not yet saved (close it with ``plt.close`` or let it be collected).

    Raises
    ------
    ExportError
        If the facility layer or the village layer is missing, or an option is wrong.
    FontMissingError
        If no CJK font is installed.
    """
    gaps, hexes = prepare_gap_results(dataset, facility_type, gaps=gaps, surface=surface)
    family = cjk_font_family()
    size = _figsize(paper, orientation)

    scale = (
        size[0] / PAPER_IN["A4"][0] if orientation == "landscape" else size[1] / PAPER_IN["A4"][0]
    )
    fs = 1.0 if paper == "A4" else 1.3
    with matplotlib.rc_context({**pdf_rc(), "font.family": family}):
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        if orientation == "landscape":
            map_box = (0.025, 0.135, 0.66, 0.735)
            side_box = (0.705, 0.135, 0.275, 0.735)
        else:
            map_box = (0.04, 0.37, 0.92, 0.51)
            side_box = (0.04, 0.115, 0.92, 0.235)
        ax = fig.add_axes(map_box)
        drawn = draw_gap_axes(
            ax,
            dataset,
            facility_type,
            gaps,
            family=family,
            surface=hexes,
            label_size=9 * fs,
            marker_scale=fs,
        )
        if basemap:
            _add_basemap(ax)
        draw_scale_bar(ax, family=family, fontsize=7 * fs)
        draw_north_arrow(ax, family=family)

        zh, en = facility_titles(dataset, facility_type)
        dzh, den = district_name(dataset)
        main_title = title or f"{dzh} {zh} 步行可达缺口"
        subtitle = gap_subtitle(den, en, gaps)
        fig.text(
            0.025,
            0.955,
            main_title,
            fontsize=18 * fs,
            fontweight="bold",
            va="top",
            fontfamily=family,
        )
        fig.text(
            0.025, 0.905, subtitle, fontsize=10.5 * fs, va="top", color="#333333", fontfamily=family
        )
        status = str(getattr(gaps, "data_status", dataset.data_status(map_layers(facility_type))))
        if status in BADGE_STATUSES:
            draw_badge(fig, 0.975, 0.955, status_badge_lines(status), fontsize=8.5 * fs,
                       family=family)  # fmt: skip

        _draw_side_panel(
            fig, side_box, drawn, gaps, family=family, fs=fs, portrait=orientation == "portrait"
        )

        layers = map_layers(facility_type)
        footer = [
            scenario_line(dataset, date),
            method_line(dataset, facility_type, gaps),
            data_status_line(dataset, layers),
            attribution_line(dataset, layers),
        ]
        text_lines(
            fig,
            0.025,
            0.105 if orientation == "landscape" else 0.095,
            footer,
            fontsize=6.6 * fs * min(scale, 1.0),
            linespacing=1.55,
            max_width=0.95,
            color="#222222",
            fontfamily=family,
        )
    return fig


def _draw_side_panel(
    fig: Figure,
    box: tuple[float, float, float, float],
    drawn: Mapping[str, Any],
    gaps: Any,
    *,
    family: str,
    fs: float,
    portrait: bool,
) -> None:
    """Legend and a township table of children covered, to the right of (or below) the map."""
    x, y, w, h = box
    legend_h = 0.42 * h if not portrait else h
    legend_w = w if not portrait else 0.45 * w
    leg_ax = fig.add_axes((x, y + h - legend_h, legend_w, legend_h))
    leg_ax.axis("off")
    legend = leg_ax.legend(
        drawn["handles"],
        drawn["labels"],
        loc="upper left",
        frameon=True,
        fontsize=7.2 * fs,
        title="图例 Legend",
        title_fontsize=8.5 * fs,
        prop={"family": family, "size": 7.2 * fs},
        borderaxespad=0.0,
        labelspacing=0.55,
        handletextpad=0.6,
        mode="expand",
    )
    tx = x if not portrait else x + 0.5 * w
    tw = w if not portrait else 0.5 * w
    table_top = y + h
    if not portrait:
        extent = legend.get_window_extent(_renderer(fig))
        table_top = float(fig.transFigure.inverted().transform((0, extent.y0))[1]) - 0.04
    table_h = table_top - y
    t_ax = fig.add_axes((tx, y, tw, table_h))
    t_ax.axis("off")
    if not getattr(gaps, "has_demand", True):
        for k, line in enumerate(NO_DEMAND_LINES):
            t_ax.text(0, 1 - k * 0.05, line, fontsize=7.4 * fs, va="top", color="#333333",
                      fontfamily=family, transform=t_ax.transAxes)  # fmt: skip
        return
    rows = _summary_rows(gaps)
    district = getattr(gaps, "district", {}) or {}
    head = "镇街儿童覆盖 Children covered by township"
    t_ax.text(
        0,
        1,
        head,
        fontsize=8.5 * fs,
        fontweight="bold",
        va="top",
        fontfamily=family,
        transform=t_ax.transAxes,
    )
    cells = [["镇街", "覆盖率", "未覆盖儿童"]]
    for _, r in rows.iterrows():
        share = r.get("share_covered")
        cells.append(
            [
                str(r["name"]),
                "—" if share is None or pd.isna(share) else f"{float(share):.0%}",
                f"{int(r['children_uncovered']):,}",
            ]
        )
    share_d = district.get("share_covered")
    if share_d is not None and not pd.isna(share_d):
        cells.append(
            [
                "全区 District",
                f"{float(share_d):.0%}",
                f"{int(district.get('children_uncovered', 0)):,}",
            ]
        )
    n = len(cells)
    row_h = min(0.075, 0.78 / max(n, 1))
    cols = (0.0, 0.5, 0.98)
    for i, row in enumerate(cells):
        ry = 0.9 - i * row_h
        weight = "bold" if i == 0 or (i == n - 1 and share_d is not None) else "normal"
        for j, text in enumerate(row):
            t_ax.text(
                cols[j],
                ry,
                text,
                fontsize=7.4 * fs,
                fontweight=weight,
                va="top",
                ha="left" if j == 0 else "right",
                fontfamily=family,
                transform=t_ax.transAxes,
            )
        if i == 0:
            t_ax.plot(
                [0, 0.98], [ry - row_h * 0.8] * 2, color="#444444", lw=0.6, transform=t_ax.transAxes
            )
    note = ("覆盖率 = 在步行距离内的儿童占比 / share of children", "within the walking distance; "
            "最低者在前 lowest first")  # fmt: skip
    for k, line in enumerate(note):
        t_ax.text(0, 0.9 - n * row_h - 0.01 - k * 0.035, line, fontsize=6.2 * fs, va="top",
                  color="#555555", fontfamily=family, transform=t_ax.transAxes)  # fmt: skip


def _add_basemap(ax: Axes) -> None:
    try:
        import contextily  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ExportError(
            "a web basemap needs the optional package contextily and a network connection; "
            "export without basemap (the default)"
        ) from exc
    try:
        contextily.add_basemap(ax, crs=METRIC_CRS, attribution_size=5, zorder=0)
    except Exception as exc:  # network errors come in many types
        raise ExportError(f"could not fetch the web basemap (offline?): {exc}") from exc


def figure_bytes(fig: Figure, fmt: Literal["png", "pdf"], *, dpi: float = 300) -> bytes:
    """Save a figure to PNG (with its dpi recorded) or PDF (fonts embedded) and return the bytes."""
    for text in fig.findobj(Text):
        # One glyph per character: Simplified Chinese forms, no ligatures. Without this the
        # shaper may give a digit two glyphs, or "fi" one, and the PDF embeds the font twice.
        text.set_language("zh-Hans")
        text.set_fontfeatures(["-liga", "-clig", "-dlig"])
    buf = io.BytesIO()
    with matplotlib.rc_context(pdf_rc()):
        metadata = {"Creator": "qjgeo"} if fmt == "pdf" else {"Software": "qjgeo (matplotlib)"}
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    return buf.getvalue()


def gap_map_png(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    dpi: float = 300,
    title: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> bytes:
    """A gap map as PNG bytes (300 dpi by default; the dpi is written into the file).

    Parameters are those of :func:`gap_map_figure`, plus ``dpi``.

    Returns
    -------
    bytes
        The PNG file.
    """
    fig = gap_map_figure(
        dataset,
        facility_type,
        paper=paper,
        orientation=orientation,
        title=title,
        gaps=gaps,
        surface=surface,
        date=date,
        basemap=basemap,
    )
    return figure_bytes(fig, "png", dpi=dpi)


def gap_map_pdf(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    title: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> bytes:
    """A gap map as a one-page PDF (vector, CJK font embedded).

    Parameters are those of :func:`gap_map_figure`.

    Returns
    -------
    bytes
        The PDF file.
    """
    fig = gap_map_figure(
        dataset,
        facility_type,
        paper=paper,
        orientation=orientation,
        title=title,
        gaps=gaps,
        surface=surface,
        date=date,
        basemap=basemap,
    )
    return figure_bytes(fig, "pdf", dpi=300)
