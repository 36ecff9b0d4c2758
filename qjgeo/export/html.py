"""Interactive HTML gap map: one self-contained file (no network needed to open it).

The map is the app's own folium map (:func:`qjgeo.mapview.build.build_map`): township polygons
filled by the share of children covered (percent, red = gap → green), the facilities of the
type, the gap hexagons (by distance band) and the villages covered / not covered as overlays,
with a legend and popups (distances in km, one decimal) in which every value
is HTML-escaped. A title box adds the scenario, date, distances used, the data-status line and
the source / licence attribution; a data-status box in the bottom-left corner names, in the
map's language, the layers resting on sample or estimated data.
:func:`qjgeo.mapview.offline.standalone_html` then inlines every script, stylesheet and icon
font, so the file opens from a USB stick or a mail attachment on an offline intranet.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from qjgeo.catalog import Dataset
from qjgeo.export.gis import flatten_frame
from qjgeo.export.staticmap import (
    BADGE_STATUSES,
    attribution_line,
    band_colours,
    band_order,
    data_status_line,
    data_status_texts,
    district_name,
    facility_titles,
    gap_subtitle,
    map_layers,
    method_line,
    prepare_gap_results,
    scenario_line,
    status_badge_lines,
)


def _info_box(lines: list[str], title: str, subtitle: str) -> str:
    """A fixed box in the top-left corner of the map (beside the zoom buttons), text escaped."""
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    return (
        '<div id="qjgeo-export-info" style="position:fixed;top:10px;left:56px;z-index:9999;'
        "max-width:40%;background:rgba(255,255,255,0.93);border:1px solid #999;"
        "border-radius:4px;padding:6px 9px;font:11px/1.45 'Noto Sans CJK SC','Microsoft YaHei',"
        "'PingFang SC',sans-serif;color:#222\">"
        f'<div style="font-size:15px;font-weight:bold">{html.escape(title)}</div>'
        f'<div style="font-size:12px;color:#444;margin-bottom:3px">{html.escape(subtitle)}</div>'
        f"{body}</div>"
    )


def _data_status_note(status: str, text: str, warning: str | None) -> str:
    """A fixed box in the bottom-left corner (above the scale bar) saying what the map rests on.

    Parameters
    ----------
    status
        The map's data status (``"sample"``, ``"estimated"``, ``"official"``, ...).
    text
        The data-status line in the map's language, naming the weak layers.
    warning
        A headline for maps on weak data (``None``: none), in the map's language.

    Returns
    -------
    str
        The box's HTML, every text escaped; red-bordered unless the data are official.
    """
    colour = "#222" if status == "official" else "#b2182b"
    border = "#999" if status == "official" else "#b2182b"
    background = "rgba(255,255,255,0.93)" if status == "official" else "rgba(255,245,240,0.95)"
    head = (
        f'<div style="font-weight:bold;color:{colour}">{html.escape(warning)}</div>'
        if warning
        else ""
    )
    return (
        f'<div id="qjgeo-data-status" data-status="{html.escape(status)}" '
        'style="position:fixed;bottom:40px;left:10px;z-index:9999;max-width:40%;'
        f"background:{background};border:1px solid {border};border-radius:4px;"
        "padding:5px 8px;font:11px/1.45 'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',"
        f'sans-serif;color:#222">{head}<div>{html.escape(text)}</div></div>'
    )


def gap_map_html(
    dataset: Dataset,
    facility_type: str,
    *,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    title: str | None = None,
    lang: str = "zh",
    date: dt.date | None = None,
    catchments: gpd.GeoDataFrame | None = None,
) -> str:
    """The gap map as one self-contained interactive HTML document.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    gaps
        Precomputed :class:`qjgeo.gaps.GapResult` (computed when ``None``).
    surface
        Precomputed gap hexagons; computed when ``None``; left out when ``False``.
    title
        Main title (default ``"曲江区 托育机构 步行可达缺口"``).
    lang
        ``"zh"`` or ``"en"``: layer names and popup labels.
    date
        Date printed in the info box (today by default).
    catchments
        Isochrones to draw (:func:`qjgeo.isochrones.isochrones`, optionally with a ``place``
        column): one layer, the nearest band on top, in the legend and the info box.

    Returns
    -------
    str
        The HTML document (write it as UTF-8); it references no external URL.

    Raises
    ------
    ExportError
        If the facility or village layer is missing.
    """
    from qjgeo.mapview.build import ChoroplethScale, build_map
    from qjgeo.mapview.offline import standalone_html

    gaps, surface = prepare_gap_results(dataset, facility_type, gaps=gaps, surface=surface)
    zh, en = facility_titles(dataset, facility_type)
    colours = _band_colours([gaps.villages] + ([surface] if surface is not None else []))
    overlays = _gap_overlays(gaps.villages, surface, colours, (zh, en), lang=lang)
    if catchments is not None and len(catchments):
        overlays.insert(len(overlays) - bool(len(gaps.villages)),
                        catchment_overlay(catchments, lang=lang))  # fmt: skip
    share = pd.Series(
        (gaps.townships["share_covered"].to_numpy(dtype=float) * 100).round(1),
        index=gaps.townships["code9"].astype(str).to_numpy(),
    )
    m = build_map(
        dataset,
        choropleth=share,
        choropleth_title="儿童覆盖率 % covered（红 = 缺口 red = gap）",
        choropleth_scale=ChoroplethScale(COVERAGE_RAMP, 0.0, 100.0),
        layers=("district", "township", facility_type),
        basemap="none",
        lang=lang,
        overlays=overlays,
    )
    dzh, den = district_name(dataset)
    main_title = title or f"{dzh} {zh} 步行可达缺口"
    layers = map_layers(facility_type)
    lines = [
        _district_figures(gaps),
        scenario_line(dataset, date),
        method_line(dataset, facility_type, gaps),
        data_status_line(dataset, layers),
        attribution_line(dataset, layers),
    ]
    if catchments is not None and len(catchments):
        lines.insert(3, catchment_line(catchments))
    info = _info_box(lines, main_title, gap_subtitle(den, en, gaps))
    note = _status_note(dataset, str(gaps.data_status), layers, lang=lang)
    _add_to_page(m, info, note, main_title)
    return standalone_html(m)


def _band_colours(frames: list[pd.DataFrame]) -> dict[str, str]:
    """Colours of the distance bands of the villages and hexagons (``unreachable`` grey)."""
    cols = ["distance_band", "band_order", "distance_m", "threshold_m"]
    both = pd.concat(
        [pd.DataFrame(f)[[c for c in cols if c in f.columns]] for f in frames], ignore_index=True
    )
    bands = band_order(both) if len(both) else []
    unreachable = [b for b in bands if b == "unreachable"]
    return band_colours(bands, unreachable)


def _gap_overlays(
    villages: gpd.GeoDataFrame,
    surface: gpd.GeoDataFrame | None,
    colours: dict[str, str],
    titles: tuple[str, str],
    *,
    lang: str,
) -> list[Any]:
    """The gap hexagons (by distance band) and the villages (covered or not) as overlays."""
    from qjgeo.mapview.build import Overlay

    zh, en = titles
    overlays = []
    if surface is not None and len(surface):
        overlays.append(
            Overlay(
                id="gaps_hex",
                title="缺口面（六边形）Gap surface" if lang == "zh" else "Gap surface (hexagons)",
                frame=flatten_frame(_in_km(surface)),
                color_column="distance_band",
                colors=colours,
            )
        )
    if len(villages):
        status = coverage_status(villages, lang=lang)
        overlays.append(
            Overlay(
                id="villages_access",
                title=f"村（社区）：步行距离内有无{zh}"
                if lang == "zh"
                else f"Villages: {en.lower()} within walking distance",
                frame=flatten_frame(_in_km(villages).assign(coverage_status=status)),
                color_column="coverage_status",
                colors=_status_colours(lang),
            )
        )
    return overlays


def _place(catchments: pd.DataFrame) -> str:
    return str(catchments["place"].iloc[0]) if "place" in catchments.columns else ""


def catchment_line(catchments: pd.DataFrame) -> str:
    """One line on the catchments: place, mode, times and method (Chinese / English)."""
    from qjgeo.mapview.labels import value_label

    mode = str(catchments["mode"].iloc[0])
    method = str(catchments["method"].iloc[0])
    times = "/".join(f"{m:g}" for m in sorted(catchments["minutes"]))
    place = _place(catchments)
    return (
        f"等时圈 {place}：{times} 分钟，{value_label('mode', mode, 'zh')}，"
        f"{value_label('method', method, 'zh')} / catchments {place}: {times} min, "
        f"{value_label('mode', mode, 'en')}, {value_label('method', method, 'en')}"
    )


def catchment_overlay(catchments: gpd.GeoDataFrame, *, lang: str = "zh") -> Any:
    """The isochrones as one overlay: largest drawn first (nearest on top), coloured as on the
    app's Gaps page (:func:`qjgeo.isochrones.catchment_colours`), nearest first in the legend,
    popups with place, minutes, mode, method and area."""
    from qjgeo.isochrones import catchment_colours
    from qjgeo.mapview.build import Overlay

    unit = "分钟" if lang == "zh" else "min"
    frame = catchments.sort_values("minutes", ascending=False)
    label = frame["minutes"].map(lambda m: f"{m:g} {unit}")
    shown = gpd.GeoDataFrame(
        {
            **({"place": frame["place"]} if "place" in frame.columns else {}),
            "catchment": label,
            "mode": frame["mode"],
            "method": frame["method"],
            "area_km2": frame["area_km2"].round(2),
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )
    nearest_first = list(label[::-1])
    colours = dict(zip(nearest_first, catchment_colours(len(label)), strict=True))
    place = _place(catchments)
    title = f"等时圈 {place}" if lang == "zh" else f"Catchments {place}"
    return Overlay("isochrones", title.strip(), shown, "catchment", colours)


#: Township coverage in the HTML choropleth: red (0 %, the gap) → yellow → green (100 %),
#: the colours the static maps give villages not covered and covered.
COVERAGE_RAMP: tuple[str, ...] = ("#d73027", "#fc8d59", "#fee08b", "#a6d96a", "#1a9850")
_STATUS = {"zh": ("已覆盖", "未覆盖", "无可达设施"),
           "en": ("covered", "not covered", "no facility reachable")}  # fmt: skip


def _status_colours(lang: str) -> dict[str, str]:
    covered, not_covered, never = _STATUS.get(lang, _STATUS["zh"])
    return {covered: "#1a9850", not_covered: "#d73027", never: "#8c8c8c"}


def coverage_status(villages: pd.DataFrame, *, lang: str = "zh") -> pd.Series:
    """Each village covered / not covered under its urban or rural walking distance."""
    covered, not_covered, never = _STATUS.get(lang, _STATUS["zh"])
    finite = np.isfinite(villages["distance_m"].to_numpy(dtype=float))
    ok = villages["covered"].astype(bool).to_numpy()
    values = np.where(ok, covered, np.where(finite, not_covered, never))
    return pd.Series(values, index=villages.index, name="coverage_status")


def _in_km(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``distance_m`` replaced by ``distance_km`` as text with one decimal (— unreachable).

    The kilometres are the route's (``route_m``, gap villages) where the frame has them: on
    a drive network ``distance_m`` is the search cost (time × reference speed).
    """
    if "distance_m" not in frame.columns:
        return frame
    metres = frame["route_m"] if "route_m" in frame.columns else frame["distance_m"]
    km = metres.to_numpy(dtype=float) / 1000
    text = [f"{v:,.1f}" if np.isfinite(v) else "—" for v in km]
    out = frame.drop(columns=[c for c in ("distance_m", "route_m") if c in frame.columns]).copy()
    out.insert(min(len(out.columns) - 1, list(frame.columns).index("distance_m")),
               "distance_km", text)  # fmt: skip
    return out


def _district_figures(gaps: Any) -> str:
    """The district's share of children covered and children not covered, one line."""
    if not gaps.has_demand:
        return "无村（社区）图层，未统计儿童 / no village layer: children not counted"
    d = gaps.district
    share_d = d.get("share_covered")
    return (
        f"全区儿童覆盖率 {float(share_d):.0%}，未覆盖 {float(d.get('children_uncovered', 0)):,.0f} 人"
        f" / district share covered {float(share_d):.0%}, "
        f"{float(d.get('children_uncovered', 0)):,.0f} children not covered"
        if share_d is not None and pd.notna(share_d)
        else "无儿童数据 / no children in this age band"
    )


def _status_note(dataset: Dataset, status: str, layers: Sequence[str], *, lang: str) -> str:
    """The data-status box in the map's language, with a warning on weak data."""
    status_zh, status_en = data_status_texts(dataset, layers)
    badge_zh, badge_en = status_badge_lines(status)
    return _data_status_note(
        status,
        status_zh if lang == "zh" else status_en,
        (badge_zh if lang == "zh" else badge_en) if status in BADGE_STATUSES else None,
    )


def _add_to_page(m: Any, info: str, note: str, title: str) -> None:
    """Put the info box and the data-status box on the map page, and title the page."""
    import folium

    m.get_root().html.add_child(folium.Element(info))
    m.get_root().html.add_child(folium.Element(note))
    m.get_root().header.add_child(folium.Element(f"<title>{html.escape(title)}</title>"))
